"""The API call budget of a no-change run of the seed set (issues 13 and 20): per module, the reads the
comparison needs and nothing more, counted in the emulators' request journals.

The seed set is the benchmark's (tests/bench/seed.yml plus the integration data's workflow rules
and security role). It is provisioned once, the role's permission levels are set the way an
administrator does in the UI, and then the same tasks run again, in order, sharing one run cache
as the tasks of a playbook do (it holds the discovered codebase, nothing else). A module whose
no-change run reads more than its budget fails here.
"""

import os

import pytest
import yaml

from tests.emulators.harness import REPO_ROOT
from tests.support.modules import outside_client, run_module

DATA = os.path.join(REPO_ROOT, "tests", "integration", "data")
BENCH = os.path.join(REPO_ROOT, "tests", "bench")
LEVELS = (("add_level", "add"), ("edit_level", "edit"), ("delete_level", "delete"), ("inquire_level", "inquire"))


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


SEED = load(os.path.join(BENCH, "seed.yml"))
RULES = load(os.path.join(DATA, "seed_workflow_rules.yml"))
ROLE = load(os.path.join(DATA, "seed_security_role.yml"))


def seed_tasks(manage, signl4):
    """``[(label, module, args)]``: the seed set as the benchmark's playbook applies it."""
    cw = manage.connection
    s4 = dict(signl4_api_url=signl4.url + "/api", signl4_api_key="demo-signl4-api-key",
              signl4_team_secret="demoteamsecret")
    tasks = [("custom field %s" % f["caption"], "cw_custom_field",
              dict(cw, caption=f["caption"], pod_id=SEED["bench_custom_field_pod"], field_type=f["field_type"],
                   entry_type="EntryField", sequence_number=f["sequence_number"], help_text=f["help_text"],
                   display_on_screen=False, read_only=True))
             for f in SEED["bench_custom_fields"]]
    tasks += [("rule %s" % r["name"], "cw_workflow_rule",
               dict(cw, name=r["name"], table_type=r["table_type"], board=r["board"], activate=r["activate"],
                    events=r["events"])) for r in RULES]
    tasks.append(("security role", "cw_security_role",
                  dict(cw, name=ROLE["name"], permissions=ROLE["permissions"], on_matrix_drift="warn")))
    tasks.append(("API member", "cw_api_member", dict(cw, **SEED["bench_api_member"])))
    tasks.append(("callback", "cw_callback", dict(cw, **SEED["bench_callback"])))
    tasks.append(("connector", "signl4_connector", dict(s4, **SEED["bench_connector"])))
    tasks.append(("webhook", "signl4_webhook", dict(s4, **SEED["bench_webhook"])))
    return tasks


def set_role_levels(manage):
    """What the administrator clicks in Manage's UI (REST cannot write permission levels)."""
    found = run_module("cw_security_role_info", dict(manage.connection, name=ROLE["name"]))
    role_id = found["security_roles"][0]["id"]
    body = [dict({"module": p["module"], "function": p["function"]},
                 **{short: p[option] for option, short in LEVELS if option in p}) for p in ROLE["permissions"]]
    manage.control("POST", "/securityRoles/%d/settings" % role_id, body)


# The calls each task of a no-change run may make, on a new run's cache (nothing shared from the run
# that provisioned): (label, reads, name lookups and discovery). Each task reads what it compares itself:
# names are looked up where the API keeps only an id, never where Manage's reference carries the name.
BUDGET = [
    ("custom field Signl4Retrieved_c", 1, 1),  # the field by caption and pod; the codebase, discovered once per run
    ("custom field Signl4Status_c", 1, 0),
    ("custom field Signl4User_c", 1, 0),
    ("rule SIGNL4 - Trigger Signls", 2, 0),  # rule by name, events (no actions declared: none read)
    ("rule SIGNL4 - Update Signls", 6, 0),  # rule by name, events, 2 action lists, 2 value lists
    ("rule SIGNL4 - Update CW Tickets", 4, 0),  # rule by name, events, 2 action lists (no values declared)
    ("security role", 2, 0),  # role, settings
    ("API member", 1, 0),  # role, location, business unit, board compared by the names Manage returns
    ("callback", 1, 1),  # the callbacks of type/level, with the board lookup concurrently (objectId holds only the id)
    ("connector", 2, 1),  # instance list (with the team lookup, concurrently), instance; the app by the name it carries
    ("webhook", 1, 1),  # the webhook list, with the team lookup concurrently (teamId holds only the id)
]
# Issue 20's budget for a no-change run of the seed set, as the benchmark counts it (codebase given:
# no discovery): at most 26 calls. The read floor (tests/bench/provisioning.py read_floor(), one read
# per object and one list for a pod's custom fields) is 20; each custom field task reads its own field.
CALL_BUDGET = 26
LOOKUPS = {"/login/companyinfo/", "/service/boards", "/scripts/inventory", "/v2/teams"}


def is_lookup(request):
    return any(request["path"].rstrip("/").endswith(part.rstrip("/")) or part in request["path"] for part in LOOKUPS)


def url(request):
    return request["method"] + " " + request["path"] + " " + repr(sorted((request.get("query") or {}).items()))


def run_seed(manage, signl4, check_mode=False):
    """Each task's result and requests (Manage's, then SIGNL4's): ``{label: (result, requests)}``."""
    calls = {}
    for label, module, args in seed_tasks(manage, signl4):
        manage.clear_requests()
        signl4.clear_requests()
        result = run_module(module, args, check_mode=check_mode)
        calls[label] = (result, manage.requests() + signl4.requests())
    return calls


