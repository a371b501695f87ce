"""Defects the chaos suite (tests/bench/chaos.py) found, each pinned by a test that fails without its fix."""

import json

import pytest

from tests.agent import support

from signl4_agent import config as config_module
from signl4_agent import inbound, sync
from signl4_agent.agent import Agent


@pytest.fixture
def make_agent(tmp_path, provisioned):
    """An agent in process, without its receiver: SIGNL4's outbound webhooks reach nobody."""
    manage, signl4 = provisioned
    made = []

    def make(**overrides):
        made.append(Agent(config_module.validate(support.config(tmp_path, manage, signl4, **overrides), env={})))
        return made[-1]

    yield make
    for agent in made:
        agent.close()


def _annotation_notification(signl4, ticket_id, delivery_id):
    alert = support.alerts(signl4, ticket_id)[0]
    annotation = alert["annotations"][-1]
    user = next(u for u in signl4.control("GET", "/state")["users"] if u["id"] == annotation["userId"])
    return dict(id=delivery_id, eventType=203, alert=dict(id=alert["id"], eventId=alert["eventId"],
                                                          externalEventId=str(ticket_id), statusCode=0),
                user=dict(username=user["name"], mailaddress=user["mail"], id=user["id"]),
                annotation=dict(message=annotation["text"], id=annotation["id"]))


def test_an_annotation_whose_webhook_was_lost_is_found_by_the_poll_once(make_agent, provisioned, cw):
    """SIGNL4 retries an outbound webhook for about 1.4 s; an agent restarting after kill -9 takes
    longer, so the annotation's notification is lost. The SIGNL4 poll reads the annotations of
    the alerts modified since (their timeline) and writes the note; the late webhook adds nothing."""
    manage, signl4 = provisioned
    agent = make_agent(signl4={"poll_alerts": True})  # no receiver: every webhook is lost
    ticket = support.new_ticket(cw)
    agent.cycle()
    support.act(signl4, "annotate", ticket["id"], text="Rebooting the switch")
    agent.cycle()
    notes = cw.list("/service/tickets/%d/notes" % ticket["id"])
    assert [n["text"].split("\n")[0] for n in notes] == ["Olivia Oncall (SIGNL4): Rebooting the switch"]
    # the same annotation's webhook arrives after all (a retry, a duplicate): nothing more is written
    body = _annotation_notification(signl4, ticket["id"], "late-delivery")
    inbound.accept_outbound(agent.store, json.dumps(body).encode())
    sync.run_pending(agent.ctx)
    agent.cycle()
    assert len(cw.list("/service/tickets/%d/notes" % ticket["id"])) == 1


def test_a_note_is_recognised_by_its_reference_whatever_its_text(make_agent, provisioned, cw):
    """The webhook names the user, a polled annotation only has the user's id (the name is looked
    up, and may have changed or be unavailable): the reference alone says the note is there."""
    manage, signl4 = provisioned
    agent = make_agent()
    ticket = support.new_ticket(cw)
    agent.cycle()
    flags = dict(internalAnalysisFlag=True)
    sync.write_note(agent.ctx, ticket["id"], "Olivia Oncall (SIGNL4): on it", flags, reference="ann-1")
    sync.write_note(agent.ctx, ticket["id"], "SIGNL4 user (SIGNL4): on it", flags, reference="ann-1")
    assert len(cw.list("/service/tickets/%d/notes" % ticket["id"])) == 1
