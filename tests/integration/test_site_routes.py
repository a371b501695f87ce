"""playbooks/site.yml with integration_routes and integration_categories, run with ansible-playbook against
both emulators: routes to two teams (each team named by id and by name in any case) on a provisioned agent-mode
tenant create one outbound webhook per team besides the default one, and the categories the routes name (defined
ones as defined, the others with their team's defaults), each once; --check --diff first writes nothing; a re-run
changes and writes nothing; --check --diff shows a category edited in SIGNL4; back in connector mode the routes'
webhooks go. An unknown team stops the run before any write, naming the variable; route names or categories
given twice stop it before any API call. Without routes the role reads no category."""

import re

import pytest

from tests.emulators.signl4 import DEFAULT_TEAM_ID, SECOND_TEAM_ID
from tests.integration.test_site import AGENT, MEMBER_KEYS, converge, play, recap, signl4_client, task_output, write_inventory

pytestmark = pytest.mark.slow  # every test here runs ansible-playbook

SECRET = "NotReadByTheRole1"
ROUTES = [
    dict(name="network", board="Network", team=" network operations ", service="network", alerting_scenario="multi_ack",
         team_secret_file="/etc/signl4-agent/netops.secret"),
    dict(name="network-urgent", board="Network", priority="Priority 1 - Emergency Response", team=SECOND_TEAM_ID,
         service="NETWORK", team_secret_env="SIGNL4_NETOPS"),  # the same team and category, spelled otherwise
    dict(name="key-customer", company=["Contoso", "Fabrikam"], priority="Priority 1 - Emergency Response",
         service="Key Customer", team_secret=SECRET),  # the default team
    dict(name="helpdesk", board="Service Desk", team=DEFAULT_TEAM_ID, service="connectwise"),  # the default team by id
    dict(name="rest", status="New"),  # the default team, no category
]
CATEGORIES = [dict(name="Network", team="Network Operations", color="#1F6FB2", image="network",
                   keywords=["switch", "router"], keyword_matching="all")]
WEBHOOK = "ConnectWise sync agent"
CATEGORIES_TASK = "Categories (integration_categories and those integration_routes name)"
ROUTE_WEBHOOKS_TASK = "Outbound webhooks to the sync agent for the other teams of integration_routes"


def categories(signl4, team):
    return {c["name"]: c for c in signl4_client(signl4).categories(team)}


def items(output, task):
    """The loop items of ``task`` as its labels show them, with the outcome of each."""
    return re.findall(r"^(ok|changed|skipping): \[[^\]]*\] => \(item=(.*?)\)(?: =>.*)?$", task_output(output, task), re.M)


def routed_inventory(tmp_path, manage, signl4, **host_vars):
    return write_inventory(tmp_path, manage, signl4, integration_routes=ROUTES, integration_categories=CATEGORIES,
                           **dict(MEMBER_KEYS, **host_vars))


