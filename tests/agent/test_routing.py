"""Routing Signls to several SIGNL4 teams: the first route that matches a ticket (board, company, priority, type,
status) names the team (its webhook secret), the category and the alerting scenario; the default route is
``signl4.*``. The route is chosen when the raise is recorded and kept: a ticket whose route changes later keeps
its Signl, a raise repeated after ``kill -9`` goes to the same team. Against both emulators over HTTP."""

import functools
import json
import os
import signal
import sqlite3

import pytest

from tests.agent import support
from tests.emulators.signl4.seed import DEFAULT_TEAM_ID, DEFAULT_TEAM_SECRET, SECOND_TEAM_ID, SECOND_TEAM_SECRET

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import ApiError

from signl4_agent import config as config_module
from signl4_agent import intents, routing
from signl4_agent.config import ConfigError, validate

P1, P2, P3 = "Priority 1 - Emergency Response", "Priority 2 - Quick Response", "Priority 3 - Normal Response"
NETWORK_BOARD = "Network Operations"
ROUTES = [
    dict(name="network", board=NETWORK_BOARD, team_secret=SECOND_TEAM_SECRET, service="ConnectWise",
         alerting_scenario="multi_ack"),
    dict(name="key-customer", company=["adventureworks", "Tailspin Toys"], priority=P1, team_secret_env="S4_NETOPS_SECRET"),
    dict(name="emergency", priority=[P1], alerting_scenario="emergency"),  # the default route's team
]
# the second trigger source brings the Network Operations board's new tickets (the seed's rules are the Service Desk's)
NETWORK_QUERY = {"conditions": 'board/name = "%s" AND status/name = "New"' % NETWORK_BOARD}


@pytest.fixture
def make_agent(make_agent):
    """The shared fixture's agents with ``ROUTES`` (one team secret from the environment) unless given."""
    return functools.partial(make_agent, env={"S4_NETOPS_SECRET": SECOND_TEAM_SECRET}, routes=ROUTES,
                             signl4={"service": "ConnectWise"})


def only_alert(signl4, ticket_id):
    raised = support.alerts(signl4, ticket_id)
    assert len(raised) == 1, raised
    return raised[0]


def category_name(signl4, alert):
    with support.signl4_client(signl4) as client:
        return next(c["name"] for c in client.categories(alert["teamId"]) if c["id"] == alert["categoryId"])


def raise_events(signl4):
    """The inbound events the agent sent, by external id: the team's secret in the path, and the body."""
    return {r["request_json"].get("X-S4-ExternalID"): (r["path"].rsplit("/", 1)[-1], r["request_json"])
            for r in signl4.requests() if r["path"].startswith("/webhook/") and r["status"] == 201}


# ----- which route ----------------------------------------------------------------------------------

def _router(routes, **signl4):
    raw = support.offline_config(routes=routes, signl4=dict(api_key="k", team_secret="default-secret", acting_user="u@example.com",
                                                            **signl4))
    return routing.Router(validate(raw, env={"TEAM_B": "from-env"}), {})


def _ticket(board="Service Desk", company=("Fabrikam", "Fabrikam, Inc."), priority=P2, kind=None, status="New (not responded)"):
    ticket = dict(id=1, board=dict(id=1, name=board), company=dict(id=2, identifier=company[0], name=company[1]),
                  priority=dict(id=3, name=priority), status=dict(id=4, name=status))
    if kind:
        ticket["type"] = dict(id=5, name=kind)
    return ticket


