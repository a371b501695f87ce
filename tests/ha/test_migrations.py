"""Schema versions on PostgreSQL, and ``migrate-state``: a single agent's SQLite state copied into PostgreSQL, every
tenant's rows, the source untouched; a target holding other state refused; the copy usable by the agents."""

import json
import sqlite3
import subprocess
import sys

import psycopg
import pytest

from tests.agent import support
from tests.agent.test_schema import UNVERSIONED
from tests.emulators.harness import REPO_ROOT

from signl4_agent import intents, schema
from signl4_agent.pgstore import Database, PostgresStore
from signl4_agent.schema import SchemaError
from signl4_agent.store import SqliteStore

ENV = support.agent_env()


def _version(dsn):
    with psycopg.connect(dsn, autocommit=True) as connection:
        return connection.execute("SELECT version FROM schema_version").fetchone()[0]


def test_a_new_database_is_at_the_latest_version_and_a_newer_one_is_refused(dsn):
    database = Database({"dsn": dsn}, "test")
    database.connect("test").close()
    assert _version(dsn) == schema.LATEST
    database.connect("test").close()  # nothing applied twice
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("UPDATE schema_version SET version = %s", (schema.LATEST + 1,))
    with pytest.raises(SchemaError, match=f"schema version {schema.LATEST + 1}; this agent knows versions up to"):
        Database({"dsn": dsn}, "newer").connect("test")


def _migrate(source, dsn):
    return subprocess.run([sys.executable, "-m", "signl4_agent", "migrate-state", "--from", source, "--to", dsn],
                          cwd=REPO_ROOT, env=ENV, capture_output=True, text=True, timeout=60, check=False)


def test_migrate_state_copies_every_tenant_and_leaves_the_source_as_it_was(tmp_path, dsn):
    source = str(tmp_path / "state.db")
    with sqlite3.connect(source) as db:  # a state file of an agent from before tenants and versions
        db.executescript(UNVERSIONED)
    with open(source, "rb") as handle:
        before = handle.read()
    contoso = SqliteStore(str(tmp_path / "other.db"), tenant="contoso")  # and a file with two tenants
    contoso.add_intent(intents.Raise(9, 1, "marker-9"))
    contoso.save_ticket(9, generation=1, alert_id="a9")
    SqliteStore(str(tmp_path / "other.db")).put("first_start", 12.0)
    contoso.close()

    result = _migrate(source, dsn)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["copied"] is True and report["tenants"] == ["default"] and report["rows"]["intents"] == 1
    with open(source, "rb") as handle:
        assert handle.read() == before  # read through a migrated copy
    database = Database({"dsn": dsn}, "test")
    try:
        store = PostgresStore(database.intake, "default")
        assert store.ticket(5)["old_alerts"] == ["a4"] and store.get("first_start") == 0.0
        copied = intents.Intent.from_row(store.pending_intents()[0])
        assert copied.payload == intents.ManageStatus(5, 4, "a5", "e5", verified=True, user_id="olivia")
        again = _migrate(source, dsn)  # the same data: nothing to do
        assert again.returncode == 0 and json.loads(again.stdout)["copied"] is False
        other = _migrate(str(tmp_path / "other.db"), dsn)  # other state: refused, nothing written
        assert other.returncode == 1 and "holds state already" in other.stderr
        assert PostgresStore(database.intake, "contoso").ticket(9) is None
        # the copied intent keeps its key, and new intents get ids after the copied ones
        assert store.add_intent(copied.payload) is None and store.add_intent(intents.Raise(5, 2)) > copied.id
        changed = _migrate(source, dsn)  # the target has moved on since: refused
        assert changed.returncode == 1 and "holds state already" in changed.stderr
    finally:
        database.close()


def test_migrate_state_of_several_tenants(tmp_path, dsn):
    path = str(tmp_path / "state.db")
    for tenant in ("contoso", "fabrikam"):
        store = SqliteStore(path, tenant=tenant)
        store.save_ticket(1, generation=1, alert_id=f"{tenant}-alert")
        store.accept_delivery("d1", intents.ManageStatus(1, 2, f"{tenant}-alert"))
        store.close()
    result = _migrate(path, dsn)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["tenants"] == ["contoso", "fabrikam"]
    database = Database({"dsn": dsn}, "test")
    try:
        for tenant in ("contoso", "fabrikam"):
            store = PostgresStore(database.intake, tenant)
            assert store.ticket(1)["alert_id"] == f"{tenant}-alert" and store.counts()["deliveries"] == 1
            assert store.pending_intents()[0]["key"] == f"manage_status:{tenant}-alert:2:0"
    finally:
        database.close()
    missing = _migrate(str(tmp_path / "nothing.db"), dsn)
    assert missing.returncode == 1 and "no such state file" in missing.stderr
