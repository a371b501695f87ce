"""Escalations on the ticket (``escalations``): when SIGNL4 escalates a Signl (202: to the manager, to another team)
or nobody acknowledges it within ``unacknowledged_after``, the ticket gets a note (who, which team, when) and
optionally the configured priority; exactly once each, and only as SIGNL4's API shows it. Against both emulators
over HTTP; the timeout on a clock the test moves."""

import json
import signal
import time

import pytest

from tests.agent import support
from tests.support.clock import Clock  # the timeout is measured on it
from tests.emulators.signl4.seed import SECOND_TEAM_ID

from signl4_agent import intents
from signl4_agent.config import ConfigError, validate

P1, P3 = "Priority 1 - Emergency Response", "Priority 3 - Normal Response"
ON = dict(enabled=True, priority=P1)
REFERENCE = "[SIGNL4 ref "


def escalation_notes(cw, ticket_id):
    """The ticket's notes the agent wrote for escalations."""
    return [note for note in cw.list("/service/tickets/%d/notes" % ticket_id)
            if note["text"].startswith("SIGNL4: the Signl was") and REFERENCE in note["text"]]


def priority(cw, ticket_id):
    return cw.get("/service/tickets/%d" % ticket_id)["priority"]["name"]


def escalate(signl4, ticket_id, to="manager", team=None):
    body = {"external_id": str(ticket_id), "to": to}
    if team:
        body["team"] = team
    return signl4.control("POST", "/escalate", body)


def details_reads(signl4):
    return [r for r in signl4.requests() if r["path"].endswith("/details")]


def test_each_escalation_signl4_shows_writes_one_note_and_sets_the_priority(make_agent, manage, signl4, cw):
    agent = make_agent(escalations=ON)
    signl4.control("POST", "/outbound", {"duplicates": 2})  # SIGNL4 delivers at least once
    ticket = support.cycled_ticket(agent, cw, priority=P3)
    entry = escalate(signl4, ticket["id"])  # to the manager of the Signl's team
    support.settle(agent, signl4)
    notes = escalation_notes(cw, ticket["id"])
    assert len(notes) == 1, notes
    day, moment = entry["timestamp"][:10], entry["timestamp"][11:19]
    assert notes[0]["text"].splitlines()[0] == ("SIGNL4: the Signl was escalated to the manager of team Service Desk at "
                                                "%s %s UTC. Priority set to %s." % (day, moment, P1))
    assert (notes[0]["internalAnalysisFlag"], notes[0]["detailDescriptionFlag"]) == (True, False)
    assert priority(cw, ticket["id"]) == P1
    # someone lowers the priority; SIGNL4 escalates again, to another team: a second note, the priority again
    cw.patch("/service/tickets/%d" % ticket["id"], [{"op": "replace", "path": "priority", "value": {"name": P3}}])
    escalate(signl4, ticket["id"], to="team", team="Network Operations")
    support.settle(agent, signl4)
    notes = escalation_notes(cw, ticket["id"])
    assert len(notes) == 2 and "escalated to team Network Operations at" in notes[1]["text"]
    assert priority(cw, ticket["id"]) == P1
    # the ticket has the priority already: the note alone
    manage.clear_requests()
    escalate(signl4, ticket["id"])
    support.settle(agent, signl4)
    assert len(escalation_notes(cw, ticket["id"])) == 3
    assert [r["method"] for r in manage.writes()] == ["POST"]
    # every notification once more (new ids): nothing more
    deliveries = list({d["payload"]["id"]: d["payload"] for d in signl4.control("GET", "/outbound")["deliveries"]
                       if d["payload"]["eventType"] == 202}.values())
    assert len(deliveries) == 3 and deliveries[1]["team"] == {"id": SECOND_TEAM_ID}
    manage.clear_requests()
    for delivery in deliveries:
        answer = support.post(agent.url + support.WEBHOOK_PATH, dict(delivery, id=delivery["id"] + "-again"))
        assert answer == (200, {"outcome": "accepted"})  # a hint: SIGNL4 is asked again
    intents.run_pending(agent.ctx)
    assert len(escalation_notes(cw, ticket["id"])) == 3 and not manage.writes()
    assert agent.store.counts()["intents"]["escalation/done"] == 3
    assert agent.metrics.escalations.labels(kind="manager")._value.get() == 2
    assert agent.metrics.escalations.labels(kind="team")._value.get() == 1


