"""The state's schema as numbered migrations, for each dialect of store.

A migration has a version, what it does, and its statements per dialect. A store applies the ones
above the version its database records, in order, each in one transaction together with the new version
(SQLite: ``PRAGMA user_version``; PostgreSQL: a ``schema_version`` table), and refuses a database whose
version is newer than the last one here (a newer agent wrote it). Version 1 is the schema of the agents
before versions: it creates only what is missing, so their state files are adopted as they are.

Each migration holds the statements of both stores (SQLite, and PostgreSQL for several agents on one
database: ``pgstore``); a dialect without statements for a version cannot open a database. Version 2
adds the tenant to every table (a state file of version 1 is the tenant ``default``'s) and, on
PostgreSQL, the leases, the agents and the tickets callbacks asked for. Version 3 adds to each ticket the
route its Signl was raised by, when it was raised (a Signl raised before counts from the ticket's last
change), and the generation whose unacknowledged-timeout escalation is recorded. Version 4 adds what notes
both ways need: a ticket's note baseline (``notes_after``: notes up to that id were there before its Signl)
and the notes and annotations the agent wrote (``written``).
"""

from dataclasses import dataclass


class SchemaError(Exception):
    """A database this agent must not use (its schema is newer than this agent's)."""


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sqlite: tuple
    postgresql: tuple = None


def _rebuilt(table, columns, keys, copied, indexes=()):
    """SQLite cannot change a table's key in place: the table made anew with a ``tenant`` column (its rows are
    the tenant ``default``'s: a state file before tenants held one), its rows copied, the old one dropped."""
    return (f"CREATE TABLE {table}_v2 (tenant TEXT NOT NULL DEFAULT 'default', {columns}, {keys})",
            f"INSERT INTO {table}_v2 (tenant, {copied}) SELECT 'default', {copied} FROM {table}",
            f"DROP TABLE {table}",
            f"ALTER TABLE {table}_v2 RENAME TO {table}") + tuple(indexes)


def _tenant_key(table, key):
    """PostgreSQL: the tenant column added, the table's key made ``(tenant, <key>)``."""
    return (f"ALTER TABLE {table} ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default'",
            f"ALTER TABLE {table} DROP CONSTRAINT {table}_{'key_key' if key == 'key' and table == 'intents' else 'pkey'}",
            f"ALTER TABLE {table} ADD " + ("UNIQUE (tenant, key)" if table == "intents" else f"PRIMARY KEY (tenant, {key})"))


# What the agent wrote itself, so that it never sends it back: ``note`` (a Manage note id, written from an
# annotation or a workflow action) and ``annotation`` (a SIGNL4 annotation id, written from a ticket note).
WRITTEN = ("CREATE TABLE written (tenant TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL, ticket_id {ticket}, "
           "created {time} NOT NULL, PRIMARY KEY (tenant, kind, id))")
TICKET_COLUMNS = "ticket_id, generation, alert_id, event_id, alert_status, old_alerts, reopened, updated"
INTENT_COLUMNS = "id, key, kind, ticket_id, payload, state, attempts, error, created, updated"

# The same statements for both dialects.
_ROUTED = (
    "ALTER TABLE tickets ADD COLUMN route TEXT",
    "ALTER TABLE tickets ADD COLUMN raised_at DOUBLE PRECISION",
    "ALTER TABLE tickets ADD COLUMN overdue_checked INTEGER NOT NULL DEFAULT 0",
    "UPDATE tickets SET raised_at = updated WHERE generation >= 1",
)

