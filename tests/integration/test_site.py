"""playbooks/site.yml (the role signl4.connectwise.integration) and playbooks/export.yml, run with
ansible-playbook against both emulators: the first run creates everything and ends with the manual
steps; once an administrator has done them (the Manage emulator's UI control) a re-run changes nothing
and writes nothing; --check on a never-provisioned system exits 0; --check --diff shows each kind of
edit made behind Ansible's back, and a normal run repairs what the APIs allow; export -> site.yml
reports changed=0.

SIGNL4_TEST_ANSIBLE_BIN (a directory holding ansible-playbook and python) runs the same playbooks with
another ansible-core, such as the 2.16 of `make test-core216`.
"""

import datetime
import functools
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import Signl4Client
from tests.emulators.harness import REPO_ROOT
from tests.emulators.signl4.seed import DEFAULT_API_KEY
from tests.integration.raw_server import closed_port
from tests.support import modules
from tests.support.modules import outside_client as manage_client
from tests.support.modules import run_module

pytestmark = pytest.mark.slow  # every test here runs ansible-playbook or ansible-inventory

SITE = os.path.join("playbooks", "site.yml")
EXPORT = os.path.join("playbooks", "export.yml")
HOST = "tenant1"
ANSIBLE_BIN = os.environ.get("SIGNL4_TEST_ANSIBLE_BIN") or os.path.dirname(sys.executable)
MEMBER_KEYS = dict(integration_api_member_public_key="memberpublic", integration_api_member_private_key="MemberPriv4te")
AGENT = dict(integration_signl4_sync_mode="agent", integration_agent_url="https://sync.example.com",
             integration_agent_webhook_token="AgentT0ken-0123456789", integration_agent_callback_token="CallbackT0ken-0123456789")
with open(os.path.join(REPO_ROOT, "tests", "integration", "data", "seed_security_role.yml")) as handle:
    SEED_ROLE = yaml.safe_load(handle)
LEVELS = ("add_level", "edit_level", "delete_level", "inquire_level")
FIRST_STEP = "1. System > Security Roles > SIGNL4 > Service Desk > Close Service Tickets: set Edit Level to All (now None)"


def write_inventory(tmp_path, manage, signl4, group="manage_tenants", **host_vars):
    """One Manage tenant as an inventory host, the way playbooks/inventory/example lays it out."""
    variables = dict(
        ansible_connection="local", ansible_python_interpreter=os.path.join(ANSIBLE_BIN, "python"),
        integration_cw_url=manage.url, integration_cw_company_id="signl4demo", integration_cw_public_key="demopublic",
        integration_cw_private_key="demoprivate", integration_cw_client_id="00000000-0000-4000-8000-000000000001",
        integration_signl4_api_url=signl4.url + "/api", integration_signl4_api_key=DEFAULT_API_KEY,
        integration_signl4_team="Service Desk", integration_api_member_location="Tampa Office",
        integration_api_member_business_unit="Services")
    variables.update(host_vars)
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump({"all": {"children": {group: {"hosts": {HOST: variables}}}}}))
    return str(path)


def play(inventory, playbook=SITE, check=False, args=(), extra_vars=None, cwd=REPO_ROOT):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO_ROOT, "build", "collections"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0")
    command = [os.path.join(ANSIBLE_BIN, "ansible-playbook"), "-i", inventory, playbook] + list(args)
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    if check:
        command += ["--check", "--diff"]
    env["PWD"] = str(cwd)  # what a shell that changed into cwd would say
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def recap(result):
    return modules.recap(result.stdout, HOST)


def pending_steps(result):
    """The numbered lines of the play's last list of manual steps."""
    return re.findall(r'^\s+"(\d+\. .*)",?$', result.stdout, re.M)


def signl4_client(signl4):
    return Signl4Client(signl4.url + "/api", DEFAULT_API_KEY)


def connector(signl4):
    """The one connector app instance, with its configuration (the list leaves it out)."""
    client = signl4_client(signl4)
    return client.script_instance(client.script_instances()[0]["instanceId"])


