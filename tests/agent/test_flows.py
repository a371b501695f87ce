"""Every flow of the sync end to end, against both emulators over real HTTP (the agent in process,
its receiver a real waitress server that the SIGNL4 emulator delivers to)."""

import json

import pytest

from tests.agent import support

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import ApiError

from signl4_agent import intents
from signl4_agent.manage import TicketDesk

ACK, CLOSED = 2, 4


def test_new_ticket_raises_one_signl_with_the_chosen_details(make_agent, signl4, cw):
    agent = make_agent(details=["company", "priority", "board"])
    ticket = support.cycled_ticket(agent, cw)
    agent.cycle()
    raised = support.alerts(signl4, ticket["id"])
    assert len(raised) == 1
    params = dict((p["name"], p["value"]) for p in raised[0]["parameters"])
    assert params["Company"] == "Fabrikam, Inc."
    assert params["Priority"] == "Priority 2 - Quick Response"
    assert params["Board"] == "Service Desk"
    assert "Contact" not in params
    assert raised[0]["title"].startswith("Ticket #%d: Disk full" % ticket["id"])
    assert support.custom(cw.get("/service/tickets/%d" % ticket["id"]), "Signl4Retrieved_c") is True
    # the seeded "New (not responded)" tickets raise theirs too, once each
    assert len(support.alerts(signl4)) == len({a["externalId"] for a in support.alerts(signl4)})


def test_notes_tasks_and_contact_details(make_agent, signl4, cw):
    agent = make_agent(details=["contact", "notes", "tasks", "configurations"])
    ticket = support.new_ticket(cw, status="Assigned")  # not selected yet: notes and tasks first
    path = "/service/tickets/%d" % ticket["id"]
    cw.create(path + "/notes", {"text": "Customer says the disk filled overnight", "detailDescriptionFlag": True})
    cw.create(path + "/tasks", {"notes": "Extend the volume"})
    cw.create(path + "/tasks", {"notes": "Check the backup job", "closedFlag": True})
    support.set_status(cw, ticket["id"], "New (not responded)")
    agent.cycle()
    raised = support.alerts(signl4, ticket["id"])[0]
    params = dict((p["name"], p["value"]) for p in raised["parameters"])
    assert params["Contact"] == "Megan Bowen"
    assert params["Notes"] == "Customer says the disk filled overnight"
    assert params["Tasks"] == "[ ] Extend the volume\n[x] Check the backup job"
    assert "Configurations" not in params  # none linked (and no such endpoint in the emulator): left out
    assert "Company" not in params
    assert "Tasks: [ ] Extend the volume" in raised["text"]


def test_manage_status_acknowledges_then_closes_the_signl_without_echo(make_agent, signl4, cw):
    agent = make_agent()
    ticket = support.cycled_ticket(agent, cw)
    support.set_status(cw, ticket["id"], "In Progress")
    agent.cycle()
    support.settle(agent, signl4)
    alert = support.alerts(signl4, ticket["id"])[0]
    assert alert["status"]["statusCode"] == ACK
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert support.custom(current, "Signl4Status_c") == "Acknowledged"
    assert current["status"]["name"] == "In Progress"  # the echo of the agent's own acknowledge changed nothing
    support.set_status(cw, ticket["id"], "Closed (resolved)")
    agent.cycle()
    support.settle(agent, signl4)
    assert support.alerts(signl4, ticket["id"])[0]["status"]["statusCode"] == CLOSED
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert support.custom(current, "Signl4Status_c") == "Resolved"
    assert current["status"]["name"] == "Closed (resolved)"
    ack_posts = [r for r in signl4.requests() if r["method"] == "POST" and r["path"].endswith("/acknowledge")]
    assert len(ack_posts) == 1
    # both echoes (201 acknowledged, 201 closed by the acting user) arrived and were not transitions: stale by
    # the store, decided without reading the alert
    assert agent.metrics.deliveries.labels(source="signl4", outcome="ignored")._value.get() >= 2
    assert not [r for r in signl4.requests() if r["path"].endswith("/details")]
    for kind in ("acknowledge", "close"):
        assert agent.metrics.transitions.labels(direction="signl4_to_manage", kind=kind)._value.get() == 0
        assert agent.metrics.transitions.labels(direction="manage_to_signl4", kind=kind)._value.get() == 1