def test_the_first_route_that_matches_wins_each_key_by_name_case_insensitively():
    router = _router([
        dict(name="by-board", board=["network operations", "Data Center"], team_secret="b"),
        dict(name="by-company-id", company="northwind"),
        dict(name="by-company-name", company="  Wide World Importers "),
        dict(name="by-type-and-priority", type="Outage", priority=P1, team_secret_env="TEAM_B"),
        dict(name="by-status", status="Waiting on Client", service="Waiting", alerting_scenario="single_ack"),
        dict(name="by-priority", priority=[P1, "Priority 2 - QUICK response"]),
        dict(name="everything-else-of-projects", board="Projects"),
    ])
    choose = router.choose
    assert choose(_ticket(board="Network Operations", company=("Northwind", "Northwind Traders"))).name == "by-board"
    assert choose(_ticket(company=("Northwind", "Northwind Traders"))).name == "by-company-id"
    assert choose(_ticket(company=("WideWorld", "Wide World Importers"))).name == "by-company-name"
    assert choose(_ticket(kind="outage", priority=P1)).name == "by-type-and-priority"  # every key it gives must match
    assert choose(_ticket(kind="Outage", priority=P3, status="Waiting on Client")).name == "by-status"
    assert choose(_ticket(kind="Outage")).name == "by-priority"  # P2: by-type-and-priority's priority does not match
    assert choose(_ticket(priority=P3)).name == routing.DEFAULT_ROUTE
    assert choose(_ticket(board="Projects", priority=P1)).name == "by-priority"  # an earlier route wins
    assert choose({"id": 1, "board": "Network Operations", "company": None}).name == routing.DEFAULT_ROUTE  # malformed
    assert [(r.name, r.team_secret, r.service, r.alerting_scenario) for r in router.routes if r.name in (
        "by-board", "by-type-and-priority", "by-status", "by-priority", routing.DEFAULT_ROUTE)] == [
        ("by-board", "b", None, None), ("by-type-and-priority", "from-env", None, None),
        ("by-status", "default-secret", "Waiting", "single_ack"), ("by-priority", "default-secret", None, None),
        (routing.DEFAULT_ROUTE, "default-secret", None, None)]


def test_a_route_without_match_keys_catches_every_ticket_and_the_default_route_is_signl4s():
    router = _router([dict(name="p1", priority=P1), dict(name="all", team_secret="t")], service="Desk",
                     alerting_scenario="multi_ack")
    assert router.choose(_ticket(priority=P1)).name == "p1"
    assert router.choose(_ticket(board="Anything", priority="Whatever")).name == "all"
    default = _router([]).choose(_ticket())
    assert (default.name, default.team_secret) == (routing.DEFAULT_ROUTE, "default-secret")
    assert _router([], service="Desk", alerting_scenario="emergency").choose(_ticket()).service == "Desk"


# ----- against the emulators ----------------------------------------------------------------------------

def test_each_ticket_raises_its_signl_in_its_routes_team_with_its_category_and_scenario(make_agent, signl4, cw):
    agent = make_agent(trigger_query=NETWORK_QUERY)
    plain = support.new_ticket(cw, priority=P2)  # no route matches: the default route
    key_customer = support.new_ticket(cw, priority=P1, company="AdventureWorks")  # key-customer before emergency
    emergency = support.new_ticket(cw, priority=P1)
    network = support.new_ticket(cw, board=NETWORK_BOARD, status="New", priority=P1, company="Tailspin")
    agent.cycle()
    expected = {plain["id"]: (DEFAULT_TEAM_ID, DEFAULT_TEAM_SECRET, "ConnectWise", None, 2, "default"),
                key_customer["id"]: (SECOND_TEAM_ID, SECOND_TEAM_SECRET, "Default", None, 2, "key-customer"),
                emergency["id"]: (DEFAULT_TEAM_ID, DEFAULT_TEAM_SECRET, "Default", "emergency", 5, "emergency"),
                network["id"]: (SECOND_TEAM_ID, SECOND_TEAM_SECRET, "ConnectWise", "multi_ack", 4, "network")}
    sent = raise_events(signl4)
    for ticket_id, (team, secret, category, scenario, workflow, route) in expected.items():
        alert = only_alert(signl4, ticket_id)
        assert (alert["teamId"], category_name(signl4, alert), alert["workflowType"]) == (team, category, workflow)
        assert sent[str(ticket_id)][0] == secret and sent[str(ticket_id)][1].get("X-S4-AlertingScenario") == scenario
        assert agent.store.ticket(ticket_id)["route"] == route
        assert support.custom(cw.get("/service/tickets/%d" % ticket_id), "Signl4Retrieved_c") is True


