"""Leases on a real PostgreSQL, in one process: acquire, renew, expiry on the database's clock, a takeover
increments the epoch, balance; a fenced writer changes nothing and its loop stops; no request starts after a
lease's local deadline (retries included)."""

import threading
import time

import psycopg
import pytest

from tests.agent import support
from tests.ha import support as ha

from ansible_collections.signl4.connectwise.plugins.module_utils.transport import RetryPolicy

from signl4_agent import config as config_module
from signl4_agent import leases
from signl4_agent.agent import Agent
from signl4_agent.intents import Raise
from signl4_agent.pgstore import Database, PostgresStore
from signl4_agent.store import Fenced


class FakeNode:
    """What the keeper tells a node, recorded; a lease it acquires is held until released or lost."""

    def __init__(self, database):
        self.database = database
        self.leases, self.events, self.stop = {}, [], False

    def held(self):
        return {tenant: lease for tenant, lease in self.leases.items() if not lease.lost}

    def acquired(self, tenant, lease, previous):
        self.leases[tenant] = lease
        self.events.append(("acquired", tenant, lease.epoch, previous))

    def lost(self, tenant):
        self.events.append(("lost", tenant))
        self.leases.pop(tenant)

    def release(self, tenant):
        self.events.append(("release", tenant))
        leases.release(self.database.intake, self.leases.pop(tenant))

    def wake(self, tenant):
        self.events.append(("wake", tenant))

    def stopping(self):
        return self.stop

    def done(self):
        return self.stop and not self.held()

    def sleep(self, seconds):
        time.sleep(seconds)


@pytest.fixture
def make_keeper(dsn):
    """``make_keeper(tenants, name)``: a lease keeper of node ``name`` (leases of 1 s) and its FakeNode; each one made
    leaves and closes its database at teardown."""
    made = []

    def make(tenants, name):
        node = FakeNode(Database({"dsn": dsn, "lease_seconds": 1.0}, name))
        made.append(leases.Keeper(node.database, tenants, f"{name}/1", node))
        return made[-1], node

    yield make
    for each in made:
        each.leave()
        each.database.close()


def test_acquire_renew_balance_expire_and_takeover(make_keeper, dsn):
    first, first_node = make_keeper(["contoso", "fabrikam"], "agent-a")
    second, second_node = make_keeper(["contoso", "fabrikam"], "agent-b")
    first.tick()  # alone: its share is both tenants
    assert sorted(first_node.held()) == ["contoso", "fabrikam"]
    assert {lease.epoch for lease in first_node.held().values()} == {1}
    deadline = first_node.leases["contoso"].deadline
    time.sleep(0.1)
    first.tick()  # renewed: the local deadline moves on
    assert first_node.leases["contoso"].deadline > deadline and first_node.leases["contoso"].valid()

    second.tick()  # two agents now: a share of one each, but nothing is free yet
    assert second_node.held() == {} and second.live == 2
    first.tick()  # above its share: releases one per renewal
    assert len(first_node.held()) == 1 and first_node.events[-1][0] == "release"
    released = first_node.events[-1][1]
    second.tick()
    assert list(second_node.held()) == [released]
    assert second_node.events[-1] == ("acquired", released, 2, None)  # a released lease: no previous holder
    first.tick()
    second.tick()  # each renews the one it holds (a part of the tenants): nothing lost, nothing moves
    assert [event for event in first_node.events + second_node.events if event[0] == "lost"] == []
    assert list(second_node.held()) == [released] and second_node.held()[released].epoch == 2
    assert len(first_node.held()) == 1

    kept = next(iter(first_node.held()))
    time.sleep(1.2)  # agent-a stops renewing: its lease runs out on the database's clock (1 s)
    assert ha.holder(dsn, kept)[2] < 0
    second.tick()
    assert sorted(second_node.held()) == ["contoso", "fabrikam"]
    assert second_node.events[-1] == ("acquired", kept, 2, "agent-a/1")  # a takeover: the epoch moves on
    assert not first_node.leases[kept].valid()  # and agent-a's local deadline had passed before
    first.tick()  # agent-a renews: the tenant is not its any more, its loop is stopped at once
    assert ("lost", kept) in first_node.events and first_node.held() == {}


def test_a_fenced_writer_changes_nothing(make_keeper):
    keeper, node = make_keeper(["default"], "agent-a")
    rival, rival_node = make_keeper(["default"], "agent-b")
    keeper.tick()
    lease = node.leases["default"]
    store = PostgresStore(keeper.database.loop_session(0), "default", lease=lease, fencing=True)
    store.save_ticket(1, generation=1)
    assert PostgresStore(keeper.database.intake, "default").ticket(1)["generation"] == 1
    unleased = PostgresStore(keeper.database.loop_session(1), "default", fencing=True)
    with pytest.raises(Fenced):
        unleased.save_ticket(2, generation=1)
    time.sleep(1.2)
    rival.tick()  # took over: epoch 2
    assert rival_node.leases["default"].epoch == 2
    with pytest.raises(Fenced):
        store.save_ticket(1, generation=2)
    with pytest.raises(Fenced):
        store.add_intent(Raise(1, 2))
    reader = PostgresStore(keeper.database.intake, "default")
    assert reader.ticket(1)["generation"] == 1 and reader.ticket(2) is None and reader.pending_intents() == []
    assert lease.lost
    # What the receiver records is not fenced: every node records deliveries.
    assert PostgresStore(keeper.database.intake, "default").accept_delivery("d1") is True