def test_the_202_reaches_the_subscription_of_the_team_escalated_to(make_agent, signl4, cw):
    """Outbound webhooks per team (as the integration role provisions them): the Network Operations subscription
    alone hears of a Service Desk Signl escalated to Network Operations."""
    agent = make_agent(receiver=False, escalations=ON)
    server = agent._start_server()
    try:
        with support.signl4_client(signl4) as client:
            client.create_webhook({"name": "netops", "teamId": SECOND_TEAM_ID, "extUrl": "http://127.0.0.1:%s/signl4/%s"
                                   % (server.effective_port, support.WEBHOOK_TOKEN)})
        ticket = support.new_ticket(cw, priority=P3)
        agent.cycle()
        escalate(signl4, ticket["id"])  # to the manager of Service Desk: not Network Operations' business
        support.settle(agent, signl4)
        assert escalation_notes(cw, ticket["id"]) == []
        escalate(signl4, ticket["id"], to="team", team=SECOND_TEAM_ID)
        support.settle(agent, signl4)
        notes = escalation_notes(cw, ticket["id"])
        # read from SIGNL4, the alert lists both escalations: the first is written too, and each once
        assert len(notes) == 2 and "to the manager of team Service Desk" in notes[0]["text"]
    finally:
        server.close()


def test_a_202_that_signl4_does_not_back_with_an_escalation_writes_nothing(make_agent, manage, signl4, cw):
    agent = make_agent(escalations=ON)
    ticket = support.cycled_ticket(agent, cw, priority=P3)
    alert = support.alerts(signl4, ticket["id"])[0]
    manage.clear_requests()
    signl4.clear_requests()
    # a 202 SIGNL4 sends without an escalation on the alert (what a forged one looks like once the alert is read)
    signl4.control("POST", "/emit", {"eventType": 202, "external_id": str(ticket["id"])})
    support.settle(agent, signl4)
    assert len(details_reads(signl4)) == 1  # read once, found no escalation: nothing written
    forged = {"id": "forged-1", "eventType": 202, "eventRaisedUtc": "2026-01-01T00:00:00Z", "team": {"id": "t"},
              "alert": {"id": "someone-elses", "eventId": "e", "externalEventId": str(ticket["id"]), "statusCode": 1}}
    assert support.post(agent.url + support.WEBHOOK_PATH, forged) == (200, {"outcome": "ignored"})  # not the ticket's Signl: not even read
    intents.run_pending(agent.ctx)
    assert not manage.writes() and len(details_reads(signl4)) == 1
    assert escalation_notes(cw, ticket["id"]) == [] and priority(cw, ticket["id"]) == P3
    assert not any(kind.startswith(("escalated/", "escalation/")) for kind in agent.store.counts()["intents"])
    # the real escalation, when it comes, is written
    escalate(signl4, ticket["id"])
    support.settle(agent, signl4)
    assert len(escalation_notes(cw, ticket["id"])) == 1 and priority(cw, ticket["id"]) == P1
    assert alert["id"] in escalation_notes(cw, ticket["id"])[0]["text"]