def test_signls_of_two_teams_are_acknowledged_and_closed_both_ways(make_agent, signl4, cw):
    agent = make_agent()
    first = support.new_ticket(cw, priority=P2)  # the default route: Service Desk
    second = support.new_ticket(cw, priority=P1, company="Tailspin")  # key-customer: Network Operations
    agent.cycle()
    assert [only_alert(signl4, t["id"])["teamId"] for t in (first, second)] == [DEFAULT_TEAM_ID, SECOND_TEAM_ID]
    # SIGNL4 -> Manage for the first (a member of its team acknowledges), Manage -> SIGNL4 for the second
    support.act(signl4, "acknowledge", first["id"], user=support.OLIVIA)
    support.set_status(cw, second["id"], "In Progress")
    agent.cycle()
    support.settle(agent, signl4)
    assert cw.get("/service/tickets/%d" % first["id"])["status"]["name"] == "In Progress"
    assert only_alert(signl4, second["id"])["status"]["statusCode"] == 2
    # and the other way round for the close
    support.set_status(cw, first["id"], "Closed (resolved)")
    support.act(signl4, "close", second["id"], user="nick@example.com")
    agent.cycle()
    support.settle(agent, signl4)
    assert only_alert(signl4, first["id"])["status"]["statusCode"] == 4
    assert cw.get("/service/tickets/%d" % second["id"])["status"]["name"] == "Closed (resolved)"
    for ticket in (first, second):
        assert support.custom(cw.get("/service/tickets/%d" % ticket["id"]), "Signl4Status_c") == "Resolved"
    assert [agent.store.ticket(t["id"])["alert_status"] for t in (first, second)] == [4, 4]


def test_a_ticket_whose_route_changes_after_the_raise_keeps_its_signl_and_a_new_signl_is_routed_anew(
        make_agent, signl4, cw):
    agent = make_agent(reopen="new_signl")
    ticket = support.cycled_ticket(agent, cw, priority=P2, company="Northwind")
    first = only_alert(signl4, ticket["id"])
    assert first["teamId"] == DEFAULT_TEAM_ID and agent.store.ticket(ticket["id"])["route"] == "default"
    # the ticket now matches key-customer (Network Operations): nothing is raised again, its Signl stays where it is
    cw.patch("/service/tickets/%d" % ticket["id"], [
        {"op": "replace", "path": "company", "value": {"identifier": "Tailspin"}},
        {"op": "replace", "path": "priority", "value": {"name": P1}}])
    agent.cycle()
    agent.cycle()
    assert only_alert(signl4, ticket["id"])["id"] == first["id"]
    assert agent.store.ticket(ticket["id"])["route"] == "default"
    support.act_and_settle(agent, signl4, "close", ticket["id"])  # and it syncs as before
    assert cw.get("/service/tickets/%d" % ticket["id"])["status"]["name"] == "Closed (resolved)"
    # the ticket comes back: reopen new_signl raises a new Signl, routed by what the ticket is now
    support.set_status(cw, ticket["id"], "New (not responded)")
    agent.cycle()
    second = [a for a in support.alerts(signl4, ticket["id"]) if a["id"] != first["id"]]
    assert len(second) == 1 and second[0]["teamId"] == SECOND_TEAM_ID
    assert agent.store.ticket(ticket["id"])["route"] == "key-customer"


def test_a_raise_recorded_by_a_route_is_sent_by_it_even_when_the_route_changed_meanwhile(make_agent, signl4, cw):
    """The raise intent holds its route: a raise that failed (SIGNL4 down) and is repeated later goes to the team
    chosen when it was recorded, whatever the ticket has become."""
    agent = make_agent(filters={"entered_after": support.recent()})  # the seed's tickets raise nothing here
    ticket = support.new_ticket(cw, priority=P1, company="Tailspin")  # key-customer
    signl4.control("POST", "/faults", {"status": 503, "count": 50, "path": "^/webhook/"})
    assert not agent.safe(agent.cycle)
    assert support.alerts(signl4, ticket["id"]) == []
    cw.patch("/service/tickets/%d" % ticket["id"], [{"op": "replace", "path": "priority", "value": {"name": P3}}])
    signl4.control("DELETE", "/faults")
    agent.cycle()
    assert only_alert(signl4, ticket["id"])["teamId"] == SECOND_TEAM_ID
    assert agent.store.ticket(ticket["id"])["route"] == "key-customer"