def role_id(manage):
    return manage_client(manage).find("/system/securityRoles", 'name = "SIGNL4"')[0]["id"]


def click_levels(manage, entries):
    """The administrator setting levels in Manage's UI."""
    manage.control("POST", "/securityRoles/%d/settings" % role_id(manage), [
        dict(module=e["module"], function=e["function"], **{level.split("_", 1)[0]: e[level] for level in LEVELS if level in e})
        for e in entries])


def converge(tmp_path, manage, signl4, **host_vars):
    """First run (creates everything, lists the role's steps), then the administrator's clicks."""
    inventory = write_inventory(tmp_path, manage, signl4, **dict(MEMBER_KEYS, **host_vars))
    first = play(inventory)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
    click_levels(manage, SEED_ROLE["permissions"])
    return inventory, first


def rule_and_event(manage, rule_name, event_name):
    """A workflow rule by its name, and its event named ``event_name``."""
    client = manage_client(manage)
    rule = client.find("/system/workflows", 'name = "%s"' % rule_name)[0]
    return rule, next(e for e in client.list("/system/workflows/%d/events" % rule["id"]) if e["name"] == event_name)


def replace(path_value_pairs):
    return [{"op": "replace", "path": path, "value": value} for path, value in path_value_pairs]


def test_first_run_lists_manual_steps_then_converges_without_writes(tmp_path, manage, signl4):
    inventory = write_inventory(tmp_path, manage, signl4, integration_fail_on_pending_steps=True, **MEMBER_KEYS)
    first = play(inventory, args=["-vvv"])
    # Everything the API allows is provisioned, then the play fails on the pending steps, as asked.
    assert first.returncode == 2 and "manual step(s) pending" in first.stdout, first.stdout[-3000:]
    for secret in ("demoprivate", "MemberPriv4te", "memberpublic", DEFAULT_API_KEY):
        assert secret not in first.stdout + first.stderr, secret
    steps = pending_steps(first)
    assert steps[0] == FIRST_STEP and len(steps) == 22, steps
    assert all(step.startswith("%d. " % n) for n, step in enumerate(steps, 1))
    assert "Allow Access" in steps[-2] and "Resource Scheduling: enable it" in steps[-1]
    assert "differs from the declared permissions" not in first.stdout + first.stderr  # listed once: no warning too
    client = manage_client(manage)
    assert {"Signl4Retrieved_c", "Signl4Status_c", "Signl4User_c"} <= {f["caption"] for f in client.list("/system/userDefinedFields")}
    assert len(client.find("/system/workflows", 'name like "SIGNL4 - *"')) == 3
    member = client.find("/system/apiMembers", 'identifier = "signl4"')[0]
    assert member["securityRole"]["name"] == "SIGNL4" and member["serviceDefaultBoard"]["name"] == "Service Desk"
    instance = connector(signl4)
    assert instance["enabled"] and instance["config"]["workflowTriggerSignls"] == "SIGNL4 - Trigger Signls"

    click_levels(manage, SEED_ROLE["permissions"])
    manage.clear_requests()
    signl4.clear_requests()
    second = play(inventory)
    assert second.returncode == 0, second.stdout[-3000:]
    assert recap(second)["changed"] == 0, second.stdout
    assert manage.writes() == [] and signl4.writes() == []
    assert '"Nothing pending."' in second.stdout


def test_check_on_never_provisioned_system_exits_0_and_says_what_it_would_do(tmp_path, manage, signl4):
    inventory = write_inventory(tmp_path, manage, signl4)
    result = play(inventory, check=True)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert manage.writes() == [] and signl4.writes() == []
    assert recap(result)["failed"] == 0 and recap(result)["changed"] >= 5
    # Diffs, also of what needs an object this run would create first (the role, the custom fields):
    member = task_output(result.stdout, "API member the sync logs in as")
    assert '+    "securityRole": {\n+        "name": "SIGNL4"\n+    },' in member, member
    rules = task_output(result.stdout, "Workflow rules")
    assert '"caption": "Signl4Status_c",' in rules and "changed: [tenant1 -> localhost] => (item=SIGNL4 - Update Signls)" in rules
    assert '"caption": "Signl4Retrieved_c"' in result.stdout  # the diff of a field it would create
    assert "Would create" not in result.stdout
    steps = pending_steps(result)
    assert steps[0] == FIRST_STEP and "API Keys: click +" in steps[-1]
    # the variables the README's step 5 names too
    assert "set integration_api_member_public_key and integration_api_member_private_key to its public" in steps[-1]

    agent = play(write_inventory(tmp_path, manage, signl4, **AGENT), check=True)
    assert agent.returncode == 0, agent.stdout[-4000:]
    assert "Outbound webhook to the sync agent" in agent.stdout and manage.writes() == [] and signl4.writes() == []


