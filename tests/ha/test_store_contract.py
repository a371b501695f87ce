"""The store contract, on both stores: what the sync logic relies on holds for SQLite and for PostgreSQL alike
(unique intent keys, a delivery and its intent in one transaction, durable writes, the quarantine's bound,
every tenant's state apart from the others')."""

import pytest

from signl4_agent import store as store_module
from signl4_agent.constants import DONE, IGNORED, PENDING
from signl4_agent.intents import ManageStatus, Note, Raise
from signl4_agent.pgstore import Database, PostgresStore
from signl4_agent.store import SqliteStore


class Backend:
    """Opens stores of one database (``tenant`` views), closes them all at the end."""

    def __init__(self, kind, tmp_path, dsn):
        self.kind, self.path, self.dsn = kind, str(tmp_path / "state.db"), dsn
        self.opened, self.databases = [], []

    def open(self, tenant="default"):
        if self.kind == "sqlite":
            made = SqliteStore(self.path, tenant=tenant)
        else:
            database = Database({"dsn": self.dsn}, "contract")
            self.databases.append(database)
            made = PostgresStore(database.intake, tenant)
        self.opened.append(made)
        return made

    def close(self):
        for made in self.opened:
            made.close()
        for database in self.databases:
            database.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, tmp_path):
    made = Backend(request.param, tmp_path, request.getfixturevalue("dsn") if request.param == "postgresql" else None)
    yield made
    made.close()


def test_intents_are_unique_and_deliveries_atomic_and_durable(backend):
    store = backend.open()
    first = store.add_intent(Raise(1, 1))
    assert first is not None
    assert store.add_intent(Raise(1, 1, "another marker")) is None
    acknowledged = ManageStatus(1, 2, "a")
    assert store.accept_delivery("n1", acknowledged) is True
    assert store.accept_delivery("n1", acknowledged) is False
    assert store.accept_delivery("n2", acknowledged) is True
    assert store.accept_delivery("n3") is True  # a delivery without an intent
    assert [i["key"] for i in store.pending_intents()] == ["raise:1:1", "manage_status:a:2:0"]
    store.update_intent(first, state=DONE, attempt=True)
    assert store.intent("raise:1:1")["state"] == DONE and store.intent("raise:1:1")["attempts"] == 1
    store.save_ticket(1, generation=1, old_alerts=["x"])
    reopened = backend.open()  # another connection (SQLite: another file handle) sees every committed write
    assert reopened.ticket(1)["old_alerts"] == ["x"]
    assert reopened.intent("manage_status:a:2:0")["state"] == PENDING
    assert reopened.counts()["deliveries"] == 3


def test_intent_updates_and_forgetting(backend):
    store = backend.open()
    raised = store.add_intent(Raise(7, 1))
    store.update_intent(raised, payload=Raise(7, 1, "marker-7"), attempt=True, error="HTTP 500")
    row = store.intent("raise:7:1")
    expected = ({"generation": 1, "marker": "marker-7"}, 1, "HTTP 500", PENDING)
    assert (row["payload"], row["attempts"], row["error"], row["state"]) == expected
    store.update_intent(raised, state=IGNORED)
    assert store.intent("raise:7:1")["error"] is None and store.pending_intents() == []
    note = store.add_intent(Note(7, "alert-7", "annotation-1"))
    store.forget_intent(raised)  # done or ignored: kept
    store.forget_intent(note)  # pending: deleted, its key free again
    assert store.intent("raise:7:1") is not None and store.intent("note:annotation-1") is None
    assert store.add_intent(Note(7, "alert-7", "annotation-1")) is not None


def test_pending_intents_come_oldest_first_and_limited(backend):
    store = backend.open()
    for ticket_id in range(5):
        store.add_intent(Raise(ticket_id + 1, 1))
    assert [row["ticket_id"] for row in store.pending_intents(limit=3)] == [1, 2, 3]


def test_tickets_and_settings(backend):
    store = backend.open()
    assert store.ticket(3) is None and store.get("nothing", "default") == "default"
    saved = store.save_ticket(3, generation=1, alert_id="a3", event_id="e3", alert_status=2)
    assert (saved["generation"], saved["alert_id"], saved["alert_status"], saved["old_alerts"], saved["reopened"]) == \
        (1, "a3", 2, [], 0)
    store.save_ticket(3, reopened=1)
    assert store.ticket(3)["alert_id"] == "a3" and store.ticket(3)["reopened"] == 1
    with pytest.raises(KeyError):
        store.save_ticket(3, colour="blue")
    store.save_ticket(2)
    assert [ticket["ticket_id"] for ticket in store.tickets()] == [2, 3]
    store.put("signl4_polled", 1700000000.5)
    store.put("signl4_polled", 1700000001.5)
    assert store.get("signl4_polled") == 1700000001.5
    assert store.counts()["tickets"] == {"pending": 1, "acknowledged": 1}
    assert store.reachable()


