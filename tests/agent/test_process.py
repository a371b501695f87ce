"""The agent as a real process: ``run`` (receiver, /healthz, /metrics, SIGTERM), ``once``,
``status``, ``check-config``, and an import without Ansible."""

import json
import subprocess
import sys

import pytest

from tests.agent import support
from tests.agent.support import cli
from tests.emulators.harness import REPO_ROOT

pytestmark = pytest.mark.slow  # the agent as a process: seconds each

SECRETS = ("demoprivate", "demo-signl4-api-key", "demoteamsecret", support.WEBHOOK_TOKEN, support.CALLBACK_TOKEN)


def test_run_syncs_serves_health_and_metrics_and_stops_on_sigterm(provisioned, cw, tmp_path):
    manage, signl4 = provisioned
    port = support.free_port()
    path = support.write_config(tmp_path, support.config(tmp_path, manage, signl4, port=port))
    support.subscribe(signl4, "http://127.0.0.1:%d/signl4/%s" % (port, support.WEBHOOK_TOKEN))
    ticket = support.new_ticket(cw)
    agent = support.AgentProcess(path, port)
    try:
        assert agent.wait_ready(), agent.stop()
        assert support.wait_for(lambda: support.alerts(signl4, ticket["id"]))
        support.act(signl4, "acknowledge", ticket["id"])
        assert support.wait_for(lambda: cw.get("/service/tickets/%d" % ticket["id"])["status"]["name"] == "In Progress")
        status, body = agent.get("/healthz")
        health = json.loads(body)
        assert status == 200 and health["healthy"] and health["manage"]["reachable"] and health["signl4"]["reachable"]
        status, body = agent.get("/metrics")
        text = body.decode()
        assert status == 200
        assert "signl4_agent_signls_raised_total" in text
        applied = 'signl4_agent_transitions_total{direction="signl4_to_manage",kind="acknowledge"} 1.0'
        assert support.wait_for(lambda: applied in agent.get("/metrics")[1].decode())  # counted just after the PATCH
        assert 'endpoint="POST /webhook/{secret}"' in text
        assert not any(secret in text for secret in SECRETS)
    finally:
        code, err = agent.stop()
    assert code == 0, err
    lines = [json.loads(line) for line in err.splitlines() if line.strip()]
    assert lines and lines[-1]["message"] == "stopped"
    assert not any(secret in err for secret in SECRETS)


def test_once_status_and_check_config(provisioned, cw, tmp_path):
    manage, signl4 = provisioned
    ticket = support.new_ticket(cw)
    path = support.write_config(tmp_path, support.config(tmp_path, manage, signl4))
    once = cli("once", "--config", path)
    assert once.returncode == 0, once.stderr
    assert json.loads(once.stdout)["ok"] is True
    assert len(support.alerts(signl4, ticket["id"])) == 1
    status = json.loads(cli("status", "--config", path).stdout)
    assert ticket["id"] in [t["ticket"] for t in status["tickets"]]
    assert status["pending"] == []
    checked = cli("check-config", "--config", path)
    assert checked.returncode == 0, checked.stdout
    report = json.loads(checked.stdout)
    assert report["manage"]["SIGNL4 - Trigger Signls"]["trigger"] == "New ticket"
    assert report["manage"]["SIGNL4 - Update Signls"] == {"acknowledge": "Acknowledge Signl", "close": "Close Signl"}


def test_check_config_reports_a_refused_key_without_the_key(provisioned, tmp_path):
    manage, signl4 = provisioned
    raw = support.config(tmp_path, manage, signl4, signl4={"api_key": "wrong-key-123456"})
    checked = cli("check-config", "--config", support.write_config(tmp_path, raw))
    assert checked.returncode == 1
    report = json.loads(checked.stdout)
    assert report["manage"]["ok"] is True
    assert "401" in report["signl4"]["error"]
    assert "wrong-key-123456" not in checked.stdout + checked.stderr


