"""Notes both ways (``notes.to_signl4``): a ticket note of a configured type becomes one annotation of the ticket's
open Signl, as the acting user, ending with its marker line; nothing the agent wrote travels back, either way, also
after a crash; exactly once under ``kill -9``; the idle cost. Against both emulators over real HTTP."""

import json
import re
import time

import pytest

from tests.agent import support
from tests.emulators.signl4 import seed as signl4_seed
from tests.support.clock import Clock  # the notes watch's: cycles a poll interval apart, without waiting
from tests.support.fault_proxy import FaultProxy

from signl4_agent import config as config_module
from signl4_agent import intents, notes

RENE = next(user for user in signl4_seed.USERS if user["mail"] == support.ACTING_USER)  # the acting user
ON = {"to_signl4": {"enabled": True}}


def annotations(signl4, ticket_id):
    found = support.alerts(signl4, ticket_id)
    assert len(found) == 1
    return found[0]["annotations"]


def add_note(cw, ticket_id, text, member="asmith", **flags):
    body = dict(text=text, member={"identifier": member}, **(flags or {"detailDescriptionFlag": True}))
    return cw.create("/service/tickets/%d/notes" % ticket_id, body)


def raised_ticket(agent, cw, signl4, **fields):
    """A new ticket whose Signl the agent raised (and whose raise's notifications it took)."""
    ticket = support.cycled_ticket(agent, cw, **fields)
    support.settle(agent, signl4)
    assert support.alerts(signl4, ticket["id"])
    return ticket


def test_a_discussion_note_becomes_one_annotation_with_its_marker_and_nothing_comes_back(make_agent, signl4, cw):
    agent = make_agent(notes=ON)
    signl4.control("POST", "/outbound", {"duplicates": 2})  # the echo comes twice
    ticket = raised_ticket(agent, cw, signl4)
    note = add_note(cw, ticket["id"], "Customer confirms the share is back\nsecond line")
    agent.cycle()
    support.settle(agent, signl4)
    agent.cycle()
    agent.cycle()
    [annotation] = annotations(signl4, ticket["id"])
    assert annotation["text"] == "Alice Smith (ConnectWise): Customer confirms the share is back\nsecond line\n[CW note %d]" \
        % note["id"]
    assert annotation["userId"] == RENE["id"]  # as the acting user
    assert agent.store.intent("annotate:%d" % note["id"])["state"] == "done"
    assert agent.store.written("annotation", annotation["id"])
    # the annotation's 203 (twice) and every later cycle: no note written back
    assert [n["id"] for n in cw.list("/service/tickets/%d/notes" % ticket["id"])] == [note["id"]]
    assert agent.metrics.deliveries.labels(source="signl4", outcome="ignored")._value.get() >= 2
    assert agent.metrics.annotations._value.get() == 1


def test_only_the_configured_note_types_travel(make_agent, signl4, cw):
    agent = make_agent(notes={"to_signl4": {"enabled": True, "note_types": ["internal", "resolution"]}})
    ticket = raised_ticket(agent, cw, signl4)
    discussion = add_note(cw, ticket["id"], "for the customer", detailDescriptionFlag=True)
    internal = add_note(cw, ticket["id"], "RAID rebuild at 40%", internalAnalysisFlag=True)
    resolution = add_note(cw, ticket["id"], "Replaced the disk", resolutionFlag=True)
    both = add_note(cw, ticket["id"], "Discussion and internal", detailDescriptionFlag=True, internalAnalysisFlag=True)
    agent.cycle()
    agent.cycle()
    markers = sorted(int(re.search(r"\[CW note (\d+)\]$", a["text"]).group(1)) for a in annotations(signl4, ticket["id"]))
    assert markers == sorted([internal["id"], resolution["id"], both["id"]])
    assert discussion["id"] not in markers
    assert agent.store.intent("annotate:%d" % discussion["id"]) is None


