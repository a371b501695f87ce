"""Writes through a gateway that fails after the write was applied (tests/support/fault_proxy.py).

A POST that got a 503 (or no answer at all) may have been applied: the modules must never repeat
it blindly, but re-read and decide. Whatever the run reports, exactly one object may exist
afterwards, and a second run without the faulty gateway must complete it and change nothing more.
A webhook the user wants disabled must never be left delivering because a call after its creation
failed. A 429 (provably not processed) is still retried.
"""

import json
import re

import pytest

from tests.emulators.signl4 import DEFAULT_API_KEY, DEFAULT_TEAM_SECRET
from tests.support.fault_proxy import FaultProxy
from tests.support.modules import run_module
from tests.support.waits import record_retry_waits

RULE = dict(name="SIGNL4 - Fault rule", table_type="Service Ticket", board="Service Desk", events=[
    dict(name="New ticket", condition='status/name = "New (not responded)"', actions=[
        dict(notify_type="Add Note", note="Raised in SIGNL4.", internal_notes=True)]),
    dict(name="Closed", condition="closedFlag = True", actions=[
        dict(notify_type="Update Status", board_status="Closed (resolved)")]),
])
FIELD = dict(caption="Signl4FaultTest_c", pod_id=10, field_type="Text", sequence_number=21, display_on_screen=False)
WEBHOOK = dict(name="Fault hook", url="https://agent.example.com/signl4?token=fault-t0ken-1", team="Service Desk")
CONNECTOR = dict(team="Service Desk", enabled=True, config={"companyId": "contoso"})
TRACEBACK_MARKERS = ("Traceback", "Error(", "Exception(", "object has no attribute", "NoneType", "Max retries exceeded")

RULE_POST = r"/system/workflows$"
EVENT_POST = r"/system/workflows/\d+/events$"
FIELD_POST = r"/system/userDefinedFields$"
WEBHOOK_POST = r"/v2/webhooks$"
CONNECTOR_POST = r"/v2/scripts/instances$"


@pytest.fixture(autouse=True)
def waits(monkeypatch):
    """Retries still happen, only their waits are skipped (recorded, never slept)."""
    recorded = record_retry_waits(monkeypatch)
    for name in ("SIGNL4_API_URL", "SIGNL4_API_KEY", "SIGNL4_TEAM_SECRET", "CW_URL"):
        monkeypatch.delenv(name, raising=False)
    return recorded


@pytest.fixture
def manage_proxy(manage):
    proxy = FaultProxy(manage.url)
    yield proxy
    proxy.stop()


@pytest.fixture
def signl4_proxy(signl4):
    proxy = FaultProxy(signl4.url)
    yield proxy
    proxy.stop()


def cw_args(manage, url, options):
    return dict(manage.connection, cw_url=url, **json.loads(json.dumps(options)))


def s4_args(base_url, options):
    return dict(signl4_api_url=base_url + "/api", signl4_api_key=DEFAULT_API_KEY,
                signl4_team_secret=DEFAULT_TEAM_SECRET, **json.loads(json.dumps(options)))


def posts(emulator, pattern):
    regex = re.compile(pattern, re.IGNORECASE)
    return [r for r in emulator.writes() if r["method"] == "POST" and regex.search(r["path"])]


def assert_clear(result):
    """A failed run explains itself; it never carries a traceback or exception text."""
    if result.get("failed"):
        assert result["msg"] and not any(marker in result["msg"] for marker in TRACEBACK_MARKERS), result["msg"]


def rules_named(manage, name):
    return run_module("cw_workflow_rule_info", dict(manage.connection, name=name))["workflow_rules"]


def assert_one_complete_rule(manage):
    [rule] = rules_named(manage, RULE["name"])
    assert sorted(event["name"] for event in rule["events"]) == sorted(event["name"] for event in RULE["events"])
    assert all(len(event["actions"]) == 1 for event in rule["events"]), rule["events"]


def converge(module, args):
    """The same task again without the faulty gateway: it completes what is missing, then nothing changes."""
    first = run_module(module, args)
    assert "failed" not in first, first
    again = run_module(module, args)
    assert "failed" not in again and again["changed"] is False, again


# ----- Manage ---------------------------------------------------------------------------------

FAULTS = [("apply_then_503", None), ("apply_then_503", 1), ("apply_then_drop", 1), ("apply_then_hang", 1)]
HANG_TIMEOUT = 0.5  # the client's read timeout ends a hung answer


@pytest.mark.parametrize("mode,count", FAULTS)
def test_a_workflow_rule_post_answered_503_after_it_was_applied_creates_one_rule(manage, manage_proxy, mode, count):
    manage_proxy.add_rule("POST", RULE_POST, mode, count)
    result = run_module("cw_workflow_rule", cw_args(manage, manage_proxy.url, dict(RULE, cw_timeout=HANG_TIMEOUT)))
    assert_clear(result)
    assert len(posts(manage, RULE_POST)) == 1, "the rule's POST was repeated after %s" % mode
    assert len(rules_named(manage, RULE["name"])) == 1
    converge("cw_workflow_rule", cw_args(manage, manage.url, RULE))
    assert_one_complete_rule(manage)