# ----- before the first write: both systems checked read-only ------------------------------------------

@pytest.mark.parametrize("host_vars, expected", [
    # The report's typo in the SIGNL4 URL: Manage is not touched (it used to be patched, then SIGNL4 failed).
    (dict(integration_signl4_api_url="{signl4}/apii"),
     ["SIGNL4 answered HTTP 404 (The requested resource was not found.): check integration_signl4_api_url "
      "({signl4}/apii; SIGNL4's own is https://connect.signl4.com/api)"]),
    # Each problem on both sides at once, each naming the role variable to fix (not a module option).
    (dict(integration_cw_private_key="wr0ng", integration_signl4_api_key="wr0ng-too"),
     ["ConnectWise Manage answered HTTP 401 (UserNotAuthenticated): check integration_cw_company_id, integration_cw_public_key, "
      "integration_cw_private_key and integration_cw_client_id, and that the API member is active",
      "SIGNL4 answered HTTP 401 (Unauthorized - The API key is missing, invalid or expired.): check integration_signl4_api_key"]),
    (dict(integration_board="Servce Desk", integration_api_member_location="Mars", integration_api_member_business_unit="Sales",
          integration_signl4_team="Servce Desk"),
     ["integration_board: unknown board 'Servce Desk'; known: Network Operations, Projects, Service Desk",
      "integration_api_member_location: unknown location 'Mars'; known: Remote, Tampa Office",
      "integration_api_member_business_unit: unknown business unit 'Sales'; known: Professional Services, Services",
      "integration_signl4_team: unknown SIGNL4 team 'Servce Desk'; known: Network Operations, Service Desk"]),
], ids=["signl4 url", "keys", "names"])
def test_a_mistake_on_either_side_stops_the_run_before_any_write_naming_the_variable(
        tmp_path, manage, signl4, host_vars, expected):
    host_vars = dict((name, value.format(signl4=signl4.url)) for name, value in host_vars.items())
    for check in (True, False):
        result = play(write_inventory(tmp_path, manage, signl4, **host_vars), check=check)
        assert result.returncode == 2 and recap(result)["changed"] == 0, result.stdout[-3000:]
        failure = json.loads(re.search(r"^fatal: \[tenant1 -> localhost\]: FAILED! => (.*)$", result.stdout, re.M).group(1))
        assert failure["msg"] == [text.format(signl4=signl4.url) for text in expected]
        assert manage.writes() == [] and signl4.writes() == []
        for option in ("cw_company_id", "signl4_api_key", "signl4_api_url", "cw_private_key"):
            assert not re.search(r"(?<!integration_)\b%s\b" % option, json.dumps(failure["msg"])), option
    assert "wr0ng" not in result.stdout + result.stderr


@pytest.mark.parametrize("tokens, variable", [
    (dict(integration_agent_webhook_token="Sh0rt-token"), "integration_agent_webhook_token"),
    (dict(integration_agent_webhook_token="AgentT0ken-0123456789/../admin"), "integration_agent_webhook_token"),
    (dict(integration_agent_callback_token="CallbackT0ken 0123456789?x="), "integration_agent_callback_token"),
], ids=["short", "slash", "space and query"])
def test_an_agent_token_the_agent_would_refuse_stops_the_run_before_any_api_call(tmp_path, manage, signl4, tokens, variable):
    """The agent takes 16 or more of - . _ ~, letters and digits in its tokens (they are URL path segments):
    the role checks the same before anything is read or written, and names the variable, not the value."""
    result = play(write_inventory(tmp_path, manage, signl4, **dict(AGENT, **tokens)))
    assert result.returncode == 2 and "%s must be" % variable in result.stdout, result.stdout[-3000:]
    assert manage.requests() == [] and signl4.requests() == []
    assert all(token not in result.stdout + result.stderr for token in tokens.values())


