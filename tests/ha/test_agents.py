"""Several agent processes on one PostgreSQL: a killed holder is replaced within the lease, a paused one is
fenced and sends nothing once its lease was taken, SIGTERM hands over at once, N agents share M tenants, a
webhook that reaches a standby is executed by the holder, and a PostgreSQL restart loses and duplicates
nothing. Every request carries ``User-Agent: signl4-agent/<version> node/<node id>``, so the emulators'
journals say which agent sent what. Leases of 2 s (10 s where a hand-off must be told from an expiry)."""

import os
import signal
import time

import pytest

from tests.agent import support
from tests.ha import support as ha

pytestmark = pytest.mark.slow
LEASE = 2.0
FAST = dict(manage={"timeout": 2}, signl4={"timeout": 2})  # the in-doubt wait after a takeover is 2 x timeout


@pytest.fixture
def start_agent(tmp_path, provisioned, dsn):
    """``start_agent(node, lease=LEASE, **overrides)``: an agent process of node ``node`` on ``dsn``, ready; each one
    started is stopped at teardown (resumed first, if paused)."""
    manage, signl4 = provisioned
    started = []

    def start(node, lease=LEASE, **overrides):
        port = support.free_port()
        raw = ha.config(tmp_path, manage, signl4, dsn, node=node, lease=lease, port=port, **dict(FAST, **overrides))
        started.append(ha.start(tmp_path, raw, node))
        return started[-1]

    yield start
    for agent in started:
        if agent.proc.poll() is None:
            os.kill(agent.proc.pid, signal.SIGCONT)
        agent.stop()


def test_a_killed_holder_is_replaced_within_the_lease(start_agent, signl4, cw, dsn):
    first = start_agent("agent-a")
    ha.wait_held(dsn, "agent-a")
    start_agent("agent-b")
    before = support.new_ticket(cw, summary="before the kill")
    assert support.wait_for(lambda: support.alerts(signl4, before["id"]), timeout=15)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    killed = time.time()
    taken = ha.wait_held(dsn, "agent-b", timeout=30)
    assert taken - killed <= LEASE + 3.0, "taken over %.1f s after the kill (lease %.0f s)" % (taken - killed, LEASE)
    after = support.new_ticket(cw, summary="after the kill")
    assert support.wait_for(lambda: support.alerts(signl4, after["id"]), timeout=15)
    raised_by = {entry["request_json"]["X-S4-ExternalID"] for entry in ha.sent_by(signl4, "agent-b")
                 if entry["path"].startswith("/webhook/")}
    assert str(after["id"]) in raised_by
    assert [len(support.alerts(signl4, ticket["id"])) for ticket in (before, after)] == [1, 1]


def test_a_paused_holder_is_fenced_and_sends_nothing_after_its_lease_was_taken(start_agent, manage, signl4, cw, dsn):
    first = start_agent("agent-a")
    ha.wait_held(dsn, "agent-a")
    start_agent("agent-b")
    os.kill(first.proc.pid, signal.SIGSTOP)
    stopped = time.monotonic()
    taken = ha.wait_held(dsn, "agent-b", timeout=30)
    ticket = support.new_ticket(cw, summary="while agent-a is paused")
    assert support.wait_for(lambda: support.alerts(signl4, ticket["id"]), timeout=15)
    time.sleep(max(0.0, stopped + 3 * LEASE - time.monotonic()))
    os.kill(first.proc.pid, signal.SIGCONT)
    assert support.wait_for(lambda: ha.health(first).get("held") == [], timeout=15), ha.health(first)
    time.sleep(2 * LEASE)  # agent-a's loop had work pending when it was paused: it had every chance to send
    late = [entry for emulator in (manage, signl4) for entry in ha.sent_by(emulator, "agent-a") if entry["time"] > taken]
    assert late == [], late
    assert len(support.alerts(signl4, ticket["id"])) == 1
    assert "the loop stops" in first.output() or "taken over" in first.output()
    assert ha.node_of(ha.holder(dsn)[0]) == "agent-b"


