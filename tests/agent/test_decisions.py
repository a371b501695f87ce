"""The decision table, row by row: what each observation means against what the store knows. The
expected actions are written out here (the behaviour of the agent's earlier consider_* functions and
webhook/poll checks), independently of the table; every row must be the answer for some case."""

import os

import pytest

from tests.emulators.harness import REPO_ROOT

from signl4_agent import decisions
from signl4_agent.decisions import (
    ACKNOWLEDGE,
    ANNOTATE,
    APPLY,
    CLOSE,
    ESCALATE,
    NOTE,
    READ_ESCALATIONS,
    RAISE,
    RAISE_AGAIN,
    REOPEN,
    REPAIR_FLAG,
    REPAIR_STATUS,
    TABLE,
    Alert,
    Seen,
    Signl,
    decide,
)

IGNORE = "Ignore"
CASES = [
    # the trigger: a new ticket raises; a raise in flight runs from the pending work; a raised ticket whose
    # retrieved flag someone cleared gets it back
    (Seen.TRIGGERED, Signl.NONE, None, RAISE),
    (Seen.TRIGGERED_FLAGGED, Signl.NONE, None, RAISE),
    (Seen.TRIGGERED, Signl.RAISING, None, IGNORE),
    (Seen.TRIGGERED_FLAGGED, Signl.RAISING, None, IGNORE),
    (Seen.TRIGGERED, Signl.OPEN, None, REPAIR_FLAG),
    (Seen.TRIGGERED, Signl.CLOSED, None, REPAIR_FLAG),
    (Seen.TRIGGERED_FLAGGED, Signl.ACKNOWLEDGED, None, IGNORE),
    # re-entry after a close: the reopen policy; a Signl that is not closed is left alone
    (Seen.REENTERED_NEW_SIGNL, Signl.CLOSED, None, RAISE_AGAIN),
    (Seen.REENTERED_REOPEN, Signl.CLOSED, None, REOPEN),
    (Seen.REENTERED_NEW_SIGNL, Signl.ACKNOWLEDGED, None, IGNORE),
    (Seen.REENTERED_REOPEN, Signl.OPEN, None, IGNORE),
    (Seen.REENTERED_NEW_SIGNL, Signl.NONE, None, IGNORE),
    # Manage -> SIGNL4: only forward; a Signl already there gets the status field; no Signl, nothing
    (Seen.MANAGE_ACKNOWLEDGED, Signl.OPEN, None, ACKNOWLEDGE),
    (Seen.MANAGE_ACKNOWLEDGED, Signl.ACKNOWLEDGED, None, REPAIR_STATUS),
    (Seen.MANAGE_ACKNOWLEDGED, Signl.CLOSED, None, REPAIR_STATUS),
    (Seen.MANAGE_RESOLVED, Signl.OPEN, None, CLOSE),
    (Seen.MANAGE_RESOLVED, Signl.ACKNOWLEDGED, None, CLOSE),
    (Seen.MANAGE_RESOLVED, Signl.CLOSED, None, REPAIR_STATUS),
    (Seen.MANAGE_RESOLVED, Signl.NONE, None, IGNORE),
    (Seen.MANAGE_ACKNOWLEDGED, Signl.RAISING, None, IGNORE),
    # SIGNL4 -> Manage by webhook: the ticket's Signl (or maybe it, the executor proves it), only forward
    (Seen.SIGNL4_ACKNOWLEDGED, Signl.OPEN, Alert.CURRENT, APPLY),
    (Seen.SIGNL4_ACKNOWLEDGED, Signl.OPEN, Alert.UNPROVEN, APPLY),
    (Seen.SIGNL4_CLOSED, Signl.ACKNOWLEDGED, Alert.CURRENT, APPLY),
    (Seen.SIGNL4_CLOSED, Signl.OPEN, Alert.UNPROVEN, APPLY),
    (Seen.SIGNL4_ACKNOWLEDGED, Signl.ACKNOWLEDGED, Alert.CURRENT, IGNORE),  # a duplicate, or the agent's echo
    (Seen.SIGNL4_ACKNOWLEDGED, Signl.CLOSED, Alert.CURRENT, IGNORE),  # stale
    (Seen.SIGNL4_CLOSED, Signl.CLOSED, Alert.UNPROVEN, IGNORE),
    (Seen.SIGNL4_CLOSED, Signl.OPEN, Alert.EARLIER, IGNORE),
    (Seen.SIGNL4_ACKNOWLEDGED, Signl.OPEN, Alert.OTHER, IGNORE),  # another system's alert with the ticket's number
    (Seen.SIGNL4_CLOSED, Signl.NONE, Alert.OTHER, IGNORE),
    # ... by the poll: what it read is applied without another read, so the alert must be proven the Signl
    (Seen.POLLED_ACKNOWLEDGED, Signl.OPEN, Alert.CURRENT, APPLY),
    (Seen.POLLED_CLOSED, Signl.ACKNOWLEDGED, Alert.CURRENT, APPLY),
    (Seen.POLLED_ACKNOWLEDGED, Signl.OPEN, Alert.UNPROVEN, IGNORE),
    (Seen.POLLED_CLOSED, Signl.CLOSED, Alert.CURRENT, IGNORE),
    (Seen.POLLED_CLOSED, Signl.OPEN, Alert.EARLIER, IGNORE),
    # annotations: of the Signl or an earlier one, whatever its status
    (Seen.ANNOTATED, Signl.OPEN, Alert.CURRENT, NOTE),
    (Seen.ANNOTATED, Signl.CLOSED, Alert.UNPROVEN, NOTE),
    (Seen.ANNOTATED, Signl.OPEN, Alert.EARLIER, NOTE),
    (Seen.ANNOTATED, Signl.OPEN, Alert.OTHER, IGNORE),
    (Seen.POLLED_ANNOTATION, Signl.ACKNOWLEDGED, Alert.CURRENT, NOTE),
    (Seen.POLLED_ANNOTATION, Signl.OPEN, Alert.EARLIER, NOTE),
    (Seen.POLLED_ANNOTATION, Signl.OPEN, Alert.UNPROVEN, IGNORE),
    (Seen.POLLED_ANNOTATION, Signl.OPEN, Alert.OTHER, IGNORE),
    # escalations: a 202 is a hint to read the alert's escalations, each read one is written to the ticket once; an
    # earlier Signl's, another system's or (read) an unproven alert's are not
    (Seen.ESCALATED, Signl.OPEN, Alert.CURRENT, READ_ESCALATIONS),
    (Seen.ESCALATED, Signl.ACKNOWLEDGED, Alert.UNPROVEN, READ_ESCALATIONS),
    (Seen.ESCALATED, Signl.OPEN, Alert.EARLIER, IGNORE),
    (Seen.ESCALATED, Signl.NONE, Alert.OTHER, IGNORE),
    (Seen.READ_ESCALATION, Signl.OPEN, Alert.CURRENT, ESCALATE),
    (Seen.READ_ESCALATION, Signl.CLOSED, Alert.CURRENT, ESCALATE),  # it happened while the Signl was open
    (Seen.READ_ESCALATION, Signl.OPEN, Alert.UNPROVEN, IGNORE),
    (Seen.READ_ESCALATION, Signl.OPEN, Alert.EARLIER, IGNORE),
    (Seen.READ_ESCALATION, Signl.OPEN, Alert.OTHER, IGNORE),
    # nobody acknowledged in time: only a Signl the store knows open (the executor asks SIGNL4 before it writes)
    (Seen.UNACKNOWLEDGED, Signl.OPEN, None, ESCALATE),
    (Seen.UNACKNOWLEDGED, Signl.ACKNOWLEDGED, None, IGNORE),
    (Seen.UNACKNOWLEDGED, Signl.CLOSED, None, IGNORE),
    (Seen.UNACKNOWLEDGED, Signl.RAISING, None, IGNORE),
    # notes both ways: a note of a type sent goes to an open (or acknowledged) Signl; what the agent wrote never
    # goes back, whichever way
    (Seen.MANAGE_NOTE, Signl.OPEN, None, ANNOTATE),
    (Seen.MANAGE_NOTE, Signl.ACKNOWLEDGED, None, ANNOTATE),
    (Seen.MANAGE_NOTE, Signl.CLOSED, None, IGNORE),
    (Seen.MANAGE_NOTE, Signl.RAISING, None, IGNORE),
    (Seen.MANAGE_NOTE_OTHER_TYPE, Signl.OPEN, None, IGNORE),
    (Seen.MANAGE_OWN_NOTE, Signl.OPEN, None, IGNORE),
    (Seen.OWN_ANNOTATION, Signl.OPEN, Alert.CURRENT, IGNORE),
    (Seen.OWN_ANNOTATION, Signl.CLOSED, Alert.EARLIER, IGNORE),
]


