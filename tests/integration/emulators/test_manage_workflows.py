"""The Manage emulator's workflow rules over real HTTP: validation of rules, events and actions,
the custom-field value endpoints, copies and cascades, the metadata catalogues, and the event
test that evaluates a condition against the tickets."""

import pytest

from tests.conftest import manage_emulator
from tests.support.spec_conformance import manage_spec

WORKFLOWS = "/system/workflows"
VALUES = WORKFLOWS + "/userdefinedfields"
TRIGGER = 'Signl4Retrieved_c = False AND status/name = "New (not responded)"'


@pytest.fixture(scope="module")
def server():
    with manage_emulator("--tickets", "40") as emulator:
        yield emulator


@pytest.fixture
def api(cw):
    """The Manage emulator's API, with the custom fields the rules' conditions name."""
    api = cw
    api.ok("POST", "/system/userDefinedFields", 201, json={
        "podId": 10, "caption": "Signl4Retrieved_c", "fieldTypeIdentifier": "Checkbox", "sequenceNumber": 11})
    api.ok("POST", "/system/userDefinedFields", 201, json={
        "podId": 10, "caption": "Signl4Status_c", "fieldTypeIdentifier": "Text", "sequenceNumber": 12})
    return api


def new_rule(api, **fields):
    body = {"name": "Rule", "tableType": {"name": "Service Ticket"}, "board": {"name": "Service Desk"}}
    body.update(fields)
    return api.ok("POST", WORKFLOWS, 201, json=dict((k, v) for k, v in body.items() if v is not None))


def new_event(api, rule, **fields):
    body = {"name": "Event", "eventCondition": TRIGGER}
    body.update(fields)
    return api.ok("POST", "%s/%d/events" % (WORKFLOWS, rule["id"]), 201, json=body)


def new_action(api, rule, event, **fields):
    return api.ok("POST", "%s/%d/events/%d/actions" % (WORKFLOWS, rule["id"], event["id"]), 201, json=fields)


def error_of(response, status=400):
    assert response.status_code == status, response.text
    body = response.json()
    return body["errors"][0]["field"], body["errors"][0]["message"]


def test_a_rule_needs_a_known_table_type_and_keeps_it(api):
    assert error_of(api.post(WORKFLOWS, {"name": "x"})) == ("tableType", "The tableType field is required.")
    assert error_of(api.post(WORKFLOWS, {"name": "x", "tableType": {"name": "Nope"}}))[0] == "tableType"
    rule = new_rule(api, batchInterval=5)
    assert rule["tableType"]["identifier"] == "ServiceTicket" and rule["activateFlag"] is False
    assert rule["batchFrequencyUnit"] == "Minutes" and rule["board"]["name"] == "Service Desk"
    moved = api.patch("%s/%d" % (WORKFLOWS, rule["id"]), {"op": "replace", "path": "tableType", "value": {"name": "Company"}})
    assert error_of(moved)[0] == "tableType"


def test_activation_needs_a_batch_schedule_and_an_event(api):
    assert error_of(api.post(WORKFLOWS, {"name": "x", "tableType": {"id": 1}, "activateFlag": True,
                                         "batchSchedule": "AnyTime"}))[0] == "activateFlag"
    rule = new_rule(api)
    path = "%s/%d" % (WORKFLOWS, rule["id"])
    activate = {"op": "replace", "path": "activateFlag", "value": True}
    new_event(api, rule)
    assert error_of(api.patch(path, activate)) == ("batchSchedule", "If activateFlag is true, batchSchedule is required.")
    active = api.ok("PATCH", path, json=[activate, {"op": "replace", "path": "batchSchedule", "value": "AnyTime"}])
    assert active["activateFlag"] is True