def test_routes_to_two_teams_provision_one_webhook_per_team_and_their_categories_once(tmp_path, manage, signl4):
    inventory, _first = converge(tmp_path, manage, signl4, **AGENT)
    signl4.clear_requests()
    without_routes = play(inventory)
    assert without_routes.returncode == 0 and recap(without_routes)["changed"] == 0, without_routes.stdout[-3000:]
    assert not [r for r in signl4.requests() if "/categories" in r["path"]] and signl4.writes() == []
    defaults = {team: categories(signl4, team) for team in (DEFAULT_TEAM_ID, SECOND_TEAM_ID)}

    inventory = routed_inventory(tmp_path, manage, signl4, **AGENT)
    manage.clear_requests()
    signl4.clear_requests()
    dry = play(inventory, check=True)
    assert dry.returncode == 0 and recap(dry)["changed"] == 2, dry.stdout[-4000:]
    assert manage.writes() == [] and signl4.writes() == []
    assert '+    "name": "Key Customer"' in task_output(dry.stdout, CATEGORIES_TASK)

    routed = play(inventory, args=["-vvv"])
    assert routed.returncode == 0, routed.stdout[-4000:]
    assert recap(routed)["changed"] == 2  # the two loops: the second team's webhook; two new categories
    for secret in (SECRET, "/etc/signl4-agent/netops.secret", "SIGNL4_NETOPS"):
        assert secret not in routed.stdout + routed.stderr, secret
    # One webhook for the second team, however spelled; none more for the default team named by its id.
    assert items(routed.stdout, ROUTE_WEBHOOKS_TASK) == [("changed", "Network Operations")]
    # The definition first; a route's category once per team (by id) and name; an existing one left as it is.
    assert items(routed.stdout, CATEGORIES_TASK) == [
        ("changed", "Network Operations: Network"), ("changed", "Service Desk: Key Customer"), ("ok", "Service Desk: connectwise")]
    hooks = {h["name"]: h for h in signl4_client(signl4).webhooks()}
    assert sorted(hooks) == [WEBHOOK, WEBHOOK + " (Network Operations)"]
    assert (hooks[WEBHOOK]["teamId"], hooks[WEBHOOK + " (Network Operations)"]["teamId"]) == (DEFAULT_TEAM_ID, SECOND_TEAM_ID)
    assert {h["extUrl"] for h in hooks.values()} == {"https://sync.example.com/signl4/AgentT0ken-0123456789"}
    network = categories(signl4, SECOND_TEAM_ID)["Network"]
    assert (network["color"], network["imageName"], network["keywords"], network["keywordMatching"]) == (
        "#1F6FB2", "network.svg", ["switch", "router"], 1)
    default = defaults[DEFAULT_TEAM_ID]["Default"]
    key_customer = categories(signl4, DEFAULT_TEAM_ID)["Key Customer"]
    assert (key_customer["color"], key_customer["imageName"], key_customer["keywords"]) == (
        default["color"], default["imageName"], [])
    assert categories(signl4, DEFAULT_TEAM_ID)["ConnectWise"] == defaults[DEFAULT_TEAM_ID]["ConnectWise"]
    assert set(categories(signl4, DEFAULT_TEAM_ID)) == set(defaults[DEFAULT_TEAM_ID]) | {"Key Customer"}
    assert set(categories(signl4, SECOND_TEAM_ID)) == set(defaults[SECOND_TEAM_ID]) | {"Network"}

    manage.clear_requests()
    signl4.clear_requests()
    again = play(inventory)
    assert again.returncode == 0 and recap(again)["changed"] == 0, again.stdout[-3000:]
    assert manage.writes() == [] and signl4.writes() == []

    signl4_client(signl4).update_category(SECOND_TEAM_ID, network["id"], dict(network, color="#FF0000"))
    signl4.clear_requests()
    drift = play(inventory, check=True)
    assert drift.returncode == 0 and recap(drift)["changed"] == 1, drift.stdout[-3000:]
    task = task_output(drift.stdout, CATEGORIES_TASK)
    assert '-    "color": "#FF0000"' in task and '+    "color": "#1F6FB2"' in task, task
    assert signl4.writes() == []
    assert recap(play(inventory))["changed"] == 1 and categories(signl4, SECOND_TEAM_ID)["Network"]["color"] == "#1F6FB2"

    # Back to SIGNL4's connector: the routes' webhooks go with the default team's; the categories stay.
    back = play(routed_inventory(tmp_path, manage, signl4, integration_agent_url=AGENT["integration_agent_url"]))
    assert back.returncode == 0, back.stdout[-3000:]
    assert signl4_client(signl4).webhooks() == [] and "Network" in categories(signl4, SECOND_TEAM_ID)


@pytest.mark.parametrize("variables, problem", [
    (dict(integration_routes=[dict(name="night", team="Night Shift", service="Night"), dict(name="ok", team="Service Desk")]),
     "integration_routes: unknown SIGNL4 team 'Night Shift'; known: Network Operations, Service Desk"),
    (dict(integration_routes=[dict(name="network", team="Network Operations")],
          integration_categories=[dict(name="Network", team="network operations"), dict(name="Night", team="Night Shift")]),
     "integration_categories: unknown SIGNL4 team 'Night Shift'; known: Network Operations, Service Desk"),
])
def test_an_unknown_team_stops_the_run_before_any_write_naming_the_variable(tmp_path, manage, signl4, variables, problem):
    inventory = write_inventory(tmp_path, manage, signl4, **dict(MEMBER_KEYS, **AGENT, **variables))
    result = play(inventory)
    assert result.returncode == 2 and '"msg": ["%s"]' % problem in result.stdout, result.stdout[-3000:]  # the one problem
    assert manage.writes() == [] and signl4.writes() == []


@pytest.mark.parametrize("variables, problem", [
    (dict(integration_routes=[dict(name="network", team="Network Operations"), dict(name="key"),
                              dict(name="network", board="Network")]),
     "integration_routes: each route needs a name of its own; given more than once: network"),
    (dict(integration_categories=[dict(name="Network", team="Network Operations"), dict(name=" network ", team="NETWORK OPERATIONS")]),
     "integration_categories: each category (team and name, case ignored) once; given more than once: network operations: network"),
    (dict(integration_routes=[dict(name="network", teams="Network Operations")]), "teams. Supported parameters include"),
    (dict(integration_routes=[dict(name="network", alerting_scenario="loud")]), "alerting_scenario must be one of"),
])
def test_routes_or_categories_given_wrong_stop_the_run_before_any_api_call(tmp_path, manage, signl4, variables, problem):
    inventory = write_inventory(tmp_path, manage, signl4, **dict(MEMBER_KEYS, **AGENT, **variables))
    manage.clear_requests()
    signl4.clear_requests()
    result = play(inventory)
    assert result.returncode == 2 and problem in result.stdout, result.stdout[-3000:]
    assert manage.requests() == [] and signl4.requests() == []