def test_signl_acknowledged_in_signl4_sets_status_and_owner(make_agent, signl4, cw):
    member = support.member_with_email(cw, "asmith", support.OLIVIA)
    agent = make_agent(owner_assignment="acknowledge")
    ticket = support.cycled_ticket(agent, cw)
    support.act_and_settle(agent, signl4, "acknowledge", ticket["id"])
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert current["status"]["name"] == "In Progress"  # the action of "Signl acknowledged"
    assert current["owner"]["id"] == member["id"]
    assert support.custom(current, "Signl4Status_c") == "Acknowledged"
    assert support.custom(current, "Signl4User_c") == support.OLIVIA
    # the ticket now matches no Update Signls event: the next cycle sends nothing back to SIGNL4
    signl4.clear_requests()
    agent.cycle()
    assert not [r for r in signl4.requests() if r["method"] == "POST"]
    support.act_and_settle(agent, signl4, "close", ticket["id"])
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert current["status"]["name"] == "Closed (resolved)"
    assert current["owner"]["id"] == member["id"]  # owner_assignment=acknowledge: the close leaves it
    assert agent.metrics.transitions.labels(direction="signl4_to_manage", kind="close")._value.get() == 1


def test_unmatched_email_leaves_the_owner_and_is_reported(make_agent, signl4, cw):
    agent = make_agent(owner_assignment="both")
    ticket = support.cycled_ticket(agent, cw)
    support.act_and_settle(agent, signl4, "acknowledge", ticket["id"])
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert current["status"]["name"] == "In Progress"
    assert "owner" not in current
    assert agent.metrics.errors.labels(kind="owner_unmatched")._value.get() == 1


def test_status_mapping_switched_off_changes_nothing_in_manage(make_agent, signl4, cw):
    agent = make_agent(status_mappings={"signl4_acknowledge": False})
    ticket = support.cycled_ticket(agent, cw)
    support.act_and_settle(agent, signl4, "acknowledge", ticket["id"])
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert current["status"]["name"] == "New (not responded)"
    assert support.custom(current, "Signl4Status_c") is None


def test_duplicate_and_out_of_order_webhooks_change_nothing_twice(make_agent, manage, signl4, cw):
    agent = make_agent()
    signl4.control("POST", "/outbound", {"duplicates": 3})
    ticket = support.cycled_ticket(agent, cw)
    alert = support.alerts(signl4, ticket["id"])[0]
    support.act_and_settle(agent, signl4, "close", ticket["id"])
    assert cw.get("/service/tickets/%d" % ticket["id"])["status"]["name"] == "Closed (resolved)"
    manage.clear_requests()
    # a late acknowledgement (older than the close) arrives afterwards, twice, with fresh ids
    url = "%s/signl4/%s" % (agent.url, support.WEBHOOK_TOKEN)
    for number in range(2):
        stale = {"id": "late-%d" % number, "eventType": 201, "eventRaisedUtc": "2026-01-01T00:00:00Z",
                 "alert": {"id": alert["id"], "eventId": alert["eventId"], "externalEventId": str(ticket["id"]),
                           "statusCode": 2}, "user": {"id": "x", "username": "Olivia", "mailaddress": support.OLIVIA}}
        assert support.post(url, stale)[0] == 200
    intents.run_pending(agent.ctx)
    assert cw.get("/service/tickets/%d" % ticket["id"])["status"]["name"] == "Closed (resolved)"
    assert not manage.writes()
    transitions = [r for r in agent.store.counts()["intents"].items() if r[0].startswith("manage_status/done")]
    assert transitions == [("manage_status/done", 1)]


def test_wrong_token_and_non_alert_events_change_nothing(make_agent, manage, signl4, cw):
    agent = make_agent()
    ticket = support.cycled_ticket(agent, cw)
    alert = support.alerts(signl4, ticket["id"])[0]
    before = agent.store.counts()
    manage.clear_requests()
    close = {"id": "n-1", "eventType": 201, "alert": {"id": alert["id"], "eventId": alert["eventId"],
                                                      "externalEventId": str(ticket["id"]), "statusCode": 4}}
    assert support.post("%s/signl4/%s" % (agent.url, "wrong-token-0123456789"), close)[0] == 404
    assert support.post("%s/signl4" % agent.url, close)[0] == 404
    assert support.post("%s/manage/%s/callback" % (agent.url, support.WEBHOOK_TOKEN), close)[0] == 404
    url = "%s/signl4/%s" % (agent.url, support.WEBHOOK_TOKEN)
    team = {"id": "5b0b1a5e-0000-4000-8000-00000000a001"}
    others = [{"eventType": 202, "team": team, "alert": dict(close["alert"], statusCode=1)},
              {"eventType": 300, "team": team}, {"eventType": 301, "team": team},
              {"eventType": 302, "team": team, "user": {"id": "u"}}, {"eventType": 303, "team": team, "user": {"id": "u"}},
              {"eventType": 201, "alert": dict(close["alert"], externalEventId="999999")},  # not our Signl
              {"eventType": 201, "alert": dict(close["alert"], externalEventId="INC-7")}]  # another system's
    for number, event in enumerate(others):
        status, body = support.post(url, dict(event, id="other-%d" % number, eventRaisedUtc="2026-01-01T00:00:00Z"))
        assert (status, body["outcome"]) == (200, "ignored")
    intents.run_pending(agent.ctx)
    assert agent.store.counts() == before
    assert not manage.writes()


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", json.dumps({"id": 5, "eventType": 201}).encode(),
                                  json.dumps({"id": "x", "eventType": "201"}).encode(),
                                  json.dumps({"id": "x", "eventType": 201, "alert": "nope"}).encode(),
                                  json.dumps({"id": "x", "eventType": 203, "alert": {"id": "a", "externalEventId": "1"},
                                              "annotation": {"id": 3}}).encode()])
