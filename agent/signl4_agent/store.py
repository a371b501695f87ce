"""The agent's durable state behind a small interface.

``Store`` is what the sync logic sees; ``SqliteStore`` implements it on SQLite in WAL mode (one
file, crash-safe, no server). A PostgreSQL store for several agents implements the same
methods; nothing in the sync logic names SQLite. The schema and its versions are in ``schema``.

Three kinds of record:
- tickets: what the agent raised for a ticket (generation, Signl alert id, event id, alert status
  as last known: ``constants.STATUS_NAMES``) and the alert ids of earlier generations;
- intents: a side effect recorded *before* it is attempted, under a unique key, and marked done
  after (``intents``). A restart finds the pending ones and reconciles them;
- deliveries: ids of SIGNL4 outbound notifications already accepted (at-least-once delivery).

And the quarantine: records (a ticket, an alert, an intent, a workflow event) that failed in a cycle,
with the reason, so that ``status`` and ``/metrics`` show them; a record leaves it when it goes
through. At most ``MAX_QUARANTINE`` are kept (the oldest go first).
"""

import contextlib
import json
import sqlite3
import threading
import time

from signl4_agent import schema
from signl4_agent.constants import PENDING, STATUS_NAMES

MAX_QUARANTINE = 1000
TICKET_FIELDS = ("generation", "alert_id", "event_id", "alert_status", "old_alerts", "reopened")


class Store:
    """The interface: one tenant's state (a store shared by tenants binds each store object to one).

    Every write is one transaction (``transaction``). A store shared by several agents checks in it that
    this agent still holds the tenant's lease, and raises ``Fenced`` otherwise, so an agent that lost its
    lease changes nothing; ``accept_delivery`` is the exception, since whichever agent a delivery reaches
    records it. Intents are passed in as payloads (``intents.Payload``: ``key``, ``kind``, ``ticket_id``,
    ``to_json()``) and come back as rows (dicts, the payload parsed from JSON)."""

    def transaction(self):
        """``with store.transaction() as db:`` one transaction, committed at the end, rolled back on an error."""
        raise NotImplementedError

    def ticket(self, ticket_id):
        raise NotImplementedError

    def save_ticket(self, ticket_id, **fields):
        raise NotImplementedError

    def tickets(self):
        raise NotImplementedError

    def add_intent(self, payload):
        """Record an intent; returns its id, or ``None`` when its key exists already."""
        raise NotImplementedError

    def intent(self, key):
        raise NotImplementedError

    def pending_intents(self, limit=100):
        raise NotImplementedError

    def update_intent(self, intent_id, state=None, payload=None, attempt=False, error=None):
        raise NotImplementedError

    def forget_intent(self, intent_id):
        """Delete an intent that did nothing (a hint SIGNL4 did not confirm), so that its key is free
        for the real event when it comes."""
        raise NotImplementedError

    def accept_delivery(self, delivery_id, payload=None):
        """Record an outbound notification id and, in the same transaction, its intent (``payload``);
        returns False when the id was seen before."""
        raise NotImplementedError

    def get(self, key, default=None):
        raise NotImplementedError

    def put(self, key, value):
        raise NotImplementedError

    def counts(self):
        raise NotImplementedError

    def quarantine(self, key, kind, reason):
        """Put a record in quarantine (or count one more failure of it); True when it was not in it."""
        raise NotImplementedError

    def release(self, key):
        """Take a record out of quarantine (it went through)."""
        raise NotImplementedError

    def quarantined(self):
        """The records in quarantine, newest failure first: ``[{key, kind, reason, first_seen, last_seen, failures}]``."""
        raise NotImplementedError

    def close(self):
        pass


def _ticket_row(row):
    """A row as a dict, ``old_alerts`` parsed; ``None`` stays ``None``."""
    return None if row is None else dict(row, old_alerts=json.loads(row["old_alerts"]))


def _intent_row(row):
    """A row as a dict, ``payload`` parsed (``None`` when it is not JSON: ``intents`` refuses it)."""
    if row is None:
        return None
    try:
        payload = json.loads(row["payload"])
    except (TypeError, ValueError, RecursionError):
        payload = None
    return dict(row, payload=payload)