def _row(seen, signl, alert):
    """The index of the first row matching (what ``decide`` answers from)."""
    return next(index for index, (seen_in, signl_in, alert_in, _action) in enumerate(TABLE)
                if seen in seen_in and (signl_in is None or signl in signl_in) and (alert_in is None or alert in alert_in))


@pytest.mark.parametrize("seen, signl, alert, expected", CASES, ids=lambda value: getattr(value, "name", None))
def test_each_case_gets_its_action(seen, signl, alert, expected):
    action = decide(seen, signl, alert)
    assert action.name == IGNORE and action.reason if expected == IGNORE else action is expected


def test_every_row_answers_a_case_and_every_pair_has_an_answer():
    assert {_row(seen, signl, alert) for seen, signl, alert, _expected in CASES} == set(range(len(TABLE)))
    for seen in Seen:
        for signl in Signl:
            for alert in [None, *Alert]:
                assert decide(seen, signl, alert).name


def _record(generation=1, alert_status=1, alert_id=None, event_id=None, old_alerts=()):
    return dict(generation=generation, alert_status=alert_status, alert_id=alert_id, event_id=event_id,
                old_alerts=list(old_alerts), reopened=0)


def test_what_the_store_knows_of_a_signl():
    assert decisions.signl(None) is Signl.NONE and decisions.signl(None, raise_recorded=True) is Signl.RAISING
    assert decisions.signl(_record(generation=0, alert_status=0)) is Signl.NONE
    assert [decisions.signl(_record(alert_status=status)) for status in (1, 2, 4)] == \
        [Signl.OPEN, Signl.ACKNOWLEDGED, Signl.CLOSED]
    assert decisions.signl(_record(alert_status=4), raise_recorded=True) is Signl.CLOSED


def test_what_the_store_knows_of_an_alert():
    known = _record(alert_id="a1", event_id="e1", old_alerts=["a0"])
    assert decisions.alert(known, "a1", None) is Alert.CURRENT
    assert decisions.alert(known, "a2", "e1") is Alert.OTHER  # the id is known: the event id proves nothing more
    assert decisions.alert(known, "a0", "e1") is Alert.EARLIER
    by_event = _record(event_id="e1")
    assert decisions.alert(by_event, "a1", "e1") is Alert.CURRENT
    assert decisions.alert(by_event, "a1", "e2") is Alert.OTHER and decisions.alert(by_event, "a1", None) is Alert.OTHER
    assert decisions.alert(_record(), "a1", None) is Alert.UNPROVEN  # SIGNL4 answered the raise without an event id
    assert decisions.alert(None, "a1", "e1") is Alert.OTHER
    assert decisions.alert(_record(generation=0), "a1", None) is Alert.OTHER


def test_the_readme_prints_the_table():
    with open(os.path.join(REPO_ROOT, "agent", "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    assert "\n".join(decisions.table_lines()) in readme
