"""Hostile records over real HTTP: each kind of record the agent reads, answered by the emulators with
fields of every wrong type (the emulators' fault control answers a request with the body a test gives,
status 200), next to good records. The cycle goes on, the good records are synced, the bad ones are
quarantined or left out, nothing wrong is written. The same kinds with generated values, in process:
``test_trust_properties.py``."""

import json
import subprocess
import threading
import sys


from tests.agent import support
from tests.emulators.harness import REPO_ROOT

from signl4_agent import sync


def _rule(cw, name):
    rule = cw.list("/system/workflows", conditions='name = "%s"' % name)[0]
    return rule, cw.list("/system/workflows/%d/events" % rule["id"])


def quarantined(agent):
    return [entry["key"] for entry in agent.store.quarantined()]


def test_test_results_tickets_of_every_wrong_shape(make_agent, manage, signl4, cw):
    agent = make_agent(receiver=False)
    ticket = support.new_ticket(cw)
    good = cw.get("/service/tickets/%d" % ticket["id"])
    hostile = [{"ticket": {"id": "1/../../system/members", "summary": 5}}, {"ticket": {"id": 10 ** 40}},
               {"ticket": "a string"}, {"ticket": {"id": 77777, "customFields": "x", "company": "x", "summary": ["x"]}},
               {"ticket": dict(good, id=True)}, {"ticket": good}]
    manage.inject(200, path="/events/[0-9]+/test$", method="GET", body=hostile)
    assert agent.safe(agent.cycle)
    assert len(support.alerts(signl4, ticket["id"])) == 1  # the good ticket among them is raised
    # a ticket whose id is good is raised, but one whose custom fields are malformed cannot be marked retrieved
    assert "ticket:77777" in quarantined(agent) and len(support.alerts(signl4, 77777)) == 1
    assert sorted(k.split(":")[0] for k in quarantined(agent)) == ["ticket"] * 5
    assert not [r for r in manage.requests() if "members" in r["path"]]
    agent.cycle()  # the next cycle reads the real /test again: nothing in quarantine is stuck for good
    assert len(support.alerts(signl4, ticket["id"])) == 1


def test_workflow_events_and_actions_of_every_wrong_shape(make_agent, manage, signl4, cw):
    agent = make_agent(receiver=False, owner_assignment="never")
    rule, events = _rule(cw, "SIGNL4 - Update CW Tickets")
    hostile_events = [{"id": "x", "eventCondition": 'Signl4Status_c = "Acknowledged"'}, {"eventCondition": ["a"]},
                      {"id": 10 ** 40, "name": 5}]
    ticket = support.cycled_ticket(agent, cw)
    ack_event = next(e for e in events if "Acknowledged" in e["eventCondition"])
    actions = cw.list("/system/workflows/%d/events/%d/actions" % (rule["id"], ack_event["id"]))
    hostile_actions = [{"id": 9001, "notifyType": "Update Status"},
                       {"id": "x", "notifyType": {"name": "Update Status"}, "boardStatus": {"id": "abc"}},
                       {"id": 9002, "notifyType": {"name": "Add Note"}, "notes": 5},
                       {"id": 9003, "notifyType": {"name": "Update Priority"}, "servicePriority": "High"}]
    manage.inject(200, path="/workflows/%d/events$" % rule["id"], method="GET", body=hostile_events + events)
    manage.inject(200, count=10, path="/events/%d/actions$" % ack_event["id"], method="GET",
                  body=hostile_actions + actions)
    manage.inject(200, count=10, path="/userdefinedfields/events/%d/actions/" % ack_event["id"], method="GET",
                  body=[{"caption": 5, "value": "x"}, {"caption": "Signl4User_c", "value": {"a": 1}, "fieldTypeId": "Text"},
                        {"caption": "Signl4User_c", "value": "NaN", "fieldTypeId": "Number"}])
    support.act(signl4, "acknowledge", ticket["id"])
    agent.ctx.config["signl4"]["poll_alerts"] = True
    assert agent.safe(agent.cycle)
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert current["status"]["name"] == "In Progress"  # the good action applied
    assert support.custom(current, "Signl4Status_c") == "Acknowledged"
    assert support.custom(current, "Signl4User_c") is None  # the hostile values were not applied
    assert cw.list("/service/tickets/%d/notes" % ticket["id"]) == []
    assert agent.metrics.errors.labels(kind="unsupported_action")._value.get() == 4


