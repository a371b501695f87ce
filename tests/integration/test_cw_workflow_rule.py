"""cw_workflow_rule and cw_workflow_rule_info against the Manage emulator: the three seed rules in
one playbook run, idempotence and check mode without writes, drift made behind Ansible's back,
the trigger event's test across pages, purge semantics, the order of writes, bad input, and the
recorded traffic checked against the vendor's document."""

import concurrent.futures
import copy
import multiprocessing
import os

import pytest
import requests
import yaml

from ansible_collections.signl4.connectwise.plugins.modules import cw_workflow_rule
from tests.conftest import manage_emulator
from tests.emulators.harness import REPO_ROOT
from tests.support.modules import outside_client as client
from tests.support.modules import recap, run_module, run_playbook
from tests.support.spec_conformance import manage_spec

PLAYBOOK = os.path.join("tests", "integration", "playbooks", "cw_workflow_rules.yml")
with open(os.path.join(REPO_ROOT, "tests", "integration", "data", "seed_workflow_rules.yml")) as handle:
    SEED = yaml.safe_load(handle)
TRIGGER, UPDATE_SIGNLS, UPDATE_TICKETS = SEED
WORKFLOWS = "/system/workflows"
SIGNL4_FIELDS = [("Signl4Retrieved_c", "Checkbox", 11), ("Signl4Status_c", "Text", 12), ("Signl4User_c", "Text", 13)]
# A rule of our own that uses every kind of action target.
ESCALATE = dict(name="Escalate emergencies", table_type="Service Ticket", board="Service Desk", events=[
    dict(name="Emergency", condition='priority/name = "Priority 1 - Emergency Response"',
         execution_time="MultipleTimes", frequency_unit="Minutes", frequency=30, max_executions=4, actions=[
             dict(notify_type="Add Note", note="Escalated by workflow.", internal_notes=True, detail_notes=False),
             dict(notify_type="Send Email", member="jdoe", subject="Emergency not responded"),
             dict(notify_type="Send Email", email="noc@contoso-msp.com", subject="Emergency not responded"),
             dict(notify_type="Update Priority", priority="Priority 2 - Quick Response"),
             dict(notify_type="Update Custom Field", custom_fields=[
                 dict(caption="Signl4Status_c", value="Escalated", overwrite=True),
                 dict(caption="Signl4User_c", value="jdoe")]),
         ]),
    dict(name="Closed", condition="closedFlag = True", actions=[dict(notify_type="Update Status", board_status="Closed (resolved)")]),
])


def rule_args(manage, rule, **overrides):
    return dict(manage.connection, **dict(copy.deepcopy(rule), **overrides))


def with_custom_fields(manage):
    for caption, field_type, sequence in SIGNL4_FIELDS:
        run_module("cw_custom_field", dict(manage.connection, caption=caption, pod_id=10, field_type=field_type,
                                           sequence_number=sequence, display_on_screen=False))
    return manage


def ensure_rule(manage, rule, check_mode=False, **overrides):
    return run_module("cw_workflow_rule", rule_args(manage, rule, **overrides), check_mode=check_mode)


def read_rule(manage, name):
    rules = run_module("cw_workflow_rule_info", dict(manage.connection, name=name))["workflow_rules"]
    return rules[0] if rules else None


def workflow_writes(manage):
    return [(r["method"], r["path"].split("apis/3.0", 1)[1]) for r in manage.writes()]


def event_named(rule, name):
    return next(event for event in rule["events"] if event["name"] == name)


def edit_trigger_condition(manage, condition):
    """An edit behind Ansible's back (in Manage's UI) of the trigger rule's "New ticket" condition; its rule and event."""
    rule = read_rule(manage, TRIGGER["name"])
    event = event_named(rule, "New ticket")
    client(manage).patch("%s/%d/events/%d" % (WORKFLOWS, rule["id"], event["id"]),
                         [{"op": "replace", "path": "eventCondition", "value": condition}])
    return rule, event


def shape(rule):
    """What a rule holds, without ids: {event name: (condition, [(notify type, target, values)])}."""
    return dict((event["name"], (event["eventCondition"], sorted(
        (action["notifyType"]["name"], (action.get("boardStatus") or {}).get("name"),
         sorted((value["caption"], value["value"]) for value in action["customFields"]))
        for action in event["actions"]))) for event in rule["events"])


# ----- the seed rules ---------------------------------------------------------------------