def test_an_escalation_of_another_systems_alert_with_the_tickets_number_writes_nothing(make_agent, manage, signl4, cw):
    """While the store cannot tell the ticket's Signl by id (SIGNL4 answered the raise without an event id), a 202
    about an alert with the ticket's number is read; its escalations count only when the raise's marker proves it
    the ticket's Signl."""
    agent = make_agent(escalations=ON, filters={"entered_after": support.recent()})
    ticket = support.cycled_ticket(agent, cw, priority=P3)
    agent.store.save_ticket(ticket["id"], alert_id=None, event_id=None)
    with support.signl4_client(signl4) as client:
        client.trigger("Another monitor", "same number", external_id=str(ticket["id"]))
    foreign = [a for a in support.alerts(signl4, ticket["id"]) if a["title"] == "Another monitor"][0]
    manage.clear_requests()
    signl4.control("POST", "/escalate", {"alert_id": foreign["id"], "to": "manager"})
    support.settle(agent, signl4)
    assert not manage.writes() and agent.store.ticket(ticket["id"])["alert_id"] is None
    signl = [a for a in support.alerts(signl4, ticket["id"]) if a["id"] != foreign["id"]][0]
    signl4.control("POST", "/escalate", {"alert_id": signl["id"], "to": "team", "team": "Network Operations"})
    support.settle(agent, signl4)
    assert len(escalation_notes(cw, ticket["id"])) == 1 and agent.store.ticket(ticket["id"])["alert_id"] == signl["id"]


def test_escalations_are_off_by_default(make_agent, manage, signl4, cw):
    agent = make_agent()
    ticket = support.cycled_ticket(agent, cw, priority=P3)
    manage.clear_requests()
    signl4.clear_requests()
    escalate(signl4, ticket["id"])
    support.settle(agent, signl4)
    agent.cycle()
    assert agent.metrics.deliveries.labels(source="signl4", outcome="ignored")._value.get() >= 1
    assert details_reads(signl4) == [] and not manage.writes()


def test_an_escalation_while_no_webhook_reached_the_agent_is_found_by_the_poll(make_agent, signl4, cw):
    agent = make_agent(receiver=False, escalations=dict(ON, priority=None), signl4={"poll_alerts": True})
    ticket = support.cycled_ticket(agent, cw, priority=P3)
    escalate(signl4, ticket["id"], to="team", team="Network Operations")
    agent.cycle()
    agent.cycle()
    notes = escalation_notes(cw, ticket["id"])
    assert len(notes) == 1 and "to team Network Operations" in notes[0]["text"] and "Priority" not in notes[0]["text"]
    assert priority(cw, ticket["id"]) == P3


def test_nobody_acknowledging_in_time_writes_one_note_per_signl_generation(make_agent, signl4, cw):
    clock = Clock()
    agent = make_agent(clock=clock, reopen="new_signl", filters={"entered_after": support.recent()},
                       escalations=dict(ON, unacknowledged_after=600, note=True, detail_description=True,
                                        internal_analysis=False))
    late = support.new_ticket(cw, priority=P3, summary="nobody answers")
    told = support.new_ticket(cw, priority=P3, summary="acknowledged, and the agent is told")
    agent.cycle()
    raised_at = clock.now
    support.act_and_settle(agent, signl4, "acknowledge", told["id"])
    clock.now += 599
    before = agent.metrics.calls(api="signl4")
    agent.cycle()
    agent.cycle()
    assert agent.metrics.calls(api="signl4") == before  # nothing due: no request (a query of the state)
    assert escalation_notes(cw, late["id"]) == []
    clock.now += 2
    agent.cycle()
    notes = escalation_notes(cw, late["id"])
    assert len(notes) == 1 and notes[0]["detailDescriptionFlag"] is True and notes[0]["internalAnalysisFlag"] is False
    assert notes[0]["text"].splitlines()[0] == (
        "SIGNL4: the Signl was not acknowledged within 10 min (team Service Desk, route default, raised at "
        "%s). Priority set to %s." % (time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(raised_at)), P1))
    assert priority(cw, late["id"]) == P1 and priority(cw, told["id"]) == P3
    assert escalation_notes(cw, told["id"]) == []  # the store knew it acknowledged: not even asked
    reads = len(details_reads(signl4))
    assert agent.store.overdue_signls(clock.now) == []  # recorded for this generation: not even looked at again
    clock.now += 3600
    agent.cycle()
    agent.cycle()
    assert len(escalation_notes(cw, late["id"])) == 1 and len(details_reads(signl4)) == reads
    # a new Signl (the ticket came back) gets its own timeout, once
    support.act_and_settle(agent, signl4, "close", late["id"])
    support.set_status(cw, late["id"], "New (not responded)")
    agent.cycle()
    assert len(support.alerts(signl4, late["id"])) == 2
    clock.now += 601
    agent.cycle()
    agent.cycle()
    assert len(escalation_notes(cw, late["id"])) == 2
    assert agent.store.counts()["intents"]["unacknowledged/done"] == 2