def test_sigterm_hands_the_tenant_over_at_once(start_agent, signl4, cw, dsn):
    lease = 10.0  # a hand-off through the lease's expiry would take 10 s
    first = start_agent("agent-a", lease=lease)
    ha.wait_held(dsn, "agent-a")
    second = start_agent("agent-b", lease=lease)
    epoch = ha.holder(dsn)[1]
    first.proc.terminate()
    terminated = time.time()
    taken = ha.wait_held(dsn, "agent-b", timeout=30)
    assert first.proc.wait(15) == 0
    assert taken - terminated < lease / 2, "handed over after %.1f s" % (taken - terminated)
    assert ha.holder(dsn)[1] == epoch + 1 and "taken over" not in second.output()  # released, not taken
    ticket = support.new_ticket(cw, summary="after the rolling restart")
    assert support.wait_for(lambda: support.alerts(signl4, ticket["id"]), timeout=15)


def test_agents_share_the_tenants_evenly_and_take_a_lost_agents_share(start_agent):
    tenants = [dict(id=name) for name in ("t1", "t2", "t3", "t4", "t5")]
    agents = [start_agent(f"agent-{n}", tenants=tenants, poll_interval=5) for n in range(3)]

    def held():
        return [len(ha.health(agent).get("held", [])) for agent in agents if agent.proc.poll() is None]
    assert support.wait_for(lambda: sum(held()) == 5 and max(held()) <= 2, timeout=30), held()  # ceil(5/3) = 2
    agents[0].proc.send_signal(signal.SIGKILL)
    agents[0].proc.wait()
    assert support.wait_for(lambda: sum(held()) == 5 and max(held()) <= 3, timeout=30), held()  # ceil(5/2) = 3


def test_a_webhook_received_by_the_standby_is_executed_by_the_holder(start_agent, manage, signl4, cw, dsn):
    ticket = support.new_ticket(cw, summary="acknowledged in SIGNL4")
    start_agent("agent-a", poll_interval=60)
    ha.wait_held(dsn, "agent-a")
    second = start_agent("agent-b", poll_interval=60)
    assert support.wait_for(lambda: support.alerts(signl4, ticket["id"]), timeout=15)
    support.subscribe(signl4, "%s/signl4/%s" % (second.url, support.WEBHOOK_TOKEN))  # only the standby hears
    support.act(signl4, "acknowledge", ticket["id"])
    assert support.wait_for(lambda: cw.get("/service/tickets/%d" % ticket["id"])["status"]["name"] == "In Progress",
                            timeout=15)
    patches = [entry for entry in manage.requests() if entry["method"] == "PATCH" and
               entry["path"].endswith("/service/tickets/%d" % ticket["id"])]
    assert patches and {entry["headers"]["user-agent"].split("node/")[-1] for entry in patches} == {"agent-a"}
    assert b'outcome="accepted",source="signl4"' in second.get("/metrics")[1]
    assert ha.health(second)["held"] == [] and ha.health(second)["healthy"] is True
    assert second.get("/readyz")[0] == 200


def test_a_postgresql_restart_loses_and_duplicates_nothing(start_agent, signl4, cw, cluster, dsn):
    first = start_agent("agent-a")
    ha.wait_held(dsn, "agent-a")
    tickets = [support.new_ticket(cw, summary="burst %d" % number) for number in range(6)]
    cluster.restart("fast")
    tickets += [support.new_ticket(cw, summary="after the restart %d" % number) for number in range(6)]
    assert support.wait_for(lambda: all(support.alerts(signl4, ticket["id"]) for ticket in tickets), timeout=60)
    assert [len(support.alerts(signl4, ticket["id"])) for ticket in tickets] == [1] * len(tickets)
    assert support.wait_for(lambda: all(support.custom(cw.get("/service/tickets/%d" % ticket["id"]), "Signl4Retrieved_c")
                                        for ticket in tickets), timeout=30)
    assert first.get("/readyz")[0] == 200