def test_execution_time_decides_the_frequency_fields(api):
    rule = new_rule(api)
    assert new_event(api, rule)["executionTime"] == "Once"
    incomplete = {"eventCondition": "x", "executionTime": "MultipleTimes", "frequencyUnit": "Hours", "frequencyOfExecution": 2}
    assert error_of(api.post("%s/%d/events" % (WORKFLOWS, rule["id"]), incomplete)) \
        == ("maxNumberOfExecution", "The maxNumberOfExecution field is required when executionTime is MultipleTimes.")
    event = new_event(api, rule, executionTime="Continuously", frequencyUnit="Hours", frequencyOfExecution=2,
                      maxNumberOfExecution=3)
    assert "maxNumberOfExecution" not in event and event["frequencyOfExecution"] == 2
    once = api.ok("PATCH", "%s/%d/events/%d" % (WORKFLOWS, rule["id"], event["id"]),
                  json=[{"op": "replace", "path": "executionTime", "value": "Once"}])
    assert "frequencyUnit" not in once and "frequencyOfExecution" not in once
    assert error_of(api.post("%s/%d/events" % (WORKFLOWS, rule["id"]), {"name": "no condition"})) \
        == ("eventCondition", "The eventCondition field is required.")
    assert api.post("%s/99/events" % WORKFLOWS, {"eventCondition": "x"}).status_code == 404


def test_actions_resolve_their_notify_type_and_targets_on_the_rule(api):
    rule = new_rule(api)
    event = new_event(api, rule)
    path = "%s/%d/events/%d/actions" % (WORKFLOWS, rule["id"], event["id"])
    status = new_action(api, rule, event, notifyType={"name": "update status"}, boardStatus={"name": "In Progress"})
    assert status["notifyType"] == {"id": 5, "identifier": "UpdateStatus", "name": "Update Status"}
    assert status["boardStatus"]["name"] == "In Progress" and status["parentId"] == event["id"]
    assert status["grandParentId"] == rule["id"]
    assert error_of(api.post(path, {"notifyType": {"name": "Update Status"}}))[0] == "boardStatus"
    assert error_of(api.post(path, {"notifyType": {"name": "Update Status"}, "boardStatus": {"name": "Completed"}}))[0] == "boardStatus"
    assert error_of(api.post(path, {"notifyType": {"name": "Attach Configuration"}}))[0] == "notifyType"
    assert error_of(api.post(path, {"notifyType": {"name": "Send Email"}, "subject": "Hi"})) \
        == ("specificMemberTo", "The specificMemberTo or emailRecipient field is required when notifyType is Send Email.")
    mail = new_action(api, rule, event, notifyType={"identifier": "SendEmail"}, subject="Hi", specificMemberTo={"identifier": "jdoe"})
    assert mail["specificMemberTo"] == {"id": 1, "identifier": "jdoe", "name": "John Doe",
                                        "_info": mail["specificMemberTo"]["_info"]}
    assert error_of(api.post(path, {"notifyType": {"name": "Add Note"}}))[0] == "notes"


