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


def test_undriven_runs_from_each_release_to_the_next_acquisition_of_that_tenant():
    history = [acquired(1.0, "a", 1), acquired(1.0, "b", 1, tenant="t2"), released(10.0, "a", 1),
               released(10.2, "b", 1, tenant="t2"), acquired(10.5, "c", 2, tenant="t2"), acquired(10.9, "b", 2),
               released(20.0, "b", 2), acquired(20.1, "a", 3)]
    gaps, expired = ha_bench.undriven(history, since=5.0)
    assert [(tenant, round(end - start, 2)) for tenant, start, end in gaps] == [("t1", 0.9), ("t2", 0.3), ("t1", 0.1)]
    assert expired == []


def test_undriven_leaves_out_what_came_before_and_keeps_a_release_nobody_took():
    history = [acquired(1.0, "a", 1), released(2.0, "a", 1), acquired(3.0, "b", 2), released(10.0, "b", 2)]
    gaps, expired = ha_bench.undriven(history, since=5.0)
    assert gaps == [("t1", 10.0, None)] and expired == []


def test_a_lease_taken_after_it_ran_out_is_not_a_hand_over():
    history = [acquired(1.0, "a", 1), acquired(12.0, "b", 2), released(20.0, "b", 2), acquired(20.2, "b", 3)]
    gaps, expired = ha_bench.undriven(history, since=5.0)
    assert [(e.node, e.epoch) for e in expired] == [("b", 2)]
    assert [(t, round(end - start, 2)) for t, start, end in gaps] == [("t1", 0.2)]


def test_late_takeovers_name_the_fault_the_tenant_and_who_took_it():
    faults = [("kill", 19.0, "a", ["t1"]), ("stop", 5.0, "a", ["t2"])]
    history = HISTORY + [acquired(16.5, "c", 2, tenant="t2")]
    assert ha_chaos.late_takeovers(faults, history, bound=11.0) == [("stop", "a", "t2", 11.5, "c")]
    assert ha_chaos.late_takeovers(faults, history, bound=12.0) == []


def test_the_burst_section_has_the_postgresql_row_the_sqlite_baseline_and_the_commits_per_signl():
    class Args:
        lease = 10.0
    run = dict(expected=2000, raised=2000, last=210.0, first=1.0, agent_429=0, duplicates=0, busiest15=150,
               busiest60=600, rss=40960, peak=41984, commits=12000, **{"429": 0, "5xx": 0})
    cond = dict(date="d", commit="c", machine="m", load="l", python="p", ansible="a")
    text = ha_bench.burst_markdown(Args, cond, run, False, dict(run, last=204.0))
    assert "| PostgreSQL | 2000 / 2000 | 210.0 s | 1.0 s | 1.050 |" in text
    assert "| SQLite (baseline, right after) | 2000 / 2000 | 204.0 s |" in text
    assert "12000, 6.0 per Signl" in text and "Target met (PostgreSQL): NO." in text
    assert "SQLite" not in ha_bench.burst_markdown(Args, cond, run, True).split("### Figures")[1]
