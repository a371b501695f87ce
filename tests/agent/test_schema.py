"""Versioned schema: a new state file is at the latest version, a state file of an agent before versions
is adopted (version 1) and migrated in place to tenants (version 2: its rows are the tenant ``default``'s),
one written by a newer agent is refused, and each migration is one transaction."""

import sqlite3

import pytest
import yaml

from tests.agent import support

from signl4_agent import intents, schema
from signl4_agent.schema import Migration, SchemaError
from signl4_agent.store import SqliteStore

# The schema the agent created before it had versions (agent/signl4_agent/store.py, SCHEMA, up to issue 19).
UNVERSIONED = """
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
INSERT INTO tickets (ticket_id, generation, alert_id, alert_status, old_alerts, updated) VALUES (5, 1, 'a5', 2, '["a4"]', 1);
INSERT INTO intents (key, kind, ticket_id, payload, state, created, updated) VALUES
    ('manage_status:a5:4:0', 'manage_status', 5,
     '{"status": 4, "alert_id": "a5", "event_id": "e5", "user": {"id": "olivia"}, "verified": true}', 'pending', 1, 1);
INSERT INTO kv (key, value) VALUES ('first_start', '0.0');
"""


def _version(path):
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


def _tables(path):
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_a_new_state_file_is_at_the_latest_version(tmp_path):
    path = str(tmp_path / "state.db")
    SqliteStore(path).close()
    assert _version(path) == schema.LATEST == 4
    assert {"tickets", "intents", "deliveries", "kv", "quarantine"} <= _tables(path)
    with sqlite3.connect(path) as db:
        assert all("tenant" in [column[1] for column in db.execute("PRAGMA table_info(%s)" % table)]
                   for table in ("tickets", "intents", "deliveries", "kv", "quarantine"))


@pytest.mark.parametrize("version", [0, 1])
def test_a_state_file_from_before_tenants_is_migrated_in_place_to_the_tenant_default(tmp_path, version):
    """Version 0 (before versions) and version 1 (issue 20) files: the same tables, adopted and migrated."""
    path = str(tmp_path / "state.db")
    with sqlite3.connect(path) as db:
        db.executescript(UNVERSIONED)
        db.execute("PRAGMA user_version = %d" % version)
    store = SqliteStore(path)
    try:
        assert _version(path) == schema.LATEST
        assert store.ticket(5)["old_alerts"] == ["a4"] and store.get("first_start") == 0.0
        # version 3: no route recorded; the Signl counts as raised at the ticket's last change
        assert (store.ticket(5)["route"], store.ticket(5)["raised_at"], store.ticket(5)["overdue_checked"]) == (None, 1.0, 0)
        intent = intents.Intent.from_row(store.pending_intents()[0])
        assert intent.payload == intents.ManageStatus(5, 4, "a5", "e5", verified=True, user_id="olivia")
        assert store.add_intent(intent.payload) is None  # its key is still taken: the copied rows keep their keys
        assert store.add_intent(intents.Raise(5, 2)) > intent.id  # and new ids come after the copied ones
    finally:
        store.close()
    other = SqliteStore(path, tenant="contoso")
    try:
        assert other.ticket(5) is None and other.pending_intents() == [] and other.get("first_start") is None
    finally:
        other.close()


def _set_version(path, version):
    SqliteStore(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = %d" % version)


def test_a_state_file_of_a_newer_agent_is_refused(tmp_path):
    path = str(tmp_path / "state.db")
    newer = schema.LATEST + 1
    _set_version(path, newer)
    with pytest.raises(SchemaError, match="schema version %d; this agent knows versions up to %d" % (newer, schema.LATEST)):
        SqliteStore(path)
    assert _version(path) == newer
    config = tmp_path / "agent.yml"
    config.write_text(yaml.safe_dump({
        "manage": dict(url="http://127.0.0.1:9", company_id="c", public_key="p", private_key="k", client_id="i"),
        "signl4": dict(api_key="k", team_secret="s", acting_user="u@example.com"),
        "listen": dict(webhook_token="w" * 20), "state": dict(path=path)}))
    result = support.cli("status", "--config", str(config), timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("signl4-agent: state error: the state file %s has schema version %d"
                                                     % (path, newer))


SHIPPED = schema.MIGRATIONS


def _migrations(monkeypatch, *later):
    monkeypatch.setattr(schema, "MIGRATIONS", SHIPPED + later)
    monkeypatch.setattr(schema, "LATEST", later[-1].version)


def test_a_migration_is_one_transaction(tmp_path, monkeypatch):
    path = str(tmp_path / "state.db")
    SqliteStore(path).close()
    shipped = schema.LATEST
    _migrations(monkeypatch, Migration(shipped + 1, "broken", sqlite=("CREATE TABLE later (tenant TEXT)", "CREATE TABLE (")))
    with pytest.raises(sqlite3.OperationalError):
        SqliteStore(path)
    assert _version(path) == shipped and "later" not in _tables(path)
    _migrations(monkeypatch, Migration(shipped + 1, "later", sqlite=("CREATE TABLE later (tenant TEXT)",)),
                Migration(shipped + 2, "latest", sqlite=("CREATE TABLE latest (node TEXT)",)))
    SqliteStore(path).close()
    assert _version(path) == shipped + 2 and {"later", "latest"} <= _tables(path)
    SqliteStore(path).close()  # at the latest version: nothing applied again


def test_a_dialect_without_statements_for_a_version_cannot_open_a_database(monkeypatch):
    assert [step.version for step in schema.pending(0, "postgresql")] == [step.version for step in SHIPPED]
    later = schema.LATEST + 1
    _migrations(monkeypatch, Migration(later, "SQLite only", sqlite=("SELECT 1",)))
    with pytest.raises(SchemaError, match=r"no postgresql statements for schema version\(s\) \[%d\]" % later):
        schema.pending(1, "postgresql")
    assert schema.pending(later, "sqlite") == []