def test_action_recipients_follow_the_spec_notify_who_shape(api):
    rule = new_rule(api)
    event = new_event(api, rule)
    path = "%s/%d/events/%d/actions" % (WORKFLOWS, rule["id"], event["id"])
    mail = {"notifyType": {"name": "Send Email"}, "subject": "New Signl"}
    to_address = new_action(api, rule, event, notifyWho={"name": "email address"}, emailRecipient="noc@contoso.example",
                            notifyFrom={"name": "Specific Member"}, specificMemberFrom={"identifier": "jdoe"}, **mail)
    assert {k: v for k, v in to_address["notifyWho"].items() if k != "_info"} == {"id": 2, "name": "Email Address"}
    assert to_address["notifyWho"]["_info"] and to_address["emailRecipient"] == "noc@contoso.example"
    assert to_address["notifyFrom"]["name"] == "Specific Member" and to_address["specificMemberFrom"]["identifier"] == "jdoe"
    by_id = new_action(api, rule, event, notifyWho={"id": 1}, specificMemberTo={"identifier": "jdoe"}, **mail)
    assert by_id["notifyWho"]["name"] == "Specific Member"
    derived = new_action(api, rule, event, specificMemberTo={"identifier": "jdoe"}, **mail)
    assert derived["notifyWho"]["name"] == "Specific Member"
    assert api.ok("GET", path + "/%d" % to_address["id"])["notifyWho"] == to_address["notifyWho"]
    assert error_of(api.post(path, dict(mail, notifyWho={"name": "Email Address"}, specificMemberTo={"id": 1}))) == (
        "emailRecipient", "The emailRecipient field is required when notifyWho is set to: Email Address.")
    assert error_of(api.post(path, dict(mail, notifyWho={"name": "Specific Member"}, emailRecipient="a@b.c")))[0] \
        == "specificMemberTo"
    assert error_of(api.post(path, dict(mail, notifyWho={"name": "Pigeon"}, emailRecipient="a@b.c")))[0] == "notifyWho"
    assert error_of(api.post(path, dict(mail, notifyWho={"id": 99}, emailRecipient="a@b.c")))[0] == "notifyWho"
    assert error_of(api.post(path, dict(mail, notifyWho={"name": "Email Address"}, emailRecipient="a@b.c",
                                        specificMemberTo={"id": 1})))[0] == "specificMemberTo"
    assert error_of(api.post(path, dict(mail, specificMemberTo={"id": 1}, notifyFrom={"name": "Email Address"})))[0] \
        == "emailFrom"
    manage_spec().assert_conforms(api.server.requests(), path_filter="/actions", min_checked=4)


def test_custom_field_values_live_per_action_and_are_deleted_all_at_once(api):
    rule = new_rule(api)
    event = new_event(api, rule)
    action = new_action(api, rule, event, notifyType={"name": "Update Custom Field"})
    other = new_action(api, rule, new_event(api, rule), notifyType={"name": "Update Custom Field"})
    post = "%s/events/%d" % (VALUES, event["id"])
    value = api.ok("POST", post, 201, json={"actionId": action["id"], "caption": "signl4status_c", "value": "Acknowledged"})
    assert (value["caption"], value["fieldTypeId"], value["eventId"], value["actionId"], value["overwriteFlag"]) \
        == ("Signl4Status_c", "Text", event["id"], action["id"], False)
    assert error_of(api.post(post, {"actionId": other["id"], "caption": "Signl4Status_c"}))[0] == "actionId"
    assert error_of(api.post(post, {"actionId": action["id"], "caption": "Signl4Status_c"}))[1] \
        == "A matching workflowActionUserDefinedField already exists."
    assert error_of(api.post(post, {"actionId": action["id"], "caption": "Signl4Retrieved_c", "value": "yes"}))[0] == "value"
    assert error_of(api.post(post, {"actionId": action["id"], "caption": "Preferred Contact", "value": "x"}))[0] \
        == "userDefinedFieldId"  # a contact field, not a ticket one
    api.ok("POST", post, 201, json={"actionId": action["id"], "caption": "Signl4Retrieved_c", "value": "True"})
    listed = api.ok("GET", "%s/events/%d/actions/%d" % (VALUES, event["id"], action["id"]))
    assert [v["caption"] for v in listed] == ["Signl4Status_c", "Signl4Retrieved_c"]
    patched = api.ok("PATCH", "%s/%d" % (VALUES, value["id"]), json=[{"op": "replace", "path": "value", "value": "Resolved"}])
    assert patched["value"] == "Resolved"
    api.ok("DELETE", "%s/actions/%d" % (VALUES, action["id"]), 204)
    assert api.ok("GET", "%s/events/actions" % VALUES) == []
    assert api.delete("%s/actions/%d" % (VALUES, 999)).status_code == 404