def test_a_raise_recorded_before_routes_existed_or_by_a_route_since_removed_is_routed_when_sent(make_agent, signl4, cw):
    agent = make_agent()
    old = support.new_ticket(cw, priority=P1, company="Tailspin", status="Assigned")  # not selected by the trigger
    gone = support.new_ticket(cw, priority=P2, status="Assigned")
    agent.store.add_intent(intents.Raise(old["id"], 1))  # as an agent before routes recorded it
    agent.store.add_intent(intents.Raise(gone["id"], 1, "f00d", route="retired"))
    intents.run_pending(agent.ctx)
    assert only_alert(signl4, old["id"])["teamId"] == SECOND_TEAM_ID
    assert only_alert(signl4, gone["id"])["teamId"] == DEFAULT_TEAM_ID
    assert [agent.store.ticket(t["id"])["route"] for t in (old, gone)] == ["key-customer", "default"]
    assert agent.store.intent(intents.Raise(old["id"], 1).key)["payload"]["route"] == "key-customer"


def test_routing_adds_no_call_to_an_idle_cycle(make_agent, cw, tmp_path):
    calls = {}
    for routes in ([], ROUTES):
        agent = make_agent(receiver=False, routes=routes, state={"path": str(tmp_path / ("%d.db" % len(routes)))})
        agent.cycle()  # the seeded new tickets raise their Signls
        agent.cycle()
        before = agent.metrics.calls()
        for _unused in range(3):
            agent.cycle()
        calls[len(routes)] = agent.metrics.calls() - before
    assert calls[0] == calls[len(ROUTES)] > 0


def test_the_acting_user_reads_and_acts_only_on_the_signls_of_its_teams(make_agent, signl4, cw):
    """SIGNL4 answers a user who is not a member of the alert's team 403 (and leaves the alert out of the user's
    list): a route to a team without the acting user raises its Signl, but the agent cannot sync it, and says why."""
    signl4.control("POST", "/teams", {"name": "Security", "secret": "secops77", "members": [support.OLIVIA]})
    agent = make_agent(routes=[dict(name="security", company="Tailspin", team_secret="secops77")])
    ticket = support.cycled_ticket(agent, cw, company="Tailspin")
    alert = only_alert(signl4, ticket["id"])
    with support.signl4_client(signl4) as client:
        rene = client.user(support.ACTING_USER)["id"]
        with pytest.raises(ApiError) as refused:
            client.alert_details(alert["id"], user_id=rene)
        assert refused.value.status == 403
        assert list(client.alerts(user_id=rene, external_id=str(ticket["id"]))) == []
    support.set_status(cw, ticket["id"], "In Progress")
    agent.safe(agent.cycle)
    assert only_alert(signl4, ticket["id"])["status"]["statusCode"] == 1
    reasons = [q["reason"] for q in agent.store.quarantined()]
    assert any("signl4.acting_user must be a member of the route's team" in reason for reason in reasons), reasons
    report = agent.health()
    assert report["pending"] == 1


# ----- kill -9 -----------------------------------------------------------------------------------------------

def _attempted_raises(state_path):
    """The tickets whose raise intent has an attempt counted and is still pending (the agent counts the attempt
    before it sends), read-only."""
    if not os.path.exists(state_path):
        return set()
    with sqlite3.connect("file:%s?mode=ro" % state_path, uri=True) as db:
        try:
            return {row[0] for row in db.execute("SELECT ticket_id FROM intents WHERE kind = 'raise' AND attempts >= 1 "
                                                 "AND state = 'pending'")}
        except sqlite3.OperationalError:  # the agent is creating the schema
            return set()