def test_an_event_post_answered_503_after_it_was_applied_creates_one_event(manage, manage_proxy):
    manage_proxy.add_rule("POST", EVENT_POST, "apply_then_503")
    result = run_module("cw_workflow_rule", cw_args(manage, manage_proxy.url, RULE))
    assert_clear(result)
    [rule] = rules_named(manage, RULE["name"])
    names = [event["name"] for event in rule["events"]]
    assert len(names) == len(set(names)), "an event was created twice: %s" % names
    converge("cw_workflow_rule", cw_args(manage, manage.url, RULE))
    assert_one_complete_rule(manage)


@pytest.mark.parametrize("mode", ["apply_then_503", "apply_then_drop"])
def test_a_custom_field_post_answered_503_after_it_was_applied_creates_one_field(manage, manage_proxy, mode):
    manage_proxy.add_rule("POST", FIELD_POST, mode)
    result = run_module("cw_custom_field", cw_args(manage, manage_proxy.url, FIELD))
    assert_clear(result)
    assert len(posts(manage, FIELD_POST)) == 1, "the custom field's POST was repeated after %s" % mode
    converge("cw_custom_field", cw_args(manage, manage.url, FIELD))
    found = run_module("cw_custom_field_info", dict(manage.connection, caption=FIELD["caption"]))["custom_fields"]
    assert len(found) == 1, found


def test_a_rule_post_refused_with_429_is_retried_and_creates_one_rule(manage):
    manage.inject(429, count=2, retry_after=0, method="POST", path=RULE_POST)
    result = run_module("cw_workflow_rule", cw_args(manage, manage.url, RULE))
    assert "failed" not in result and result["changed"] is True, result
    assert [r["status"] for r in posts(manage, RULE_POST)] == [429, 429, 201]
    assert_one_complete_rule(manage)


# ----- SIGNL4 ---------------------------------------------------------------------------------

def webhooks_named(signl4, name):
    found = run_module("signl4_webhook_info", s4_args(signl4.url, {"name": name}))
    assert "failed" not in found, found
    return found["webhooks"]


@pytest.mark.parametrize("mode,count", FAULTS)
def test_a_webhook_post_answered_503_after_it_was_applied_creates_one_webhook(signl4, signl4_proxy, mode, count):
    signl4_proxy.add_rule("POST", WEBHOOK_POST, mode, count)
    result = run_module("signl4_webhook", s4_args(signl4_proxy.url, dict(WEBHOOK, signl4_timeout=HANG_TIMEOUT)))
    assert_clear(result)
    assert len(posts(signl4, WEBHOOK_POST)) == 1, "the webhook's POST was repeated after %s" % mode
    converge("signl4_webhook", s4_args(signl4.url, WEBHOOK))
    assert len(webhooks_named(signl4, WEBHOOK["name"])) == 1


def test_a_connector_post_answered_503_after_it_was_applied_creates_one_instance(signl4, signl4_proxy):
    signl4_proxy.add_rule("POST", CONNECTOR_POST, "apply_then_503")
    result = run_module("signl4_connector", s4_args(signl4_proxy.url, CONNECTOR))
    assert_clear(result)
    assert len(posts(signl4, CONNECTOR_POST)) == 1, "the instance's POST was repeated"
    converge("signl4_connector", s4_args(signl4.url, CONNECTOR))
    found = run_module("signl4_connector_info", s4_args(signl4.url, {"team": "Service Desk"}))["connectors"]
    assert len(found) == 1, found


@pytest.mark.parametrize("mode", ["reject_503", "apply_then_503"])
def test_a_webhook_wanted_disabled_is_never_left_delivering(signl4, signl4_proxy, mode):
    """Every enable/disable switch fails at the gateway: whatever the run reports, no enabled
    subscription may be left behind (create it in its final state)."""
    signl4_proxy.add_rule("POST", r"/v2/webhooks/[^/]+/(disable|enable)$", mode)
    result = run_module("signl4_webhook", s4_args(signl4_proxy.url, dict(WEBHOOK, enabled=False)))
    assert_clear(result)
    state = signl4.control("GET", "/state")
    delivering = [w for w in state["webhooks"] if w["name"] == WEBHOOK["name"] and w.get("enabled") is not False]
    assert delivering == [], "an outbound webhook the user wants disabled is enabled: %s" % delivering


def test_the_proxy_forwards_faithfully_when_no_rule_applies(signl4, signl4_proxy):
    """The gateway itself changes nothing: a plain run through it behaves as a direct one."""
    result = run_module("signl4_webhook", s4_args(signl4_proxy.url, WEBHOOK))
    assert "failed" not in result and result["changed"] is True, result
    assert run_module("signl4_webhook", s4_args(signl4_proxy.url, WEBHOOK))["changed"] is False
    assert [e["mode"] for e in signl4_proxy.exchanges] == ["forward"] * len(signl4_proxy.exchanges)
