"""The state's schema as numbered migrations, for each dialect of store.

A migration has a version, what it does, and its statements per dialect. A store applies the ones
above the version its database records, in order, each in one transaction together with the new version
(SQLite: ``PRAGMA user_version``; PostgreSQL: a ``schema_version`` table), and refuses a database whose
version is newer than the last one here (a newer agent wrote it). Version 1 is the schema of the agents
before versions: it creates only what is missing, so their state files are adopted as they are.

The PostgreSQL store (several agents on one database) brings its statements, from version 1 on, in the
``postgresql`` slot of each migration; a dialect without statements for a version cannot open a database.
"""

from dataclasses import dataclass


class SchemaError(Exception):
    """A database this agent must not use (its schema is newer than this agent's)."""


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sqlite: tuple
    postgresql: tuple = None  # the PostgreSQL store's statements; none written yet


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
