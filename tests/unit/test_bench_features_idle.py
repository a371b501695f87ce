"""The pure helpers of tests/bench/features_idle.py: how a cycle's calls are counted and compared."""

import pytest

from tests.bench import features_idle as bench

TEST = "/v4_6_release/apis/3.0/system/workflows/5/events/9/test"
RULES = "/v4_6_release/apis/3.0/system/workflows"
EVENTS = "/v4_6_release/apis/3.0/system/workflows/5/events"
TICKETS = "/v4_6_release/apis/3.0/service/tickets"
POLL = "/api/v2/alerts/paged"


def _entry(method, path):
    return {"method": method, "path": path}


def test_endpoint_folds_ids_and_the_codebase():
    assert bench.endpoint("manage", "GET", TEST) == "manage GET /system/workflows/{id}/events/{id}/test"
    assert bench.endpoint("manage", "GET", TICKETS + "?conditions=x") == "manage GET /service/tickets"
    assert bench.endpoint("manage", "GET", "/v2025_1/apis/3.0/service/tickets/42/notes") == \
        "manage GET /service/tickets/{id}/notes"
    assert bench.endpoint("signl4", "GET", "/api/v2/alerts/5b0b1a5e-0000-4000-8000-00000000a001/details") == \
        "signl4 GET /api/v2/alerts/{id}/details"
    assert bench.endpoint("signl4", "GET", POLL) == "signl4 GET /api/v2/alerts/paged"


def test_cycle_calls_count_per_api_and_set_the_rule_reads_apart():
    found = bench.cycle_calls({"manage": [_entry("GET", TEST), _entry("GET", TEST), _entry("GET", RULES),
                                          _entry("GET", EVENTS), _entry("GET", TICKETS)],
                               "signl4": [_entry("GET", POLL)]})
    assert (found["manage"], found["signl4"], found["rule_reads"]) == (3, 1, 2)
    assert found["endpoints"] == {"manage GET /system/workflows/{id}/events/{id}/test": 2,
                                  "manage GET /service/tickets": 1, "signl4 GET /api/v2/alerts/paged": 1}
    assert bench.cycle_calls({"manage": [], "signl4": []})["manage"] == 0


def _cycles(*totals):
    return [bench.cycle_calls({"manage": [_entry("GET", TEST)] * manage + [_entry("GET", RULES)] * reads,
                               "signl4": [_entry("GET", POLL)] * signl4}) for manage, signl4, reads in totals]


def test_summarize_is_per_cycle_with_the_rule_reads_left_out():
    summary = bench.summarize(_cycles((4, 1, 0), (4, 1, 2), (6, 1, 0)))
    assert summary["n"] == 3 and summary["total"] == pytest.approx(17 / 3)
    assert (summary["total_min"], summary["total_max"], summary["rule_reads"]) == (5, 7, 2)
    assert summary["manage"] == pytest.approx(14 / 3) and summary["signl4"] == 1
    assert summary["endpoints"]["signl4 GET /api/v2/alerts/paged"] == 1
    assert bench.summarize([]) is None


def test_extra_is_the_difference_to_the_baseline_and_names_the_endpoints_it_adds():
    baseline = bench.summarize(_cycles((4, 1, 0), (4, 1, 0)))
    notes = bench.summarize([bench.cycle_calls({"manage": [_entry("GET", TEST)] * 4 + [_entry("GET", TICKETS)],
                                                "signl4": [_entry("GET", POLL)]})] * 2)
    more, endpoints = bench.extra(notes, baseline)
    assert more == pytest.approx(1.0)
    assert endpoints == {"manage GET /service/tickets": pytest.approx(1.0)}
    assert bench.extra(baseline, baseline) == (0, {})


def test_verdict_needs_the_mean_and_the_worst_cycle_within_the_target():
    assert bench.verdict(0.0, 0, 0) == "met"
    assert bench.verdict(1.0, 1, 1) == "met"
    assert bench.verdict(0.1, 0, 1) == "MISSED"  # one cycle in ten made a call more
    assert bench.verdict(0.0, 0, 1) == "MISSED"  # its busiest cycle is above the baseline's, however the mean rounds
    assert bench.verdict(2.0, 1, 2) == "MISSED"
    assert bench.verdict(3.0, None, 3) == "-"  # the baseline
