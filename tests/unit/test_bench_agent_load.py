"""The pure helpers of tests/bench/agent_load.py: the floor, the window check and the pass/fail rule."""

from tests.bench import agent_load as bench


def test_the_event_floor_is_set_by_the_window_that_binds_last():
    assert bench.event_floor(150) == 0  # the first window's worth goes at once
    assert bench.event_floor(151) == 15
    assert bench.event_floor(2000) == 195  # 13 full 15 s windows before the last; 3 minute windows give only 180
    assert bench.event_floor(5000) == 495
    assert bench.event_floor(1, [(10, 15), (20, 60)]) == 0
    assert bench.event_floor(41, [(10, 15), (20, 60)]) == 120  # the minute window binds: 2 x 60 > 4 x 15


def test_busiest_counts_the_most_events_in_any_interval():
    assert bench.busiest([0.0, 1.0, 14.9, 15.0, 16.0], 15) == 3
    assert bench.busiest([5.0, 0.0, 1.0], 60) == 3
    assert bench.busiest([], 15) == 0


def test_duplicates_count_alerts_beyond_the_first_per_ticket():
    alerts = [{"externalId": "1"}, {"externalId": "2"}, {"externalId": "1"}, {"externalId": "1"}]
    assert bench.duplicates(alerts) == 2
    assert bench.duplicates(alerts[:2]) == 0


def test_a_burst_fails_on_any_429_duplicate_5xx_crash_or_window_overrun():
    good = {"done": True, "raised": 10, "expected": 10, "duplicates": 0, "429": 0, "5xx": 0, "exit": 0,
            "tracebacks": 0, "busiest15": 150, "busiest60": 600}
    assert bench.burst_ok(good)
    for key, value in (("429", 1), ("duplicates", 1), ("5xx", 1), ("exit", 1), ("tracebacks", 1), ("raised", 9),
                       ("done", False), ("busiest15", 151), ("busiest60", 601)):
        assert not bench.burst_ok(dict(good, **{key: value})), key


def test_spread_is_median_min_max():
    assert bench.spread([3.0, 1.0, 2.0]) == "2.00 s (1.00-3.00)"
    assert bench.spread([4, 6], "", 0) == "5 (4-6)"
    assert bench.spread([]) == "-"
