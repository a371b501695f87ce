"""Every flow of the sync end to end, against both emulators over real HTTP (the agent in process,
its receiver a real waitress server that the SIGNL4 emulator delivers to)."""

import json
import urllib.request

import pytest

from tests.agent import support

from signl4_agent import config as config_module
from signl4_agent import sync
from signl4_agent.agent import Agent

ACK, CLOSED = 2, 4


@pytest.fixture
def make_agent(tmp_path, provisioned):
    manage, signl4 = provisioned
    made = []

    def make(receiver=True, **overrides):
        agent = Agent(config_module.validate(support.config(tmp_path, manage, signl4, **overrides), env={}))
        made.append(agent)
        if receiver:
            agent.server = agent._start_server()
            agent.url = "http://127.0.0.1:%s" % agent.server.effective_port
            support.subscribe(signl4, "%s/signl4/%s" % (agent.url, support.WEBHOOK_TOKEN))
        return agent

    yield make
    for agent in made:
        if getattr(agent, "server", None):
            agent.server.close()
        agent.close()


def settle(agent, signl4):
    """Let SIGNL4 deliver what it queued, then run what the deliveries recorded."""
    signl4.control("POST", "/outbound/drain", {"timeout": 10})
    sync.run_pending(agent.ctx)


def post(url, body, headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers=dict({"Content-Type": "application/json"}, **(headers or {})))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_new_ticket_raises_one_signl_with_the_chosen_details(make_agent, provisioned, cw):
    manage, signl4 = provisioned
    agent = make_agent(details=["company", "priority", "board"])
    ticket = support.new_ticket(cw)
    agent.cycle()
    agent.cycle()
    raised = support.alerts(signl4, ticket["id"])
    assert len(raised) == 1
    params = dict((p["name"], p["value"]) for p in raised[0]["parameters"])
    assert params["Company"] == "Fabrikam, Inc."
    assert params["Priority"] == "Priority 2 - Quick Response"
    assert params["Board"] == "Service Desk"
    assert "Contact" not in params
    assert raised[0]["title"].startswith("Ticket #%d: Disk full" % ticket["id"])
    assert support.custom(cw.get("/service/tickets/%d" % ticket["id"]), "Signl4Retrieved_c") is True
    # the seeded "New (not responded)" tickets raise theirs too, once each
    assert len(support.alerts(signl4)) == len({a["externalId"] for a in support.alerts(signl4)})


def test_manage_status_acknowledges_then_closes_the_signl_without_echo(make_agent, provisioned, cw):
    manage, signl4 = provisioned
    agent = make_agent()
    ticket = support.new_ticket(cw)
    agent.cycle()
    support.set_status(cw, ticket["id"], "In Progress")
    agent.cycle()
    settle(agent, signl4)
    alert = support.alerts(signl4, ticket["id"])[0]
    assert alert["status"]["statusCode"] == ACK
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert support.custom(current, "Signl4Status_c") == "Acknowledged"
    assert current["status"]["name"] == "In Progress"  # the echo of the agent's own acknowledge changed nothing
    support.set_status(cw, ticket["id"], "Closed (resolved)")
    agent.cycle()
    settle(agent, signl4)
    assert support.alerts(signl4, ticket["id"])[0]["status"]["statusCode"] == CLOSED
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert support.custom(current, "Signl4Status_c") == "Resolved"
    assert current["status"]["name"] == "Closed (resolved)"
    ack_posts = [r for r in signl4.requests() if r["method"] == "POST" and r["path"].endswith("/acknowledge")]
    assert len(ack_posts) == 1