def test_a_reopened_signl_counts_its_timeout_from_the_reopen(make_agent, signl4, cw):
    clock = Clock()
    agent = make_agent(clock=clock, reopen="reopen", filters={"entered_after": support.recent()},
                       escalations=dict(ON, unacknowledged_after=600))
    ticket = support.cycled_ticket(agent, cw, priority=P3)
    support.act_and_settle(agent, signl4, "close", ticket["id"])  # closed in time
    clock.now += 3600
    support.set_status(cw, ticket["id"], "New (not responded)")  # back: the close is undone, the Signl open again
    agent.cycle()
    assert support.alerts(signl4, ticket["id"])[0]["status"]["statusCode"] == 1
    clock.now += 599
    agent.cycle()
    assert escalation_notes(cw, ticket["id"]) == []
    clock.now += 2
    agent.cycle()
    assert len(escalation_notes(cw, ticket["id"])) == 1


def test_a_signl_acknowledged_in_signl4_unknown_to_the_agent_is_asked_about_once_and_not_escalated(
        make_agent, signl4, cw):
    clock = Clock()
    agent = make_agent(receiver=False, clock=clock, escalations=dict(ON, unacknowledged_after=60),
                       filters={"entered_after": support.recent()})
    ticket = support.cycled_ticket(agent, cw, priority=P3)
    support.act(signl4, "acknowledge", ticket["id"])  # no webhook, no poll: the store still says open
    clock.now += 61
    signl4.clear_requests()
    agent.cycle()
    agent.cycle()
    assert len(details_reads(signl4)) == 1  # SIGNL4 was asked once, and said acknowledged
    assert escalation_notes(cw, ticket["id"]) == [] and priority(cw, ticket["id"]) == P3
    assert agent.store.counts()["intents"]["unacknowledged/ignored"] == 1


# ----- kill -9 between the note and the priority ------------------------------------------------------------

def _journal(emulator, path_part):
    return [r for r in emulator.requests() if path_part in r["path"]]


@pytest.mark.slow  # agent processes killed and restarted
def test_kill_9_between_the_note_and_the_priority_writes_each_once(provisioned, cw, tmp_path):
    """Manage refuses the priority PATCH (500) after the note was written; the agent is killed there. The restarted
    agent finds the note by its reference line and sets the priority: one note, one priority change."""
    manage, signl4 = provisioned
    port = support.free_port()
    raw = support.config(tmp_path, manage, signl4, port=port, escalations=ON)
    path = support.write_config(tmp_path, raw)
    support.subscribe(signl4, "http://127.0.0.1:%d/signl4/%s" % (port, support.WEBHOOK_TOKEN))
    ticket = support.new_ticket(cw, priority=P3)
    ticket_path = r"/service/tickets/%d$" % ticket["id"]
    agent = support.AgentProcess(path, port)
    try:
        assert support.wait_for(lambda: support.custom(cw.get("/service/tickets/%d" % ticket["id"]), "Signl4Retrieved_c"),
                                timeout=60), agent.output()[-2000:]
        manage.control("POST", "/faults", {"status": 500, "count": 100000, "method": "PATCH", "path": ticket_path})
        escalate(signl4, ticket["id"])

        def refused():
            return [r for r in _journal(manage, "/service/tickets/%d" % ticket["id"]) if r["method"] == "PATCH" and r["status"] == 500]
        assert support.wait_for(lambda: escalation_notes(cw, ticket["id"]) and refused(), timeout=60), agent.output()[-2000:]
        agent.proc.send_signal(signal.SIGKILL)
        agent.proc.wait(10)
        agent.log.close()
        assert priority(cw, ticket["id"]) == P3
        manage.control("DELETE", "/faults")
        manage.clear_requests()
        agent = support.AgentProcess(path, port)
        assert support.wait_for(lambda: priority(cw, ticket["id"]) == P1, timeout=60), agent.output()[-2000:]
        assert support.wait_for(lambda: json.loads(agent.get("/healthz")[1] or b"{}").get("pending") == 0, timeout=30)
    finally:
        code, output = agent.stop()
    assert code == 0, output[-2000:]
    assert len(escalation_notes(cw, ticket["id"])) == 1
    patches = [r for r in _journal(manage, "/service/tickets/%d" % ticket["id"]) if r["method"] == "PATCH"]
    assert [op["path"] for r in patches for op in r["request_json"]] == ["priority"]
    assert not [r for r in _journal(manage, "/service/tickets/%d/notes" % ticket["id"]) if r["method"] == "POST"]


