"""The agent's pacing at SIGNL4's rate windows counts a request from its answer: SIGNL4 counts it
when it arrives, which may be later than the moment the agent let it go."""

from ansible_collections.signl4.connectwise.plugins.module_utils.transport import RetryPolicy

from tests.agent import support

from signl4_agent import ratelimit


def test_a_window_counts_a_request_from_its_answer():
    now = [0.0]

    def wait(seconds):
        now[0] += seconds

    limiter = ratelimit.WindowLimiter([(15, 2)], wait=wait, clock=lambda: now[0])
    with limiter.slot():
        now[0] += 5.0  # answered 5 s after it was let go
    with limiter.slot():
        pass
    with limiter.slot():
        assert now[0] == 20.0  # 15 s after the first was answered, not after it was let go


def test_a_failed_request_is_counted_too():
    now = [0.0]
    limiter = ratelimit.WindowLimiter([(15, 1)], wait=lambda s: now.__setitem__(0, now[0] + s), clock=lambda: now[0])
    try:
        with limiter.slot():
            now[0] += 2.0
            raise TimeoutError("no answer: it may have arrived all the same")
    except TimeoutError:
        pass
    with limiter.slot():
        assert now[0] == 17.0


def test_a_slow_first_event_does_not_let_the_next_window_start_early(make_agent, signl4, cw):
    """SIGNL4 (free plan: 10 events per 15 s) on a manual clock the agent's waits advance. The first
    Signl reaches SIGNL4 5 s after the agent let it go (a slow send): counted from when it was let go,
    the 11th would arrive 5 s before SIGNL4's window ends and be refused (429) again and again."""
    signl4.control("POST", "/clock", {"manual": True})
    signl4.control("POST", "/rate-limit", {"plan": "free"})
    now = [0.0]

    def advance(seconds):
        now[0] += seconds
        signl4.control("POST", "/clock", {"advance": seconds})

    agent = make_agent(receiver=False, signl4={"plan": "free"}, retry=RetryPolicy(max_retries=2, sleep=lambda seconds: None))
    agent.ctx.limiters = ratelimit.limiters("free", wait=advance, clock=lambda: now[0])
    send = agent.signl4.webhook_event

    def slow_first(payload, query=None):
        if not now[0]:
            advance(5.0)
        return send(payload, query)

    agent.signl4.webhook_event = slow_first
    tickets = [support.new_ticket(cw, summary="Paced %d" % n)["id"] for n in range(10)]
    assert agent.safe(agent.cycle)
    assert all(len(support.alerts(signl4, t)) == 1 for t in tickets)
    webhook = [r["status"] for r in signl4.requests() if r["path"].startswith("/webhook/")]
    assert webhook == [201] * 12  # the two seeded new tickets too
    assert now[0] >= 20
