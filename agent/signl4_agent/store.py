"""The agent's durable state behind a small interface.

``Store`` is what the sync logic sees; ``SqliteStore`` implements it on SQLite in WAL mode (one
file, crash-safe, no server). A PostgreSQL store for an active/standby pair implements the same
methods; nothing in the sync logic names SQLite.

Three kinds of record:
- tickets: what the agent raised for a ticket (generation, Signl alert id, event id, alert status
  as last known: 0 pending, 1 open, 2 acknowledged, 4 closed) and the alert ids of earlier
  generations;
- intents: a side effect recorded *before* it is attempted, under a unique key, and marked done
  after. A restart finds the pending ones and reconciles them (e.g. looks an alert up by its
  external id before raising again);
- deliveries: ids of SIGNL4 outbound notifications already accepted (at-least-once delivery).

And the quarantine: records (a ticket, an alert, an intent, a workflow event) that failed in a cycle,
with the reason, so that ``status`` and ``/metrics`` show them; a record leaves it when it goes
through. At most ``MAX_QUARANTINE`` are kept (the oldest go first).
"""

import json
import sqlite3
import threading
import time

PENDING, DONE, IGNORED, FAILED = "pending", "done", "ignored", "failed"
MAX_QUARANTINE = 1000

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id INTEGER PRIMARY KEY, generation INTEGER NOT NULL DEFAULT 0, alert_id TEXT, event_id TEXT,
    alert_status INTEGER NOT NULL DEFAULT 0, old_alerts TEXT NOT NULL DEFAULT '[]', reopened INTEGER NOT NULL DEFAULT 0,
    updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS intents (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, ticket_id INTEGER,
    payload TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, error TEXT,
    created REAL NOT NULL, updated REAL NOT NULL);
CREATE INDEX IF NOT EXISTS intents_pending ON intents (state, id);
CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, received REAL NOT NULL);
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS quarantine (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, reason TEXT NOT NULL, first_seen REAL NOT NULL, last_seen REAL NOT NULL,
    failures INTEGER NOT NULL DEFAULT 1);