def test_child_lists_sent_inside_a_record_are_not_taken_for_the_real_ones(make_agent, manage, signl4, cw):
    """A rule, event or action record that carries ``events``, ``actions`` or ``customFields`` itself: the
    agent reads each child list from its own endpoint all the same (the collection's ``load_children``
    reads only what a record lacks, so the agent drops these first)."""
    agent = make_agent(receiver=False, signl4={"poll_alerts": True}, owner_assignment="never")
    trigger, unused = _rule(cw, "SIGNL4 - Trigger Signls")
    rule, events = _rule(cw, "SIGNL4 - Update CW Tickets")
    board = cw.list("/service/boards", conditions='name = "Service Desk"')[0]
    closed = cw.list("/service/boards/%d/statuses" % board["id"], conditions='name = "Closed (resolved)"')[0]
    planted = [{"id": 99999, "eventCondition": "Signl4Retrieved_c = False"}]
    manage.inject(200, path="/system/workflows$", method="GET", body=[dict(trigger, events=planted)])
    ticket = support.new_ticket(cw)
    assert agent.safe(agent.cycle)
    assert len(support.alerts(signl4, ticket["id"])) == 1 and quarantined(agent) == []
    action = {"id": 1, "notifyType": {"name": "Update Status"}, "boardStatus": {"id": closed["id"]},
              "customFields": [{"caption": "Signl4User_c", "value": "mallory", "fieldTypeId": "Text"}]}
    manage.inject(200, path="/workflows/%d/events$" % rule["id"], method="GET",
                  body=[dict(event, actions=[action]) for event in events])
    ack_event = next(e for e in events if "Acknowledged" in e["eventCondition"])
    actions = cw.list("/system/workflows/%d/events/%d/actions" % (rule["id"], ack_event["id"]))
    manage.inject(200, path="/events/%d/actions$" % ack_event["id"], method="GET",
                  body=actions + [dict(actions[0], notifyType={"name": "Update Custom Field"},
                                       customFields=action["customFields"])])
    support.act(signl4, "acknowledge", ticket["id"])
    assert agent.safe(agent.cycle)
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert current["status"]["name"] == "In Progress" and support.custom(current, "Signl4User_c") is None


def test_timeline_entries_users_and_notes_of_every_wrong_shape(make_agent, manage, signl4, cw):
    agent = make_agent(receiver=False, signl4={"poll_alerts": True}, owner_assignment="both")
    ticket = support.cycled_ticket(agent, cw)
    details = support.act(signl4, "annotate", ticket["id"], text="Rebooting the switch")
    support.act(signl4, "acknowledge", ticket["id"])
    entries = details["timelineEntries"]
    hostile = [{"id": 5, "entryType": "Annotation", "text": "x"}, {"id": "e1", "entryType": ["Annotation"], "text": "y"},
               {"id": "e2", "entrytype": "annotation", "text": {"a": 1}}, "not an object",
               {"id": "e3", "entryType": "Annotation", "text": "   "}, {"id": "e4" * 200, "entryType": "Annotation", "text": "z"}]
    signl4.inject(200, path="/details$", method="GET",
                  body=dict(details, timelineEntries=hostile + entries, parameters="x", history=[], status="2"))
    signl4.inject(200, path="/v2/users/", method="GET", body={"id": 5, "name": ["x"], "mail": 7})
    # the note's first attempt fails, so its retry reads the ticket's notes (to find one written before): hostile ones
    manage.inject(500, path="/tickets/%d/notes$" % ticket["id"], method="POST")
    assert not agent.safe(agent.cycle)
    manage.inject(200, path="/tickets/%d/notes$" % ticket["id"], method="GET",
                  body=[{"text": 5}, {"id": "a"}, {"text": {"a": "[SIGNL4 ref %s]" % entries[0]["id"]}}])
    assert agent.safe(agent.cycle)
    notes = cw.list("/service/tickets/%d/notes" % ticket["id"])
    assert [n["text"].split("\n")[0] for n in notes] == ["SIGNL4 user (SIGNL4): Rebooting the switch"]
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert current["status"]["name"] == "In Progress"
    assert "owner" not in current  # the user record had no usable e-mail
    assert quarantined(agent) == []
    agent.cycle()
    assert len(cw.list("/service/tickets/%d/notes" % ticket["id"])) == 1