# ----- configuration ------------------------------------------------------------------------------------------

def _minimal(**escalations):
    return support.offline_config(escalations=escalations)


def test_the_defaults_are_off():
    assert validate(_minimal(), env={})["escalations"] == dict(
        enabled=False, unacknowledged_after=None, note=True, priority=None, detail_description=False,
        internal_analysis=True, resolution=False, process_notifications=False)


@pytest.mark.parametrize("escalations, message", [
    (dict(enabled="yes"), "escalations.enabled: expected bool, got str"),
    (dict(unacknowledged_after=0), "escalations.unacknowledged_after: must be at least 1 second and at most 2592000"),
    (dict(unacknowledged_after=31 * 86400), "escalations.unacknowledged_after: must be at least 1 second"),
    (dict(unacknowledged_after="15m"), "escalations.unacknowledged_after: expected float, got str"),
    (dict(unacknowledged_after=float("nan")), "escalations.unacknowledged_after: must be a finite number"),
    (dict(priority=1), "escalations.priority: expected str, got int"),
    (dict(priority=" "), "escalations.priority: a priority's name"),
    (dict(enabled=True, note=False), "escalations: enabled with note false and priority null does nothing"),
    (dict(internal_analysis=False), "escalations: at least one of detail_description, internal_analysis, resolution"),
    (dict(colour="red"), "escalations.colour: unknown key"),
])
def test_escalation_errors_name_the_key(escalations, message):
    with pytest.raises(ConfigError) as caught:
        validate(_minimal(**escalations), env={})
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_tenant_sets_escalations_key_by_key():
    raw = _minimal(enabled=True, priority=P1)
    raw["tenants"] = [dict(id="a"), dict(id="b", escalations=dict(priority=None, unacknowledged_after=900))]
    first, second = validate(raw, env={})["tenants"]
    assert (first["escalations"]["priority"], first["escalations"]["unacknowledged_after"]) == (P1, None)
    assert (second["escalations"]["enabled"], second["escalations"]["priority"],
            second["escalations"]["unacknowledged_after"]) == (True, None, 900.0)
    with pytest.raises(ConfigError, match=r"^tenants\[1\]\.escalations\.unacknowledged_after: must be at least"):
        validate(dict(raw, tenants=[dict(id="a"), dict(id="b", escalations=dict(unacknowledged_after=0.5))]), env={})


@pytest.mark.slow  # the agent as a process
def test_check_config_names_an_escalation_priority_manage_does_not_have(provisioned, tmp_path):
    manage, signl4 = provisioned
    for wanted, ok in ((P1, True), ("Priority 0 - Panic", False)):
        raw = support.config(tmp_path, manage, signl4, escalations=dict(enabled=True, priority=wanted))
        result = support.cli("check-config", "--config", support.write_config(tmp_path, raw))
        report = json.loads(result.stdout)
        assert (result.returncode == 0) is ok and report["manage"]["ok"] is ok, result.stdout
        if ok:
            assert isinstance(report["manage"]["escalation_priority"], int)
            assert report["signl4"]["acting_user_teams"] == ["Network Operations", "Service Desk"]
        else:
            assert report["manage"]["error"] == "escalations.priority: service priority 'Priority 0 - Panic': not found in Manage"