class SqliteStore(Store):
    """SQLite in WAL mode with ``synchronous=FULL``: a committed write survives ``kill -9`` and
    power loss. One connection shared by the threads under a lock (writes are tiny)."""

    def __init__(self, path, clock=time.time):
        self.path = path
        self.clock = clock
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
    def transaction(self):
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

    def ticket(self, ticket_id):
        return _ticket_row(self._one("SELECT * FROM tickets WHERE ticket_id = ?", (int(ticket_id),)))

    def save_ticket(self, ticket_id, **fields):
        unknown = set(fields) - set(TICKET_FIELDS)
        if unknown:
            raise KeyError(f"unknown ticket field(s): {', '.join(sorted(unknown))}")
        if "old_alerts" in fields:
            fields["old_alerts"] = json.dumps(fields["old_alerts"])
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO tickets (ticket_id, updated) VALUES (?, ?)", (int(ticket_id), self.clock()))
            if fields:
                assignments = ", ".join(f"{name} = ?" for name in fields)
                db.execute(f"UPDATE tickets SET {assignments}, updated = ? WHERE ticket_id = ?",
                           [*fields.values(), self.clock(), int(ticket_id)])
        return self.ticket(ticket_id)

    def tickets(self):
        return [_ticket_row(row) for row in self._all("SELECT * FROM tickets ORDER BY ticket_id")]

    def _insert_intent(self, db, payload):
        now = self.clock()
        cursor = db.execute(
            "INSERT OR IGNORE INTO intents (key, kind, ticket_id, payload, state, created, updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (payload.key, payload.kind, payload.ticket_id, json.dumps(payload.to_json()), PENDING, now, now))
        return cursor.lastrowid if cursor.rowcount else None

    def add_intent(self, payload):
        with self.transaction() as db:
            return self._insert_intent(db, payload)

    def intent(self, key):
        return _intent_row(self._one("SELECT * FROM intents WHERE key = ?", (key,)))

    def pending_intents(self, limit=100):
        return [_intent_row(row) for row in self._all("SELECT * FROM intents WHERE state = ? ORDER BY id LIMIT ?",
                                                      (PENDING, limit))]

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
        with self.transaction() as db:
            db.execute(f"UPDATE intents SET {', '.join(sets)} WHERE id = ?", [*args, intent_id])

    def forget_intent(self, intent_id):
        with self.transaction() as db:
            db.execute("DELETE FROM intents WHERE id = ? AND state = ?", (intent_id, PENDING))

    def accept_delivery(self, delivery_id, payload=None):
        with self.transaction() as db:
            cursor = db.execute("INSERT OR IGNORE INTO deliveries (id, received) VALUES (?, ?)", (delivery_id, self.clock()))
            fresh = bool(cursor.rowcount)
            if fresh and payload is not None:
                self._insert_intent(db, payload)
            return fresh

    def get(self, key, default=None):
        row = self._one("SELECT value FROM kv WHERE key = ?", (key,))
        return json.loads(row["value"]) if row else default

    def put(self, key, value):
        with self.transaction() as db:
            db.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                       (key, json.dumps(value)))

    def counts(self):
        with self.lock:
            tickets = self.db.execute("SELECT alert_status, COUNT(*) FROM tickets GROUP BY alert_status").fetchall()
            intents = self.db.execute("SELECT kind, state, COUNT(*) FROM intents GROUP BY kind, state").fetchall()
            deliveries = self.db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
            quarantined = self.db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0]
        return dict(tickets={STATUS_NAMES.get(status, str(status)): count for status, count in tickets},
                    intents={f"{kind}/{state}": count for kind, state, count in intents},
                    deliveries=deliveries, quarantined=quarantined)

    def quarantine(self, key, kind, reason):
        now = self.clock()
        with self.transaction() as db:
            cursor = db.execute("UPDATE quarantine SET last_seen = ?, failures = failures + 1, reason = ? WHERE key = ?",
                                (now, reason, key))
            if cursor.rowcount:
                return False
            db.execute("INSERT INTO quarantine (key, kind, reason, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)",
                       (key, kind, reason, now, now))
            db.execute("DELETE FROM quarantine WHERE key IN (SELECT key FROM quarantine ORDER BY last_seen DESC "
                       "LIMIT -1 OFFSET ?)", (MAX_QUARANTINE,))
            return True

    def release(self, key):
        with self.transaction() as db:
            db.execute("DELETE FROM quarantine WHERE key = ?", (key,))

    def quarantined(self):
        return [dict(row) for row in self._all("SELECT * FROM quarantine ORDER BY last_seen DESC, key")]

    def close(self):
        with self.lock:
            self.db.close()