def test_the_role_runs_its_api_calls_on_the_controller_in_a_play_over_unreachable_hosts(tmp_path, manage, signl4):
    """An MSP includes the role in a play over its real hosts, without connection: local: the API calls run on
    the controller, nothing on the host (here an SSH host nobody answers at, without Python)."""
    host = dict(ansible_connection="ssh", ansible_host="127.0.0.1", ansible_port=closed_port(),
                ansible_python_interpreter="/nonexistent/python")
    inventory = write_inventory(tmp_path, manage, signl4, group="msp_hosts", **dict(MEMBER_KEYS, **host))
    first = play(inventory, os.path.join("tests", "integration", "playbooks", "msp_play.yml"))
    assert first.returncode == 0 and recap(first)["unreachable"] == 0, first.stdout[-4000:] + first.stderr[-2000:]
    assert "changed: [tenant1 -> localhost] => (item=SIGNL4 - Trigger Signls)" in first.stdout
    assert len(manage_client(manage).find("/system/workflows", 'name like "SIGNL4 - *"')) == 3
    assert len(signl4_client(signl4).script_instances()) == 1


# ----- the trigger's cut-off ---------------------------------------------------------------------------

def trigger_condition(manage):
    return rule_and_event(manage, "SIGNL4 - Trigger Signls", "New ticket")[1]["eventCondition"]


def tickets_selected(manage):
    """What the agent pages for: the tickets the trigger event selects (Manage's test of the event)."""
    trigger, event = rule_and_event(manage, "SIGNL4 - Trigger Signls", "New ticket")
    return manage_client(manage).list("/system/workflows/%d/events/%d/test" % (trigger["id"], event["id"]))


def test_a_new_trigger_rule_pages_only_for_tickets_entered_from_now_on_and_keeps_its_cutoff(tmp_path, manage, signl4):
    inventory = write_inventory(tmp_path, manage, signl4, **MEMBER_KEYS)
    started = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    assert play(inventory).returncode == 0
    cutoff = re.search(r"dateEntered > \[([^]]+)\]", trigger_condition(manage)).group(1)
    assert started <= datetime.datetime.fromisoformat(cutoff) <= datetime.datetime.now(datetime.timezone.utc)
    assert tickets_selected(manage) == []  # the seed's open tickets are older: no Signl for them
    click_levels(manage, SEED_ROLE["permissions"])
    manage.clear_requests()
    again = play(inventory)
    assert recap(again)["changed"] == 0 and manage.writes() == [], again.stdout[-3000:]  # the rule keeps its cut-off
    assert cutoff in trigger_condition(manage)

    pinned = play(inventory, extra_vars=dict(integration_trigger_entered_after="2025-01-01T00:00:00Z"))
    assert recap(pinned)["changed"] == 1 and "dateEntered > [2025-01-01T00:00:00Z]" in trigger_condition(manage)
    assert len(tickets_selected(manage)) > 0  # an old cut-off, set on purpose: the seed's open tickets page


# A List field of the MSP's own next to the guide's three, so that an option can be edited too.
PRIORITY_FIELD = dict(caption="Signl4Priority_c", field_type="Text", entry_type="List", sequence_number=23,
                      options=[dict(value="Low", sort_order=1), dict(value="High", sort_order=2, default=True)])


def with_priority_field():
    fields = [dict(caption=caption, field_type=kind, sequence_number=number) for caption, kind, number in
              (("Signl4Retrieved_c", "Checkbox", 20), ("Signl4Status_c", "Text", 21), ("Signl4User_c", "Text", 22))]
    return dict(integration_custom_fields=fields + [PRIORITY_FIELD])