def test_deleting_a_rule_removes_its_events_actions_and_values(api):
    rule = new_rule(api)
    event = new_event(api, rule)
    action = new_action(api, rule, event, notifyType={"name": "Update Custom Field"})
    api.ok("POST", "%s/events/%d" % (VALUES, event["id"]), 201, json={"actionId": action["id"], "caption": "Signl4Status_c"})
    api.ok("DELETE", "%s/%d" % (WORKFLOWS, rule["id"]), 204)
    assert api.get("%s/%d/events" % (WORKFLOWS, rule["id"])).status_code == 404
    assert api.ok("GET", "%s/events/actions" % VALUES) == []


def test_copies_take_events_actions_and_values_along(api):
    rule = new_rule(api)
    event = new_event(api, rule)
    action = new_action(api, rule, event, notifyType={"name": "Update Custom Field"})
    api.ok("POST", "%s/events/%d" % (VALUES, event["id"]), 201, json={"actionId": action["id"], "caption": "Signl4Status_c"})
    twin = api.ok("POST", "%s/%d/copy" % (WORKFLOWS, rule["id"]))
    assert twin["name"] == "Copy of Rule" and twin["activateFlag"] is False and twin["id"] != rule["id"]
    [event_copy] = api.ok("GET", "%s/%d/events" % (WORKFLOWS, twin["id"]))
    assert event_copy["eventCondition"] == TRIGGER
    [action_copy] = api.ok("GET", "%s/%d/events/%d/actions" % (WORKFLOWS, twin["id"], event_copy["id"]))
    assert len(api.ok("GET", "%s/events/%d/actions/%d" % (VALUES, event_copy["id"], action_copy["id"]))) == 1
    second = api.ok("POST", "%s/%d/events/%d/copy" % (WORKFLOWS, rule["id"], event["id"]))
    assert second["name"] == "Copy of Event" and second["parentId"] == rule["id"]


def test_notify_types_triggers_and_options_follow_the_rule(api):
    rule = new_rule(api)
    company = new_rule(api, name="Companies", tableType={"name": "Company"}, board=None)
    names = [t["name"] for t in api.ok("GET", "%s/%d/notifyTypes" % (WORKFLOWS, rule["id"]))]
    assert "Update Status" in names and "Attach Configuration" not in names
    company_types = api.ok("GET", "%s/%d/notifyTypes" % (WORKFLOWS, company["id"]))
    assert "Update Status" not in [t["name"] for t in company_types] and company_types[0]["parentId"] == company["id"]
    assert api.ok("GET", "%s/notifyTypes/count" % WORKFLOWS) == {"count": 8}
    triggers = api.ok("GET", "%s/%d/triggers" % (WORKFLOWS, rule["id"]), pageSize=100)
    by_name = dict((t["name"], t) for t in triggers)
    assert by_name["Status"]["description"] == "Condition: status/name"
    assert by_name["Signl4Retrieved_c"]["customField"]["name"] == "Signl4Retrieved_c"
    statuses = api.ok("GET", "%s/%d/triggers/%d/options" % (WORKFLOWS, rule["id"], by_name["Status"]["id"]), pageSize=100)
    assert [o["name"] for o in statuses][:2] == ["New (not responded)", "New"] and len(statuses) == 8  # Service Desk only
    checkbox = api.ok("GET", "%s/%d/triggers/%d/options" % (WORKFLOWS, rule["id"], by_name["Signl4Retrieved_c"]["id"]))
    assert [o["value"] for o in checkbox] == ["True", "False"]
    assert api.ok("GET", "%s/%d/triggers" % (WORKFLOWS, company["id"])) == []
    assert api.get("%s/%d/triggers/999/options" % (WORKFLOWS, rule["id"])).status_code == 404


# ----- the event test ---------------------------------------------------------------------

def expected(api, board="Service Desk"):
    """Independently: new tickets on the board whose Signl4Retrieved_c is not set to true."""
    tickets = api.ok("GET", "/service/tickets", pageSize=1000)
    return [t["id"] for t in tickets if t["status"]["name"] == "New (not responded)" and t["board"]["name"] == board
            and not any(v["caption"] == "Signl4Retrieved_c" and v.get("value") for v in t["customFields"])]