MIGRATIONS = (
    Migration(1, "tickets, intents, delivery ids, settings, quarantine", sqlite=(
        """CREATE TABLE IF NOT EXISTS tickets (
            ticket_id INTEGER PRIMARY KEY, generation INTEGER NOT NULL DEFAULT 0, alert_id TEXT, event_id TEXT,
            alert_status INTEGER NOT NULL DEFAULT 0, old_alerts TEXT NOT NULL DEFAULT '[]',
            reopened INTEGER NOT NULL DEFAULT 0, updated REAL NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS intents (
            id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, ticket_id INTEGER,
            payload TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, error TEXT,
            created REAL NOT NULL, updated REAL NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS intents_pending ON intents (state, id)",
        "CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, received REAL NOT NULL)",
        "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE IF NOT EXISTS quarantine (
            key TEXT PRIMARY KEY, kind TEXT NOT NULL, reason TEXT NOT NULL, first_seen REAL NOT NULL,
            last_seen REAL NOT NULL, failures INTEGER NOT NULL DEFAULT 1)""",
    ), postgresql=(
        """CREATE TABLE tickets (
            ticket_id BIGINT PRIMARY KEY, generation INTEGER NOT NULL DEFAULT 0, alert_id TEXT, event_id TEXT,
            alert_status INTEGER NOT NULL DEFAULT 0, old_alerts TEXT NOT NULL DEFAULT '[]',
            reopened INTEGER NOT NULL DEFAULT 0, updated DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE intents (
            id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
            ticket_id BIGINT, payload TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT, created DOUBLE PRECISION NOT NULL, updated DOUBLE PRECISION NOT NULL)""",
        "CREATE INDEX intents_pending ON intents (state, id)",
        "CREATE TABLE deliveries (id TEXT PRIMARY KEY, received DOUBLE PRECISION NOT NULL)",
        "CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        """CREATE TABLE quarantine (
            key TEXT PRIMARY KEY, kind TEXT NOT NULL, reason TEXT NOT NULL, first_seen DOUBLE PRECISION NOT NULL,
            last_seen DOUBLE PRECISION NOT NULL, failures INTEGER NOT NULL DEFAULT 1)""",
    )),
    Migration(2, "tenants: a tenant column in every table; PostgreSQL: leases, agents, callback requests", sqlite=(
        *_rebuilt("tickets", """ticket_id INTEGER NOT NULL, generation INTEGER NOT NULL DEFAULT 0, alert_id TEXT,
                  event_id TEXT, alert_status INTEGER NOT NULL DEFAULT 0, old_alerts TEXT NOT NULL DEFAULT '[]',
                  reopened INTEGER NOT NULL DEFAULT 0, updated REAL NOT NULL""", "PRIMARY KEY (tenant, ticket_id)",
                  TICKET_COLUMNS),
        *_rebuilt("intents", """id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, kind TEXT NOT NULL,
                  ticket_id INTEGER, payload TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
                  error TEXT, created REAL NOT NULL, updated REAL NOT NULL""", "UNIQUE (tenant, key)", INTENT_COLUMNS,
                  ("CREATE INDEX intents_pending ON intents (tenant, state, id)",)),
        *_rebuilt("deliveries", "id TEXT NOT NULL, received REAL NOT NULL", "PRIMARY KEY (tenant, id)", "id, received"),
        *_rebuilt("kv", "key TEXT NOT NULL, value TEXT NOT NULL", "PRIMARY KEY (tenant, key)", "key, value"),
        *_rebuilt("quarantine", """key TEXT NOT NULL, kind TEXT NOT NULL, reason TEXT NOT NULL, first_seen REAL NOT NULL,
                  last_seen REAL NOT NULL, failures INTEGER NOT NULL DEFAULT 1""", "PRIMARY KEY (tenant, key)",
                  "key, kind, reason, first_seen, last_seen, failures"),
    ), postgresql=(
        *_tenant_key("tickets", "ticket_id"),
        *_tenant_key("intents", "key"),
        "DROP INDEX intents_pending",
        "CREATE INDEX intents_pending ON intents (tenant, state, id)",
        *_tenant_key("deliveries", "id"),
        *_tenant_key("kv", "key"),
        *_tenant_key("quarantine", "key"),
        # One row per tenant: who drives it (an agent process: node id and a random instance), the epoch each
        # takeover increments, and the expiry on the database's clock.
        """CREATE TABLE leases (
            tenant TEXT PRIMARY KEY, holder TEXT, epoch BIGINT NOT NULL DEFAULT 0,
            expires_at TIMESTAMPTZ NOT NULL DEFAULT 'epoch')""",
        "CREATE TABLE agents (holder TEXT PRIMARY KEY, node TEXT NOT NULL, started TIMESTAMPTZ NOT NULL, "
        "heartbeat TIMESTAMPTZ NOT NULL)",
        # Tickets verified Manage callbacks asked to read again, for the agent that drives the tenant.
        "CREATE TABLE requests (tenant TEXT NOT NULL, ticket_id BIGINT NOT NULL, requested DOUBLE PRECISION NOT NULL, "
        "PRIMARY KEY (tenant, ticket_id))",
    )),
    Migration(3, "routes and escalations: each ticket's route, when its Signl was raised, its timeout escalation",
              sqlite=_ROUTED, postgresql=_ROUTED),
    Migration(4, "notes both ways: each ticket's note baseline, the notes and annotations the agent wrote", sqlite=(
        "ALTER TABLE tickets ADD COLUMN notes_after INTEGER",
        WRITTEN.format(ticket="INTEGER", time="REAL"),
    ), postgresql=(
        "ALTER TABLE tickets ADD COLUMN notes_after BIGINT",
        WRITTEN.format(ticket="BIGINT", time="DOUBLE PRECISION"),
    )),
)
LATEST = MIGRATIONS[-1].version


def pending(version, dialect, where="the state"):
    """The migrations a database at ``version`` needs, in order; :class:`SchemaError` for one this agent
    must not use."""
    if version > LATEST:
        raise SchemaError(f"{where} has schema version {version}; this agent knows versions up to {LATEST} "
                          "(a newer agent wrote it): run that agent, or start from a backup")
    steps = [migration for migration in MIGRATIONS if migration.version > version]
    missing = [migration.version for migration in steps if getattr(migration, dialect) is None]
    if missing:
        raise SchemaError(f"no {dialect} statements for schema version(s) {missing}")
    return steps


def migrate_sqlite(db, where):
    """Bring a SQLite database (a connection in autocommit mode) to ``LATEST``, one migration per
    transaction; the version is read again inside each, so two processes opening one file migrate once."""
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            steps = pending(db.execute("PRAGMA user_version").fetchone()[0], "sqlite", where)
            for statement in steps[0].sqlite if steps else ():
                db.execute(statement)
            if steps:
                db.execute(f"PRAGMA user_version = {steps[0].version:d}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        if not steps:
            return
