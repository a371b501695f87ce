"""The agent's durable state behind a small interface.

``SqlStore`` is what the sync logic sees: one tenant's view of the state (every table carries the tenant
id; one database or one SQLite file holds all tenants), with the queries written once for both engines;
``SqliteStore`` runs them on SQLite in WAL mode (one file, crash-safe, no server, one agent),
``pgstore.PostgresStore`` on PostgreSQL (several agents, leases). Nothing in the sync logic names either.
The schema and its versions are in ``schema``.

Three kinds of record:
- tickets: what the agent raised for a ticket (generation, Signl alert id, event id, alert status
  as last known: ``constants.STATUS_NAMES``, the route that chose its team and when it was raised) and
  the alert ids of earlier generations;
- intents: a side effect recorded *before* it is attempted, under a unique key, and marked done
  after (``intents``). A restart finds the pending ones and reconciles them;
- deliveries: ids of SIGNL4 outbound notifications already accepted (at-least-once delivery);
- written: the ids of the ticket notes and SIGNL4 annotations the agent wrote itself (notes both ways: what
  the agent wrote is never sent back).

And the quarantine: records (a ticket, an alert, an intent, a workflow event) that failed in a cycle,
with the reason, so that ``status`` and ``/metrics`` show them; a record leaves it when it goes
through. At most ``MAX_QUARANTINE`` are kept per tenant (the oldest go first).
"""

import contextlib
import json
import sqlite3
import threading
import time

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import CancelledError
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import AlertStatus

from signl4_agent import schema
from signl4_agent.constants import DEFAULT_TENANT, PENDING, STATUS_NAMES

MAX_QUARANTINE = 1000
TICKET_FIELDS = ("generation", "alert_id", "event_id", "alert_status", "old_alerts", "reopened", "route", "raised_at",
                 "overdue_checked", "notes_after")
TABLES = ("tickets", "intents", "deliveries", "kv", "quarantine", "written")  # every tenant's state, as migrate-state copies it


class Fenced(CancelledError):
    """This agent does not hold the tenant's lease (any more): nothing was written, and the tenant's loop
    stops at once. A ``CancelledError``, so no record guard holds it up or quarantines a record for it."""


class StoreUnavailable(Exception):
    """The state database cannot be reached (or refused a statement); nothing is assumed written. The cycle
    ends as after an outage and is tried again after the back-off."""


def _ticket_row(row):
    """A row as a dict, ``old_alerts`` parsed; ``None`` stays ``None``."""
    return None if row is None else dict(dict(row), old_alerts=json.loads(row["old_alerts"]))


def _intent_row(row):
    """A row as a dict, ``payload`` parsed (``None`` when it is not JSON: ``intents`` refuses it)."""
    if row is None:
        return None
    try:
        payload = json.loads(row["payload"])
    except (TypeError, ValueError, RecursionError):
        payload = None
    return dict(dict(row), payload=payload)