@pytest.mark.slow
def test_the_playbook_creates_the_three_seed_rules_then_changes_nothing(manage):
    env = {"TEST_CW_URL": manage.url, "TEST_CW_PRIVATE_KEY": "demoprivate"}
    first = run_playbook(PLAYBOOK, env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert recap(first.stdout)["changed"] == 2  # the custom fields task and the rules task
    trigger, update_signls, update_tickets = (read_rule(manage, rule["name"]) for rule in SEED)
    assert [len(rule["events"]) for rule in (trigger, update_signls, update_tickets)] == [3, 2, 2]
    assert all(rule["activateFlag"] is False and rule["tableType"]["name"] == "Service Ticket"
               for rule in (trigger, update_signls, update_tickets))
    assert trigger["events"][0]["eventCondition"] == TRIGGER["events"][0]["condition"]
    assert shape(update_signls)["Acknowledge Signl"][1] == [("Update Custom Field", None, [("Signl4Status_c", "Acknowledged")])]
    assert shape(update_tickets)["Signl closed"][1] == [("Update Status", "Closed (resolved)", [])]

    manage.clear_requests()
    second = run_playbook(PLAYBOOK, env)
    assert second.returncode == 0 and recap(second.stdout)["changed"] == 0, second.stdout
    checked = run_playbook(PLAYBOOK, env, check=True)
    assert checked.returncode == 0 and recap(checked.stdout)["changed"] == 0, checked.stdout
    assert manage.writes() == []


def test_check_mode_predicts_the_seed_rules_and_writes_nothing(fields):
    for rule in SEED:
        result = ensure_rule(fields, rule, check_mode=True)
        assert result["changed"] is True and result["diff"]["before"] == {}
        assert sorted(result["diff"]["after"]["events"]) == sorted(event["name"] for event in rule["events"])
        assert [event["name"] for event in result["workflow_rule"]["events"]] == [e["name"] for e in rule["events"]]
    acknowledge = ensure_rule(fields, UPDATE_SIGNLS, check_mode=True)["diff"]["after"]["events"]["Acknowledge Signl"]
    assert acknowledge["actions"]["Update Custom Field"]["customFields"][0]["value"] == "Acknowledged"
    assert fields.writes() == []
    assert run_module("cw_workflow_rule_info", dict(fields.connection))["workflow_rules"] == []


def test_check_mode_shows_values_of_custom_fields_an_earlier_task_would_create(manage):
    """Before a first run nothing exists; a check-mode run creates nothing, so the fields the rule's actions set
    are missing: named in assume_created, the actions show in the diff by caption; a real run needs them."""
    assumed = ["signl4status_c"]
    result = ensure_rule(manage, UPDATE_SIGNLS, check_mode=True, assume_created=assumed)
    assert result.get("failed") is None and result["changed"] is True, result.get("msg")
    action = result["diff"]["after"]["events"]["Acknowledge Signl"]["actions"]["Update Custom Field"]
    assert action["customFields"] == [{"caption": "Signl4Status_c", "value": "Acknowledged"}]
    assert manage.writes() == []
    unknown = ensure_rule(manage, UPDATE_SIGNLS, check_mode=True)
    assert unknown["failed"] is True and "unknown custom field 'Signl4Status_c'" in unknown["msg"]
    real = ensure_rule(manage, UPDATE_SIGNLS, assume_created=assumed)
    assert real["failed"] is True and "unknown custom field 'Signl4Status_c'" in real["msg"]
    assert manage.writes() == []


def test_a_new_rule_is_written_rule_then_events_then_actions_then_activated(fields):
    result = ensure_rule(fields, UPDATE_TICKETS, activate=True, batch_schedule="AnyTime")
    assert result["changed"] and result["workflow_rule"]["activateFlag"] is True
    writes = workflow_writes(fields)
    assert [method for method, _path in writes] == ["POST", "POST", "POST", "POST", "POST", "PATCH"]
    assert [path.count("/") for _method, path in writes[:5]] == [2, 4, 6, 4, 6]  # rule, event, action, ...
    first_body = fields.writes()[0]["request_json"]
    assert "activateFlag" not in first_body and first_body["batchSchedule"] == "AnyTime"
    assert fields.writes()[-1]["request_json"] == [{"op": "replace", "path": "activateFlag", "value": True}]
    assert result["diff"]["after"]["activateFlag"] is True
    fields.clear_requests()
    off = ensure_rule(fields, UPDATE_TICKETS, activate=False, events=[UPDATE_TICKETS["events"][0]])
    assert off["diff"]["before"]["activateFlag"] is True and off["diff"]["before"]["events"]["Signl closed"]
    assert workflow_writes(fields)[0][0] == "PATCH"  # deactivation first, then the purge
    assert [method for method, _path in workflow_writes(fields)] == ["PATCH", "DELETE"]


def test_an_edit_behind_ansibles_back_shows_in_check_diff_and_a_run_puts_it_back(fields):
    ensure_rule(fields, TRIGGER)
    edited = 'Signl4Retrieved_c = False AND status/name = "New"'
    rule, event = edit_trigger_condition(fields, edited)
    fields.clear_requests()

    drift = ensure_rule(fields, TRIGGER, check_mode=True)
    assert drift["changed"] is True and fields.writes() == []
    assert drift["diff"] == {"before": {"events": {"New ticket": {"eventCondition": edited}}},
                             "after": {"events": {"New ticket": {"eventCondition": TRIGGER["events"][0]["condition"]}}}}

    fixed = ensure_rule(fields, TRIGGER)
    assert fixed["changed"] is True and fixed["diff"] == drift["diff"]
    assert workflow_writes(fields) == [("PATCH", "%s/%d/events/%d" % (WORKFLOWS, rule["id"], event["id"]))]
    assert event_named(read_rule(fields, TRIGGER["name"]), "New ticket")["eventCondition"] == TRIGGER["events"][0]["condition"]
    fields.clear_requests()
    assert ensure_rule(fields, TRIGGER)["changed"] is False and fields.writes() == []


# ----- the trigger event's test ----------------------------------------------------------

@pytest.fixture
def many_tickets():
    with manage_emulator("--tickets", "60") as server:
        yield server


def expected_trigger_matches(api):
    """The tickets the first trigger event selects, computed here from the raw tickets."""
    selected = []
    for ticket in api.list("/service/tickets"):
        values = dict((entry["caption"], entry.get("value")) for entry in ticket["customFields"])
        if (ticket["board"]["name"] == "Service Desk" and ticket["status"]["name"] == "New (not responded)"
                and values.get("Signl4Retrieved_c") is not True and ticket["_info"]["dateEntered"] > "2025-01-01"):
            selected.append(ticket["id"])
    return selected


def test_the_trigger_event_test_returns_exactly_the_selected_tickets_across_pages(many_tickets):
    with_custom_fields(many_tickets)
    api = client(many_tickets)
    new_tickets = api.list("/service/tickets", conditions='status/name = "New (not responded)"')
    retrieved_id = next(udf["id"] for udf in api.list("/system/userDefinedFields") if udf["caption"] == "Signl4Retrieved_c")

    def set_retrieved(ticket, value):
        api.patch("/service/tickets/%d" % ticket["id"],
                  [{"op": "replace", "path": "customFields", "value": [{"id": retrieved_id, "value": value}]}])

    for ticket in new_tickets[::3]:  # some have a Signl already
        set_retrieved(ticket, True)
    set_retrieved(new_tickets[1], False)  # set, but false: still selected
    rule = ensure_rule(many_tickets, TRIGGER)["workflow_rule"]
    test_path = "%s/%d/events/%d/test" % (WORKFLOWS, rule["id"], event_named(rule, "New ticket")["id"])
    expected = expected_trigger_matches(api)
    assert 5 < len(expected) < len(new_tickets)
    many_tickets.clear_requests()

    forward_only = [item["ticket"]["id"] for item in api.list(test_path, page_size=4)]
    assert forward_only == expected
    tests = [r for r in many_tickets.requests() if r["path"].endswith("/test")]
    # One request per page, plus at most one for a trailing empty page (a forward-only cursor may not
    # know that the page it just filled was the last).
    assert len(expected) // 4 + 1 <= len(tests) <= len(expected) // 4 + 2 and all(r["status"] == 200 for r in tests)

    navigable, url, params = [], test_path, {"pageSize": 5, "page": 1}
    while url:  # the navigable pages, following the Link header
        response = api.request("GET", url, params=params)
        navigable += [item["ticket"]["id"] for item in response.json()]
        links = requests.utils.parse_header_links(response.headers.get("Link", ""))
        url, params = next((link["url"] for link in links if link["rel"] == "next"), None), None
    assert navigable == expected
    tests = [r for r in many_tickets.requests() if r["path"].endswith("/test")]
    assert len(tests) > len(expected) // 4 + 2  # both ways, more than one page each
    manage_spec().assert_conforms(many_tickets.requests(), path_filter="/test", min_checked=len(tests))


# ----- lists of events and actions -------------------------------------------------------

def escalate_rule(manage):
    return ensure_rule(manage, ESCALATE)["workflow_rule"]


def test_every_kind_of_action_target_is_written_and_read_back_without_drift(fields):
    created = escalate_rule(fields)
    actions = event_named(created, "Emergency")["actions"]
    assert sorted(a["notifyType"]["name"] for a in actions) == ["Add Note", "Send Email", "Send Email",
                                                                "Update Custom Field", "Update Priority"]
    by_type = dict((a["notifyType"]["name"] + (a.get("emailRecipient") or ""), a) for a in actions)
    assert by_type["Send Email"]["specificMemberTo"]["identifier"] == "jdoe"
    assert by_type["Add Note"]["notes"] == "Escalated by workflow." and by_type["Add Note"]["internalNotesFlag"] is True
    assert by_type["Update Priority"]["servicePriority"]["name"] == "Priority 2 - Quick Response"
    values = sorted((v["caption"], v["value"], v["overwriteFlag"]) for v in by_type["Update Custom Field"]["customFields"])
    assert values == [("Signl4Status_c", "Escalated", True), ("Signl4User_c", "jdoe", False)]
    emergency = event_named(created, "Emergency")
    assert (emergency["executionTime"], emergency["frequencyOfExecution"], emergency["maxNumberOfExecution"]) == ("MultipleTimes", 30, 4)
    fields.clear_requests()
    assert ensure_rule(fields, ESCALATE)["changed"] is False and fields.writes() == []


def test_reordering_events_and_actions_alone_is_no_change(fields):
    escalate_rule(fields)
    reordered = copy.deepcopy(ESCALATE)
    reordered["events"].reverse()
    for event in reordered["events"]:
        event["actions"].reverse()
        for action in event["actions"]:
            action.get("custom_fields", []).reverse()
    fields.clear_requests()
    result = ensure_rule(fields, reordered)
    assert result["changed"] is False and result["diff"] == {"before": {}, "after": {}} and fields.writes() == []


def test_an_action_changed_in_place_is_one_patch_with_a_nested_diff(fields):
    escalate_rule(fields)
    changed = copy.deepcopy(ESCALATE)
    changed["events"][1]["actions"][0]["board_status"] = "Closed (cancelled)"
    fields.clear_requests()
    result = ensure_rule(fields, changed, check_mode=True)
    assert result["diff"]["before"] == {"events": {"Closed": {"actions": {"Update Status": {
        "boardStatus": {"id": 7, "name": "Closed (resolved)", "sort": 6}, "event": "Closed"}}}}}
    assert result["diff"]["after"]["events"]["Closed"]["actions"]["Update Status"]["boardStatus"]["name"] == "Closed (cancelled)"
    assert fields.writes() == []
    ensure_rule(fields, changed)
    assert [method for method, _path in workflow_writes(fields)] == ["PATCH"]


def test_an_action_diff_names_its_event_within_three_lines_of_the_change(fields):
    """Ansible shows a diff with three lines of context: the event's name is one of them."""
    import difflib
    import json
    escalate_rule(fields)
    changed = copy.deepcopy(ESCALATE)
    changed["events"][1]["actions"][0]["board_status"] = "Closed (cancelled)"
    changed["events"][0]["actions"][0]["note"] = "Escalated by the workflow."
    diff = ensure_rule(fields, changed, check_mode=True)["diff"]
    before, after = (json.dumps(diff[side], indent=4, sort_keys=True).splitlines() for side in ("before", "after"))
    hunks = "\n".join(difflib.unified_diff(before, after, n=3, lineterm="")).split("\n@@")[1:]
    assert [[name for name in ("Closed", "Emergency") if '"event": "%s"' % name in hunk] for hunk in hunks] == [
        ["Closed"], ["Emergency"]], hunks


def test_custom_field_values_are_patched_or_rebuilt_when_one_goes(fields):
    escalate_rule(fields)
    values = ESCALATE["events"][0]["actions"][4]["custom_fields"]
    changed = copy.deepcopy(ESCALATE)
    changed["events"][0]["actions"][4]["custom_fields"] = [dict(values[0], value="Paged"), values[1]]
    fields.clear_requests()
    ensure_rule(fields, changed)
    assert [(m, p.rsplit("/", 1)[0]) for m, p in workflow_writes(fields)] == [("PATCH", WORKFLOWS + "/userdefinedfields")]
    changed["events"][0]["actions"][4]["custom_fields"] = [values[1]]
    fields.clear_requests()
    result = ensure_rule(fields, changed)
    assert [m for m, _p in workflow_writes(fields)] == ["DELETE", "POST"]
    # Only the action whose values are declared has them read (and returned).
    action = next(a for a in event_named(result["workflow_rule"], "Emergency")["actions"] if a.get("customFields"))
    assert [(v["caption"], v["value"]) for v in action["customFields"]] == [("Signl4User_c", "jdoe")]
    assert ensure_rule(fields, changed)["changed"] is False


@pytest.mark.parametrize("purge_events, purge_actions", [(True, True), (False, True), (True, False), (False, False)])
def test_purge_events_and_purge_actions(fields, purge_events, purge_actions):
    escalate_rule(fields)
    fewer = copy.deepcopy(ESCALATE)
    fewer["events"] = [dict(fewer["events"][0], actions=fewer["events"][0]["actions"][:1])]
    result = ensure_rule(fields, fewer, purge_events=purge_events, purge_actions=purge_actions)
    assert result["changed"] is (purge_events or purge_actions)
    rule = read_rule(fields, ESCALATE["name"])
    assert sorted(e["name"] for e in rule["events"]) == (["Emergency"] if purge_events else ["Closed", "Emergency"])
    assert len(event_named(rule, "Emergency")["actions"]) == (1 if purge_actions else 5)
    if purge_events:
        assert result["diff"]["before"]["events"]["Closed"]["eventCondition"] == "closedFlag = True"
        assert "Closed" not in result["diff"]["after"].get("events", {})


def test_omitted_lists_change_nothing_even_with_purge(fields):
    escalate_rule(fields)
    fields.clear_requests()
    no_events = ensure_rule(fields, dict(ESCALATE, events=None))
    no_actions = ensure_rule(fields, dict(ESCALATE, events=[dict(e, actions=None) for e in ESCALATE["events"]]))
    assert no_events["changed"] is False and no_actions["changed"] is False and fields.writes() == []
    assert len(no_events["workflow_rule"]["events"]) == 2
    # Lists that are not declared are not read (an omitted list changes nothing), nor returned.
    assert "actions" not in event_named(no_actions["workflow_rule"], "Emergency")
    assert not [r for r in fields.requests() if r["path"].endswith("/actions") or "/userdefinedfields/" in r["path"]]
    assert len(event_named(read_rule(fields, ESCALATE["name"]), "Emergency")["actions"]) == 5
    emptied = ensure_rule(fields, dict(ESCALATE, events=[dict(ESCALATE["events"][0], actions=[])]))
    assert emptied["changed"] and event_named(emptied["workflow_rule"], "Emergency")["actions"] == []


def test_absent_removes_the_rule_with_its_events_and_check_mode_writes_nothing(fields):
    escalate_rule(fields)
    fields.clear_requests()
    predicted = ensure_rule(fields, {"name": ESCALATE["name"]}, check_mode=True, state="absent")
    assert predicted["changed"] and fields.writes() == []
    assert sorted(e["name"] for e in predicted["diff"]["before"]["events"]) == ["Closed", "Emergency"]
    removed = ensure_rule(fields, {"name": ESCALATE["name"]}, state="absent")
    assert removed["changed"] and removed["workflow_rule"] is None and workflow_writes(fields)[-1][0] == "DELETE"
    assert read_rule(fields, ESCALATE["name"]) is None
    fields.clear_requests()
    assert ensure_rule(fields, {"name": ESCALATE["name"]}, state="absent")["changed"] is False and fields.writes() == []


def test_info_lists_every_rule_or_the_one_named(fields):
    escalate_rule(fields)
    ensure_rule(fields, UPDATE_TICKETS)
    everything = run_module("cw_workflow_rule_info", dict(fields.connection))["workflow_rules"]
    assert [rule["name"] for rule in everything] == [ESCALATE["name"], UPDATE_TICKETS["name"]]
    assert shape(read_rule(fields, UPDATE_TICKETS["name"]))["Signl acknowledged"][1] == [("Update Status", "In Progress", [])]
    fields.clear_requests()
    events_only = run_module("cw_workflow_rule_info", dict(fields.connection, name=UPDATE_TICKETS["name"],
                                                           include_actions=False))["workflow_rules"]
    assert [e["name"] for e in events_only[0]["events"]] == ["Signl acknowledged", "Signl closed"]
    assert not any("actions" in e for e in events_only[0]["events"])
    assert len([r for r in fields.requests() if "/apis/3.0/" in r["path"]]) == 2  # the rule by name, its events


# ----- bad input -------------------------------------------------------------------------

def MULTIPLE(**overrides):
    return dict(dict(execution_time="MultipleTimes", frequency_unit="Minutes", frequency=30, max_executions=4), **overrides)


def action_rule(**action):
    return dict(UPDATE_TICKETS, events=[dict(UPDATE_TICKETS["events"][0], actions=[action])])


BAD_INPUT = [
    (dict(UPDATE_TICKETS, board="Helpdesk"), "unknown board 'Helpdesk'; known: Network Operations, Projects, Service Desk"),
    (action_rule(notify_type="Update Status", board_status="Solved"),
     "unknown 'Service Desk' status 'Solved'; known: Acknowledged, Assigned, Closed (cancelled)"),
    (action_rule(notify_type="Change Planet"), "unknown notify type 'Change Planet'"),
    (dict(UPDATE_TICKETS, table_type="Tickets"), "unknown workflow table type 'Tickets'"),
    (action_rule(notify_type="Send Email", member="nobody", subject="x"), "unknown member 'nobody'"),
    (action_rule(notify_type="Update Priority", priority="Urgent"), "unknown priority 'Urgent'"),
    (action_rule(notify_type="Update Custom Field", custom_fields=[dict(caption="Nope_c", value="1")]), "unknown custom field 'Nope_c'"),
    (dict(UPDATE_TICKETS, location="Mars"), "unknown location 'Mars'"),
    (dict(UPDATE_TICKETS, business_unit="Sales"), "unknown business unit 'Sales'"),
    (dict(UPDATE_TICKETS, events=UPDATE_TICKETS["events"] + [dict(UPDATE_TICKETS["events"][0], name="signl ACKNOWLEDGED")]),
     "duplicate event names: signl ACKNOWLEDGED"),
    (action_rule(notify_type="Update Status"), "event 'Signl acknowledged': a 'Update Status' action needs board_status"),
    (action_rule(notify_type="Send Email", subject="Hi"), "a 'Send Email' action needs member or email"),
    (action_rule(notify_type="Update Custom Field", custom_fields=[]), "a 'Update Custom Field' action needs custom_fields"),
    (dict(UPDATE_TICKETS, events=[dict(UPDATE_TICKETS["events"][0], actions=[
        dict(notify_type="Update Status", board_status="New"), dict(notify_type="update status", board_status="Assigned")])]),
     "duplicate actions in event 'Signl acknowledged': update status"),
    (dict(UPDATE_TICKETS, activate=True), "an active workflow rule needs batch_schedule"),
    (dict(UPDATE_TICKETS, activate=True, batch_schedule="AnyTime", events=[]), "can only be active once it has an event"),
    (dict(UPDATE_TICKETS, events=[dict(UPDATE_TICKETS["events"][0], execution_time="Continuously")]),
     "execution_time Continuously needs frequency_unit"),
    (dict(UPDATE_TICKETS, events=[dict(UPDATE_TICKETS["events"][0], frequency=5)]),
     "frequency applies only to execution_time MultipleTimes or Continuously"),
    (dict(UPDATE_TICKETS, table_type=None), "creating workflow rule 'SIGNL4 - Update CW Tickets' needs table_type"),
    (dict(UPDATE_TICKETS, board=None), "board_status 'In Progress' needs the rule's board"),
    (dict(UPDATE_TICKETS, name="x" * 101), "name must be at most 100 characters"),
    (dict(UPDATE_TICKETS, name=" "), "name must not be empty"),
    # Values Manage refuses, caught before the first write (they used to leave half a rule behind).
    (dict(UPDATE_TICKETS, events=[dict(UPDATE_TICKETS["events"][0], **MULTIPLE(frequency=0))]),
     "frequency must be between 1 and 2147483647, got 0"),
    (dict(UPDATE_TICKETS, events=[dict(UPDATE_TICKETS["events"][0], **MULTIPLE(frequency=-5))]),
     "frequency must be between 1 and 2147483647, got -5"),
    (dict(UPDATE_TICKETS, events=[dict(UPDATE_TICKETS["events"][0], **MULTIPLE(max_executions=2 ** 31))]),
     "max_executions must be between 1 and 2147483647, got 2147483648"),
    (action_rule(notify_type="Update Custom Field", custom_fields=[dict(caption="Signl4Retrieved_c", value="yes")]),
     "custom field 'Signl4Retrieved_c' is a Checkbox: its value must be true or false, got 'yes'"),
    (action_rule(notify_type="Send Email", member="jdoe", email="noc@contoso-msp.com", subject="x"),
     "notifies either a member or an email address, not both"),
]


@pytest.mark.parametrize("rule, message", BAD_INPUT, ids=[message.split(";")[0][:40] for _rule, message in BAD_INPUT])
def test_bad_input_fails_clearly_and_writes_nothing(fields, rule, message):
    result = ensure_rule(fields, rule)
    assert result.get("failed") is True
    assert message in result["msg"]
    assert fields.writes() == []


def test_bad_input_against_an_existing_rule_writes_nothing(fields):
    active = dict(UPDATE_TICKETS, activate=None)  # keep it as it is: active
    ensure_rule(fields, active, activate=True, batch_schedule="AnyTime")
    fields.clear_requests()
    for overrides, message in ((dict(table_type="Company"), "Manage cannot change a rule's table type"),
                               (dict(events=[]), "can only be active once it has an event"),
                               (dict(events=[dict(UPDATE_TICKETS["events"][0], actions=[dict(notify_type="Attach Configuration")])]),
                                "unknown notify type 'Attach Configuration'")):
        result = ensure_rule(fields, active, **overrides)
        assert result.get("failed") is True and message in result["msg"], result
    assert fields.writes() == []


def custom_field(manage, caption, field_type, pod_id=10, sequence=20):
    result = run_module("cw_custom_field", dict(manage.connection, caption=caption, pod_id=pod_id,
                                                field_type=field_type, sequence_number=sequence))
    assert result["changed"] is True, result.get("msg")


@pytest.mark.parametrize("caption, field_type, pod_id, value, message", [
    ("Signl4Count_c", "Number", 10, "abc", "custom field 'Signl4Count_c' is a Number field: its value must be a number"),
    ("ContactFlag_c", "Text", 4, "x", "custom field 'ContactFlag_c' belongs to Contact, not to the rule's table type"),
])
def test_custom_field_values_manage_would_refuse_fail_before_any_write(fields, caption, field_type, pod_id, value,
                                                                       message):
    custom_field(fields, caption, field_type, pod_id)
    fields.clear_requests()
    result = ensure_rule(fields, action_rule(notify_type="Update Custom Field",
                                             custom_fields=[dict(caption=caption, value=value)]))
    assert result.get("failed") is True and message in result["msg"], result.get("msg")
    assert fields.writes() == []


def test_a_number_value_that_is_a_number_is_written(fields):
    custom_field(fields, "Signl4Count_c", "Number")
    result = ensure_rule(fields, action_rule(notify_type="Update Custom Field",
                                             custom_fields=[dict(caption="Signl4Count_c", value="3")]))
    assert result["changed"] is True, result.get("msg")


def test_a_notify_type_of_another_table_type_leaves_no_half_built_rule(fields):
    # A new rule has no notify types of its own: when no rule of its table type exists to ask, they are
    # checked once the rule exists, before any event; the new rule then goes again.
    result = ensure_rule(fields, action_rule(notify_type="Attach Configuration"))
    assert result.get("failed") is True, result
    assert "unknown notify type for table type Service Ticket 'Attach Configuration'" in result["msg"]
    assert read_rule(fields, UPDATE_TICKETS["name"]) is None
    assert [method for method, _path in workflow_writes(fields)] == ["POST", "DELETE"]
    # With a rule of the same table type to ask, it fails before the first write.
    ensure_rule(fields, TRIGGER)
    fields.clear_requests()
    again = ensure_rule(fields, action_rule(notify_type="Attach Configuration"))
    assert again.get("failed") is True and "unknown notify type 'Attach Configuration'" in again["msg"]
    assert fields.writes() == []


@pytest.mark.parametrize("existing", [False, True])
def test_check_mode_with_activate_true_writes_nothing_and_predicts_the_activation(fields, existing):
    if existing:
        ensure_rule(fields, UPDATE_TICKETS, activate=False, batch_schedule="AnyTime")
    fields.clear_requests()
    result = ensure_rule(fields, UPDATE_TICKETS, check_mode=True, activate=True, batch_schedule="AnyTime")
    assert fields.writes() == []
    assert result["changed"] is True and result["diff"]["after"]["activateFlag"] is True
    if existing:
        assert result["diff"]["before"]["activateFlag"] is False
    real = ensure_rule(fields, UPDATE_TICKETS, activate=True, batch_schedule="AnyTime")
    assert real["changed"] is True and read_rule(fields, UPDATE_TICKETS["name"])["activateFlag"] is True


def test_batch_options_reach_the_api_and_read_back_without_drift(fields):
    batch = dict(batch_interval=15, batch_frequency_unit="Minutes", batch_schedule="AnyTime")
    ensure_rule(fields, UPDATE_TICKETS, **batch)
    rule = read_rule(fields, UPDATE_TICKETS["name"])
    assert (rule["batchInterval"], rule["batchFrequencyUnit"]) == (15, "Minutes")
    fields.clear_requests()
    assert ensure_rule(fields, UPDATE_TICKETS, **batch)["changed"] is False and fields.writes() == []
    changed = ensure_rule(fields, UPDATE_TICKETS, **dict(batch_schedule="AnyTime", batch_interval=2,
                                                         batch_frequency_unit="Hours"))
    assert changed["diff"]["after"] == {"batchInterval": 2, "batchFrequencyUnit": "Hours"}


def test_audit_notes_and_update_owner_reach_the_api_and_read_back_without_drift(fields):
    note = dict(notify_type="Add Note", note="Acknowledged in SIGNL4.", audit_notes=True, update_owner=True)
    ensure_rule(fields, action_rule(**note))
    action = read_rule(fields, UPDATE_TICKETS["name"])["events"][0]["actions"][0]
    assert (action["auditNotesFlag"], action["updateOwnerFlag"]) == (True, True)
    fields.clear_requests()
    assert ensure_rule(fields, action_rule(**note))["changed"] is False and fields.writes() == []
    changed = ensure_rule(fields, action_rule(**dict(notify_type="Add Note", note="Acknowledged in SIGNL4.",
                                                     audit_notes=False, update_owner=False)))
    event = changed["diff"]["after"]["events"][UPDATE_TICKETS["events"][0]["name"]]
    assert event["actions"]["Add Note"] == {"auditNotesFlag": False, "updateOwnerFlag": False, "event": "Signl acknowledged"}


def test_actions_name_their_recipient_the_way_the_spec_does(fields):
    ensure_rule(fields, dict(ESCALATE, events=ESCALATE["events"][:1]))
    writes = [r for r in fields.writes() if r["method"] == "POST" and r["path"].endswith("/actions")]
    bodies = [r["request_json"] for r in writes if (r["request_json"].get("notifyType") or {}).get("name") == "Send Email"]
    assert sorted((b["notifyWho"]["name"], "specificMemberTo" in b, "emailRecipient" in b) for b in bodies) == [
        ("Email Address", False, True), ("Specific Member", True, False)]


# ----- documentation and traffic ---------------------------------------------------------

def test_the_examples_build_the_seed_rules_from_the_data_file():
    examples = yaml.safe_load(cw_workflow_rule.EXAMPLES)
    built = [task["signl4.connectwise.cw_workflow_rule"] for task in examples[:3]]
    assert built == SEED


def test_traffic_conforms_to_the_manage_document(fields):
    for rule in SEED + [ESCALATE]:
        ensure_rule(fields, rule)
    changed = copy.deepcopy(ESCALATE)
    changed["events"][0]["condition"] = "closedFlag = False"
    changed["events"] = [dict(changed["events"][0], actions=changed["events"][0]["actions"][1:])]
    ensure_rule(fields, changed, activate=True, batch_schedule="SlaHours")
    rule = read_rule(fields, TRIGGER["name"])
    client(fields).list("%s/%d/events/%d/test" % (WORKFLOWS, rule["id"], rule["events"][0]["id"]), page_size=2)
    client(fields).list("%s/%d/notifyTypes" % (WORKFLOWS, rule["id"]))
    ensure_rule(fields, action_rule(notify_type="Update Status", board_status="Solved"))
    ensure_rule(fields, {"name": ESCALATE["name"]}, state="absent")
    report = manage_spec().assert_conforms(fields.requests(), path_filter="/system/workflows")
    assert {"GET /system/workflows", "POST /system/workflows", "PATCH /system/workflows/{id}",
            "DELETE /system/workflows/{id}", "GET /system/workflows/tableTypes",
            "GET /system/workflows/{parentId}/events", "POST /system/workflows/{parentId}/events",
            "PATCH /system/workflows/{parentId}/events/{id}", "DELETE /system/workflows/{parentId}/events/{id}",
            "GET /system/workflows/{parentId}/events/{id}/test",
            "GET /system/workflows/{grandparentId}/events/{parentId}/actions",
            "POST /system/workflows/{grandparentId}/events/{parentId}/actions",
            "DELETE /system/workflows/{grandparentId}/events/{parentId}/actions/{id}",
            "GET /system/workflows/{parentId}/notifyTypes"} <= set(report.checked)


def _ensure_rule_in_a_child(args):
    return run_module("cw_workflow_rule", args).get("changed")


def test_eight_parallel_runs_create_one_rule_with_its_events_once(fields, tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNL4_CONNECTWISE_LOCK_DIR", str(tmp_path))
    args = rule_args(fields, TRIGGER)
    with concurrent.futures.ProcessPoolExecutor(8, mp_context=multiprocessing.get_context("fork")) as pool:
        changed = list(pool.map(_ensure_rule_in_a_child, [args] * 8))
    assert sorted(changed) == [False] * 7 + [True]
    rules = run_module("cw_workflow_rule_info", dict(fields.connection))["workflow_rules"]
    assert [rule["name"] for rule in rules] == [TRIGGER["name"]]
    assert sorted(event["name"] for event in rules[0]["events"]) == sorted(event["name"] for event in TRIGGER["events"])
