"""playbooks/site.yml with integration_routes and integration_categories, run with ansible-playbook against
both emulators: adding two routes to two teams to a provisioned agent-mode tenant creates one outbound webhook
per team and the categories the routes name (defined ones as defined, the others with their team's defaults);
a re-run changes and writes nothing; --check --diff shows a category edited in SIGNL4; back in connector mode
the routes' webhooks go; an unknown team stops the run before any write, naming the variable. Without routes
the role makes no call it did not make before."""

import re

import pytest

from tests.emulators.signl4 import DEFAULT_TEAM_ID, SECOND_TEAM_ID
from tests.integration.test_site import AGENT, MEMBER_KEYS, converge, play, recap, signl4_client, write_inventory

pytestmark = pytest.mark.slow  # every test here runs ansible-playbook

ROUTES = [
    dict(name="network", board="Network", team="Network Operations", service="network", alerting_scenario="multi_ack"),
    dict(name="key-customer", company=["Contoso", "Fabrikam"], priority="Priority 1 - Emergency Response",
         service="Key Customer", team_secret="NotReadByTheRole1"),
    dict(name="helpdesk", board="Service Desk"),  # the default team, no category
]
CATEGORIES = [dict(name="Network", team="network operations", color="#1F6FB2", image="network",
                   keywords=["switch", "router"], keyword_matching="all")]
WEBHOOK = "ConnectWise sync agent"


def categories(signl4, team):
    return {c["name"]: c for c in signl4_client(signl4).categories(team)}


def signl4_paths(signl4):
    return sorted({"%s %s" % (r["method"], r["path"]) for r in signl4.requests()})


def test_two_routes_to_two_teams_provision_two_webhooks_and_their_categories(tmp_path, manage, signl4):
    inventory, _first = converge(tmp_path, manage, signl4, **AGENT)
    manage.clear_requests()
    signl4.clear_requests()
    without_routes = play(inventory)
    assert without_routes.returncode == 0 and recap(without_routes)["changed"] == 0, without_routes.stdout[-3000:]
    before = signl4_paths(signl4)
    assert not [path for path in before if "/categories" in path] and manage.writes() == [] and signl4.writes() == []
    defaults = {team: categories(signl4, team) for team in (DEFAULT_TEAM_ID, SECOND_TEAM_ID)}

    inventory = write_inventory(tmp_path, manage, signl4, integration_routes=ROUTES,
                                integration_categories=CATEGORIES, **dict(MEMBER_KEYS, **AGENT))
    signl4.clear_requests()
    routed = play(inventory, args=["-v"])
    assert routed.returncode == 0, routed.stdout[-4000:]
    assert recap(routed)["changed"] == 2  # the loops: the second team's webhook; two categories
    assert "NotReadByTheRole1" not in routed.stdout + routed.stderr
    task = routed.stdout.split("TASK [signl4.connectwise.integration : Categories", 1)[1].split("TASK", 1)[0]
    # the definition, then the route's category without one; the route naming the defined one adds no task
    assert re.findall(r"=> \(item=([^)]*)\)", task) == ["network operations: Network", "Service Desk: Key Customer"], task
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
    task = drift.stdout.split("TASK [signl4.connectwise.integration : Categories", 1)[1].split("TASK", 1)[0]
    assert '-    "color": "#FF0000"' in task and '+    "color": "#1F6FB2"' in task, task
    assert signl4.writes() == []
    assert recap(play(inventory))["changed"] == 1 and categories(signl4, SECOND_TEAM_ID)["Network"]["color"] == "#1F6FB2"

    # Back to SIGNL4's connector: the routes' webhooks go with the default team's; the categories stay.
    back = play(write_inventory(tmp_path, manage, signl4, integration_routes=ROUTES, integration_categories=CATEGORIES,
                                integration_agent_url=AGENT["integration_agent_url"], **MEMBER_KEYS))
    assert back.returncode == 0, back.stdout[-3000:]
    assert signl4_client(signl4).webhooks() == [] and "Network" in categories(signl4, SECOND_TEAM_ID)


@pytest.mark.parametrize("variables, problem", [
    (dict(integration_routes=[dict(name="night", team="Night Shift", service="Night")]),
     "integration_routes: unknown SIGNL4 team 'Night Shift'; known: Network Operations, Service Desk"),
    (dict(integration_categories=[dict(name="Night", team="Night Shift")]),
     "integration_categories: unknown SIGNL4 team 'Night Shift'; known: Network Operations, Service Desk"),
])
def test_an_unknown_team_stops_the_run_before_any_write_naming_the_variable(tmp_path, manage, signl4, variables, problem):
    inventory = write_inventory(tmp_path, manage, signl4, **dict(MEMBER_KEYS, **AGENT, **variables))
    result = play(inventory)
    assert result.returncode == 2 and problem in result.stdout, result.stdout[-3000:]
    assert manage.writes() == [] and signl4.writes() == []
