"""``filters.boards`` and ``filters.priorities`` narrow what raises a Signl, for the workflow event and
the ``trigger_query`` alike. The trigger rule is made board-wide here (the seed's is scoped to the Service
Desk) and its new-ticket event selects "New" tickets too, so tickets on two boards match it."""

import functools

import pytest

from tests.agent import support


SERVICE_DESK, NETWORK = "Service Desk", "Network Operations"


@pytest.fixture
def make_agent(make_agent, cw):
    """The shared fixture's agents (without a receiver), the trigger rule made board-wide first."""
    rule = cw.list("/system/workflows", conditions='name = "SIGNL4 - Trigger Signls"')[0]
    cw.patch("/system/workflows/%d" % rule["id"], [{"op": "replace", "path": "board", "value": None}])
    event = [e for e in cw.list("/system/workflows/%d/events" % rule["id"]) if e["name"] == "New ticket"][0]
    cw.patch("/system/workflows/%d/events/%d" % (rule["id"], event["id"]), [
        {"op": "replace", "path": "eventCondition",
         "value": 'Signl4Retrieved_c = False AND status/name in ("New (not responded)", "New")'}])
    return functools.partial(make_agent, receiver=False)


def boards_paged(signl4, cw):
    return sorted({cw.get("/service/tickets/%s" % alert["externalId"])["board"]["name"] for alert in support.alerts(signl4)})


def test_without_filters_both_boards_page(make_agent, signl4, cw):
    support.new_ticket(cw, summary="Core switch down", board=NETWORK, status="New")
    make_agent().cycle()
    assert boards_paged(signl4, cw) == [NETWORK, SERVICE_DESK]


def test_the_boards_filter_pages_only_tickets_on_those_boards(make_agent, signl4, cw):
    agent = make_agent(filters={"boards": [NETWORK]})
    network = support.new_ticket(cw, summary="Core switch down", board=NETWORK, status="New")
    desk = support.new_ticket(cw, summary="Mouse broken", board=SERVICE_DESK)
    agent.cycle()
    assert len(support.alerts(signl4, network["id"])) == 1
    assert support.alerts(signl4, desk["id"]) == []
    assert boards_paged(signl4, cw) == [NETWORK]  # none of the seed's Service Desk tickets either
    assert support.custom(cw.get("/service/tickets/%d" % desk["id"]), "Signl4Retrieved_c") is not True


def test_both_filters_together(make_agent, signl4, cw):
    agent = make_agent(filters={"boards": [NETWORK, "Projects"], "priorities": ["Priority 1 - Emergency Response"]})
    urgent = support.new_ticket(cw, summary="Core switch down", board=NETWORK, status="New",
                                priority="Priority 1 - Emergency Response")
    support.new_ticket(cw, summary="Port flapping", board=NETWORK, status="New", priority="Priority 3 - Normal Response")
    support.new_ticket(cw, summary="Server room hot", board=SERVICE_DESK, priority="Priority 1 - Emergency Response")
    agent.cycle()
    assert [a["externalId"] for a in support.alerts(signl4)] == [str(urgent["id"])]


def test_the_filters_narrow_the_trigger_query_too(make_agent, signl4, cw):
    agent = make_agent(filters={"boards": [NETWORK]}, trigger_query={"conditions": 'summary like "URGENT*"'})
    network = support.new_ticket(cw, summary="URGENT: uplink down", board=NETWORK, status="In Progress")
    desk = support.new_ticket(cw, summary="URGENT: mail relay down", board=SERVICE_DESK, status="Assigned")
    agent.cycle()
    assert len(support.alerts(signl4, network["id"])) == 1
    assert support.alerts(signl4, desk["id"]) == []
