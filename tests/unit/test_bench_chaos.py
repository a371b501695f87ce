"""The pure parts of the chaos suite (tests/bench/chaos.py) that check issue 22's features: what the recording proxy
counts, and the rules that compare the ledger with the final state (routes, notes both ways, escalations)."""

import collections

from tests.bench import chaos
from tests.emulators.signl4.seed import DEFAULT_TEAM_ID, SECOND_TEAM_ID

NOTES = "/v2025_1/apis/3.0/service/tickets/7/notes"


def ticket(annotations=0, notes=(), escalations=0, kind=(chaos.P3, "Fabrikam", DEFAULT_TEAM_ID)):
    made = chaos.Ticket(0, [], [(0.0, chaos.ACTORS[0], "chaos annotation [a:0-%d-1]" % k) for k in range(annotations)],
                        kind, [(0.0, "n") for _n in notes], [(0.0, "manager")] * escalations)
    made.id, made.note_ids, made.escalated = 7, list(notes), escalations
    made.done_annotations = [(a, t) for _d, a, t in made.annotations]
    return made


def annotation_from_note(note_id):
    return {"text": "Alice Smith (ConnectWise): chaos note\n%s%d]" % (chaos.NOTE_MARKER, note_id)}


def test_the_ledger_tells_escalation_notes_from_annotation_notes_and_counts_annotations_and_priority_patches():
    ledger = chaos.AgentLedger()
    ledger.manage("POST", NOTES, 201, {"text": "an annotation\n[SIGNL4 ref a1/annotation/9]"})
    ledger.manage("POST", NOTES, 201, {"text": chaos.ESCALATION_NOTE + " to the manager ...\n[SIGNL4 ref a1/escalation/x]"})
    ledger.manage("POST", NOTES, 500, {"text": chaos.ESCALATION_NOTE})  # failed: not applied
    ledger.manage("PATCH", "/v2025_1/apis/3.0/service/tickets/7", 200,
                  [{"op": "replace", "path": "priority", "value": {"id": 1}}])
    ledger.signl4("POST", "/api/v2/alerts/a1/annotate", 200, {"text": "x"})
    ledger.signl4("POST", "/api/v2/alerts/a1/annotate", 503, {"text": "x"})
    assert (ledger.notes_posted[7], ledger.escalation_notes[7], ledger.priority_patches[7]) == (1, 1, 1)
    assert ledger.annotations_posted == {"a1": 1}


def test_notes_to_signl4_one_annotation_per_note_and_no_echo():
    counts, ledger = collections.Counter(), chaos.AgentLedger()
    ledger.annotations_posted["a1"] = 2
    alert = {"id": "a1", "annotations": [annotation_from_note(11), annotation_from_note(12), {"text": "chaos annotation [a:0-0-1]"}]}
    assert chaos._check_notes_to_signl4(ticket(annotations=1, notes=(11, 12)), alert, [], ledger, counts) == []
    assert counts["annotations made from them"] == 2
    twice = dict(alert, annotations=alert["annotations"] + [annotation_from_note(12)])
    assert chaos._check_notes_to_signl4(ticket(annotations=1, notes=(11, 12)), twice, [], ledger, counts)
    missing = dict(alert, annotations=alert["annotations"][1:])
    assert chaos._check_notes_to_signl4(ticket(annotations=1, notes=(11, 12)), missing, [], ledger, counts)
    echoed = dict(alert, annotations=alert["annotations"] + [{"text": "note\n[SIGNL4 ref a1/annotation/4]"}])
    counts = collections.Counter()
    assert chaos._check_notes_to_signl4(ticket(annotations=1, notes=(11, 12)), echoed, [], ledger, counts)
    assert counts["agent notes echoed to SIGNL4"] == 1
    ledger.annotations_posted["a1"] = 3  # one annotation POSTed twice (a second one the state would show)
    assert chaos._check_notes_to_signl4(ticket(annotations=1, notes=(11, 12)), alert, [], ledger, counts)


def test_notes_one_per_annotation_and_no_annotation_of_the_agent_back_as_a_note():
    made = ticket(annotations=1, notes=(11,), escalations=1)
    ledger = chaos.AgentLedger()
    ledger.notes_posted[7] = 1
    notes = [{"id": 11, "text": "chaos note"}, {"id": 20, "text": "SIGNL4 user: chaos annotation [a:0-0-1]"},
             {"id": 21, "text": chaos.ESCALATION_NOTE + " ..."}]
    assert chaos._check_notes(None, made, notes, ledger, collections.Counter()) == []
    echo = notes + [{"id": 22, "text": "Alice Smith (ConnectWise): chaos note\n[CW note 11]"}]
    assert any("echoed back" in p for p in chaos._check_notes(None, made, echo, ledger, collections.Counter()))
    twice = notes + [{"id": 23, "text": "SIGNL4 user: chaos annotation [a:0-0-1]"}]
    assert chaos._check_notes(None, made, twice, ledger, collections.Counter())


def test_escalations_one_note_each_and_the_priority_set_once():
    counts, ledger = collections.Counter(), chaos.AgentLedger()
    ledger.escalation_notes[7], ledger.priority_patches[7] = 2, 1
    notes = [{"text": chaos.ESCALATION_NOTE + " a"}, {"text": chaos.ESCALATION_NOTE + " b"}]
    current = {"priority": {"name": chaos.ESCALATION_PRIORITY}}
    assert chaos._check_escalations(ticket(escalations=2), current, notes, ledger, counts) == []
    assert counts["escalated tickets with the priority set"] == 1
    assert chaos._check_escalations(ticket(escalations=2), current, notes[:1], ledger, counts)  # one note missing
    assert chaos._check_escalations(ticket(escalations=2), {"priority": {"name": chaos.P3}}, notes, ledger, counts)
    ledger.priority_patches[7] = 2
    assert chaos._check_escalations(ticket(escalations=2), current, notes, ledger, counts)  # set twice
    ledger.escalation_notes[7], ledger.priority_patches[7] = 0, 0
    assert chaos._check_escalations(ticket(), {"priority": {"name": chaos.P3}}, [], ledger, counts) == []
    assert chaos._check_escalations(ticket(), current, [], ledger, counts)  # not escalated, priority changed


def test_the_signl_is_in_the_team_of_the_route():
    counts = collections.Counter()
    netops = ticket(kind=(chaos.P1, "Fabrikam", SECOND_TEAM_ID))
    assert chaos._check_team(netops, {"teamId": SECOND_TEAM_ID}, counts) == []
    assert chaos._check_team(netops, {"teamId": DEFAULT_TEAM_ID}, counts)
    assert chaos._check_team(ticket(), {"teamId": DEFAULT_TEAM_ID}, counts) == []
    assert counts["tickets routed to the second team"] == 2 and counts["Signls in the second team (expected yes)"] == 1


def test_a_close_waits_for_the_tickets_notes_and_escalations():
    made = ticket(notes=(11,), escalations=1)
    assert chaos._extras_done(made)
    made.escalated = 0
    assert not chaos._extras_done(made)
    made.plan, made.step = [("cw", chaos.IN_PROGRESS, "x"), ("s4", chaos.CLOSED, "x")], 1
    assert not chaos._closing(made)
    made.step = 2
    assert chaos._closing(made)
    alert = {"annotations": [annotation_from_note(11)]}
    assert chaos._annotations_per_note(alert, made) == [1]
    assert chaos._annotations_per_note({"annotations": [annotation_from_note(111)]}, made) == [0]
