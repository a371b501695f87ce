"""``migrate-state``: a single agent's SQLite state file copied into PostgreSQL, every tenant's rows.

The source is not changed: it is copied first (SQLite's online backup) and the copy brought to the latest
schema. The target's schema is brought to the latest version, and the copy is one transaction. A target
that holds state already is refused, unless it holds exactly the rows of the source (the copy was made
before: nothing to do). Stop the agent that uses the state file first.
"""

import os
import sqlite3
import tempfile

from signl4_agent import schema
from signl4_agent.store import TABLES, SqliteStore

# The key columns of each table, to compare and order rows.
KEYS = {"tickets": ("tenant", "ticket_id"), "intents": ("id",), "deliveries": ("tenant", "id"), "kv": ("tenant", "key"),
        "quarantine": ("tenant", "key"), "written": ("tenant", "kind", "id")}


class MigrationError(Exception):
    """The state could not be copied; nothing was written to the target."""


def _source_rows(path):
    if not os.path.isfile(path):
        raise MigrationError(f"{path}: no such state file")
    with tempfile.TemporaryDirectory(prefix="signl4-migrate-") as scratch:
        copy = os.path.join(scratch, "state.db")
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            with sqlite3.connect(copy) as target:
                source.backup(target)
        except sqlite3.Error as exc:
            raise MigrationError(f"{path}: not a readable SQLite state file ({exc})") from None
        finally:
            source.close()
        store = SqliteStore(copy)
        try:
            return {table: store.rows(table) for table in TABLES}
        finally:
            store.close()


def _ordered(table, rows):
    keys = KEYS[table]
    return sorted((dict(row) for row in rows), key=lambda row: tuple(str(row[key]) for key in keys))


def migrate_state(path, dsn, password=None):
    """Copy the state file at ``path`` into the database at ``dsn``; a report of what was copied."""
    import psycopg

    from signl4_agent.pgstore import Database

    rows = _source_rows(path)
    try:
        connection = Database(dict(dsn=dsn, password=password), "migrate-state").connect("migrate-state")
    except psycopg.Error as exc:
        raise MigrationError(f"cannot reach the target database: {str(exc).strip().splitlines()[0]}") from None
    except schema.SchemaError:
        raise
    try:
        with connection.transaction():
            present = {table: connection.execute(f"SELECT * FROM {table}").fetchall() for table in TABLES}  # noqa: S608
            if any(present.values()):
                if all(_ordered(table, present[table]) == _ordered(table, rows[table]) for table in TABLES):
                    return dict(copied=False, reason="the target holds this state already", **_counts(rows))
                raise MigrationError("the target database holds state already (and not this state file's): "
                                     "migrate into an empty database")
            for table in TABLES:
                _insert(connection, table, rows[table])
            connection.execute("SELECT setval(pg_get_serial_sequence('intents', 'id'), "
                               "GREATEST((SELECT max(id) FROM intents), 1))")
            connection.execute("INSERT INTO leases (tenant) SELECT DISTINCT tenant FROM tickets UNION "
                               "SELECT DISTINCT tenant FROM intents ON CONFLICT DO NOTHING")
    finally:
        connection.close()
    return dict(copied=True, **_counts(rows))


def _insert(connection, table, rows):
    if not rows:
        return
    columns = list(rows[0])
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(statement, [tuple(row[column] for column in columns) for row in rows])


def _counts(rows):
    return dict(tenants=sorted({row["tenant"] for table in TABLES for row in rows[table]}),
                rows={table: len(rows[table]) for table in TABLES})