def test_notes_both_ways_state(backend):
    """What the agent wrote (by kind and id), each ticket's note baseline, the tickets with an open Signl."""
    store, other = backend.open(), backend.open("contoso")
    store.remember_written("annotation", "2518_a", 4)
    store.remember_written("annotation", "2518_a", 4)  # again after a crash: no error
    store.remember_written("note", 17, 4)
    assert store.written("annotation", "2518_a") and store.written("note", "17") and store.written("note", 17)
    assert not store.written("note", "2518_a") and not other.written("annotation", "2518_a")
    for ticket_id, status in ((4, 1), (5, 2), (6, 4)):
        store.save_ticket(ticket_id, generation=1, alert_status=status, notes_after=ticket_id * 10)
    store.save_ticket(7)  # a raise recorded, not sent
    assert [(row["ticket_id"], row["notes_after"]) for row in store.tickets_with_open_signls()] == [(4, 40), (5, 50)]
    assert other.tickets_with_open_signls() == []
    store.clear_notes_baselines()
    assert store.ticket(4)["notes_after"] is None and store.ticket(6)["notes_after"] is None


def test_the_quarantine_counts_and_is_bounded(backend, monkeypatch):
    monkeypatch.setattr(store_module, "MAX_QUARANTINE", 3)
    clock = iter(range(100, 200))
    store = backend.open()
    store.clock = lambda: float(next(clock))
    assert store.quarantine("ticket:1", "ticket", "HTTP 400") is True
    assert store.quarantine("ticket:1", "ticket", "HTTP 404") is False
    entry = store.quarantined()[0]
    assert (entry["key"], entry["reason"], entry["failures"]) == ("ticket:1", "HTTP 404", 2)
    for number in range(2, 6):
        store.quarantine(f"ticket:{number}", "ticket", "bad")
    assert [entry["key"] for entry in store.quarantined()] == ["ticket:5", "ticket:4", "ticket:3"]  # the oldest went
    store.release("ticket:4")
    assert [entry["key"] for entry in store.quarantined()] == ["ticket:5", "ticket:3"]
    assert store.counts()["quarantined"] == 2


def test_every_tenant_has_its_own_state_in_one_database(backend):
    contoso, fabrikam = backend.open("contoso"), backend.open("fabrikam")
    assert contoso.add_intent(Raise(1, 1)) is not None
    assert fabrikam.add_intent(Raise(1, 1)) is not None  # the same key, another tenant
    assert contoso.accept_delivery("d1", ManageStatus(1, 2, "a")) is True
    assert fabrikam.accept_delivery("d1", ManageStatus(1, 2, "a")) is True
    contoso.save_ticket(1, generation=1, alert_id="contoso-alert")
    fabrikam.put("first_start", 5.0)
    fabrikam.quarantine("ticket:1", "ticket", "bad")
    assert fabrikam.ticket(1) is None and contoso.get("first_start") is None and contoso.quarantined() == []
    assert [row["key"] for row in contoso.pending_intents()] == ["raise:1:1", "manage_status:a:2:0"]
    assert contoso.counts() == dict(tickets={"pending": 1}, intents={"raise/pending": 1, "manage_status/pending": 1},
                                    deliveries=1, quarantined=0)
    assert fabrikam.counts()["quarantined"] == 1 and len(fabrikam.pending_intents()) == 2


def test_routes_and_overdue_signls(backend):
    """A ticket's route and raise time (schema version 3); the open Signls raised before a moment whose timeout is
    not recorded for their generation, oldest first, of this tenant only."""
    store, other = backend.open(), backend.open("contoso")
    store.save_ticket(1, generation=1, alert_status=1, route="network", raised_at=100.0)
    store.save_ticket(2, generation=2, alert_status=1, raised_at=50.0)
    store.save_ticket(3, generation=1, alert_status=2, raised_at=10.0)  # acknowledged
    store.save_ticket(4, generation=1, alert_status=1, raised_at=500.0)  # not due
    store.save_ticket(5, generation=0)  # not raised
    other.save_ticket(6, generation=1, alert_status=1, raised_at=1.0)
    assert store.ticket(1)["route"] == "network" and store.ticket(2)["route"] is None
    assert [t["ticket_id"] for t in store.overdue_signls(200.0)] == [2, 1]
    store.save_ticket(2, overdue_checked=2)
    store.save_ticket(1, overdue_checked=0)
    assert [t["ticket_id"] for t in store.overdue_signls(200.0, limit=5)] == [1]
    assert [t["ticket_id"] for t in other.overdue_signls(200.0)] == [6]