def test_malformed_outbound_requests_answer_4xx_and_write_nothing(make_agent, cw, body):
    agent = make_agent()
    ticket = support.cycled_ticket(agent, cw)
    body = body.replace(b'"1"', ('"%d"' % ticket["id"]).encode())
    before = agent.store.counts()
    status = support.post("%s/signl4/%s" % (agent.url, support.WEBHOOK_TOKEN), body)[0]
    assert 400 <= status < 500
    assert agent.store.counts() == before


def test_huge_body_is_refused(make_agent):
    agent = make_agent()
    status = support.post("%s/signl4/%s" % (agent.url, support.WEBHOOK_TOKEN), b"{" + b" " * 200000 + b"}")[0]
    assert status == 413
    assert agent.store.counts()["deliveries"] == 0


def _close_and_reenter(agent, signl4, cw):
    ticket = support.cycled_ticket(agent, cw)
    support.act_and_settle(agent, signl4, "close", ticket["id"])
    assert cw.get("/service/tickets/%d" % ticket["id"])["status"]["name"] == "Closed (resolved)"
    support.set_status(cw, ticket["id"], "New (not responded)")  # the ticket re-enters the trigger
    agent.cycle()
    agent.cycle()
    support.settle(agent, signl4)
    return ticket, cw.get("/service/tickets/%d" % ticket["id"])


def test_reopen_new_signl_raises_a_second_signl_once(make_agent, signl4, cw):
    agent = make_agent(reopen="new_signl")
    ticket, current = _close_and_reenter(agent, signl4, cw)
    raised = sorted(support.alerts(signl4, ticket["id"]), key=lambda a: a["history"]["created"])
    assert [a["status"]["statusCode"] for a in raised] == [CLOSED, 1]
    assert support.custom(current, "Signl4Status_c") == ""
    # the new Signl syncs like the first: acknowledged in SIGNL4 -> ticket In Progress
    support.act_and_settle(agent, signl4, "acknowledge", ticket["id"])
    assert cw.get("/service/tickets/%d" % ticket["id"])["status"]["name"] == "In Progress"
    assert len(support.alerts(signl4, ticket["id"])) == 2


def test_reopen_policy_reopen_undoes_the_close(make_agent, signl4, cw):
    agent = make_agent(reopen="reopen")
    ticket, current = _close_and_reenter(agent, signl4, cw)
    raised = support.alerts(signl4, ticket["id"])
    assert [a["status"]["statusCode"] for a in raised] == [1]
    assert support.custom(current, "Signl4Status_c") == ""
    support.act_and_settle(agent, signl4, "close", ticket["id"])
    assert cw.get("/service/tickets/%d" % ticket["id"])["status"]["name"] == "Closed (resolved)"


def test_reopen_policy_ignore_changes_nothing(make_agent, signl4, cw):
    agent = make_agent(reopen="ignore")
    ticket, current = _close_and_reenter(agent, signl4, cw)
    assert [a["status"]["statusCode"] for a in support.alerts(signl4, ticket["id"])] == [CLOSED]
    assert support.custom(current, "Signl4Status_c") == "Resolved"
    assert current["status"]["name"] == "New (not responded)"


def test_priority_filter_excludes_tickets(make_agent, signl4, cw):
    agent = make_agent(filters={"priorities": ["Priority 1 - Emergency Response"]})
    low = support.new_ticket(cw, summary="Mouse broken", priority="Priority 3 - Normal Response")
    high = support.new_ticket(cw, summary="Core switch down", priority="Priority 1 - Emergency Response")
    agent.cycle()
    assert support.alerts(signl4, low["id"]) == []
    assert len(support.alerts(signl4, high["id"])) == 1
    assert support.custom(cw.get("/service/tickets/%d" % low["id"]), "Signl4Retrieved_c") is not True