def test_malformed_config_exits_2_naming_the_key(tmp_path, manage, signl4):
    raw = support.config(tmp_path, manage, signl4, owner_assignment="sometimes")
    result = cli("run", "--config", support.write_config(tmp_path, raw))
    assert result.returncode == 2
    assert "owner_assignment: 'sometimes' is not one of never, acknowledge, close, both" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_agent_imports_without_ansible():
    code = """
import sys
class NoAnsible:
    def find_spec(self, name, path=None, target=None):
        if name == "ansible" or name.startswith("ansible."):
            raise ImportError("ansible is not installed here")
sys.meta_path.insert(0, NoAnsible())
import signl4_agent.__main__, signl4_agent.agent, signl4_agent.receiver, signl4_agent.checks
assert not [m for m in sys.modules if m == "ansible" or m.startswith("ansible.")]
print("imported")
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=support.agent_env(), capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"


def test_a_callback_raises_the_signl_without_waiting_for_a_poll(provisioned, cw, tmp_path):
    """poll_interval is an hour: after the first cycle only the Manage callback can bring the ticket."""
    manage, signl4 = provisioned
    port = support.free_port()
    raw = support.config(tmp_path, manage, signl4, port=port, poll_interval=3600)
    agent = support.AgentProcess(support.write_config(tmp_path, raw), port)
    try:
        assert agent.wait_ready(), agent.stop()
        cw.create("/system/callbacks", {"url": "%s/manage/%s/callback?recordId=" % (agent.url, support.CALLBACK_TOKEN),
                                        "objectId": 1, "type": "ticket", "level": "owner"})
        ticket = support.new_ticket(cw)
        assert support.wait_for(lambda: support.alerts(signl4, ticket["id"]))
        assert support.wait_for(lambda: support.custom(cw.get("/service/tickets/%d" % ticket["id"]), "Signl4Retrieved_c"))
        first_pages = [r for r in manage.requests() if r["path"].endswith("/test") and "pageId" not in r["query"]
                       and "id = " not in "".join(r["query"].get("conditions", []))]  # not a callback's ticket
        assert len(first_pages) == 4  # the first cycle's four events only: no poll cycle happened since
    finally:
        code, err = agent.stop()
    assert code == 0, err


def test_slow_senders_and_garbage_do_not_take_the_agent_down(provisioned, tmp_path):
    import socket
    manage, signl4 = provisioned
    port = support.free_port()
    raw = support.config(tmp_path, manage, signl4, port=port, listen={"channel_timeout": 1, "max_body_bytes": 4096})
    agent = support.AgentProcess(support.write_config(tmp_path, raw), port)
    try:
        assert agent.wait_ready(), agent.stop()
        slow = []
        for unused in range(8):  # more slow senders than the receiver has threads
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(b"POST /signl4/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"id\"" %
                         support.WEBHOOK_TOKEN.encode())
            slow.append(sock)
        garbage = socket.create_connection(("127.0.0.1", port))
        garbage.sendall(b"\x00\xff NOT HTTP AT ALL\r\n\r\n")
        assert agent.get("/healthz")[0] == 200  # still answering while they hang
        slow[0].settimeout(15)
        assert slow[0].recv(1024) == b""  # the receiver dropped the slow sender after channel_timeout
        for sock in slow + [garbage]:
            sock.close()
        assert agent.get("/healthz")[0] == 200
        status = json.loads(cli("status", "--config", support.write_config(tmp_path, raw, "again.yml")).stdout)
        assert status["deliveries"] == 0 and status["pending"] == []
    finally:
        code, err = agent.stop()
    assert code == 0, err


def test_sigterm_interrupts_a_retry_wait(provisioned, tmp_path):
    """Manage asks for a two-minute pause; SIGTERM still ends the agent cleanly (the harness would
    SIGKILL it after 15 s, which fails the exit-code check)."""
    manage, signl4 = provisioned
    port = support.free_port()
    agent = support.AgentProcess(support.write_config(tmp_path, support.config(tmp_path, manage, signl4, port=port)), port)
    try:
        assert agent.wait_ready(), agent.stop()
        manage.inject(429, count=50, retry_after=120, path="/test")
        agent.get("/healthz")
        assert support.wait_for(lambda: any(r["status"] == 429 for r in manage.requests()))
    finally:
        code, err = agent.stop()
    assert code == 0, err
    assert json.loads(err.splitlines()[-1])["message"] == "stopped"
