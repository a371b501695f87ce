"""The Manage emulator over real HTTP: ticket notes and tasks, members as the real API lists them."""

import urllib.error

import pytest

from tests.integration.emulators.test_manage_emulator import Api, error
from tests.support.spec_conformance import manage_spec

NOTES = "/service/tickets/%d/notes"
TASKS = "/service/tickets/%d/tasks"
NOTE_FIELDS = {"id", "ticketId", "text", "detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag",
               "issueFlag", "customerUpdatedFlag", "processNotifications", "member", "dateCreated", "createdBy",
               "internalFlag", "externalFlag", "_info"}


def test_notes_are_listed_created_and_read_one_by_one(cw):
    assert cw.ok("GET", NOTES % 1) == []
    note = cw.ok("POST", NOTES % 1, 201, json={"text": "SIGNL4: acknowledged by jdoe", "internalAnalysisFlag": True,
                                               "member": {"identifier": "jdoe"}})
    assert NOTE_FIELDS <= set(note)
    assert note["ticketId"] == 1 and "parentId" not in note and note["member"]["identifier"] == "jdoe"
    assert note["internalAnalysisFlag"] is True and note["detailDescriptionFlag"] is False
    assert note["processNotifications"] is False and note["customerUpdatedFlag"] is False
    assert note["createdBy"] == "apiautomation" and note["dateCreated"].endswith("Z")
    assert cw.ok("GET", NOTES % 1 + "/%d" % note["id"]) == note
    assert cw.ok("GET", NOTES % 1) == [note]
    assert cw.ok("GET", NOTES % 2) == []
    error(cw.get(NOTES % 2 + "/%d" % note["id"]), 404, "NotFound")
    error(cw.get(NOTES % 9999), 404, "NotFound")


def test_a_note_needs_one_of_the_three_description_flags(cw):
    body = error(cw.post(NOTES % 1, {"text": "nowhere", "processNotifications": True}), 400, "InvalidObject")
    assert body["errors"][0]["field"] == "detailDescriptionFlag"
    assert body["errors"][0]["resource"] == "serviceNote"
    for flag in ("detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag"):
        cw.ok("POST", NOTES % 1, 201, json={"text": "filed", flag: True})
    error(cw.post(NOTES % 1, {"detailDescriptionFlag": True}), 400, "InvalidObject")  # no text
    assert len(cw.ok("GET", NOTES % 1)) == 3


def test_tasks_belong_to_their_ticket(cw):
    first = cw.ok("POST", TASKS % 1, 201, json={"notes": "Call the customer", "summary": "Call"})
    second = cw.ok("POST", TASKS % 1, 201, json={"notes": "Check the UPS"})
    assert (first["ticketId"], first["priority"], first["closedFlag"]) == (1, 1, False)
    assert second["priority"] == 2
    assert [t["id"] for t in cw.ok("GET", TASKS % 1)] == [first["id"], second["id"]]
    manage_spec().assert_conforms(cw.server.requests(), path_filter="/notes|/tasks", min_checked=3)
    error(cw.post(TASKS % 1, {"notes": "x", "childScheduleAction": "Later"}), 400, "InvalidObject")


def test_api_members_are_listed_with_members_and_carry_the_full_field_set(cw):
    api_member = cw.ok("POST", "/system/apiMembers", 201, json={
        "identifier": "signl4sync", "name": "SIGNL4 Sync", "emailAddress": "sync@contoso.example",
        "securityRole": {"name": "Admin"}, "defaultLocation": {"id": 1}, "defaultDepartment": {"id": 1}})
    members = cw.ok("GET", "/system/members", pageSize=1000)
    by_id = {member["id"]: member for member in members}
    assert len(by_id) == len(members)  # one id space
    listed = by_id[api_member["id"]]
    assert listed["licenseClass"] == "A" and listed["identifier"] == "signl4sync"
    assert cw.ok("GET", "/system/members/%d" % api_member["id"])["identifier"] == "signl4sync"
    humans = [m for m in members if m["licenseClass"] != "A"]
    assert humans and all(m["id"] < api_member["id"] for m in humans)
    for member in members:
        for field in ("agreementInvoicingDisplayOptions", "invoiceScreenDefaultTabFormat", "invoicingDisplayOptions",
                      "excludedServiceBoardIds", "timeReminderEmailFlag"):
            assert field in member, (member["identifier"], field)
    owners = cw.ok("GET", "/system/members", conditions='licenseClass = "A"')
    assert [m["identifier"] for m in owners] == ["apiautomation", "signl4sync"]  # the caller is an API member too
    error(cw.patch("/system/members/%d" % api_member["id"], {"op": "replace", "path": "title", "value": "x"}),
          400, "InvalidObject")
    manage_spec().assert_conforms(cw.server.requests(), path_filter="/system/members", min_checked=3)