@pytest.mark.slow  # agent processes killed and restarted
def test_kill_9_during_routed_raises_leaves_one_signl_per_ticket_in_its_routes_team(provisioned, cw, tmp_path):
    """The agent is killed while a raise is on the wire (SIGNL4 answers late, and takes the event), once for a ticket
    of each route; each restarted agent finds the Signl by its marker, in the team the route recorded with the raise
    names, and raises nothing twice."""
    manage, signl4 = provisioned
    port = support.free_port()
    routes = [ROUTES[0], dict(name="key-customer", company="AdventureWorks", team_secret=SECOND_TEAM_SECRET)]
    raw = support.config(tmp_path, manage, signl4, port=port, routes=routes, filters={"entered_after": support.recent()})
    path = support.write_config(tmp_path, raw)
    state = raw["state"]["path"]
    support.subscribe(signl4, "http://127.0.0.1:%d/signl4/%s" % (port, support.WEBHOOK_TOKEN))
    routed = support.new_ticket(cw, priority=P1, company="AdventureWorks")  # key-customer: Network Operations
    plain = support.new_ticket(cw, priority=P3)  # the default route: Service Desk
    signl4.control("POST", "/latency", {"seconds": 2.0})
    agent, killed = support.AgentProcess(path, port), []
    try:
        while len(killed) < 2:
            found = support.wait_for(lambda: _attempted_raises(state) - set(killed), timeout=60)
            assert found, agent.output()[-2000:]
            agent.proc.send_signal(signal.SIGKILL)  # its raise is on the wire: SIGNL4 takes it 2 s later
            agent.proc.wait(10)
            agent.log.close()
            killed.extend(sorted(found))
            agent = support.AgentProcess(path, port)
        assert support.wait_for(lambda: all(support.custom(cw.get("/service/tickets/%d" % t["id"]), "Signl4Retrieved_c")
                                            is True for t in (routed, plain)), timeout=90), agent.output()[-2000:]
    finally:
        signl4.control("POST", "/latency", {"seconds": 0})
        code, output = agent.stop()
    assert code == 0, output[-2000:]
    assert sorted(killed) == sorted([routed["id"], plain["id"]])
    assert [a["teamId"] for a in support.alerts(signl4, routed["id"])] == [SECOND_TEAM_ID]
    assert [a["teamId"] for a in support.alerts(signl4, plain["id"])] == [DEFAULT_TEAM_ID]
    with sqlite3.connect("file:%s?mode=ro" % state, uri=True) as db:
        routes = dict(db.execute("SELECT ticket_id, route FROM tickets"))
    assert routes == {routed["id"]: "key-customer", plain["id"]: "default"}


# ----- configuration ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, message", [
    (support.offline_config(routes={"a": 1}), "routes: expected list, got dict"),
    (support.offline_config(routes=["network"]), "routes[0]: expected a mapping"),
    (support.offline_config(routes=[dict(board="x")]), "routes[0].name: required"),
    (support.offline_config(routes=[dict(name="default")]), "routes[0].name: required"),
    (support.offline_config(routes=[dict(name="a b")]), "routes[0].name: required"),
    (support.offline_config(routes=[dict(name="a"), dict(name="a")]), "routes[1].name: a is the name of an earlier route"),
    (support.offline_config(routes=[dict(name="a"), dict(name="b"), dict(name="c", board=5)]),
     "routes[2].board: expected a name or a non-empty list of names"),
    (support.offline_config(routes=[dict(name="a", company=[])]), "routes[0].company: expected a name or a non-empty list of names"),
    (support.offline_config(routes=[dict(name="a", priority=["P1", ""])]), "routes[0].priority: expected a name or a non-empty list"),
    (support.offline_config(routes=[dict(name="a", status=" ")]), "routes[0].status: expected a name"),
    (support.offline_config(routes=[dict(name="a", colour="red")]), "routes[0].colour: unknown key; known: name, board, company"),
    (support.offline_config(routes=[dict(name="a", alerting_scenario="loud")]),
     "routes[0].alerting_scenario: 'loud' is not one of single_ack, multi_ack, emergency"),
    (support.offline_config(routes=[dict(name="a", service=7)]), "routes[0].service: expected str, got int"),
    (support.offline_config(routes=[dict(name="a", service="")]), "routes[0].service: must not be empty"),
    (support.offline_config(routes=[dict(name="a", team_secret_env="NOT_SET_ANYWHERE")]),
     "routes[0].team_secret_env: the environment variable NOT_SET_ANYWHERE is not set"),
    (support.offline_config(routes=[dict(name="a", team_secret_env="a-b")]), "routes[0].team_secret_env: expected the name of an"),
    (support.offline_config(routes=[dict(name="a", team_secret_file="/nonexistent/secret")]), "routes[0].team_secret_file: cannot read"),
    (support.offline_config(routes=[dict(name="a", team_secret="")]), "routes[0].team_secret: must not be empty"),
    (support.offline_config(signl4=dict(api_key="api-key-0001", team_secret="team-hook-0001", acting_user="o@x", alerting_scenario="x")),
     "signl4.alerting_scenario: 'x' is not one of"),
    # tenants: an entry's own routes are named with the entry; routes it takes from the top level, at the top level
    (support.offline_config(tenants=[dict(id="a"), dict(id="b", routes=[dict(name="r"), dict(name="s"), dict(name="t", board=[1])])]),
     "tenants[1].routes[2].board: expected a name"),
    (support.offline_config(routes=[dict(name="r", type={})], tenants=[dict(id="a")]), "routes[0].type: expected a name"),
])
def test_route_errors_name_the_key(raw, message):
    with pytest.raises(ConfigError) as caught:
        validate(raw, env={})
    assert str(caught.value).startswith(message), str(caught.value)