def test_member_records_of_every_wrong_shape(make_agent, manage, signl4, cw):
    support.member_with_email(cw, "bjones", support.OLIVIA)
    agent = make_agent(receiver=False, signl4={"poll_alerts": True}, owner_assignment="both")
    ticket = support.cycled_ticket(agent, cw)
    support.act(signl4, "acknowledge", ticket["id"])
    manage.inject(200, path="/system/members$", method="GET", body=[{"id": "1/../2", "officeEmail": 5}])
    assert agent.safe(agent.cycle)
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert current["status"]["name"] == "In Progress" and "owner" not in current  # no usable member id
    assert agent.metrics.errors.labels(kind="owner_unmatched")._value.get() == 1


def test_raise_and_reopen_answers_of_every_wrong_shape(make_agent, signl4, cw):
    agent = make_agent(receiver=False, reopen="reopen", signl4={"poll_alerts": True})
    ticket = support.cycled_ticket(agent, cw)
    support.act(signl4, "close", ticket["id"])
    agent.cycle()
    assert agent.store.ticket(ticket["id"])["alert_status"] == 4
    support.set_status(cw, ticket["id"], "New (not responded)")
    agent.config["signl4"]["poll_alerts"] = False  # the answer below stands in for the undo: SIGNL4 keeps it closed
    signl4.inject(200, path="/undoClose$", method="POST", body={"status": "open", "id": ["x"]})
    assert agent.safe(agent.cycle)
    assert agent.store.ticket(ticket["id"])["alert_status"] == 1


def test_status_lists_the_quarantine(make_agent, manage, signl4, cw, tmp_path):
    agent = make_agent(receiver=False)
    manage.inject(200, path="/events/[0-9]+/test$", method="GET", body=[{"ticket": {"id": "x"}}])
    assert agent.safe(agent.cycle)
    agent.close()
    path = support.write_config(tmp_path, support.config(tmp_path, manage, signl4))
    env = dict(PYTHONPATH="%s/agent:%s/build/collections" % (REPO_ROOT, REPO_ROOT), PATH="/usr/bin:/bin")
    result = subprocess.run([sys.executable, "-m", "signl4_agent", "status", "--config", path], cwd=REPO_ROOT,
                            capture_output=True, text=True, env=env, check=True)
    report = json.loads(result.stdout)
    assert report["quarantined"] == 1
    assert report["quarantine"][0]["record"] == "ticket:x" and "usable id" in report["quarantine"][0]["reason"]


def test_an_unforeseen_error_in_a_cycle_does_not_end_the_loop(make_agent, signl4, cw, monkeypatch):
    """Whatever a cycle meets that no guard caught (here a TypeError from the update cycle), the loop logs
    it, backs off and cycles again; only stopping ends it."""
    agent = make_agent(receiver=False, poll_interval=1)
    calls = []
    real = sync.update_cycle

    def update_cycle(ctx, ticket_id=None):
        calls.append(ticket_id)
        if len(calls) == 1:
            raise TypeError("a value no parser foresaw")
        if len(calls) >= 2:
            agent.stop()
        return real(ctx, ticket_id)

    monkeypatch.setattr(sync, "update_cycle", update_cycle)
    ticket = support.new_ticket(cw)
    runner = threading.Thread(target=agent.run, kwargs={"serve_http": False})
    runner.start()
    runner.join(30)
    assert not runner.is_alive() and len(calls) >= 2
    assert agent.metrics.errors.labels(kind="TypeError")._value.get() == 1
    assert len(support.alerts(signl4, ticket["id"])) == 1