def test_no_request_starts_after_the_local_deadline_retries_included(provisioned, tmp_path, dsn):
    manage, signl4 = provisioned
    expired = []
    retry = RetryPolicy(max_retries=3, sleep=lambda seconds: expired.append(agent.lease.lose()))
    raw = ha.config(tmp_path, manage, signl4, dsn, lease=1)
    config = config_module.validate(raw, env={})
    database = Database(config["state"], "agent-a")
    agent = Agent(config, store=PostgresStore(database.loop_session(0), "default", fencing=True),
                  intake=PostgresStore(database.intake, "default"), leased=True, node_id="agent-a", retry=retry)
    try:
        with pytest.raises(Fenced):
            agent.signl4.user(support.ACTING_USER)  # no lease at all
        agent.lease = leases.Lease("default", "agent-a/1", 1, margin=0.0)
        agent.lease.renewed(time.monotonic(), 30.0)
        agent.signl4.user(support.ACTING_USER)  # within the lease: sent
        signl4.inject(503, count=1)
        with pytest.raises(Fenced):
            agent.signl4.user(support.ACTING_USER)  # the first attempt gets a 503; the lease ends during the wait
        assert expired, "the retry wait was not reached"
        sent = ha.sent_by(signl4, "agent-a")
        assert [entry["status"] for entry in sent if "/users/" in entry["path"]] == [200, 503]  # no retry was sent
        agent.lease = leases.Lease("default", "agent-a/1", 1, margin=0.5)
        agent.lease.renewed(time.monotonic() - 1.0, 1.4)  # sent 1 s ago, 1.4 s left, a 0.5 s margin: past its deadline
        with pytest.raises(Fenced):
            agent.manage.transport.request("GET", "/system/info")
        assert len(ha.sent_by(signl4, "agent-a")) == len(sent) and ha.sent_by(manage, "agent-a") == []
    finally:
        agent.close()
        database.close()


@pytest.mark.slow
def test_a_loop_whose_lease_is_taken_stops_and_writes_nothing_more(provisioned, cw, tmp_path, dsn):
    manage, signl4 = provisioned
    raw = ha.config(tmp_path, manage, signl4, dsn, lease=1)
    config = config_module.validate(raw, env={})
    database = Database(config["state"], "agent-a")
    agent = Agent(config, store=PostgresStore(database.loop_session(0), "default", fencing=True),
                  intake=PostgresStore(database.intake, "default"), leased=True, node_id="agent-a")
    lease = leases.acquire_for_once(database, "agent-a/1", "default")
    lease.renewed(time.monotonic(), 3600.0)  # the guard would let it send for an hour: only the fencing stops it
    loop = threading.Thread(target=agent.drive, args=(lease,), daemon=True)
    try:
        loop.start()
        first = support.new_ticket(cw, summary="raised by agent-a")
        assert support.wait_for(lambda: support.alerts(signl4, first["id"]), timeout=15)
        with database.connect("test") as connection:  # another agent takes the tenant over
            connection.execute("UPDATE leases SET holder = 'agent-b/1', epoch = epoch + 1 WHERE tenant = 'default'")
        second = support.new_ticket(cw, summary="not by agent-a")
        loop.join(15)
        assert not loop.is_alive(), "the loop did not stop"
        assert lease.lost
        assert PostgresStore(database.intake, "default").intent(f"raise:{second['id']}:1") is None
        assert support.alerts(signl4, second["id"]) == []
    finally:
        agent.stop()
        loop.join(15)
        agent.close()
        database.close()


def test_an_agent_that_leaves_tells_the_others_so_they_recount_at_once(make_keeper):
    tenants = ["contoso", "fabrikam", "northwind"]
    first, first_node = make_keeper(tenants, "agent-a")
    second, second_node = make_keeper(tenants, "agent-b")
    first.tick()
    second.tick()  # listening; two agents: a share of two, nothing free
    assert second.live == 2 and second_node.held() == {}
    list(second.connection.notifies(timeout=0.2))  # nothing from before counts
    first_node.stop = True
    for tenant in sorted(first_node.held()):
        first_node.release(tenant)  # as a SIGTERM does: released first (each release tells the others)
    list(second.connection.notifies(timeout=0.2))
    second.tick()  # agent-a is still registered: a share of two
    assert len(second_node.held()) == 2
    first.leave()
    told = [notice.payload for notice in second.connection.notifies(timeout=2, stop_after=1)]
    assert told == ["lease"]  # without it agent-b would wait for its next tick (lease/3) to count again
    second.tick()
    assert second.live == 1 and sorted(second_node.held()) == tenants


def test_the_heartbeat_row_of_an_agent_dead_for_a_day_is_deleted_and_a_recent_one_stays(make_keeper, dsn):
    keeper, _node = make_keeper(["contoso"], "agent-a")
    keeper.tick()  # the schema is made at the first use
    with psycopg.connect(dsn, autocommit=True) as connection:
        for holder, age in (("dead-for-long/1", leases.FORGET_AGENTS_AFTER + 60), ("dead-lately/1", 3600)):
            connection.execute("INSERT INTO agents (holder, node, started, heartbeat) VALUES "
                               "(%s, 'gone', now(), clock_timestamp() - make_interval(secs => %s))", (holder, age))
        keeper.tick()
        holders = sorted(row[0] for row in connection.execute("SELECT holder FROM agents"))
    assert holders == ["agent-a/1", "dead-lately/1"]
    assert keeper.live == 1  # neither of them counts as live