def edit_condition(manage, signl4):
    client, (trigger, event) = manage_client(manage), rule_and_event(manage, "SIGNL4 - Trigger Signls", "New ticket")
    path = "/system/workflows/%d/events/%d" % (trigger["id"], event["id"])
    cutoff = re.search(r"dateEntered > \[[^]]+\]", event["eventCondition"]).group()  # the one the first run wrote
    client.patch(path, replace([("eventCondition", 'Signl4Retrieved_c = False AND status/name = "New" AND ' + cutoff)]))
    undo = functools.partial(client.patch, path, replace([("eventCondition", event["eventCondition"])]))
    return undo, "Workflow rules", "SIGNL4 - Trigger Signls", [
        '"eventCondition": "Signl4Retrieved_c = False AND status/name = \\"New\\" AND %s"' % cutoff,
        '"eventCondition": "Signl4Retrieved_c = False AND status/name = \\"New (not responded)\\" AND %s"' % cutoff]


def edit_field_setting(manage, signl4):
    client = manage_client(manage)
    field = client.find("/system/userDefinedFields", 'caption = "Signl4User_c"')[0]
    path = "/system/userDefinedFields/%d" % field["id"]
    client.patch(path, replace([("displayOnScreenFlag", True)]))
    undo = functools.partial(client.patch, path, replace([("displayOnScreenFlag", False)]))
    return undo, "Custom fields on service tickets", "Signl4User_c", [
        '-    "displayOnScreenFlag": true', '+    "displayOnScreenFlag": false']


def edit_field_option(manage, signl4):
    client = manage_client(manage)
    field = client.find("/system/userDefinedFields", 'caption = "Signl4Priority_c"')[0]
    options = [dict(o, optionValue="Urgent") if o["optionValue"] == "High" else o for o in field["options"]]
    path = "/system/userDefinedFields/%d" % field["id"]
    client.patch(path, replace([("options", options)]))
    undo = functools.partial(client.patch, path, replace([("options", field["options"])]))
    return undo, "Custom fields on service tickets", "Signl4Priority_c", ['"Urgent"', '"High"']


def edit_action_status(manage, signl4):
    client, (tickets, event) = manage_client(manage), rule_and_event(manage, "SIGNL4 - Update CW Tickets", "Signl acknowledged")
    path = "/system/workflows/%d/events/%d/actions" % (tickets["id"], event["id"])
    board = client.find("/service/boards", 'name = "Service Desk"')[0]
    assigned = client.find("/service/boards/%d/statuses" % board["id"], 'name = "Assigned"')[0]
    action = client.list(path)[0]
    client.patch("%s/%d" % (path, action["id"]), replace([("boardStatus", {"id": assigned["id"]})]))
    undo = functools.partial(client.patch, "%s/%d" % (path, action["id"]), replace([("boardStatus", {"id": action["boardStatus"]["id"]})]))
    return undo, "Workflow rules", "SIGNL4 - Update CW Tickets", ['"Assigned"', '"In Progress"']


def edit_role_matrix(manage, signl4):
    click_levels(manage, [dict(module="Service Desk", function="Service Tickets", delete_level="All")])
    undo = functools.partial(click_levels, manage, [dict(module="Service Desk", function="Service Tickets", delete_level="None")])
    return undo, "Least-privilege security role (levels verified; the REST API cannot write them)", None, [
        '"1. System > Security Roles > SIGNL4 > Service Desk > Service Tickets: set Delete Level to None (now All)"',
        '-            "Delete Level": "All"', '+            "Delete Level": "None"']  # the levels in the diff


def edit_connector_config(manage, signl4):
    instance, client = connector(signl4), signl4_client(signl4)
    secrets = dict(privateApiKey="MemberPriv4te", publicApiKey="memberpublic")
    client.update_script_instance(instance["instanceId"], dict(config=dict(instance["config"], ownerAssignment="never", **secrets)))
    undo = functools.partial(client.update_script_instance, instance["instanceId"], dict(config=dict(instance["config"], **secrets)))
    return undo, "Connector app (SIGNL4's cloud runs the sync)", None, ['"ownerAssignment": "never"', '"ownerAssignment": "acknowledged_and_closed"']