def test_off_by_default_and_notes_from_before_the_signl_or_while_off_stay_in_manage(make_agent, manage, signl4, cw):
    agent = make_agent()
    assert agent.config["notes"]["to_signl4"] == {"enabled": False, "note_types": ["discussion"]}
    before = support.new_ticket(cw, summary="noted before its Signl")
    add_note(cw, before["id"], "written before the Signl was raised")
    agent.cycle()
    ticket = raised_ticket(agent, cw, signl4)
    add_note(cw, ticket["id"], "written while notes.to_signl4 is off")
    manage.clear_requests()
    agent.cycle()
    assert not [r for r in manage.requests() if "/notes" in r["path"]]  # off: not even read
    assert annotations(signl4, ticket["id"]) == []
    agent.config["notes"]["to_signl4"]["enabled"] = True  # turned on (a restart with the new setting)
    agent.cycle()
    agent.cycle()
    assert annotations(signl4, ticket["id"]) == [] and annotations(signl4, before["id"]) == []
    later = add_note(cw, before["id"], "written once it is on")
    agent.cycle()
    [annotation] = annotations(signl4, before["id"])
    assert annotation["text"].endswith("[CW note %d]" % later["id"])
    # a Signl raised while it is on: its baseline is read by the raise, so a note right after the raise travels
    fresh = raised_ticket(agent, cw, signl4, summary="raised while on")
    assert agent.store.ticket(fresh["id"])["notes_after"] is not None
    right_after = add_note(cw, fresh["id"], "right after the raise")
    agent.cycle()
    assert [a["text"].endswith("[CW note %d]" % right_after["id"]) for a in annotations(signl4, fresh["id"])] == [True]
    # off again, a note, on again: the note written while it was off stays in Manage
    agent.config["notes"]["to_signl4"]["enabled"] = False
    agent.cycle()
    add_note(cw, fresh["id"], "written while it was off again")
    agent.config["notes"]["to_signl4"]["enabled"] = True
    agent.cycle()
    agent.cycle()
    assert len(annotations(signl4, fresh["id"])) == 1


def test_notes_of_a_closed_signl_stay_in_manage(make_agent, manage, signl4, cw):
    agent = make_agent(notes=ON)
    ticket = raised_ticket(agent, cw, signl4)
    support.act_and_settle(agent, signl4, "close", ticket["id"])
    agent.cycle()
    add_note(cw, ticket["id"], "after the close")
    manage.clear_requests()
    agent.cycle()
    assert annotations(signl4, ticket["id"]) == []
    assert not [r for r in manage.requests() if r["path"].endswith("/tickets/%d/notes" % ticket["id"])]  # not read


ALL_TYPES = {"to_signl4": {"enabled": True, "note_types": ["discussion", "internal", "resolution"]}}


def test_the_agents_own_notes_never_become_annotations_even_after_a_crash(make_agent, signl4, cw):
    agent = make_agent(notes=ALL_TYPES)  # the agent's notes are Internal ones (notes.internal_analysis)
    ticket = raised_ticket(agent, cw, signl4)
    support.act_and_settle(agent, signl4, "annotate", ticket["id"], text="On my way to the data centre")
    [note] = cw.list("/service/tickets/%d/notes" % ticket["id"])
    assert note["text"].endswith("]") and "[SIGNL4 ref " in note["text"]
    assert agent.store.written("note", note["id"])
    # a crash before its id was stored: the reference line alone says it is the agent's
    with agent.store.transaction() as db:
        db.execute("DELETE FROM written WHERE kind = 'note'")
    agent.store.clear_notes_baselines()
    agent.store.save_ticket(ticket["id"], notes_after=note["id"] - 1)
    agent.cycle()
    agent.cycle()
    assert [a["text"] for a in annotations(signl4, ticket["id"])] == ["On my way to the data centre"]
    assert agent.store.intent("annotate:%d" % note["id"]) is None
    # its reference line edited away before the agent looked: its recorded id says it is the agent's
    support.act_and_settle(agent, signl4, "annotate", ticket["id"], text="Second annotation")
    second = max(cw.list("/service/tickets/%d/notes" % ticket["id"]), key=lambda n: n["id"])
    assert agent.store.written("note", second["id"])
    agent.store.save_ticket(ticket["id"], notes_after=second["id"] - 1)
    cw.patch("/service/tickets/%d/notes/%d" % (ticket["id"], second["id"]),
             [{"op": "replace", "path": "text", "value": "Second annotation, the reference line removed"}])
    agent.cycle()
    agent.cycle()
    assert len(annotations(signl4, ticket["id"])) == 2 and agent.store.intent("annotate:%d" % second["id"]) is None