def test_route_secrets_come_from_the_file_the_environment_or_the_default_and_are_masked(tmp_path):
    secret_file = tmp_path / "route.secret"
    secret_file.write_text("from-a-file\n")
    config = validate(support.offline_config(routes=[dict(name="a", team_secret="given-secret"),
                                                     dict(name="b", team_secret_file=str(secret_file)),
                                                     dict(name="c", team_secret_env="ROUTE_C"), dict(name="d")]),
                      env={"ROUTE_C": "from-the-env"})
    assert [route["team_secret"] for route in config["routes"]] == ["given-secret", "from-a-file", "from-the-env", None]
    assert [route.team_secret for route in routing.routes(config)] == [
        "given-secret", "from-a-file", "from-the-env", "team-hook-0001", "team-hook-0001"]
    assert {"given-secret", "from-a-file", "from-the-env"} <= set(config_module.secrets(config))
    # a route's secret is masked in an error, wherever it ends up in the message
    with pytest.raises(ConfigError) as caught:
        validate(support.offline_config(routes=[dict(name="a", team_secret="hunter2hunter2", board="hunter2hunter2")],
                                        listen=dict(webhook_token="short")), env={})
    assert "hunter2hunter2" not in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        validate(support.offline_config(routes=[dict(name="a", team_secret_env="ROUTE_C", alerting_scenario="from-the-env")]),
                 env={"ROUTE_C": "from-the-env"})
    assert "from-the-env" not in str(caught.value)


def test_tenants_set_routes_at_the_top_level_or_each_their_own():
    config = validate(support.offline_config(routes=[dict(name="shared", board="Network Operations", team_secret="net-secret")],
                                             tenants=[dict(id="a"), dict(id="b", routes=[])]), env={})
    assert [[r.name for r in routing.routes(tenant)] for tenant in config["tenants"]] == [["shared", "default"], ["default"]]
    assert "net-secret" in config_module.secrets(config)


@pytest.mark.slow  # the agent as a process
def test_a_route_secret_appears_in_no_log_line_state_or_status(provisioned, cw, tmp_path):
    """A route whose team secret SIGNL4 does not know: the raise is refused (404 naming the secret) and the ticket
    quarantined; neither the log, the state file nor ``status`` shows the secret."""
    manage, signl4 = provisioned
    port = support.free_port()
    secret = "wrongteam9x"
    raw = support.config(tmp_path, manage, signl4, port=port, routes=[dict(name="lost", team_secret=secret)])
    path = support.write_config(tmp_path, raw)
    support.new_ticket(cw)
    agent = support.AgentProcess(path, port)
    try:
        assert agent.wait_ready()
        assert support.wait_for(lambda: "quarantined" in agent.output(), timeout=30), agent.output()[-2000:]
    finally:
        code, output = agent.stop()
    assert code == 0 and "An event source with ID" in output and secret not in output
    for name in (raw["state"]["path"], raw["state"]["path"] + "-wal"):
        if os.path.exists(name):
            with open(name, "rb") as handle:
                assert secret.encode() not in handle.read()
    status = support.cli("status", "--config", path, timeout=60)
    assert status.returncode == 0 and "quarantine" in json.loads(status.stdout)
    assert secret not in status.stdout + status.stderr
    assert support.alerts(signl4) == []
