"""One bad record must not stop the sync of all others: an intent that keeps failing with a 5xx for
its own ticket waits (with its ticket's later intents) while the other tickets go on; an outage,
where the next intent fails too, still ends the cycle."""

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import ApiError

from tests.agent import support


@pytest.fixture
def agent(make_agent):
    return make_agent(receiver=False, signl4={"poll_alerts": True})


def notes(cw, ticket_id):
    return cw.list("/service/tickets/%d/notes" % ticket_id)


def test_a_note_that_keeps_failing_for_one_ticket_does_not_hold_up_the_others(agent, provisioned, cw):
    manage, signl4 = provisioned
    stuck = support.cycled_ticket(agent, cw, summary="Its notes answer 500")
    support.act(signl4, "annotate", stuck["id"], text="Rebooting the switch")
    manage.control("POST", "/faults", {"status": 500, "count": 10000, "method": "POST",
                                       "path": "/service/tickets/%d/notes$" % stuck["id"]})
    with pytest.raises(ApiError):
        agent.cycle()  # the first failure of a fresh intent may be an outage: the cycle ends
    waiting = support.new_ticket(cw, summary="Raised although another ticket's note fails")
    agent.cycle()  # the note fails again, the next intents go through: that ticket's problem only
    assert len(support.alerts(signl4, waiting["id"])) == 1
    assert notes(cw, stuck["id"]) == []
    manage.control("DELETE", "/faults")
    agent.cycle()
    assert [n["text"].split("\n")[0] for n in notes(cw, stuck["id"])] == ["Olivia Oncall (SIGNL4): Rebooting the switch"]
    agent.cycle()
    assert len(notes(cw, stuck["id"])) == 1 and len(support.alerts(signl4, waiting["id"])) == 1


def test_an_outage_still_ends_the_cycle(agent, provisioned, cw):
    manage, signl4 = provisioned
    first, second = support.new_ticket(cw, summary="One"), support.new_ticket(cw, summary="Two")
    agent.cycle()
    for ticket in (first, second):
        support.act(signl4, "annotate", ticket["id"], text="Looking")
    manage.control("POST", "/faults", {"status": 503, "count": 10000, "method": "POST", "path": "/notes$"})
    for unused in range(2):  # until both notes have failed once
        with pytest.raises(ApiError):
            agent.cycle()
    manage.clear_requests()
    with pytest.raises(ApiError):
        agent.cycle()  # both notes fail again: two failures in a row are an outage, the cycle ends there
    posts = [r for r in manage.requests() if r["method"] == "POST" and r["path"].endswith("/notes")]
    assert len(posts) == 2