"""
TICKET_FIELDS = ("generation", "alert_id", "event_id", "alert_status", "old_alerts", "reopened")


class Store:
    """The interface. Every method is atomic; ``accept_delivery`` is one transaction."""

    def ticket(self, ticket_id):
        raise NotImplementedError

    def save_ticket(self, ticket_id, **fields):
        raise NotImplementedError

    def tickets(self):
        raise NotImplementedError

    def add_intent(self, key, kind, ticket_id, payload):
        """Record an intent; returns its id, or ``None`` when the key exists already."""
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

    def accept_delivery(self, delivery_id, intent=None):
        """Record an outbound notification id and, in the same transaction, its intent
        ``(key, kind, ticket_id, payload)``; returns False when the id was seen before."""
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


def _decoded(row, json_column):
    """A row as a dict, its JSON column parsed; ``None`` stays ``None``."""
    if row is None:
        return None
    record = dict(row)
    record[json_column] = json.loads(record[json_column])
    return record


def _ticket_row(row):
    return _decoded(row, "old_alerts")


def _intent_row(row):
    return _decoded(row, "payload")


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
        self.db.executescript(SCHEMA)

    def _one(self, sql, args=()):
        with self.lock:
            return self.db.execute(sql, args).fetchone()

    def ticket(self, ticket_id):
        return _ticket_row(self._one("SELECT * FROM tickets WHERE ticket_id = ?", (int(ticket_id),)))

    def save_ticket(self, ticket_id, **fields):
        unknown = set(fields) - set(TICKET_FIELDS)
        if unknown:
            raise KeyError("unknown ticket field(s): %s" % ", ".join(sorted(unknown)))
        if "old_alerts" in fields:
            fields["old_alerts"] = json.dumps(fields["old_alerts"])
        with self.lock:
            self.db.execute("INSERT OR IGNORE INTO tickets (ticket_id, updated) VALUES (?, ?)", (int(ticket_id), self.clock()))
            if fields:
                assignments = ", ".join("%s = ?" % name for name in fields)
                self.db.execute("UPDATE tickets SET %s, updated = ? WHERE ticket_id = ?" % assignments,
                                list(fields.values()) + [self.clock(), int(ticket_id)])
        return self.ticket(ticket_id)

    def tickets(self):
        with self.lock:
            return [_ticket_row(row) for row in self.db.execute("SELECT * FROM tickets ORDER BY ticket_id")]

    def _insert_intent(self, key, kind, ticket_id, payload):
        now = self.clock()
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO intents (key, kind, ticket_id, payload, state, created, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", (key, kind, ticket_id, json.dumps(payload), PENDING, now, now))
        return cursor.lastrowid if cursor.rowcount else None

    def add_intent(self, key, kind, ticket_id, payload):
        with self.lock:
            return self._insert_intent(key, kind, ticket_id, payload)

    def intent(self, key):
        return _intent_row(self._one("SELECT * FROM intents WHERE key = ?", (key,)))

    def pending_intents(self, limit=100):
        with self.lock:
            rows = self.db.execute("SELECT * FROM intents WHERE state = ? ORDER BY id LIMIT ?", (PENDING, limit))
            return [_intent_row(row) for row in rows]

    def update_intent(self, intent_id, state=None, payload=None, attempt=False, error=None):
        sets, args = ["updated = ?", "error = ?"], [self.clock(), error]
        if state is not None:
            sets.append("state = ?")
            args.append(state)
        if payload is not None:
            sets.append("payload = ?")
            args.append(json.dumps(payload))
        if attempt:
            sets.append("attempts = attempts + 1")
        with self.lock:
            self.db.execute("UPDATE intents SET %s WHERE id = ?" % ", ".join(sets), args + [intent_id])

    def forget_intent(self, intent_id):
        with self.lock:
            self.db.execute("DELETE FROM intents WHERE id = ? AND state = ?", (intent_id, PENDING))

    def accept_delivery(self, delivery_id, intent=None):
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self.db.execute("INSERT OR IGNORE INTO deliveries (id, received) VALUES (?, ?)",
                                         (delivery_id, self.clock()))
                fresh = bool(cursor.rowcount)
                if fresh and intent is not None:
                    self._insert_intent(*intent)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            return fresh

    def get(self, key, default=None):
        row = self._one("SELECT value FROM kv WHERE key = ?", (key,))
        return json.loads(row["value"]) if row else default

    def put(self, key, value):
        with self.lock:
            self.db.execute("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                            (key, json.dumps(value)))

    def counts(self):
        with self.lock:
            tickets = self.db.execute("SELECT alert_status, COUNT(*) FROM tickets GROUP BY alert_status").fetchall()
            intents = self.db.execute("SELECT kind, state, COUNT(*) FROM intents GROUP BY kind, state").fetchall()
            deliveries = self.db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0]
            quarantined = self.db.execute("SELECT COUNT(*) FROM quarantine").fetchone()[0]
        names = {0: "pending", 1: "open", 2: "acknowledged", 4: "closed"}
        return dict(tickets=dict((names.get(status, str(status)), count) for status, count in tickets),
                    intents=dict(("%s/%s" % (kind, state), count) for kind, state, count in intents),
                    deliveries=deliveries, quarantined=quarantined)

    def quarantine(self, key, kind, reason):
        now = self.clock()
        with self.lock:
            cursor = self.db.execute("UPDATE quarantine SET last_seen = ?, failures = failures + 1, reason = ? WHERE key = ?",
                                     (now, reason, key))
            if cursor.rowcount:
                return False
            self.db.execute("INSERT INTO quarantine (key, kind, reason, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)",
                            (key, kind, reason, now, now))
            self.db.execute("DELETE FROM quarantine WHERE key IN (SELECT key FROM quarantine ORDER BY last_seen DESC "
                            "LIMIT -1 OFFSET ?)", (MAX_QUARANTINE,))
            return True

    def release(self, key):
        with self.lock:
            self.db.execute("DELETE FROM quarantine WHERE key = ?", (key,))

    def quarantined(self):
        with self.lock:
            rows = self.db.execute("SELECT * FROM quarantine ORDER BY last_seen DESC, key").fetchall()
        return [dict(row) for row in rows]

    def close(self):
        with self.lock:
            self.db.close()
