"""Several tenants in one agent on one SQLite file: each tenant's loop on its own, so one tenant's Manage answering
503 for a while does not hold up another's Signls; each tenant served at /t/<id>/ with its own token; /healthz
and /metrics per tenant."""

import json

import pytest

from tests.agent import support
from tests.conftest import MANAGE_ARGS
from tests.emulators.harness import RunningEmulator

pytestmark = pytest.mark.slow
OTHER_TOKEN = "other-hook-token-0123456789"


@pytest.fixture
def second_manage():
    """Another Manage instance: the tenant ``outage``'s."""
    server = RunningEmulator("tests.emulators.manage", MANAGE_ARGS)
    server.connection = dict(cw_url=server.url, cw_company_id="signl4demo", cw_public_key="demopublic",
                             cw_private_key="demoprivate", cw_client_id="00000000-0000-4000-8000-000000000001")
    yield server
    server.stop()


def _health(agent):
    status, body = agent.get("/healthz")
    return status, (json.loads(body) if body else {})


def test_one_tenants_outage_does_not_delay_another(provisioned, cw, second_manage, tmp_path):
    manage, signl4 = provisioned
    support.provision(second_manage)
    port = support.free_port()
    raw = support.config(tmp_path, manage, signl4, port=port, poll_interval=1, stale_after=4)
    raw["tenants"] = [dict(id="outage", manage=dict(url=second_manage.url), listen=dict(webhook_token=OTHER_TOKEN)),
                      dict(id="healthy")]
    agent = support.AgentProcess(support.write_config(tmp_path, raw), port)
    try:
        assert support.wait_for(lambda: _health(agent)[1].get("tenants", {}).get("outage", {}).get("healthy"),
                                timeout=20), agent.output()[-2000:]
        second_manage.inject(503, count=100000)  # from now on every request of the tenant "outage" fails
        with support.manage_client(second_manage) as other:
            support.wait_for(lambda: not _health(agent)[1]["tenants"]["outage"]["manage"]["reachable"], timeout=20)
            ticket = support.new_ticket(cw, summary="the healthy tenant's ticket")
            assert support.wait_for(lambda: support.alerts(signl4, ticket["id"]), timeout=10), agent.output()[-2000:]
            assert support.wait_for(lambda: _health(agent)[0] == 503, timeout=20)  # the outage tenant is stale
            status, report = _health(agent)
            assert report["held"] == ["healthy", "outage"] and report["tenants"]["healthy"]["healthy"] is True
            assert report["tenants"]["healthy"]["manage"]["reachable"] is True
            assert report["tenants"]["outage"]["manage"]["reachable"] is False
            second_manage.control("DELETE", "/faults")  # the outage ends: that tenant catches up
            late = support.new_ticket(other, summary="the other tenant's ticket")
        assert support.wait_for(lambda: [a for a in support.alerts(signl4, late["id"])
                                         if a["title"].endswith("the other tenant's ticket")], timeout=60)
        assert support.wait_for(lambda: _health(agent)[0] == 200, timeout=30)
    finally:
        code, output = agent.stop()
    assert code == 0, output[-2000:]
    assert "Traceback" not in output


def test_each_tenant_has_its_own_paths_and_tokens(provisioned, tmp_path):
    manage, signl4 = provisioned
    port = support.free_port()
    raw = support.config(tmp_path, manage, signl4, port=port, poll_interval=30)
    raw["tenants"] = [dict(id="contoso", listen=dict(webhook_token=OTHER_TOKEN)), dict(id="fabrikam")]
    agent = support.AgentProcess(support.write_config(tmp_path, raw), port)
    ignored = json.dumps({"id": "delivery-1", "eventType": 300}).encode()
    try:
        assert agent.wait_ready(), agent.output()[-2000:]
        assert agent.request("POST", f"/t/contoso/signl4/{OTHER_TOKEN}", ignored)[0] == 200
        assert agent.request("POST", f"/t/fabrikam/signl4/{support.WEBHOOK_TOKEN}", ignored)[0] == 200
        assert agent.request("POST", f"/t/contoso/signl4/{support.WEBHOOK_TOKEN}", ignored)[0] == 404  # fabrikam's
        assert agent.request("POST", f"/t/nobody/signl4/{support.WEBHOOK_TOKEN}", ignored)[0] == 404
        assert agent.request("POST", f"/signl4/{support.WEBHOOK_TOKEN}", ignored)[0] == 404  # a file with tenants
        metrics = agent.get("/metrics")[1].decode()
        assert 'outcome="ignored",source="signl4",tenant="contoso"' in metrics
        assert 'outcome="ignored",source="signl4",tenant="fabrikam"' in metrics
        assert agent.get("/readyz")[0] == 200
    finally:
        agent.stop()