@pytest.fixture
def provisioned(manage, signl4, monkeypatch, tmp_path):
    """The seed set provisioned with its role's levels set; later module runs get a new run cache."""
    first = run_seed(manage, signl4)
    assert [label for label, (result, _r) in first.items() if result.get("failed") or not result["changed"]] == []
    set_role_levels(manage)
    monkeypatch.setenv("SIGNL4_CONNECTWISE_RUN_CACHE", str(tmp_path / "next-run"))
    return manage, signl4


def assert_within_budget(calls):
    for label, reads, lookups in BUDGET:
        result, requests = calls[label]
        assert not result.get("failed") and result["changed"] is False, (label, result.get("msg"))
        assert [r["method"] for r in requests] == ["GET"] * len(requests), label
        urls = [url(r) for r in requests]
        assert len(urls) == len(set(urls)), "%s: a URL read twice: %s" % (label, urls)
        found_lookups = [r["path"] for r in requests if is_lookup(r)]
        assert (len(requests) - len(found_lookups), len(found_lookups)) == (reads, lookups), (label, urls)
    discovery = [r for _result, requests in calls.values() for r in requests if r["path"].startswith("/login/companyinfo")]
    assert len(discovery) == 1
    assert sum(len(requests) for _result, requests in calls.values()) - len(discovery) <= CALL_BUDGET


def test_no_change_run_reads_only_what_the_comparison_needs(provisioned):
    assert_within_budget(run_seed(*provisioned))


def test_check_mode_reads_the_same_and_writes_nothing(provisioned):
    assert_within_budget(run_seed(*provisioned, check_mode=True))


def test_drift_in_a_reference_is_still_found_and_looked_up_for_the_write(provisioned):
    """Compared by the name in Manage's reference: a different name is a change, and only then is the
    desired record looked up (by name, for its id) and written."""
    manage, signl4 = provisioned
    tasks = dict((label, (module, args)) for label, module, args in seed_tasks(manage, signl4))
    module, args = tasks["rule SIGNL4 - Update CW Tickets"]
    first = dict(args["events"][0], actions=[dict(notify_type="Update Status", board_status="Assigned")])
    drifted = dict(args, events=[first] + args["events"][1:])
    manage.clear_requests()
    result = run_module(module, drifted)
    assert result["changed"] is True
    diff = result["diff"]["after"]["events"]["Signl acknowledged"]["actions"]["Update Status"]
    assert diff["boardStatus"]["name"] == "Assigned"
    assert [r["path"].split("/apis/3.0")[-1] for r in manage.requests() if "statuses" in r["path"]] == ["/service/boards/1/statuses"]
    module, args = tasks["API member"]
    manage.clear_requests()
    result = run_module(module, dict(args, location="Remote"))
    assert result["changed"] is True and result["diff"]["after"]["defaultLocation"]["name"] == "Remote"
    assert [r["path"].split("/apis/3.0")[-1] for r in manage.requests() if r["method"] == "GET"] == [
        "/system/apiMembers", "/system/locations"]
    assert run_module(module, dict(args, location="Remote"))["changed"] is False


def test_an_edit_behind_ansibles_back_is_seen_by_the_next_task_at_once(provisioned):
    """Each task reads the objects it compares itself: an edit made between two tasks is seen."""
    manage, signl4 = provisioned
    tasks = dict((label, args) for label, _module, args in seed_tasks(manage, signl4))
    assert run_module("cw_custom_field", tasks["custom field Signl4Status_c"])["changed"] is False
    assert run_module("cw_workflow_rule", tasks["rule SIGNL4 - Update Signls"])["changed"] is False
    outside = outside_client(manage)
    field = outside.find("/system/userDefinedFields", 'caption = "Signl4Status_c"')[0]
    outside.patch("/system/userDefinedFields/%d" % field["id"], [{"op": "replace", "path": "helpText", "value": "outside"}])
    rule = outside.find("/system/workflows", 'name = "SIGNL4 - Update Signls"')[0]
    event = outside.list("/system/workflows/%d/events" % rule["id"])[0]
    action = outside.list("/system/workflows/%d/events/%d/actions" % (rule["id"], event["id"]))[0]
    value = outside.list("/system/workflows/userdefinedfields/events/%d/actions/%d" % (event["id"], action["id"]))[0]
    outside.patch("/system/workflows/userdefinedfields/%d" % value["id"], [{"op": "replace", "path": "value", "value": "x"}])
    checked = run_module("cw_custom_field", tasks["custom field Signl4Status_c"], check_mode=True)
    assert checked["changed"] is True and checked["diff"]["before"] == {"helpText": "outside"}
    checked = run_module("cw_workflow_rule", tasks["rule SIGNL4 - Update Signls"], check_mode=True)
    assert checked["changed"] is True
    assert "customFields" in str(checked["diff"]["before"]["events"])


def test_a_board_renamed_between_two_tasks_is_looked_up_afresh_by_the_next(manage):
    """A board renamed behind the run's back after one task looked it up: the next task looks the name
    up itself, and its write lands on the board that has the name now."""
    callback = dict(manage.connection, type="Ticket", level="Board", object="Service Desk")
    first = run_module("cw_callback", dict(callback, url="https://a.example.com/cb?recordId="))
    old_id = first["callback"]["objectId"]
    outside = outside_client(manage)
    other = outside.find("/service/boards", 'name = "Network Operations"')[0]
    outside.patch("/service/boards/%d" % old_id, [{"op": "replace", "path": "name", "value": "Old Service Desk"}])
    outside.patch("/service/boards/%d" % other["id"], [{"op": "replace", "path": "name", "value": "Service Desk"}])
    manage.clear_requests()
    second = run_module("cw_callback", dict(callback, url="https://b.example.com/cb?recordId="))
    assert second["changed"] is True and second["callback"]["objectId"] == other["id"] != old_id
    assert [(w["method"], w["request_json"]["objectId"]) for w in manage.writes()] == [("POST", other["id"])]
