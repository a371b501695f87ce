"""429 storms, 5xx and an unreachable SIGNL4: the agent backs off, loses nothing and catches up.
The clients' retry waits are recorded instead of slept (an injected sleep)."""

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils.transport import RetryPolicy

from tests.agent import support


@pytest.fixture
def faulty_agent(make_agent):
    """The shared fixture's agents (without a receiver) whose retry waits are recorded in ``agent.waits``."""

    def make(**overrides):
        waits = []
        agent = make_agent(receiver=False, retry=RetryPolicy(max_retries=3, sleep=waits.append), **overrides)
        agent.waits = waits
        return agent

    return make


def test_manage_429_storm_is_waited_out_as_told(faulty_agent, provisioned, cw):
    manage, signl4 = provisioned
    agent = faulty_agent()
    ticket = support.new_ticket(cw)
    manage.inject(429, count=3, retry_after=7, path="/test")
    assert agent.safe(agent.cycle)
    assert agent.waits.count(7.0) == 3
    assert len(support.alerts(signl4, ticket["id"])) == 1


def test_a_storm_longer_than_the_retries_fails_the_cycle_and_the_next_catches_up(faulty_agent, provisioned, cw):
    manage, signl4 = provisioned
    agent = faulty_agent(poll_interval=10)
    ticket = support.new_ticket(cw)
    manage.inject(503, count=20, path="/service/tickets|/test")
    assert not agent.safe(agent.cycle)
    assert not agent.safe(agent.cycle)
    assert agent.backoff() == 20  # doubled after the second failure in a row
    manage.control("DELETE", "/faults")
    assert agent.safe(agent.cycle)
    assert agent.backoff() == 10
    assert len(support.alerts(signl4, ticket["id"])) == 1
    assert agent.metrics.errors.labels(kind="ServerError")._value.get() == 2


def _one_signl_each(signl4):
    external_ids = [a["externalId"] for a in support.alerts(signl4)]
    return sorted(external_ids) == sorted(set(external_ids))


def test_signl4_5xx_on_the_webhook_is_resent_once_after_checking(faulty_agent, provisioned, cw):
    manage, signl4 = provisioned
    agent = faulty_agent()
    ticket = support.new_ticket(cw)
    signl4.inject(500, count=1, method="POST", path="^/webhook/")
    assert not agent.safe(agent.cycle)  # the webhook answered 500: not retried blindly, the cycle ends
    assert support.alerts(signl4) == []
    assert [i["attempts"] for i in agent.store.pending_intents()] == [1]
    assert agent.safe(agent.cycle)  # looks the alert up by external id (none), then sends
    assert len(support.alerts(signl4, ticket["id"])) == 1
    assert _one_signl_each(signl4)


def test_a_webhook_whose_answer_is_lost_is_not_sent_twice(faulty_agent, provisioned, cw):
    manage, signl4 = provisioned
    agent = faulty_agent(signl4={"timeout": 1})
    ticket = support.new_ticket(cw)
    signl4.set_latency(2)  # SIGNL4 applies the event after the agent stopped waiting for the answer
    assert not agent.safe(agent.cycle)
    signl4.set_latency(0)
    assert support.wait_for(lambda: support.alerts(signl4))
    assert agent.safe(agent.cycle)
    assert len(support.alerts(signl4, ticket["id"])) == 1
    assert _one_signl_each(signl4)
    assert support.custom(cw.get("/service/tickets/%d" % ticket["id"]), "Signl4Retrieved_c") is True


def test_signl4_unreachable_for_a_while(faulty_agent, provisioned, cw):
    """A network outage: the agent's SIGNL4 client points at a closed port, then at SIGNL4 again."""
    manage, signl4 = provisioned
    agent = faulty_agent()
    ticket = support.new_ticket(cw)
    live_api, live_hook = agent.signl4.transport.base_url, agent.signl4.webhook_url
    dead = "http://127.0.0.1:%d" % support.free_port()
    agent.signl4.transport.base_url, agent.signl4.webhook_url = dead + "/api", dead + "/webhook"
    for attempt in range(3):
        assert not agent.safe(agent.cycle)
    assert agent.failures == 3 and agent.backoff() == 4
    health = agent.health()
    assert not health["healthy"] and health["manage"]["reachable"] and not health["signl4"]["reachable"]
    agent.signl4.transport.base_url, agent.signl4.webhook_url = live_api, live_hook
    assert agent.safe(agent.cycle)
    assert agent.health()["healthy"] and agent.health()["signl4"]["reachable"]
    assert len(support.alerts(signl4, ticket["id"])) == 1
    assert agent.store.pending_intents() == []


def test_signl4_429_on_acknowledge_is_retried_after_the_reset(faulty_agent, provisioned, cw):
    manage, signl4 = provisioned
    agent = faulty_agent()
    ticket = support.cycled_ticket(agent, cw)
    support.set_status(cw, ticket["id"], "In Progress")
    signl4.inject(429, count=2, retry_after=3, method="POST", path="/acknowledge")
    assert agent.safe(agent.cycle)
    assert agent.waits.count(3.0) == 2
    assert support.alerts(signl4, ticket["id"])[0]["status"]["statusCode"] == 2


def test_never_more_than_the_documented_event_rate(faulty_agent, provisioned, cw):
    """SIGNL4 (emulated, free plan: 10 events per 15 s) on a manual clock that the agent's pacing
    advances instead of sleeping: 14 Signls go out without a single 429."""
    from signl4_agent import ratelimit
    manage, signl4 = provisioned
    signl4.control("POST", "/clock", {"manual": True})
    signl4.control("POST", "/rate-limit", {"plan": "free"})
    agent = faulty_agent(signl4={"plan": "free"})
    now = [0.0]

    def wait(seconds):
        now[0] += seconds
        signl4.control("POST", "/clock", {"advance": seconds})

    agent.ctx.limiters = ratelimit.limiters("free", wait=wait, clock=lambda: now[0])
    tickets = [support.new_ticket(cw, summary="Rate %d" % n)["id"] for n in range(12)]
    assert agent.safe(agent.cycle)
    assert all(len(support.alerts(signl4, t)) == 1 for t in tickets)
    webhook = [r["status"] for r in signl4.requests() if r["path"].startswith("/webhook/")]
    assert webhook == [201] * 14  # the two seeded new tickets too
    assert now[0] >= 15