def test_rest_query_is_a_second_trigger_source(make_agent, signl4, cw):
    agent = make_agent(trigger_query={"conditions": 'summary like "URGENT*"'})
    ticket = support.cycled_ticket(agent, cw, summary="URGENT: mail relay down", status="Assigned")
    agent.cycle()
    assert len(support.alerts(signl4, ticket["id"])) == 1


def test_polling_signl4_applies_what_no_webhook_delivered(make_agent, signl4, cw):
    member = support.member_with_email(cw, "bjones", support.OLIVIA)
    agent = make_agent(receiver=False, signl4={"poll_alerts": True}, owner_assignment="both")
    ticket = support.cycled_ticket(agent, cw)
    support.act(signl4, "acknowledge", ticket["id"])
    agent.cycle()
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert current["status"]["name"] == "In Progress"
    assert current["owner"]["id"] == member["id"]
    # the agent's own close comes back in the next poll; it is not a new transition
    support.set_status(cw, ticket["id"], "Closed (resolved)")
    agent.cycle()
    agent.cycle()
    assert support.alerts(signl4, ticket["id"])[0]["status"]["statusCode"] == CLOSED
    assert agent.metrics.transitions.labels(direction="signl4_to_manage", kind="close")._value.get() == 0


def test_annotation_becomes_one_note_with_the_configured_flags(make_agent, manage, signl4, cw):
    agent = make_agent(notes={"internal_analysis": False, "detail_description": True, "resolution": True})
    signl4.control("POST", "/outbound", {"duplicates": 2})
    ticket = support.cycled_ticket(agent, cw)
    support.act_and_settle(agent, signl4, "annotate", ticket["id"], text="On my way to the data centre")
    agent.cycle()
    # its intent's first attempt reads none of the ticket's notes: nothing it writes can be there yet
    notes_path = "/service/tickets/%d/notes" % ticket["id"]
    assert [r["method"] for r in manage.requests() if r["path"].endswith(notes_path)] == ["POST"]
    notes = cw.list(notes_path)
    assert len(notes) == 1
    assert notes[0]["text"].startswith("Olivia Oncall (SIGNL4): On my way to the data centre")
    assert (notes[0]["detailDescriptionFlag"], notes[0]["internalAnalysisFlag"], notes[0]["resolutionFlag"]) == \
        (True, False, True)
    # a crash after the POST and before the intent was marked done: the retry finds the note
    intent = agent.store.intent("note:" + notes[0]["text"].split("ref ")[1].rstrip("]"))
    agent.store.update_intent(intent["id"], state="pending")
    intents.run_pending(agent.ctx)
    assert len(cw.list("/service/tickets/%d/notes" % ticket["id"])) == 1


def test_callbacks_with_a_bad_signature_or_foreign_key_url_change_nothing(make_agent, manage, cw):
    agent = make_agent()
    ticket = support.new_ticket(cw)
    url = "%s/manage/%s/callback?recordId=%d" % (agent.url, support.CALLBACK_TOKEN, ticket["id"])
    cases = [({"Type": "ticket", "ID": ticket["id"], "Metadata": {"key_url": manage.url + "/x"}}, "bm90IGl0"),
             ({"Type": "ticket", "ID": ticket["id"], "Metadata": {"key_url": "http://evil.example/key"}}, "bm90IGl0"),
             ({"Type": "ticket", "ID": ticket["id"]}, "bm90IGl0"),
             ({"Type": "ticket", "ID": ticket["id"], "Metadata": {"key_url": manage.url}}, None),
             (b"not json", "bm90IGl0"), ({"Type": "ticket", "ID": ticket["id"], "Metadata": "x"}, "bm90IGl0")]
    for body, signature in cases:
        status = support.post(url, body, {"x-content-signature": signature} if signature else {})[0]
        assert status in (400, 401)
    assert agent.requested == set()
    assert not agent.wake.is_set()