def task_output(output, task):
    """The output of the task named ``task``."""
    return output.split("TASK [signl4.connectwise.integration : %s]" % task, 1)[1].split("\nTASK [", 1)[0]


def test_check_diff_shows_exactly_each_edit_behind_ansibles_back_and_a_run_repairs_it(tmp_path, manage, signl4):
    inventory = converge(tmp_path, manage, signl4, **with_priority_field())[0]
    assert recap(play(inventory))["changed"] == 0
    edits = (edit_condition, edit_field_setting, edit_field_option, edit_action_status, edit_role_matrix, edit_connector_config)
    for edit in edits:
        undo, task, item, shown = edit(manage, signl4)
        manage.clear_requests()
        signl4.clear_requests()
        drift = play(inventory, check=True)
        assert drift.returncode == 0, drift.stdout[-4000:]
        assert manage.writes() == [] and signl4.writes() == [], edit.__name__
        assert recap(drift)["changed"] == 1, (edit.__name__, drift.stdout)
        changed = task_output(drift.stdout, task)
        assert ("changed: [tenant1 -> localhost] => (item=%s)" % item if item else "changed: [tenant1 -> localhost]") in changed, changed
        for text in shown:
            assert text in (drift.stdout if task.startswith("Least") else changed), (edit.__name__, text, changed)
        undo()  # put it back by hand: the next check must show the next edit alone

    # All of them at once: a normal run repairs everything the APIs can write; the role's level stays a UI step.
    for edit in edits:
        edit(manage, signl4)
    repair = play(inventory)
    assert repair.returncode == 0 and recap(repair)["changed"] == 4, repair.stdout[-3000:]
    assert pending_steps(repair)[0] == (
        "1. System > Security Roles > SIGNL4 > Service Desk > Service Tickets: set Delete Level to None (now All)")
    click_levels(manage, [dict(module="Service Desk", function="Service Tickets", delete_level="None")])
    manage.clear_requests()
    signl4.clear_requests()
    again = play(inventory)
    assert recap(again)["changed"] == 0 and manage.writes() == [] and signl4.writes() == [], again.stdout[-3000:]


def test_agent_mode_webhook_and_callback_drift_and_no_secret_in_output(tmp_path, manage, signl4):
    secrets = ("demoprivate", "MemberPriv4te", AGENT["integration_agent_webhook_token"],
               AGENT["integration_agent_callback_token"], DEFAULT_API_KEY)
    inventory = write_inventory(tmp_path, manage, signl4, **dict(MEMBER_KEYS, **AGENT))
    first = play(inventory, args=["-vvv"])
    assert first.returncode == 0, first.stdout[-4000:]
    for secret in secrets:
        assert secret not in first.stdout + first.stderr, secret
    hooks = signl4_client(signl4).webhooks()
    assert [h["name"] for h in hooks] == ["ConnectWise sync agent"] and signl4_client(signl4).script_instances() == []
    callbacks = manage_client(manage).list("/system/callbacks")
    assert [(c["type"], c["level"], c["url"]) for c in callbacks] == [
        ("Ticket", "Board", "https://sync.example.com/manage/CallbackT0ken-0123456789/callback?recordId=")]
    # the bundled agent's receiver paths (agent/README.md "Endpoints"): the tokens are path segments
    assert hooks[0]["extUrl"] == "https://sync.example.com/signl4/AgentT0ken-0123456789"
    click_levels(manage, SEED_ROLE["permissions"])

    hook = hooks[0]
    signl4_client(signl4).update_webhook(hook["id"], dict(name=hook["name"], extUrl="https://evil.example.com/steal",
                                                          teamId=hook.get("teamId")))
    signl4.clear_requests()
    drift = play(inventory, check=True)
    assert drift.returncode == 0 and recap(drift)["changed"] == 1, drift.stdout[-4000:]
    assert "changed: [tenant1 -> localhost]" in drift.stdout.split("Outbound webhook to the sync agent", 1)[1].split("TASK", 1)[0]
    assert "evil.example.com" not in drift.stdout and AGENT["integration_agent_webhook_token"] not in drift.stdout
    assert signl4.writes() == []
    repair = play(inventory)
    assert recap(repair)["changed"] == 1
    assert recap(play(inventory))["changed"] == 0

    # Back to SIGNL4's connector: the agent's webhook and callback go away.
    back = play(write_inventory(tmp_path, manage, signl4, integration_agent_url=AGENT["integration_agent_url"],
                                integration_agent_callback_token=AGENT["integration_agent_callback_token"], **MEMBER_KEYS))
    assert back.returncode == 0, back.stdout[-3000:]
    assert signl4_client(signl4).webhooks() == [] and manage_client(manage).list("/system/callbacks") == []
    assert len(signl4_client(signl4).script_instances()) == 1


