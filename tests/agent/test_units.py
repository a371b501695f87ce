"""Store, pacing, metric labels and log masking, without the emulators."""

import io
import json
import logging
import subprocess
import sys

import pytest

from tests.emulators.harness import REPO_ROOT

from signl4_agent import logs
from signl4_agent.metrics import endpoint
from signl4_agent.ratelimit import PLANS, WindowLimiter
from signl4_agent.constants import DONE, PENDING
from signl4_agent.intents import ManageStatus, Raise
from signl4_agent.store import SqliteStore


def test_store_intents_are_unique_and_deliveries_atomic(tmp_path):
    store = SqliteStore(str(tmp_path / "s.db"))
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    first = store.add_intent(Raise(1, 1))
    assert first is not None
    assert store.add_intent(Raise(1, 1, "another marker")) is None
    acknowledged = ManageStatus(1, 2, "a")
    assert store.accept_delivery("n1", acknowledged) is True
    assert store.accept_delivery("n1", acknowledged) is False
    assert store.accept_delivery("n2", acknowledged) is True
    assert [i["key"] for i in store.pending_intents()] == ["raise:1:1", "manage_status:a:2:0"]
    store.update_intent(first, state=DONE, attempt=True)
    assert store.intent("raise:1:1")["state"] == DONE and store.intent("raise:1:1")["attempts"] == 1
    store.save_ticket(1, generation=1, old_alerts=["x"])
    store.close()
    reopened = SqliteStore(str(tmp_path / "s.db"))  # durable across processes
    assert reopened.ticket(1)["old_alerts"] == ["x"]
    assert reopened.intent("manage_status:a:2:0")["state"] == PENDING
    assert reopened.counts()["deliveries"] == 2


def test_limiter_never_exceeds_the_windows():
    now = [0.0]
    waited = []

    def wait(seconds):
        waited.append(seconds)
        now[0] += seconds

    limiter = WindowLimiter(PLANS["free"]["events"], wait=wait, clock=lambda: now[0])
    for unused in range(25):
        limiter.acquire()
    assert len(limiter.sent) == 25
    for start in limiter.sent:  # every 15 s window holds at most 10 events
        assert sum(1 for t in limiter.sent if start <= t < start + 15) <= 10
    assert waited and now[0] >= 30


def test_endpoint_labels_hide_ids_and_secrets():
    assert endpoint("POST", "http://h/webhook/demoteamsecret") == "POST /webhook/{secret}"
    assert endpoint("GET", "http://h/v4_6_release/apis/3.0/service/tickets/42?x=1") == "GET /service/tickets/{id}"
    assert endpoint("GET", "http://h/api/v2/users/rene@example.com") == "GET /v2/users/{id}"
    assert endpoint("POST", "http://h/api/v2/alerts/2518981069381242800_2ab1b5e0-f1b7-4c3e-9adf-6c157eeb4685/close") == \
        "POST /v2/alerts/{id}/close"


def test_json_logs_mask_secrets_in_every_encoding():
    stream = io.StringIO()
    handler = logs.setup("INFO", ["s3cr3t/+key"], stream)
    try:
        logging.getLogger("t").warning("a=%s b=%s c=%s", "s3cr3t/+key", "s3cr3t%2F%2Bkey", "czNjcjN0LytrZXk=")
    finally:
        logging.getLogger().removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["message"] == "a=******** b=******** c=********"
    assert line["level"] == "WARNING"


@pytest.mark.slow  # builds the zipapp and runs it as a process
def test_zipapp_builds_and_runs(tmp_path, provisioned, cw):
    """The zipapp alone (no PYTHONPATH, run from elsewhere) does a whole cycle against both emulators."""
    from tests.agent import support
    manage, signl4 = provisioned
    target = str(tmp_path / "signl4-agent.pyz")
    subprocess.run([sys.executable, "agent/build_zipapp.py", target], cwd=REPO_ROOT, check=True, capture_output=True)
    ticket = support.new_ticket(cw)
    path = support.write_config(tmp_path, support.config(tmp_path, manage, signl4))
    result = subprocess.run([sys.executable, target, "once", "--config", path], cwd=str(tmp_path),
                            capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, check=False)
    assert result.returncode == 0, result.stderr
    assert len(support.alerts(signl4, ticket["id"])) == 1
    bad = tmp_path / "bad.yml"
    bad.write_text("manage: {url: 'http://127.0.0.1:1'}\n")
    result = subprocess.run([sys.executable, target, "status", "--config", str(bad)], cwd=str(tmp_path),
                            capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, check=False)
    assert result.returncode == 2
    assert "manage.company_id: required" in result.stderr