class SqlStore:
    """One tenant's state, and the queries of both engines (``?`` placeholders; the PostgreSQL store translates
    them).

    Every write is one transaction (``with store.transaction() as db:``, committed at the end, rolled back on
    an error). A store shared by several agents checks in it that this agent still holds the tenant's lease,
    and raises ``Fenced`` otherwise, so an agent that lost its lease changes nothing; what the receiver records
    (``accept_delivery``, ``request_ticket``) is the exception, since whichever agent a delivery reaches
    records it. Intents are passed in as payloads (``intents.Payload``: ``key``, ``kind``, ``ticket_id``,
    ``to_json()``) and come back as rows (dicts, the payload parsed from JSON).

    A subclass brings ``transaction``, ``_one``, ``_all``, ``_insert_id`` (an INSERT's new id, None when it
    inserted nothing), ``_notify`` (tell the agents that something arrived for the tenant) and ``NO_LIMIT``."""

    NO_LIMIT = "-1"

    def __init__(self, tenant=DEFAULT_TENANT, clock=time.time):
        self.tenant = tenant
        self.clock = clock

    def _write(self, work, fenced=True):
        """``work(db)`` in one transaction; its result."""
        with self.transaction(fenced) as db:
            return work(db)

    def _notify(self, db):
        pass

    def ticket(self, ticket_id):
        return _ticket_row(self._one("SELECT * FROM tickets WHERE tenant = ? AND ticket_id = ?", (self.tenant, int(ticket_id))))

    def save_ticket(self, ticket_id, **fields):
        unknown = set(fields) - set(TICKET_FIELDS)
        if unknown:
            raise KeyError(f"unknown ticket field(s): {', '.join(sorted(unknown))}")
        if "old_alerts" in fields:
            fields["old_alerts"] = json.dumps(fields["old_alerts"])

        def work(db):
            db.execute("INSERT INTO tickets (tenant, ticket_id, updated) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                       (self.tenant, int(ticket_id), self.clock()))
            if fields:
                assignments = ", ".join(f"{name} = ?" for name in fields)
                db.execute(f"UPDATE tickets SET {assignments}, updated = ? WHERE tenant = ? AND ticket_id = ?",
                           [*fields.values(), self.clock(), self.tenant, int(ticket_id)])
        self._write(work)
        return self.ticket(ticket_id)

    def tickets(self):
        return [_ticket_row(row) for row in self._all("SELECT * FROM tickets WHERE tenant = ? ORDER BY ticket_id",
                                                      (self.tenant,))]

    def overdue_signls(self, raised_before, limit=100):
        """Tickets whose Signl the store knows open, raised at or before ``raised_before`` (unix time), whose
        unacknowledged-timeout escalation is not recorded for this generation yet (``overdue_checked``)."""
        return [_ticket_row(row) for row in self._all(
            "SELECT * FROM tickets WHERE tenant = ? AND generation >= 1 AND alert_status = ? AND raised_at <= ? "
            "AND overdue_checked < generation ORDER BY raised_at LIMIT ?", (self.tenant, AlertStatus.OPEN, raised_before, limit))]

    def _insert_intent(self, db, payload):
        now = self.clock()
        return self._insert_id(
            db, "INSERT INTO intents (tenant, key, kind, ticket_id, payload, state, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (self.tenant, payload.key, payload.kind, payload.ticket_id, json.dumps(payload.to_json()), PENDING, now, now))

    def add_intent(self, payload):
        """Record an intent; returns its id, or ``None`` when its key exists already."""
        return self._write(lambda db: self._insert_intent(db, payload))

    def intent(self, key):
        return _intent_row(self._one("SELECT * FROM intents WHERE tenant = ? AND key = ?", (self.tenant, key)))

    def pending_intents(self, limit=100):
        return [_intent_row(row) for row in self._all(
            "SELECT * FROM intents WHERE tenant = ? AND state = ? ORDER BY id LIMIT ?", (self.tenant, PENDING, limit))]

    def update_intent(self, intent_id, state=None, payload=None, attempt=False, error=None):
        sets, args = ["updated = ?", "error = ?"], [self.clock(), error]
        if state is not None:
            sets.append("state = ?")
            args.append(state)
        if payload is not None:
            sets.append("payload = ?")
            args.append(json.dumps(payload.to_json()))
        if attempt:
            sets.append("attempts = attempts + 1")
        self._write(lambda db: db.execute(f"UPDATE intents SET {', '.join(sets)} WHERE tenant = ? AND id = ?",
                                          [*args, self.tenant, intent_id]))

    def forget_intent(self, intent_id):
        """Delete an intent that did nothing (a hint SIGNL4 did not confirm), so that its key is free
        for the real event when it comes."""
        self._write(lambda db: db.execute("DELETE FROM intents WHERE tenant = ? AND id = ? AND state = ?",
                                          (self.tenant, intent_id, PENDING)))

    def accept_delivery(self, delivery_id, payload=None):
        """Record an outbound notification id and, in the same transaction, its intent (``payload``);
        returns False when the id was seen before."""
        def work(db):
            cursor = db.execute("INSERT INTO deliveries (tenant, id, received) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                                (self.tenant, delivery_id, self.clock()))
            fresh = bool(cursor.rowcount)
            if fresh and payload is not None:
                self._insert_intent(db, payload)
                self._notify(db)
            return fresh
        return self._write(work, fenced=False)

    def request_ticket(self, ticket_id):
        """Record that a (verified) Manage callback asks for the ticket to be read again, for the agent that
        drives the tenant. A store of one agent has nobody to tell: the receiver wakes its loop directly."""

    def take_requests(self):
        """The ticket ids callbacks asked for since the last call (and forget them)."""
        return []

    def tickets_with_open_signls(self):
        """The tickets whose Signl is open or acknowledged (ticket id, generation, ``notes_after``), by ticket id."""
        return [dict(row) for row in self._all(
            "SELECT ticket_id, generation, notes_after FROM tickets WHERE tenant = ? AND generation >= 1 "
            "AND alert_status IN (?, ?) ORDER BY ticket_id", (self.tenant, AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED))]

    def clear_notes_baselines(self):
        """Forget every ticket's note baseline (``notes_after``): the next look at its notes sets it anew."""
        self._write(lambda db: db.execute("UPDATE tickets SET notes_after = NULL WHERE tenant = ?", (self.tenant,)))

    def remember_written(self, kind, record_id, ticket_id):
        """Record that the agent wrote ``record_id`` (``kind``: ``note`` or ``annotation``) itself."""
        self._write(lambda db: db.execute(
            "INSERT INTO written (tenant, kind, id, ticket_id, created) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (self.tenant, kind, str(record_id), int(ticket_id), self.clock())))

    def written(self, kind, record_id):
        """Whether the agent recorded ``record_id`` (of ``kind``) as written by itself."""
        return self._one("SELECT 1 AS one FROM written WHERE tenant = ? AND kind = ? AND id = ?",
                         (self.tenant, kind, str(record_id))) is not None

    def get(self, key, default=None):
        row = self._one("SELECT value FROM kv WHERE tenant = ? AND key = ?", (self.tenant, key))
        return json.loads(row["value"]) if row else default

    def put(self, key, value):
        self._write(lambda db: db.execute(
            "INSERT INTO kv (tenant, key, value) VALUES (?, ?, ?) ON CONFLICT (tenant, key) DO UPDATE SET value = excluded.value",
            (self.tenant, key, json.dumps(value))))

    def counts(self):
        tenant = (self.tenant,)
        tickets = self._all("SELECT alert_status, COUNT(*) AS n FROM tickets WHERE tenant = ? GROUP BY alert_status", tenant)
        intents = self._all("SELECT kind, state, COUNT(*) AS n FROM intents WHERE tenant = ? GROUP BY kind, state", tenant)
        deliveries = self._one("SELECT COUNT(*) AS n FROM deliveries WHERE tenant = ?", tenant)["n"]
        quarantined = self._one("SELECT COUNT(*) AS n FROM quarantine WHERE tenant = ?", tenant)["n"]
        return dict(tickets={STATUS_NAMES.get(row["alert_status"], str(row["alert_status"])): row["n"] for row in tickets},
                    intents={f"{row['kind']}/{row['state']}": row["n"] for row in intents},
                    deliveries=deliveries, quarantined=quarantined)

    def quarantine(self, key, kind, reason):
        """Put a record in quarantine (or count one more failure of it); True when it was not in it."""
        now = self.clock()

        def work(db):
            cursor = db.execute("UPDATE quarantine SET last_seen = ?, failures = failures + 1, reason = ? "
                                "WHERE tenant = ? AND key = ?", (now, reason, self.tenant, key))
            if cursor.rowcount:
                return False
            db.execute("INSERT INTO quarantine (tenant, key, kind, reason, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)",
                       (self.tenant, key, kind, reason, now, now))
            db.execute("DELETE FROM quarantine WHERE tenant = ? AND key IN (SELECT key FROM quarantine WHERE tenant = ? "
                       f"ORDER BY last_seen DESC LIMIT {self.NO_LIMIT} OFFSET ?)", (self.tenant, self.tenant, MAX_QUARANTINE))
            return True
        return self._write(work)

    def release(self, key):
        """Take a record out of quarantine (it went through)."""
        self._write(lambda db: db.execute("DELETE FROM quarantine WHERE tenant = ? AND key = ?", (self.tenant, key)))

    def quarantined(self):
        """The records in quarantine, newest failure first: ``[{key, kind, reason, first_seen, last_seen, failures}]``."""
        return [dict(row) for row in self._all(
            "SELECT key, kind, reason, first_seen, last_seen, failures FROM quarantine WHERE tenant = ? "
            "ORDER BY last_seen DESC, key", (self.tenant,))]

    def reachable(self):
        """Whether the database answers now (``/readyz``)."""
        try:
            return self._one("SELECT 1 AS one")["one"] == 1
        except (StoreUnavailable, sqlite3.Error):
            return False


class SqliteStore(SqlStore):
    """SQLite in WAL mode with ``synchronous=FULL``: a committed write survives ``kill -9`` and
    power loss. One connection per store object (per tenant), shared by the threads under a lock
    (writes are tiny); the tenants of one file wait for each other only while one of them writes."""

    def __init__(self, path, clock=time.time, tenant=DEFAULT_TENANT):
        super().__init__(tenant, clock)
        self.path = path
        self.lock = threading.RLock()
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA cache_size=-512")  # KiB: the working set is small, the agent's memory budget too
        try:
            schema.migrate_sqlite(self.db, f"the state file {path}")
        except BaseException:
            self.db.close()
            raise

    @contextlib.contextmanager
    def transaction(self, fenced=True):
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def _one(self, sql, args=()):
        with self.lock:
            return self.db.execute(sql, args).fetchone()

    def _all(self, sql, args=()):
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    @staticmethod
    def _insert_id(db, sql, args):
        cursor = db.execute(sql, args)
        return cursor.lastrowid if cursor.rowcount else None

    def rows(self, table):
        """Every tenant's rows of a table, as dicts (``migrate-state``)."""
        return [dict(row) for row in self._all(f"SELECT * FROM {table} ORDER BY tenant")]  # noqa: S608 - TABLES only

    def close(self):
        with self.lock:
            self.db.close()
