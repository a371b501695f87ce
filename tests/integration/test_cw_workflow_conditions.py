"""cw_workflow_rule and event conditions against the Manage emulator: a condition Manage cannot parse never
reaches Manage (refused before any write, in check mode too); one that passes the syntax check but that Manage
refuses when it tests the event is taken back and fails the task with Manage's message; and conditions are
compared exactly as written, so letter case or surrounding spaces are drift."""

import pytest

from tests.integration.test_cw_workflow_rule import (
    TRIGGER,
    UPDATE_TICKETS,
    WORKFLOWS,
    edit_trigger_condition,
    ensure_rule,
    event_named,
    read_rule,
    workflow_writes,
)

# The report's condition: one closing parenthesis short (Manage: "Expected ')' ... at position 107").
UNBALANCED = ('Signl4Retrieved_c = False AND (status/name = "New (not responded)" '
              'AND dateEntered > [2025-01-01T00:00:00Z]')
# Passes the syntax check (an unquoted value may be something Manage knows), but the emulator's Manage
# cannot use it: it answers the event's test with ApiFindCondition.
REFUSED_BY_MANAGE = "Signl4Retrieved_c = False AND status/name = New"


def with_condition(rule, condition, event=0):
    events = [dict(e) for e in rule["events"]]
    events[event]["condition"] = condition
    return dict(rule, events=events)


@pytest.mark.parametrize("check_mode", [True, False])
def test_an_unparsable_condition_fails_before_any_write_in_check_mode_too(fields, check_mode):
    result = ensure_rule(fields, with_condition(TRIGGER, UNBALANCED), check_mode=check_mode)
    assert result.get("failed") is True and result.get("changed") is not True, result
    assert result["msg"] == ("event 'New ticket': Manage cannot parse the condition: Expected ')' but found "
                             "'end of condition' at position 107 (after 'tered > [2025-01-01T00:00:00Z]').")
    assert fields.writes() == []
    assert read_rule(fields, TRIGGER["name"]) is None


def test_an_unparsable_condition_of_an_existing_event_is_refused_and_the_old_one_stays(fields):
    ensure_rule(fields, TRIGGER)
    fields.clear_requests()
    for check_mode in (True, False):
        result = ensure_rule(fields, with_condition(TRIGGER, 'Signl4Retrieved_c = False AND'), check_mode=check_mode)
        assert result.get("failed") is True, result
        assert "event 'New ticket': Manage cannot parse the condition: Expected a field name but found " \
               "'end of condition' at position 29" in result["msg"]
    assert fields.writes() == []


def test_a_condition_manage_holds_is_not_checked_again(fields):
    """Manage's own conditions are Manage's: an exported one passes even where this check would refuse it."""
    ensure_rule(fields, TRIGGER)
    odd = "Signl4Retrieved_c = False AND ()"  # the emulator stores any text; a real Manage holds its own
    edit_trigger_condition(fields, odd)
    fields.clear_requests()
    result = ensure_rule(fields, with_condition(TRIGGER, odd))
    assert result.get("failed") is not True and result["changed"] is False, result
    assert fields.writes() == []


def test_a_condition_manage_refuses_on_test_is_restored_and_fails_with_manages_message(fields):
    ensure_rule(fields, TRIGGER)
    rule = read_rule(fields, TRIGGER["name"])
    event = event_named(rule, "New ticket")
    fields.clear_requests()
    result = ensure_rule(fields, with_condition(TRIGGER, REFUSED_BY_MANAGE))
    assert result.get("failed") is True, result
    assert "ApiFindCondition" in result["msg"] and "event 'New ticket': Manage refused the condition written" in result["msg"]
    assert "Expected a value but found 'New' at position 44." in result["msg"]  # Manage's (the emulator's) own words
    assert "its previous condition was restored" in result["msg"]
    path = "%s/%d/events/%d" % (WORKFLOWS, rule["id"], event["id"])
    assert workflow_writes(fields) == [("PATCH", path), ("PATCH", path)]
    assert [r["request_json"][0]["value"] for r in fields.writes()] == [REFUSED_BY_MANAGE, TRIGGER["events"][0]["condition"]]
    assert event_named(read_rule(fields, TRIGGER["name"]), "New ticket")["eventCondition"] == TRIGGER["events"][0]["condition"]