def test_the_echo_of_an_annotation_is_recognised_by_its_marker_after_a_crash(make_agent, signl4, cw):
    """The annotation's id was not stored (a crash right after the annotate): the receiver ignores the 203 by the
    marker line of its message, the poll and a note intent by the marker line of the timeline's text."""
    agent = make_agent(receiver=False, notes=ON, signl4={"poll_alerts": True})  # no 203 but the one posted below
    ticket = raised_ticket(agent, cw, signl4)
    note = add_note(cw, ticket["id"], "Please call the customer back")
    agent.cycle()
    [annotation] = annotations(signl4, ticket["id"])
    with agent.store.transaction() as db:
        db.execute("DELETE FROM written WHERE kind = 'annotation'")
    assert not agent.store.written("annotation", annotation["id"])
    # the receiver: ignored (no intent), by the message's marker line
    from signl4_agent import inbound
    delivery = {"id": "echo-1", "eventType": 203, "user": {"id": RENE["id"]}, "annotation": {
        "id": annotation["id"], "message": annotation["text"]}, "alert": {"id": support.alerts(signl4, ticket["id"])[0]["id"],
                                                                          "externalEventId": str(ticket["id"]), "statusCode": 0}}
    assert inbound.accept_outbound(agent.store, json.dumps(delivery).encode()) == "ignored"
    # the poll reads the timeline: no note intent
    agent.cycle()
    assert agent.store.intent("note:" + annotation["id"]) is None
    # a note intent recorded anyway (an older agent's webhook): its executor reads the text and writes nothing
    alert_id = support.alerts(signl4, ticket["id"])[0]["id"]
    agent.store.add_intent(intents.Note(ticket["id"], alert_id, annotation["id"]))
    intents.run_pending(agent.ctx)
    assert agent.store.intent("note:" + annotation["id"])["state"] == "ignored"
    assert [n["id"] for n in cw.list("/service/tickets/%d/notes" % ticket["id"])] == [note["id"]]


def test_a_crash_after_the_annotate_finds_the_annotation_and_does_not_repeat_it(make_agent, signl4, cw):
    """In process: the intent attempted, the annotation made, the intent not marked done."""
    agent = make_agent(notes=ON)
    ticket = raised_ticket(agent, cw, signl4)
    note = add_note(cw, ticket["id"], "Vendor ticket opened")
    agent.cycle()
    intent = agent.store.intent("annotate:%d" % note["id"])
    assert intent["attempts"] == 1 and intent["state"] == "done"
    agent.store.update_intent(intent["id"], state="pending")
    with agent.store.transaction() as db:
        db.execute("DELETE FROM written WHERE kind = 'annotation'")
    signl4.clear_requests()
    intents.run_pending(agent.ctx)
    assert len(annotations(signl4, ticket["id"])) == 1
    assert not [r for r in signl4.requests() if r["path"].endswith("/annotate")]
    assert agent.store.intent("annotate:%d" % note["id"])["state"] == "done"
    assert agent.store.written("annotation", annotations(signl4, ticket["id"])[0]["id"])
    # attempted, but the annotate never reached SIGNL4: the timeline has no marker, so it is sent
    other = add_note(cw, ticket["id"], "Second note")
    payload = intents.Annotate(ticket["id"], other["id"], 1, "x (ConnectWise): Second note")
    agent.store.add_intent(payload)
    agent.store.update_intent(agent.store.intent(payload.key)["id"], attempt=True)
    intents.run_pending(agent.ctx)
    assert len(annotations(signl4, ticket["id"])) == 2


@pytest.mark.slow  # agent processes, one killed with SIGKILL
def test_kill_9_between_the_annotate_and_its_done_leaves_one_annotation(provisioned, cw, tmp_path):
    manage, signl4 = provisioned
    proxy = FaultProxy(signl4.url)  # SIGNL4 applies the annotate; its answer never comes back
    rule = proxy.add_rule("POST", r"/annotate$", mode="apply_then_hang", count=1)
    port = support.free_port()
    raw = support.config(tmp_path, manage, signl4, port=port, notes=ON)
    raw["signl4"]["api_url"] = proxy.url + "/api"
    path = support.write_config(tmp_path, raw)
    support.subscribe(signl4, "http://127.0.0.1:%d/signl4/%s" % (port, support.WEBHOOK_TOKEN))
    ticket = support.new_ticket(cw)
    agent = support.AgentProcess(path, port)
    try:
        assert agent.wait_ready()
        assert support.wait_for(lambda: support.alerts(signl4, ticket["id"]))
        note = add_note(cw, ticket["id"], "Kill me after the annotate")
        assert support.wait_for(lambda: rule.hits == 1 and annotations(signl4, ticket["id"]), timeout=30)
        agent.proc.kill()  # SIGKILL while the annotate's answer is outstanding: the intent is not done
        agent.proc.wait(10)
        agent.stop()
        agent = support.AgentProcess(path, port)
        assert agent.wait_ready()
        assert support.wait_for(lambda: _intent_state(tmp_path, note["id"]) == "done", timeout=30)
        signl4.control("POST", "/outbound/drain", {"timeout": 10})
        time.sleep(2 * raw["poll_interval"])  # a few more cycles, and the 203 echo, have their chance
    finally:
        code, output = agent.stop()
        proxy.stop()
    assert code == 0, output[-2000:]
    [annotation] = annotations(signl4, ticket["id"])
    assert annotation["text"].endswith("[CW note %d]" % note["id"])
    assert [n["id"] for n in cw.list("/service/tickets/%d/notes" % ticket["id"])] == [note["id"]]