def test_the_caller_is_an_api_member_listed_with_the_members(cw):
    """The seeded keys act as the API member apiautomation, which /system/members lists (licenseClass "A")."""
    [caller] = cw.ok("GET", "/system/apiMembers", conditions='identifier = "apiautomation"')
    listed = cw.ok("GET", "/system/members/%d" % caller["id"])
    assert (listed["identifier"], listed["licenseClass"], listed["officeEmail"]) == \
        ("apiautomation", "A", "apiautomation@contoso-msp.com")
    assert caller["id"] in [m["id"] for m in cw.ok("GET", "/system/members", conditions="inactiveFlag = false")]
    body = {"summary": "Stamped", "company": {"identifier": "Fabrikam"}, "board": {"name": "Service Desk"}}
    ticket = cw.ok("POST", "/service/tickets", 201, json=body)
    assert ticket["_info"]["enteredBy"] == "apiautomation"


def test_ticket_reads_are_scoped_by_the_calling_members_location_business_unit_and_board(cw):
    everything = {t["id"] for t in cw.ok("GET", "/service/tickets", pageSize=1000)}
    scope = cw.server.control("POST", "/memberScope", {"identifier": "apiautomation", "location": 1, "department": 1,
                                                       "board": 2})
    assert scope == {"identifier": "apiautomation", "location": 1, "department": 1, "board": 2}
    visible = cw.ok("GET", "/service/tickets", pageSize=1000)
    assert visible and {t["board"]["id"] for t in visible} == {2} and {t["id"] for t in visible} < everything
    assert cw.ok("GET", "/service/tickets/count")["count"] == len(visible)
    assert cw.ok("GET", "/service/tickets/%d" % visible[0]["id"])["id"] == visible[0]["id"]
    hidden = min(everything - {t["id"] for t in visible})
    error(cw.get("/service/tickets/%d" % hidden), 404, "NotFound")
    # the workflow event test retrieves as the API member too
    rule = cw.ok("POST", "/system/workflows", 201, json={"name": "All", "tableType": {"name": "Service Ticket"}})
    event = cw.ok("POST", "/system/workflows/%d/events" % rule["id"], 201,
                  json={"name": "Any", "eventCondition": "id > 0"})
    tested = cw.ok("GET", "/system/workflows/%d/events/%d/test" % (rule["id"], event["id"]), pageSize=1000)
    assert sorted(item["ticket"]["id"] for item in tested) == sorted(t["id"] for t in visible)
    # another member's keys (an impersonation token) are not limited by apiautomation's scope
    token = cw.ok("POST", "/system/members/jdoe/tokens", json={"memberIdentifier": "jdoe"})
    as_jdoe = Api(cw.server)
    as_jdoe.session.auth = ("signl4demo+" + token["publicKey"], token["privateKey"])
    assert {t["id"] for t in as_jdoe.ok("GET", "/service/tickets", pageSize=1000)} == everything
    cw.server.control("POST", "/memberScope", {"identifier": "apiautomation"})
    assert {t["id"] for t in cw.ok("GET", "/service/tickets", pageSize=1000)} == everything


@pytest.mark.parametrize("body", [{"location": 1}, {"identifier": "x", "board": 999}, {"identifier": "x", "shoe": 1},
                                  {"identifier": "x", "board": True}, ["x"]])
def test_bad_member_scopes_are_400(cw, body):
    with pytest.raises(urllib.error.HTTPError) as caught:
        cw.server.control("POST", "/memberScope", body)
    assert caught.value.code == 400


def test_locations_conform_to_the_vendored_location_schema(cw):
    locations = cw.ok("GET", "/system/locations")
    assert [loc["name"] for loc in locations] == ["Tampa Office", "Remote"]
    assert all(loc["structureLevel"]["name"] for loc in locations)
    cw.ok("GET", "/system/locations/%d" % locations[0]["id"])
    report = manage_spec().assert_conforms(cw.server.requests(), path_filter="/system/locations", min_checked=2)
    assert report.uncovered == []


def test_departments_conform_to_the_vendored_department_schema(cw):
    departments = cw.ok("GET", "/system/departments")
    assert [(d["identifier"], d["name"]) for d in departments] == [("SVC", "Services"), ("PS", "Professional Services")]
    created = cw.ok("POST", "/system/departments", 201, json={"identifier": "NOC24X7OPERATNS", "name": "NOC"})
    cw.ok("GET", "/system/departments/%d" % created["id"])
    error(cw.post("/system/departments", {"identifier": "X" * 16, "name": "too long"}), 400, "InvalidObject")
    report = manage_spec().assert_conforms(cw.server.requests(), path_filter="/system/departments", min_checked=3)
    assert report.uncovered == []