def test_a_new_event_manage_refuses_is_deleted_and_its_actions_never_written(fields):
    ensure_rule(fields, UPDATE_TICKETS)
    rule_id = read_rule(fields, UPDATE_TICKETS["name"])["id"]
    extra = dict(UPDATE_TICKETS["events"][0], name="Signl escalated", condition=REFUSED_BY_MANAGE)
    fields.clear_requests()
    result = ensure_rule(fields, dict(UPDATE_TICKETS, events=UPDATE_TICKETS["events"] + [extra]))
    assert result.get("failed") is True and "the event this task created was deleted again" in result["msg"], result
    writes = workflow_writes(fields)
    assert [method for method, _path in writes] == ["POST", "DELETE"]
    assert writes[1][1].startswith("%s/%d/events/" % (WORKFLOWS, rule_id))
    assert [e["name"] for e in read_rule(fields, UPDATE_TICKETS["name"])["events"]] == ["Signl acknowledged", "Signl closed"]


def test_a_new_rule_whose_condition_manage_refuses_is_removed_whole(fields):
    result = ensure_rule(fields, with_condition(UPDATE_TICKETS, REFUSED_BY_MANAGE, event=1))
    assert result.get("failed") is True and "ApiFindCondition" in result["msg"], result
    assert read_rule(fields, UPDATE_TICKETS["name"]) is None
    writes = workflow_writes(fields)
    assert [method for method, _path in writes] == ["POST", "POST", "POST", "POST", "DELETE", "DELETE"]
    assert writes[-1] == ("DELETE", writes[0][1] + "/1")  # the refused event went first, then the rule (id 1)


def test_a_condition_that_is_tested_fine_stays_and_the_test_is_one_read(fields):
    result = ensure_rule(fields, TRIGGER)
    assert result["changed"] is True and not result.get("failed"), result
    tests = [r for r in fields.requests() if r["path"].endswith("/test")]
    assert len(tests) == len(TRIGGER["events"]) and all(r["query"].get("pageSize") in ("1", ["1"]) for r in tests)
    fields.clear_requests()
    assert ensure_rule(fields, TRIGGER)["changed"] is False
    assert not [r for r in fields.requests() if r["path"].endswith("/test")]  # nothing written, nothing tested


@pytest.mark.parametrize("edit", [str.upper, str.lower, lambda text: " " + text, lambda text: text + "  "],
                         ids=["upper case", "lower case", "leading space", "trailing spaces"])
def test_a_condition_differing_only_in_case_or_surrounding_spaces_is_drift_and_fixed(fields, edit):
    """The module promises conditions exactly as written: Manage may compare text case-insensitively,
    but what it holds is not what was declared."""
    ensure_rule(fields, TRIGGER)
    declared = TRIGGER["events"][0]["condition"]
    edited = edit(declared)
    assert edited != declared
    edit_trigger_condition(fields, edited)
    fields.clear_requests()
    drift = ensure_rule(fields, TRIGGER, check_mode=True)
    assert drift["changed"] is True and fields.writes() == []
    assert drift["diff"] == {"before": {"events": {"New ticket": {"eventCondition": edited}}},
                             "after": {"events": {"New ticket": {"eventCondition": declared}}}}
    fixed = ensure_rule(fields, TRIGGER)
    assert fixed["changed"] is True and fixed["diff"] == drift["diff"]
    assert event_named(read_rule(fields, TRIGGER["name"]), "New ticket")["eventCondition"] == declared
    assert ensure_rule(fields, TRIGGER)["changed"] is False