# What an MSP adds to "SIGNL4 - Update CW Tickets" in Manage: every kind of action the export has to carry.
ACKNOWLEDGED_ACTIONS = [
    dict(notify_type="Update Status", board_status="In Progress"),
    dict(notify_type="Add Note", note="Acknowledged in SIGNL4.", internal_notes=True, detail_notes=False),
    dict(notify_type="Send Email", member="jdoe", subject="Signl acknowledged"),
    dict(notify_type="Send Email", email="noc@contoso-msp.com", subject="Signl acknowledged"),
    dict(notify_type="Update Priority", priority="Priority 2 - Quick Response"),
    dict(notify_type="Update Custom Field", custom_fields=[dict(caption="Signl4User_c", value="sync", overwrite=True)]),
]


def test_export_then_site_reports_no_change(tmp_path, manage, signl4):
    """An MSP's live setup (a trigger condition of its own, more actions, another owner assignment, a
    config entry the role does not name) exported as variables; site.yml with them changes nothing,
    while the defaults would."""
    inventory = converge(tmp_path, manage, signl4)[0]
    more = run_module("cw_workflow_rule", dict(manage.connection, name="SIGNL4 - Update CW Tickets", purge_actions=False, events=[
        dict(name="Signl acknowledged", condition='Signl4Retrieved_c = True AND Signl4Status_c = "Acknowledged"',
             actions=ACKNOWLEDGED_ACTIONS)]))
    assert more["changed"] and not more.get("failed"), more
    client, (trigger, new_ticket) = manage_client(manage), rule_and_event(manage, "SIGNL4 - Trigger Signls", "New ticket")
    own = 'Signl4Retrieved_c = False AND priority/name = "Priority 1 - Emergency Response"'
    client.patch("/system/workflows/%d/events/%d" % (trigger["id"], new_ticket["id"]), replace([("eventCondition", own)]))
    instance = connector(signl4)
    signl4_client(signl4).update_script_instance(instance["instanceId"], dict(
        config=dict(instance["config"], ownerAssignment="acknowledged", privateApiKey="MemberPriv4te",
                    publicApiKey="memberpublic", pollSeconds=30)))

    manage.clear_requests()
    signl4.clear_requests()
    exported = play(inventory, EXPORT, args=["-e", "integration_export_dir=%s" % tmp_path])
    assert exported.returncode == 0, exported.stdout[-3000:]
    variables = yaml.safe_load((tmp_path / (HOST + ".yml")).read_text())
    assert variables["integration_workflow_rules"][0]["events"][0]["condition"] == own
    acknowledged = variables["integration_workflow_rules"][2]["events"][0]
    assert len(acknowledged["actions"]) == len(ACKNOWLEDGED_ACTIONS), acknowledged
    for declared in ACKNOWLEDGED_ACTIONS:  # every option the MSP set comes back, whatever the order
        assert any(all(action.get(k) == v for k, v in declared.items()) for action in acknowledged["actions"]), declared
    assert variables["integration_signl4_connector_owner_assignment"] == "acknowledged"
    assert variables["integration_signl4_connector_extra_config"] == {"pollSeconds": 30}
    assert len(variables["integration_security_role_permissions"]) == len(SEED_ROLE["permissions"])
    assert "MemberPriv4te" not in (tmp_path / (HOST + ".yml")).read_text()
    assert manage.writes() == [] and signl4.writes() == []  # export only reads

    adopted = play(inventory, args=["-e", "@%s" % (tmp_path / (HOST + ".yml"))])
    assert adopted.returncode == 0 and recap(adopted)["changed"] == 0, adopted.stdout[-4000:]
    assert manage.writes() == [] and signl4.writes() == []
    assert recap(play(inventory, check=True))["changed"] == 2  # the role's defaults would undo the rules and the connector


