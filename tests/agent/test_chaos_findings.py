"""Defects the chaos suite (tests/bench/chaos.py) found, each pinned by a test that fails without its fix."""

import json

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import CancelledError
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import RetryPolicy

from tests.agent import support

from signl4_agent import inbound, intents


def _annotation_notification(signl4, ticket_id, delivery_id):
    alert = support.alerts(signl4, ticket_id)[0]
    annotation = alert["annotations"][-1]
    user = next(u for u in signl4.control("GET", "/state")["users"] if u["id"] == annotation["userId"])
    return dict(id=delivery_id, eventType=203, alert=dict(id=alert["id"], eventId=alert["eventId"],
                                                          externalEventId=str(ticket_id), statusCode=0),
                user=dict(username=user["name"], mailaddress=user["mail"], id=user["id"]),
                annotation=dict(message=annotation["text"], id=annotation["id"]))


def test_an_annotation_whose_webhook_was_lost_is_found_by_the_poll_once(make_agent, signl4, cw):
    """SIGNL4 retries an outbound webhook for about 1.4 s; an agent restarting after kill -9 takes
    longer, so the annotation's notification is lost. The SIGNL4 poll reads the annotations of
    the alerts modified since (their timeline) and writes the note; the late webhook adds nothing."""
    agent = make_agent(receiver=False, signl4={"poll_alerts": True})  # every webhook is lost
    ticket = support.cycled_ticket(agent, cw)
    support.act(signl4, "annotate", ticket["id"], text="Rebooting the switch")
    agent.cycle()
    notes = cw.list("/service/tickets/%d/notes" % ticket["id"])
    assert [n["text"].split("\n")[0] for n in notes] == ["Olivia Oncall (SIGNL4): Rebooting the switch"]
    # the same annotation's webhook arrives after all (a retry, a duplicate): nothing more is written
    body = _annotation_notification(signl4, ticket["id"], "late-delivery")
    inbound.accept_outbound(agent.store, json.dumps(body).encode())
    intents.run_pending(agent.ctx)
    agent.cycle()
    assert len(cw.list("/service/tickets/%d/notes" % ticket["id"])) == 1


def test_a_note_is_recognised_by_its_reference_whatever_its_text(make_agent, cw):
    """The webhook names the user, a polled annotation only has the user's id (the name is looked
    up, and may have changed or be unavailable): the reference alone says the note is there."""
    agent = make_agent(receiver=False)
    ticket = support.cycled_ticket(agent, cw)
    flags = dict(internalAnalysisFlag=True)
    intents.write_note(agent.ctx, ticket["id"], "Olivia Oncall (SIGNL4): on it", flags, reference="ann-1")
    intents.write_note(agent.ctx, ticket["id"], "SIGNL4 user (SIGNL4): on it", flags, reference="ann-1")
    assert len(cw.list("/service/tickets/%d/notes" % ticket["id"])) == 1


def test_a_fault_burst_met_by_callback_cycles_is_one_failure_and_the_full_cycle_covers_them(make_agent, manage, signl4, cw):
    """Each callback ran a cycle of its own and each failure doubled the back-off: one burst of
    502s met by a handful of callbacks put the agent's next full cycle minutes away (seen in the
    chaos suite: 15 failures within a second, the back-off at its 5-minute cap)."""
    agent = make_agent(receiver=False, poll_interval=10, retry=RetryPolicy(max_retries=1, sleep=lambda seconds: None))
    ids = [support.new_ticket(cw, summary="Burst %d" % n)["id"] for n in range(5)]
    manage.inject(502, count=1000)
    for ticket_id in ids:
        agent.wake_up(ticket_id)
    agent._run_requested()
    assert agent.failures == 1 and agent.backoff() == 10  # one poll interval, not 2 ** 4 of them
    assert agent.requested == set(ids)  # kept for later, not lost
    manage.clear_requests()
    agent._run_requested()  # backing off: nothing is tried before the next full cycle
    assert agent.failures == 1 and manage.requests() == []
    manage.control("DELETE", "/faults")
    agent.full_cycle()
    assert agent.failures == 0 and agent.requested == set()  # the full cycle looked at them all
    assert all(len(support.alerts(signl4, ticket_id)) == 1 for ticket_id in ids)


def test_after_sigterm_no_new_side_effect_starts(make_agent, signl4, cw):
    """SIGTERM set the agent's stop event, but a cycle went on through all its work (up to a hundred
    pending intents, every matching ticket): the chaos run's last agent did not stop within 15 s.
    Now no intent starts once stopping; what is left stays recorded for the next start."""
    agent = make_agent(receiver=False)
    ids = [support.new_ticket(cw, summary="Stopping %d" % n)["id"] for n in range(3)]
    agent.stopping.set()
    with pytest.raises(CancelledError):
        agent.cycle()
    assert support.alerts(signl4) == []
    assert [i["kind"] for i in agent.store.pending_intents()] == ["raise"]  # recorded, not lost
    agent.stopping.clear()  # the next start
    agent.cycle()
    assert all(len(support.alerts(signl4, ticket_id)) == 1 for ticket_id in ids)
