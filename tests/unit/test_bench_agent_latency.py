"""The pure helpers of tests/bench/agent_latency.py: what its figures are computed with."""

import pytest

from tests.bench import agent_latency as bench


def test_stream_gaps_are_reproducible_by_seed_and_within_bounds():
    gaps = bench.stream_gaps(7, 200, 0.1, 0.6)
    assert gaps == bench.stream_gaps(7, 200, 0.1, 0.6)
    assert gaps != bench.stream_gaps(8, 200, 0.1, 0.6)
    assert len(gaps) == 200 and all(0.1 <= g <= 0.6 for g in gaps)


def test_summarize_uses_nearest_rank_percentiles():
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert bench.summarize(values) == dict(n=100, p50=50.0, p95=95.0, max=100.0)
    assert bench.summarize([3.0]) == dict(n=1, p50=3.0, p95=3.0, max=3.0)
    assert bench.summarize([]) == dict(n=0, p50=None, p95=None, max=None)


def test_spread_is_median_min_max_without_missing_values():
    assert bench.spread([0.3, None, 0.1, 0.2]) == (0.2, 0.1, 0.3)
    assert bench.spread([None]) == (None, None, None)


def test_cycles_split_at_pauses_and_drop_the_cut_ends():
    test, poll = "/v4_6_release/apis/3.0/system/workflows/5/events/9/test", "/api/v2/alerts/paged"
    entries = [(0.00, "manage", test), (0.01, "signl4", poll),  # the tail of a cycle the window cut: dropped
               (2.00, "manage", test), (2.01, "manage", test), (2.02, "signl4", poll),
               (4.00, "manage", "/v4_6_release/apis/3.0/system/workflows"), (4.01, "manage", "/x/system/workflows/5/events"),
               (4.02, "manage", test), (4.03, "signl4", poll), (4.05, "manage", test), (4.06, "manage", test),
               (6.00, "manage", test)]  # a cycle still running when the window closed: dropped
    shuffled = entries[::-1]  # the two journals arrive one after the other, not in time order
    assert bench.cycles(shuffled, gap=1.0) == [{"manage": 2, "signl4": 1, "rule_reads": 0},
                                               {"manage": 5, "signl4": 1, "rule_reads": 2}]
    assert bench.cycles([], gap=1.0) == []


def test_idle_floor_counts_the_events_in_use_and_the_signl4_poll():
    assert bench.idle_floor({"signl4": {"poll_alerts": True}}) == {"manage": 4, "signl4": 1}
    assert bench.idle_floor({"signl4": {"poll_alerts": False}, "reopen": "ignore",
                             "status_mappings": {"manage_acknowledge": False, "manage_close": True}}) == \
        {"manage": 2, "signl4": 0}


def test_proc_parsers_read_cpu_and_memory():
    ticks = float(bench.CLOCK_TICKS)
    # the comm may hold spaces and parentheses; utime and stime are fields 14 and 15
    stat = "4242 (python (x) y) S 1 4242 4242 0 -1 4194304 100 0 0 0 %d %d 0 0 20 0 3 0" % (3 * ticks, ticks)
    assert bench.cpu_seconds(stat) == pytest.approx(4.0)
    status = "Name:\tpython\nVmHWM:\t   40000 kB\nVmRSS:\t   35000 kB\nRssAnon:\t   12000 kB\nThreads:\t3\n"
    assert bench.memory_kb(status) == dict(rss=35000, hwm=40000, anon=12000)


def test_parse_iso_reads_signl4_timestamps():
    assert bench.parse_iso("1970-01-01T00:00:01.2500000Z") == pytest.approx(1.25)
    assert bench.parse_iso("1970-01-01T00:01:00Z") == pytest.approx(60.0)
    assert bench.parse_iso("yesterday") is None


def test_metric_sum_adds_the_samples_whose_labels_match():
    text = "\n".join([
        "# HELP signl4_agent_api_calls_total API calls",
        'signl4_agent_api_calls_total{api="manage",endpoint="GET /x",status="200"} 4.0',
        'signl4_agent_api_calls_total{api="signl4",endpoint="POST /y",status="200"} 1.0',
        'signl4_agent_api_calls_created{api="manage",endpoint="GET /x",status="200"} 1.7e9',
        "signl4_agent_errors_total 2.0"])
    assert bench.metric_sum(text, "signl4_agent_api_calls_total") == 5.0
    assert bench.metric_sum(text, "signl4_agent_api_calls_total", api="manage") == 4.0
    assert bench.metric_sum(text, "signl4_agent_errors_total") == 2.0
