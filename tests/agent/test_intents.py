"""Intents as objects: one key format per kind, payloads checked when they come back from the store
(including those an earlier agent wrote), a stored intent that does not parse quarantined with its
ticket's later intents held, and the reconcile steps that need no request."""

import json
import time
import types

import pytest

from signl4_agent import intents
from signl4_agent.constants import IGNORED, PENDING
from signl4_agent.intents import BadIntent, Intent, ManageStatus, Note, Raise, Reopen, Signl4Status
from signl4_agent.metrics import Metrics
from signl4_agent.quarantine import Quarantine
from signl4_agent.store import SqliteStore

PAYLOADS = [Raise(7, 1, "f00d"), Raise(7, 2), Reopen(7, 1), Signl4Status(7, 2, 1), Signl4Status(7, 4, 2, 3),
            ManageStatus(7, 4, "alert-7", "event-7", 1), ManageStatus(7, 2, "alert-7", verified=True, user_id="olivia"),
            Note(7, "alert-7", "ann-1"), Note(7, "alert-7", "ann-2", "event-7", verified=True, text="on it", user_id="u")]


def test_keys():
    assert [payload.key for payload in PAYLOADS] == [
        "raise:7:1", "raise:7:2", "reopen:7:1", "signl4_acknowledge:7:1:0", "signl4_close:7:2:3",
        "manage_status:alert-7:4:1", "manage_status:alert-7:2:0", "note:ann-1", "note:ann-2"]


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda payload: payload.key)
def test_a_payload_comes_back_from_json_as_it_went_in(payload):
    stored = json.loads(json.dumps(payload.to_json()))
    assert type(payload).from_json(payload.ticket_id, stored) == payload


@pytest.mark.parametrize("payload_type, stored, expected", [
    (Raise, {"generation": 1}, Raise(7, 1)),  # recorded before raises had a marker
    (Signl4Status, {"status": 2, "generation": 1}, Signl4Status(7, 2, 1)),
    (ManageStatus, {"status": 4, "alert_id": "a", "event_id": "e", "user": {"id": "olivia"}, "verified": True},
     ManageStatus(7, 4, "a", "e", verified=True, user_id="olivia")),
    (ManageStatus, {"status": 2, "alert_id": "a", "event_id": None, "user": {}, "verified": True},
     ManageStatus(7, 2, "a", verified=True)),
    (Note, {"alert_id": "a", "event_id": "e", "annotation_id": "n", "text": "hi", "user": {"id": "u"}, "verified": True},
     Note(7, "a", "n", "e", verified=True, text="hi", user_id="u")),
])
def test_payloads_an_earlier_agent_wrote_are_read(payload_type, stored, expected):
    assert payload_type.from_json(7, stored) == expected


@pytest.mark.parametrize("payload_type, ticket_id, stored", [
    (Raise, 7, {}), (Raise, 7, {"generation": 0}), (Raise, 7, {"generation": True}), (Raise, 7, {"generation": "1"}),
    (Raise, "x", {"generation": 1}), (Raise, None, {"generation": 1}), (Raise, 7, {"generation": 1, "marker": 5}),
    (Signl4Status, 7, {"status": 1, "generation": 1}), (Signl4Status, 7, {"status": True, "generation": 1}),
    (Signl4Status, 7, {"status": 2, "generation": 1, "round": -1}),
    (ManageStatus, 7, {"status": 4, "alert_id": 5}), (ManageStatus, 7, {"status": 4, "alert_id": ""}),
    (ManageStatus, 7, {"status": 4, "alert_id": "a", "verified": "yes"}),
    (Note, 7, {"alert_id": "a"}), (Note, 7, {"alert_id": "a", "annotation_id": "n", "verified": True}),
    (Note, 7, None), (Note, 7, ["alert_id", "a"]),
])
def test_a_stored_payload_that_does_not_parse_is_refused(payload_type, ticket_id, stored):
    with pytest.raises(BadIntent):
        payload_type.from_json(ticket_id, stored)


def test_an_intent_of_an_unknown_kind_is_refused():
    row = dict(id=1, key="escalate:7", kind="escalate", ticket_id=7, payload={}, attempts=0, error=None)
    with pytest.raises(BadIntent):
        Intent.from_row(row)


@pytest.fixture
def ctx(tmp_path):
    """A context without API clients: what is tested here must make no request."""
    store = SqliteStore(str(tmp_path / "state.db"))
    metrics = Metrics()
    yield types.SimpleNamespace(store=store, metrics=metrics, quarantine=Quarantine(store, metrics), stopping=None)
    store.close()


def _state(store, payload):
    return store.intent(payload.key)["state"]


def test_a_stored_intent_that_does_not_parse_is_quarantined_and_holds_its_tickets_later_intents(ctx):
    for ticket_id in (1, 2):
        ctx.store.save_ticket(ticket_id, generation=2, alert_id="alert-%d" % ticket_id, alert_status=4)
    ctx.store.db.execute("INSERT INTO intents (key, kind, ticket_id, payload, state, created, updated) "
                         "VALUES ('note:x', 'note', 1, 'not json', 'pending', 0, 0)")  # a damaged state file
    later, other = Reopen(1, 1), Reopen(2, 1)  # each of a replaced Signl: done without a request
    ctx.store.add_intent(later)
    ctx.store.add_intent(other)
    assert intents.run_pending(ctx) == 2
    assert [entry["key"] for entry in ctx.store.quarantined()] == ["intent:note:x"]
    assert _state(ctx.store, later) == PENDING and _state(ctx.store, other) == IGNORED


def test_an_intent_about_a_replaced_signl_is_ignored_without_a_request(ctx):
    """``ctx`` has no clients: a request would fail the intent instead."""
    ctx.store.save_ticket(3, generation=2, alert_id="alert-3", alert_status=1)
    acknowledge, reopen, current = Signl4Status(3, 2, 1), Reopen(3, 1), Reopen(3, 2)
    for payload in (acknowledge, reopen, current):
        ctx.store.add_intent(payload)
    intents.run_pending(ctx)
    assert _state(ctx.store, acknowledge) == IGNORED and _state(ctx.store, reopen) == IGNORED
    assert _state(ctx.store, current) == PENDING  # the current Signl's: it would act (and needs SIGNL4)


def test_intents_pending_at_a_takeover_wait_while_the_former_holders_request_may_be_in_flight(ctx, monkeypatch):
    """After a takeover (leases), the intents pending then wait out the former holder's request deadline; a later
    intent of their ticket waits with them, other work goes on."""
    executed = []
    monkeypatch.setattr(intents, "execute", lambda context, intent, ticket=None: executed.append(intent.key))
    raised = ctx.store.add_intent(intents.Raise(1, 1, "marker"))
    noted = ctx.store.add_intent(intents.Note(2, "alert-2", "annotation-2"))
    ctx.in_doubt = intents.InDoubt(noted, time.monotonic() + 60)
    ctx.store.add_intent(intents.Signl4Status(1, 2, 1))  # after the takeover, but its ticket's raise waits
    ctx.store.add_intent(intents.Note(3, "alert-3", "annotation-3"))  # after the takeover: runs
    intents.run_pending(ctx)
    assert executed == ["note:annotation-3"] and raised < noted
    ctx.in_doubt = intents.InDoubt(noted, time.monotonic() - 1)  # the wait is over
    intents.run_pending(ctx)
    assert executed[1:] == ["raise:1:1", "note:annotation-2", "signl4_acknowledge:1:1:0", "note:annotation-3"]