def _intent_state(tmp_path, note_id):
    import sqlite3
    with sqlite3.connect(str(tmp_path / "state.db")) as db:
        row = db.execute("SELECT state, attempts FROM intents WHERE key = ?", ("annotate:%d" % note_id,)).fetchone()
    return row and row[0]


def test_a_ticket_is_read_again_until_a_read_begins_a_second_after_its_change():
    """Manage's times are to the second: a note added later in the second of the ticket's lastUpdated leaves it."""
    watch = notes.Watch(clock=Clock())
    watch.read(7, 100.0, 100.0, answered=5.0, started=5.2)
    assert not watch.settled(7, 100.0)  # read within a second of the first answer naming 100.0
    watch.read(7, 100.0, 100.0, answered=5.9, started=6.0)
    assert watch.settled(7, 100.0)  # a second after that answer: every note of that second was there
    assert not watch.settled(7, 101.0)  # changed again
    watch.read(8, 100.0, 102.0, answered=9.0, started=9.1)
    assert watch.settled(8, 100.0)  # another ticket's later change: that second had ended before the answer
    watch.keep({8})
    assert not watch.settled(7, 100.0)


def _notes_calls(manage):
    """The requests notes.to_signl4 makes: the lastUpdated query and the notes reads."""
    return [r for r in manage.requests() if r["method"] == "GET" and (
        r["path"].endswith("/service/tickets") and "lastUpdated" in json.dumps(r["query"]) or "/notes" in r["path"])]


def _cycle_calls(agent):
    before = agent.metrics.calls()
    agent.cycle()
    return agent.metrics.calls() - before


def test_idle_cost_none_without_an_open_signl(make_agent, manage, signl4, cw):
    agent = make_agent()
    raised_ticket(agent, cw, signl4)
    for ticket in agent.store.tickets():  # every Signl closed (the seed's new tickets raised theirs too)
        support.act(signl4, "close", ticket["ticket_id"])
    support.settle(agent, signl4)
    assert agent.store.tickets() and agent.store.tickets_with_open_signls() == []
    agent.cycle()
    off = _cycle_calls(agent)
    agent.config["notes"]["to_signl4"]["enabled"] = True
    agent.cycle()
    manage.clear_requests()
    assert _cycle_calls(agent) == off
    assert _notes_calls(manage) == []


def test_idle_cost_one_call_with_open_signls_and_no_change(make_agent, manage, signl4, cw):
    agent = make_agent(receiver=False)
    agent.notes_watch.clock = clock = Clock()
    ticket = raised_ticket(agent, cw, signl4)
    agent.cycle()
    off = _cycle_calls(agent)
    agent.config["notes"]["to_signl4"]["enabled"] = True
    for _cycle in range(3):  # baselines read, then each ticket's notes once more after its newest second
        clock.now += 2
        agent.cycle()
    manage.clear_requests()
    clock.now += 2
    assert _cycle_calls(agent) == off + 1
    [query] = _notes_calls(manage)
    assert "lastUpdated >= [" in query["query"]["conditions"][0] and "id in (" in query["query"]["conditions"][0]
    assert query["query"]["fields"] == ["id,_info/lastUpdated"]
    # a change: the notes of that ticket only (at most twice: its second may not have ended at the first read)
    time.sleep(1.1)  # Manage's times are to the second: the change comes in a later one than the cycles' reads
    add_note(cw, ticket["id"], "one change")
    manage.clear_requests()
    for _cycle in range(3):
        clock.now += 2
        agent.cycle()
    reads = [r for r in _notes_calls(manage) if "/notes" in r["path"]]
    assert reads and {r["path"] for r in reads} == {r["path"] for r in reads if "/%d/" % ticket["id"] in r["path"]}
    assert len(reads) <= 2 and len(annotations(signl4, ticket["id"])) == 1


def test_beyond_the_id_list_one_query_of_every_ticket_changed(make_agent, manage, signl4, cw, monkeypatch):
    monkeypatch.setattr(notes, "ID_LIST_MAX", 1)  # more open Signls than ids the query names
    agent = make_agent(receiver=False, notes=ON)
    agent.notes_watch.clock = clock = Clock()
    ticket = raised_ticket(agent, cw, signl4)
    assert len(agent.store.tickets_with_open_signls()) > 1  # the seed's new tickets raised theirs too
    for _cycle in range(3):
        clock.now += 2
        agent.cycle()
    manage.clear_requests()
    clock.now += 2
    agent.cycle()
    [query] = _notes_calls(manage)
    assert "id in" not in query["query"]["conditions"][0]
    time.sleep(1.1)  # a later second than the cycles' reads
    note = add_note(cw, ticket["id"], "found without the id list")
    clock.now += 2
    agent.cycle()
    assert annotations(signl4, ticket["id"])[0]["text"].endswith("[CW note %d]" % note["id"])