def test_a_signed_callback_starts_a_cycle_for_its_ticket(make_agent, manage, signl4, cw):
    agent = make_agent()
    cw.create("/system/callbacks", {"url": "%s/manage/%s/callback?recordId=" % (agent.url, support.CALLBACK_TOKEN),
                                    "objectId": 1, "type": "ticket", "level": "owner", "description": "agent"})
    ticket = support.new_ticket(cw)
    manage.control("POST", "/callbacks/drain", {"timeout": 10})
    # the first callback waits for its key (the verifier thread reads it), the next one is verified at once
    assert support.wait_for(lambda: agent.requested == {ticket["id"]})
    agent._run_requested()
    assert len(support.alerts(signl4, ticket["id"])) == 1
    assert agent.metrics.deliveries.labels(source="manage", outcome="accepted")._value.get() >= 1
    support.set_status(cw, ticket["id"], "Assigned")
    manage.control("POST", "/callbacks/drain", {"timeout": 10})
    assert agent.requested == {ticket["id"]}


def test_every_non_alert_event_type_from_signl4_is_answered_and_ignored(make_agent, manage, signl4, cw):
    """Escalation, duty and punch notifications as the SIGNL4 emulator sends them."""
    agent = make_agent()
    ticket = support.cycled_ticket(agent, cw)
    support.settle(agent, signl4)
    before = agent.store.counts()
    manage.clear_requests()
    signl4.control("POST", "/outbound/drain", {"timeout": 10})
    sent = len(signl4.control("GET", "/outbound")["deliveries"])
    signl4.control("POST", "/emit", {"eventType": 202, "external_id": str(ticket["id"])})
    for event_type in (300, 301):
        signl4.control("POST", "/emit", {"eventType": event_type})
    for event_type in (302, 303):
        signl4.control("POST", "/emit", {"eventType": event_type, "user": support.OLIVIA, "whole_seconds": True})
    support.settle(agent, signl4)
    deliveries = signl4.control("GET", "/outbound")["deliveries"][sent:]
    assert sorted(d["payload"]["eventType"] for d in deliveries) == [202, 300, 301, 302, 303]
    assert all(d["status"] == 200 for d in deliveries)  # answered 2xx at once: SIGNL4 does not retry
    assert agent.store.counts() == before
    assert not manage.writes()


def test_a_rule_note_that_failed_after_the_ticket_patch_is_written_by_the_retry(make_agent, manage, signl4, cw):
    """The transition's PATCH carries the status field, so a retry finds the ticket updated; the rule's notes,
    written after the PATCH, must still be written (once)."""
    rule = cw.list("/system/workflows", conditions='name = "SIGNL4 - Update CW Tickets"')[0]
    event = next(e for e in cw.list("/system/workflows/%d/events" % rule["id"]) if e["name"] == "Signl acknowledged")
    add_note = cw.list("/system/workflows/notifyTypes", conditions='name = "Add Note"')[0]
    cw.create("/system/workflows/%d/events/%d/actions" % (rule["id"], event["id"]),
              {"notifyType": {"id": add_note["id"]}, "notes": "Acknowledged in SIGNL4", "internalNotesFlag": True})
    agent = make_agent()
    ticket = support.cycled_ticket(agent, cw)
    manage.inject(500, count=1, method="POST", path="/notes$")
    with pytest.raises(ApiError):
        support.act_and_settle(agent, signl4, "acknowledge", ticket["id"])
    assert cw.get("/service/tickets/%d" % ticket["id"])["status"]["name"] == "In Progress"
    assert cw.list("/service/tickets/%d/notes" % ticket["id"]) == []
    intents.run_pending(agent.ctx)  # the retry
    intents.run_pending(agent.ctx)  # and nothing more
    notes = cw.list("/service/tickets/%d/notes" % ticket["id"])
    assert [note["text"].splitlines()[0] for note in notes] == ["Acknowledged in SIGNL4"]
    assert notes[0]["internalAnalysisFlag"] is True
    # the first attempt wrote without reading the notes; the retry read them first (its note may have been written)
    by_agent = [(r["method"], r["status"]) for r in manage.requests() if r["path"].endswith("/tickets/%d/notes" % ticket["id"])
                and r["headers"].get("user-agent", "").startswith("signl4-agent")]
    assert by_agent == [("POST", 500), ("GET", 200), ("POST", 201)]


def test_a_rule_read_without_its_actions_does_not_stand_in_for_one_read_with_them(provisioned, cw):
    desk = TicketDesk(cw, config={})
    plain = desk.rule("SIGNL4 - Update CW Tickets")
    assert all("actions" not in event for event in plain["events"])
    full = desk.rule("SIGNL4 - Update CW Tickets", with_actions=True)
    assert [action["notifyType"]["name"] for event in full["events"] for action in event["actions"]] == \
        ["Update Status", "Update Status"]
    assert desk.rule("SIGNL4 - Update CW Tickets") is plain  # each read once per RULES_TTL