def test_the_event_test_selects_tickets_by_condition_with_captions_and_pages(api):
    field_id = next(f["id"] for f in api.ok("GET", "/system/userDefinedFields") if f["caption"] == "Signl4Retrieved_c")
    retrieved = expected(api)[::2]
    for ticket_id in retrieved:
        api.ok("PATCH", "/service/tickets/%d" % ticket_id, json=[{"op": "replace", "path": "customFields",
                                                                  "value": [{"id": field_id, "value": True}]}])
    rule = new_rule(api)
    event = new_event(api, rule)
    path = "%s/%d/events/%d/test" % (WORKFLOWS, rule["id"], event["id"])
    wanted = expected(api)
    assert wanted and not set(wanted) & set(retrieved)
    first = api.get(path, pageSize=3)
    assert [item["ticket"]["id"] for item in first.json()] == wanted[:3] and 'rel="next"' in first.headers["Link"]
    pages, url = [], None
    response = api.get(path, headers={"pagination-type": "forward-only"}, pageSize=2, fields="id,summary")
    while response.json():  # forward-only ends with an empty page; the next link is always there
        pages.append([item["ticket"] for item in response.json()])
        url = response.headers["Link"][1:].split(">")[0]
        response = api.session.get(url, headers={"pagination-type": "forward-only"}, timeout=10)
    assert [t["id"] for page in pages for t in page] == wanted and len(pages) > 1
    assert set(pages[0][0]) == {"id", "summary"}
    ordered = api.ok("GET", path, orderBy="id desc", conditions="id > %d" % wanted[0], pageSize=100)
    assert [item["ticket"]["id"] for item in ordered] == sorted(wanted[1:], reverse=True)
    tested = api.ok("GET", "%s/%d/events/%d" % (WORKFLOWS, rule["id"], event["id"]))
    assert tested["testRecordsMatched"] == len(wanted) - 1 and tested["dateTestedUTC"].endswith("Z")
    manage_spec().assert_conforms(api.server.requests(), path_filter="/system/workflows", min_checked=6)


def test_the_event_test_scopes_by_board_and_refuses_bad_conditions(api):
    other_board = new_rule(api, board={"name": "Network Operations"})
    assert api.ok("GET", "%s/%d/events/%d/test" % (WORKFLOWS, other_board["id"], new_event(api, other_board)["id"])) == []
    unscoped = new_rule(api, board=None)
    vip = new_event(api, unscoped, eventCondition='Customer_VIP = True')
    bad = api.get("%s/%d/events/%d/test" % (WORKFLOWS, unscoped["id"], vip["id"]))
    assert bad.status_code == 400 and bad.json() == {"code": "ApiFindCondition", "message": "Customer_VIP is not a recognized name."}
    broken = new_event(api, unscoped, eventCondition='status/name = "New')
    assert api.get("%s/%d/events/%d/test" % (WORKFLOWS, unscoped["id"], broken["id"])).json()["code"] == "ApiFindCondition"
    typed = new_event(api, unscoped, eventCondition='Signl4Retrieved_c = "yes"')
    assert api.get("%s/%d/events/%d/test" % (WORKFLOWS, unscoped["id"], typed["id"])).status_code == 400
    status = new_event(api, unscoped, eventCondition='Signl4Status_c = null AND summary contains "printer"')
    assert [i["ticket"]["summary"] for i in api.ok("GET", "%s/%d/events/%d/test" % (WORKFLOWS, unscoped["id"], status["id"]))] \
        == ["Printer offline - 2nd floor"]
    company = new_rule(api, name="Companies", tableType={"name": "Company"}, board=None)
    refused = api.get("%s/%d/events/%d/test" % (WORKFLOWS, company["id"], new_event(api, company)["id"]))
    assert refused.status_code == 400 and "Service Ticket" in refused.json()["message"]