def test_a_manage_callback_brings_the_new_note_at_once(make_agent, manage, signl4, cw):
    agent = make_agent(notes=ON)
    cw.create("/system/callbacks", {"url": "%s/manage/%s/callback?recordId=" % (agent.url, support.CALLBACK_TOKEN),
                                    "objectId": 1, "type": "ticket", "level": "owner", "description": "agent"})
    ticket = raised_ticket(agent, cw, signl4)
    manage.control("POST", "/callbacks/drain", {"timeout": 10})
    support.wait_for(lambda: agent.requested)
    agent._run_requested()
    note = add_note(cw, ticket["id"], "Callback me")
    manage.control("POST", "/callbacks/drain", {"timeout": 10})
    assert support.wait_for(lambda: ticket["id"] in agent.requested)
    agent._run_requested()  # the ticket's cycle, not a full one
    assert annotations(signl4, ticket["id"])[0]["text"].endswith("[CW note %d]" % note["id"])


def test_a_note_moves_its_tickets_last_updated_and_calls_its_callbacks(manage, cw):
    """The Manage emulator: a note written through the API is a change of its ticket (ASSUMPTIONS.md)."""
    seeded = cw.list("/service/tickets", conditions='summary = "Server CPU alert on SQL02"')[0]
    callback = cw.create("/system/callbacks", {"url": "http://127.0.0.1:9/cb?recordId=", "objectId": 1, "type": "ticket",
                                               "level": "owner"})
    note = add_note(cw, seeded["id"], "any note")
    after = cw.get("/service/tickets/%d" % seeded["id"])
    assert after["_info"]["lastUpdated"] == note["dateCreated"] > seeded["_info"]["lastUpdated"]
    found = cw.list("/service/tickets", conditions="lastUpdated >= [%s] AND id = %d" % (note["dateCreated"], seeded["id"]))
    assert [t["id"] for t in found] == [seeded["id"]]
    deliveries = manage.control("GET", "/callbacks")["deliveries"]
    assert {(d["payload"]["Action"], d["payload"]["ID"], d["payload"]["CallbackObjectRecId"]) for d in deliveries} == \
        {("updated", seeded["id"], callback["id"])}


def test_the_setting_is_validated_with_errors_naming_the_key(tmp_path, provisioned):
    manage, signl4 = provisioned
    cases = [({"to_signl4": "yes"}, "notes.to_signl4: expected dict"),
             ({"to_signl4": {"enabled": "yes"}}, "notes.to_signl4.enabled: expected bool"),
             ({"to_signl4": {"note_types": ["chat"]}}, "notes.to_signl4.note_types: unknown value(s) chat"),
             ({"to_signl4": {"note_types": []}}, "notes.to_signl4.note_types: name at least one of discussion"),
             ({"to_signl4": {"types": ["internal"]}}, "notes.to_signl4.types: unknown key; known: enabled, note_types")]
    for notes_section, message in cases:
        with pytest.raises(config_module.ConfigError) as error:
            config_module.validate(support.config(tmp_path, manage, signl4, notes=notes_section), env={})
        assert str(error.value).startswith(message), str(error.value)
    raw = support.config(tmp_path, manage, signl4, notes={"to_signl4": {"enabled": True, "note_types": ["internal"]}})
    raw["tenants"] = [{"id": "a"}, {"id": "b", "notes": {"to_signl4": {"enabled": False}}},
                      {"id": "c", "notes": {"to_signl4": {"note_types": ["resolution", "discussion"]}}}]
    raw.pop("listen")
    raw["listen"] = {"webhook_token": support.WEBHOOK_TOKEN}
    tenants = config_module.validate(raw, env={})["tenants"]
    assert [tenant["notes"]["to_signl4"] for tenant in tenants] == [
        {"enabled": True, "note_types": ["internal"]}, {"enabled": False, "note_types": ["internal"]},
        {"enabled": True, "note_types": ["resolution", "discussion"]}]  # key by key over the top level's
    raw["tenants"][1]["notes"]["to_signl4"]["note_types"] = "internal"
    with pytest.raises(config_module.ConfigError, match=r"^tenants\[1\]\.notes\.to_signl4\.note_types: expected list"):
        config_module.validate(raw, env={})