def test_export_writes_outside_the_inventory_by_default_and_says_where(tmp_path, manage, signl4):
    """The FQCN playbooks, an inventory directory and the default export directory (where ansible-playbook runs):
    later runs read no exported file as inventory (no warnings), and the export says where it wrote."""
    inventory_dir, work = tmp_path / "inventory", tmp_path / "work"
    inventory_dir.mkdir()
    work.mkdir()
    inventory = write_inventory(inventory_dir, manage, signl4, **MEMBER_KEYS)
    assert play(inventory_dir.as_posix(), "signl4.connectwise.site", cwd=work).returncode == 0
    exported = play(inventory_dir.as_posix(), "signl4.connectwise.export", cwd=work)
    assert exported.returncode == 0, exported.stdout[-3000:] + exported.stderr[-3000:]
    written = work / "signl4-export" / (HOST + ".yml")
    assert "Wrote %s." % written in exported.stdout.replace("\n", " ")
    assert yaml.safe_load(written.read_text())["integration_workflow_rules"][0]["name"] == "SIGNL4 - Trigger Signls"
    assert sorted(os.listdir(inventory_dir)) == [os.path.basename(inventory)]
    again = play(inventory_dir.as_posix(), "signl4.connectwise.site", cwd=work)
    output = again.stdout + again.stderr
    assert again.returncode == 0 and "not a valid group definition" not in output and "Unable to parse" not in output


def test_the_emulator_inventory_provisions_the_emulators_started_by_hand(manage, signl4):
    """playbooks/inventory/emulators with the FQCN playbook, as the README's quick start runs it (these
    emulators listen on other ports than the README's 8080 and 8081: the URLs are given on the command line)."""
    urls = dict(integration_cw_url=manage.url, integration_signl4_api_url=signl4.url + "/api")
    inventory = os.path.join("playbooks", "inventory", "emulators")
    checked = play(inventory, "signl4.connectwise.site", check=True, extra_vars=urls)
    assert checked.returncode == 0 and manage.writes() == [] and signl4.writes() == [], checked.stdout[-3000:]
    result = play(inventory, "signl4.connectwise.site", extra_vars=urls)
    assert result.returncode == 0 and re.search(r"^emulated-tenant +: ok=\d+ +changed=[1-9]", result.stdout, re.M), \
        result.stdout[-3000:]
    assert "API Keys: click +" in pending_steps(result)[-1]


def test_example_inventory_resolves_several_tenants():
    command = [os.path.join(ANSIBLE_BIN, "ansible-inventory"), "-i", "playbooks/inventory/example", "--list"]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=True)
    listing = json.loads(result.stdout)
    hosts = {name: listing["_meta"]["hostvars"][name] for name in listing["manage_tenants"]["hosts"]}
    agents = [listing["_meta"]["hostvars"][name] for name in listing["agent_hosts"]["hosts"]]
    assert len(agents) == 2 and all(a["sync_agent_tenants"][0]["listen"]["webhook_token"]
                                    == "{{ hostvars['fabrikam'].vault_agent_webhook_token }}" for a in agents)
    assert len(hosts) >= 2 and {h["integration_signl4_sync_mode"] for h in hosts.values()} == {"connector", "agent"}
    assert all(h["integration_cw_private_key"] == "{{ vault_cw_private_key }}" for h in hosts.values())


@pytest.mark.parametrize("playbook", [SITE, EXPORT])
def test_playbooks_pass_syntax_check_with_the_example_inventory(playbook):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO_ROOT, "build", "collections"))
    command = [os.path.join(ANSIBLE_BIN, "ansible-playbook"), "-i", "playbooks/inventory/example", "--syntax-check", playbook]
    result = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
