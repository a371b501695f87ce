"""Bounded time, end to end through the modules, with no wall clock in any assertion.

The connection options document the bounds (doc fragments ``cw`` and ``signl4``): each request,
retries and waits included, ends within twice the timeout; TLS errors and names that do not
resolve are not retried. Waits are recorded, not slept (tests/support/waits.py), and attempts are
counted where they arrive (a hanging gateway, the emulator's journal), so each bound is a sum of
counted timeouts and recorded waits.
"""

import pytest

from ansible_collections.signl4.connectwise.plugins.doc_fragments import cw as cw_doc, signl4 as signl4_doc
from tests.emulators.signl4 import DEFAULT_API_KEY, DEFAULT_TEAM_SECRET
from tests.support.fault_proxy import FaultProxy
from tests.support.fuzz import message_is_clear
from tests.support.modules import run_module
from tests.support.waits import record_retry_waits

DEADLINE_IN_TIMEOUTS = 2  # "ends within twice this time", as the connection options document it
TIMEOUT = 0.3


@pytest.fixture(autouse=True)
def waits(monkeypatch):
    for name in ("SIGNL4_API_URL", "SIGNL4_API_KEY", "SIGNL4_TEAM_SECRET", "CW_URL", "CW_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    return record_retry_waits(monkeypatch)


def cw_info(manage, **connection):
    return run_module("cw_workflow_rule_info", dict(manage.connection, **connection))


def s4_info(url, **connection):
    return run_module("signl4_webhook_info", dict(signl4_api_url=url, signl4_api_key=DEFAULT_API_KEY,
                                                  signl4_team_secret=DEFAULT_TEAM_SECRET, **connection))


def info(system, manage, root_url, **connection):
    """The _info module of ``system`` ("cw" or "signl4") against the server at ``root_url``."""
    if system == "cw":
        return cw_info(manage, cw_url=root_url, **connection)
    return s4_info(root_url + "/api", **connection)


def test_the_connection_options_document_the_deadline_and_what_is_not_retried():
    for fragment, option in ((cw_doc, "cw_timeout"), (signl4_doc, "signl4_timeout")):
        text = " ".join(fragment.ModuleDocFragment.DOCUMENTATION.split())
        timeout_doc = text.split(option + ":", 1)[1].split("type:", 1)[0]
        assert "twice" in timeout_doc, "%s does not document the request deadline: %s" % (option, timeout_doc)
        assert "TLS" in text and "resolve" in text, "%s's notes do not say which errors are not retried" % option


def assert_within_deadline(attempts, waits, timeout):
    """Every attempt but the last ran its full timeout: those and the waits fit in the deadline."""
    spent = (attempts - 1) * timeout + sum(waits)
    assert attempts >= 1
    assert spent < DEADLINE_IN_TIMEOUTS * timeout, (
        "%d attempts of %.1f s and waits of %s s: more than %d x the timeout" % (attempts, timeout, waits, DEADLINE_IN_TIMEOUTS))


@pytest.mark.parametrize("system", ["cw", "signl4"])
def test_a_hung_server_costs_at_most_the_deadline(manage, signl4, waits, system):
    proxy = FaultProxy((manage if system == "cw" else signl4).url)
    try:
        proxy.add_rule("GET", ".", "hang")
        result = info(system, manage, proxy.url, **{system + "_timeout": TIMEOUT})
        attempts = len(proxy.exchanges)
    finally:
        proxy.stop()
    assert_within_deadline(attempts, waits, TIMEOUT)
    assert result.get("failed") and message_is_clear(result["msg"]), result


def test_sustained_429s_cost_at_most_the_deadline(manage, waits):
    """Retry-After says 600 s, again and again: no wait may take the request past its deadline."""
    manage.inject(429, count=50, retry_after=600, method="GET")
    result = cw_info(manage)
    assert result.get("failed") and message_is_clear(result["msg"]), result
    assert sum(waits) <= DEADLINE_IN_TIMEOUTS * 30.0, "a 429 storm asked for %s s of waits" % waits
    assert sum(1 for r in manage.requests() if r["status"] == 429) == len(waits) + 1


@pytest.mark.parametrize("system", ["cw", "signl4"])
def test_tls_errors_are_not_retried(manage, signl4, waits, system):
    """https:// against a plain-http server: the handshake can never succeed."""
    result = info(system, manage, (manage if system == "cw" else signl4).url.replace("http://", "https://"))
    assert result.get("failed") and message_is_clear(result["msg"]), result
    assert waits == [], "a TLS error was retried after waits of %s s" % waits


@pytest.mark.parametrize("system", ["cw", "signl4"])
def test_names_that_do_not_resolve_are_not_retried(manage, waits, system):
    result = info(system, manage, "http://no-such-host.invalid:8080")
    assert result.get("failed") and message_is_clear(result["msg"]), result
    assert "no-such-host.invalid" in result["msg"]
    assert waits == [], "a name that does not resolve was retried after waits of %s s" % waits
