"""The pure parts of the HA chaos suite and benchmarks (tests/bench/ha_support.py, ha_chaos.py, ha_bench.py):
which agent calls break a lease, the takeover counts, the pass/fail rules, the statements' split."""

from tests.bench import ha_bench, ha_chaos
from tests.bench.ha_support import Call, LeaseEvent, calls_without_lease

from signl4_agent import leases


def acquired(at, node, epoch, tenant="t1"):
    return LeaseEvent(at, tenant, node, "%s/x%d" % (node, epoch), epoch, "acquired")


def released(at, node, epoch, tenant="t1"):
    return LeaseEvent(at, tenant, node, "%s/x%d" % (node, epoch), epoch, "released")


def call(at, node, path="/v2025_1/apis/3.0/service/tickets", tenant="t1"):
    return Call(at, node, tenant, "GET", path, 200)


HISTORY = [acquired(10.0, "a", 1), acquired(20.0, "b", 2), released(30.0, "b", 2), acquired(30.5, "a", 3)]


def test_the_holder_of_the_current_epoch_may_call():
    assert calls_without_lease([call(10.5, "a"), call(25.0, "b"), call(31.0, "a")], HISTORY) == []


def test_a_call_after_the_lease_was_taken_from_its_agent_is_fenced():
    [(found, why, latest)] = calls_without_lease([call(20.2, "a")], HISTORY)
    assert (found.at, why, latest.node, latest.epoch) == (20.2, "taken", "b", 2)


def test_calls_without_ever_holding_or_after_a_release_are_found_too():
    found = calls_without_lease([call(5.0, "a"), call(15.0, "b"), call(30.2, "b")], HISTORY)
    assert [(c.at, why) for c, why, _latest in found] == [(5.0, "not held"), (15.0, "not held"), (30.2, "not held")]


def test_the_workload_the_receivers_key_reads_and_other_tenants_are_not_counted():
    calls = [call(20.2, None), call(20.2, "a", path="/v4_6_release/system/callbackkey/index.rails?id=1"),
             call(20.2, "a", tenant="t2")]
    other = [acquired(1.0, "a", 1, tenant="t2")]
    assert calls_without_lease(calls, HISTORY + other) == []


def test_lease_counts_tell_takeovers_from_reacquisitions():
    counts = ha_chaos.lease_counts(HISTORY + [acquired(40.0, "c", 4)])
    assert (counts["acquisitions"], counts["takeovers"], counts["releases"]) == (4, 2, 1)
    assert counts["epochs"] == "t1 4"


def test_takeover_seconds_run_from_the_fault_to_the_next_acquisition_of_each_tenant_held():
    faults = [("kill", 19.0, "a", ["t1"]), ("stop", 29.0, "b", ["t1", "t9"])]
    assert ha_chaos.takeover_seconds(faults, HISTORY) == [("kill", 1.0), ("stop", 1.5)]


def test_failover_meets_its_target_only_with_every_round_complete_and_p95_within_lease_plus_one():
    class Args:
        lease = 10.0
    rounds = [dict(kind="kill", takeover=9.0, first=9.1)] * 19 + [dict(kind="kill", takeover=10.8, first=10.9)]
    assert ha_bench.failover_ok(Args, rounds)
    assert not ha_bench.failover_ok(Args, rounds[:18] + [dict(kind="kill", takeover=11.5, first=11.6)] * 2)
    assert not ha_bench.failover_ok(Args, rounds + [dict(kind="handoff", takeover=None, first=None)])


def test_cycles_are_counted_per_tenant_from_the_event_tests_since_the_window_began():
    test = "/v2025_1/apis/3.0/system/workflows/1/events/%d/test"
    calls = [call(at, "a", test % event, tenant) for at in (1.0, 11.0, 21.0) for event in (1, 3)
             for tenant in ("t1", "t2")] + [call(30.0, None, test % 1)]
    assert ha_bench.cycles(calls, since=5.0) == {"t1": 2, "t2": 2}


def test_the_keepers_statements_are_told_from_the_loops():
    keeper = [leases.HEARTBEAT, leases.RENEW, leases.ACQUIRE, leases.NEXT_EXPIRY, leases.WORK]
    assert all(any(mark in " ".join(sql.split()) for mark in ha_bench.KEEPER) for sql in keeper)
    loops = [leases.FENCE, "DELETE FROM requests WHERE tenant = $1 RETURNING ticket_id",
             "SELECT * FROM intents WHERE tenant = $1 AND state = $2 ORDER BY id LIMIT $3"]
    assert not any(mark in sql for sql in loops for mark in ha_bench.KEEPER)
