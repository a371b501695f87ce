"""The Manage emulator over real HTTP: discovery, auth, CRUD, validation, queries, paging, faults."""

import os
import re

import pytest
import requests

from tests.conftest import manage_emulator
from tests.emulators.manage.resources import TICKET_POD_ID

COMPANY, PUBLIC, PRIVATE = "signl4demo", "demopublic", "demoprivate"
CLIENT_ID = "00000000-0000-4000-8000-000000000001"
UDF = "/system/userDefinedFields"
TICKETS = "/service/tickets"


class Api:
    """Requests to one emulator with valid credentials unless told otherwise."""

    def __init__(self, server, codebase="v2025_1/"):
        self.server = server
        self.base = "%s/%sapis/3.0" % (server.url, codebase)
        self.session = requests.Session()
        self.session.auth = ("%s+%s" % (COMPANY, PUBLIC), PRIVATE)
        self.session.headers.update({"clientId": CLIENT_ID,
                                     "Accept": "application/vnd.connectwise.com+json; version=2025.1"})

    def call(self, method, path, **kwargs):
        return self.session.request(method, self.base + path, timeout=10, **kwargs)

    def get(self, path, headers=None, **params):
        return self.call("GET", path, params=params, headers=headers)

    def post(self, path, body):
        return self.call("POST", path, json=body)

    def put(self, path, body):
        return self.call("PUT", path, json=body)

    def patch(self, path, *operations):
        return self.call("PATCH", path, json=list(operations))

    def delete(self, path):
        return self.call("DELETE", path)

    def ok(self, method, path, status=200, json=None, headers=None, **params):
        response = self.call(method, path, json=json, headers=headers, params=params)
        assert response.status_code == status, response.text
        return response.json() if response.content else None


@pytest.fixture(scope="module")
def big():
    with manage_emulator("--tickets", "2500") as emulator:
        yield Api(emulator)


def error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    return body


def new_field(**overrides):
    body = {"podId": TICKET_POD_ID, "caption": "Signl4Status_c", "sequenceNumber": 10,
            "fieldTypeIdentifier": "Text", "helpText": "SIGNL4 status"}
    body.update(overrides)
    return body


# ----- discovery, paths, auth ------------------------------------------------------------------
def test_companyinfo_needs_no_auth_and_has_pascal_case_keys(server):
    response = requests.get(server.url + "/login/companyinfo/SIGNL4DEMO", timeout=10)
    assert response.status_code == 200
    info = response.json()
    assert info["Codebase"] == "v2025_1/" and info["IsCloud"] == "True" and info["CompanyID"] == COMPANY
    assert set(info) == {"CompanyName", "Codebase", "VersionCode", "VersionNumber", "CompanyID", "IsCloud"}
    assert requests.get(server.url + "/login/companyinfo/other", timeout=10).status_code == 404


def test_on_premise_codebase():
    with manage_emulator("--codebase", "v4_6_release/") as emulator:
        info = requests.get(emulator.url + "/login/companyinfo/" + COMPANY, timeout=10).json()
        assert info["Codebase"] == "v4_6_release/" and info["IsCloud"] == "False"
        assert Api(emulator, "v4_6_release/").get("/system/info").json()["isCloud"] is False


@pytest.mark.parametrize("prefix", ["/v2025_1/apis/3.0", "/v4_6_release/apis/3.0", "/v2025_1//apis/3.0",
                                    "/v2017_3/apis/3.0/"])
def test_any_codebase_and_double_slashes(cw, prefix):
    response = cw.session.get(cw.server.url + prefix + "/service/boards/1", timeout=10)
    assert response.status_code == 200 and response.json()["name"] == "Service Desk"


def test_responses_carry_the_vendor_media_type_and_version(cw):
    response = cw.get("/system/info")  # Api pins 2025.1: the answer says so
    assert response.headers["Content-Type"] == "application/vnd.connectwise.com+json; version=2025.1"
    assert response.headers["api-current-version"] == "2025.8"
    assert response.json()["version"] == "v2025.8" and response.json()["isCloud"] is True


@pytest.mark.parametrize("path", ["/service/nothing", "/system/userDefinedFields/abc", "/service"])
def test_unknown_endpoint(cw, path):
    body = error(cw.get(path), 404, "ConnectWiseApi")
    assert body["message"] == "The endpoint does not exist."
    assert requests.get(cw.server.url + "/apis/3.0/service/tickets", timeout=10).status_code == 404


@pytest.mark.parametrize("auth, client_id", [
    (None, CLIENT_ID),
    (("%s+%s" % (COMPANY, PUBLIC), "wrong"), CLIENT_ID),
    (("othercompany+%s" % PUBLIC, PRIVATE), CLIENT_ID),
    (("%s+other" % COMPANY, PRIVATE), CLIENT_ID),
    (("%s+%s" % (COMPANY, PUBLIC), PRIVATE), None),
    (("%s+%s" % (COMPANY, PUBLIC), PRIVATE), "00000000-0000-4000-8000-000000000002"),
])
def test_bad_credentials_or_client_id_are_401(server, auth, client_id):
    headers = {"clientId": client_id} if client_id else {}
    response = requests.get(Api(server).base + "/system/info", auth=auth, headers=headers, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"code": "ConnectWiseApi", "message": "UserNotAuthenticated"}


@pytest.mark.parametrize("accept, version", [
    ("application/vnd.connectwise.com+json; version=2025.8", "2025.8"),
    ("application/vnd.connectwise.com+json; version=2019.1", "2019.1"),
    ("application/vnd.connectwise.com+json", "2025.8"),
    ("application/json", "2025.8"),
])
def test_the_accept_version_is_echoed_and_journaled(cw, accept, version):
    cw.server.clear_requests()
    response = cw.get("/system/info", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/vnd.connectwise.com+json; version=" + version
    assert response.headers["api-current-version"] == "2025.8"
    assert [entry["api_version"] for entry in cw.server.requests()] == [version]


@pytest.mark.parametrize("version", ["3.0.0", "abc", "", "2026.1", "2018.6", "2025"])
def test_a_version_manage_does_not_serve_is_refused(cw, version):
    response = cw.get(TICKETS, headers={"Accept": "application/vnd.connectwise.com+json; version=" + version})
    body = error(response, 400, "ConnectWiseApi")
    assert body["message"].endswith("does not support the API version '%s'." % version)


def test_company_id_is_case_insensitive_in_auth(server):
    response = requests.get(Api(server).base + "/system/info", auth=("SIGNL4Demo+" + PUBLIC, PRIVATE),
                            headers={"clientId": CLIENT_ID.upper()}, timeout=10)
    assert response.status_code == 200


def test_missing_methods_are_405(cw):
    error(cw.delete("/system/members/1"), 405, "ConnectWiseApi")
    error(cw.post("/system/info", {}), 405, "ConnectWiseApi")


# ----- custom field CRUD -----------------------------------------------------------------------
def test_create_get_replace_delete_custom_field(cw):
    created = cw.ok("POST", UDF, 201, json=new_field(unknownField="ignored"))
    assert created["id"] == 5 and created["podDescription"] == "Service Ticket" and created["screenId"] == "sv300"
    assert created["entryTypeIdentifier"] == "EntryField" and created["requiredFlag"] is False
    assert "unknownField" not in created and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", created["dateCreated"])
    assert set(created["_info"]) == {"lastUpdated", "updatedBy", "dateEntered", "enteredBy"}
    path = "%s/%d" % (UDF, created["id"])
    assert cw.ok("GET", path) == created
    replaced = cw.ok("PUT", path, json={"podId": 10, "caption": "Signl4Status_c", "sequenceNumber": 11,
                                        "fieldTypeIdentifier": "Text", "id": 999})
    assert replaced["id"] == created["id"] and replaced["sequenceNumber"] == 11
    assert "helpText" not in replaced and replaced["dateCreated"] == created["dateCreated"]
    assert replaced["connectWiseID"] == created["connectWiseID"]
    response = cw.delete(path)
    assert response.status_code == 204 and response.content == b""
    body = error(cw.get(path), 404, "NotFound")
    assert body["message"] == "UserDefinedField %d not found" % created["id"]
    error(cw.delete(path), 404, "NotFound")


def test_patch_operations(cw):
    field_id = cw.ok("POST", UDF, 201, json=new_field())["id"]
    path = "%s/%d" % (UDF, field_id)
    patched = cw.ok("PATCH", path, json=[{"op": "replace", "path": "helpText", "value": "New help"},
                                         {"op": "add", "path": "/listViewFlag", "value": True},
                                         {"op": "replace", "path": "/sequenceNumber", "value": 3}])
    assert (patched["helpText"], patched["listViewFlag"], patched["sequenceNumber"]) == ("New help", True, 3)
    removed = cw.ok("PATCH", path, json=[{"op": "remove", "path": "helpText"}])
    assert "helpText" not in removed and removed["caption"] == "Signl4Status_c"


@pytest.mark.parametrize("operation, field", [
    ({"op": "move", "path": "helpText", "value": "x"}, "helpText"),
    ({"op": "replace", "path": "HelpText", "value": "x"}, "HelpText"),  # paths are case-sensitive
    ({"op": "replace", "path": "nonsense", "value": "x"}, "nonsense"),
    ({"op": "replace", "path": "id", "value": 1}, "id"),
    ({"op": "replace", "path": "dateCreated", "value": "2020-01-01T00:00:00Z"}, "dateCreated"),
    ({"op": "replace", "path": "options/0/optionValue", "value": "x"}, "options/0/optionValue"),
    ({"op": "replace", "path": "helpText"}, "helpText"),
    ({"op": "replace", "path": "sequenceNumber", "value": 0}, "sequenceNumber"),
])
def test_bad_patches_are_400(cw, operation, field):
    body = error(cw.patch(UDF + "/1", operation), 400, "InvalidObject")
    assert body["errors"][0]["field"] == field and body["errors"][0]["resource"] == "userDefinedField"


def test_patch_body_must_be_an_array_and_json_must_parse(cw):
    error(cw.call("PATCH", UDF + "/1", json={"op": "replace"}), 400, "InvalidObject")
    error(cw.call("POST", UDF, data=b"{not json", headers={"Content-Type": "application/json"}), 400, "InvalidObject")


def test_missing_required_fields_are_listed(cw):
    body = error(cw.post(UDF, {"caption": "x"}), 400, "InvalidObject")
    assert body["message"] == "userDefinedField object is invalid"
    assert {(e["code"], e["field"]) for e in body["errors"]} == {
        ("MissingRequiredField", "podId"), ("MissingRequiredField", "sequenceNumber"),
        ("MissingRequiredField", "fieldTypeIdentifier")}
    assert all(e["resource"] == "userDefinedField" and e["message"] for e in body["errors"])


@pytest.mark.parametrize("overrides, field", [
    ({"caption": "x" * 26}, "caption"),
    ({"screenId": "s" * 26}, "screenId"),
    ({"helpText": "h" * 1001}, "helpText"),
    ({"fieldTypeIdentifier": "text"}, "fieldTypeIdentifier"),
    ({"entryTypeIdentifier": "Dropdown"}, "entryTypeIdentifier"),
    ({"sequenceNumber": 0}, "sequenceNumber"),
    ({"sequenceNumber": 501}, "sequenceNumber"),
    ({"sequenceNumber": "3"}, "sequenceNumber"),
    ({"requiredFlag": "yes"}, "requiredFlag"),
    ({"requiredFlag": True, "readOnlyFlag": True}, "readOnlyFlag"),
    ({"podId": 999}, "podId"),
    ({"numberDecimals": 2}, "numberDecimals"),
    ({"fieldTypeIdentifier": "Button"}, "buttonUrl"),
    ({"options": [{"optionValue": "a"}]}, "options"),
    ({"entryTypeIdentifier": "List", "options": [{"optionValue": "a", "defaultFlag": "yes"}]}, "options"),
    ({"entryTypeIdentifier": "List", "options": [{"sortOrder": 1}]}, "options"),
    ({"locationIds": [42]}, "locationIds"),
])
def test_invalid_custom_fields(cw, overrides, field):
    body = error(cw.post(UDF, new_field(**overrides)), 400, "InvalidObject")
    assert [e["field"] for e in body["errors"]] == [field]
    assert body["errors"][0]["code"] in ("InvalidField", "MissingRequiredField")


def test_valid_edges_of_custom_fields(cw):
    edge = new_field(caption="c" * 25, sequenceNumber=500, fieldTypeIdentifier="Number", numberDecimals=2,
                     addAllLocations=True)
    edge = cw.ok("POST", UDF, 201, json=edge)
    assert edge["locationIds"] == [1, 2] and "addAllLocations" not in edge
    options = [{"optionValue": "A"}, {"optionValue": "B", "defaultFlag": True}]
    listed = cw.ok("POST", UDF, 201, json=new_field(caption="Choice", entryTypeIdentifier="List", options=options))
    assert [(o["optionValue"], o["defaultFlag"], o["sortOrder"]) for o in listed["options"]] == [
        ("A", False, 0), ("B", True, 1)]
    assert len({o["id"] for o in listed["options"]}) == 2
    kept = cw.ok("PATCH", "%s/%d" % (UDF, listed["id"]), json=[{"op": "replace", "path": "options",
                                                                "value": listed["options"][1:]}])
    assert kept["options"] == listed["options"][1:]


def test_duplicate_caption_on_a_pod_is_object_exists(cw):
    cw.ok("POST", UDF, 201, json=new_field())
    body = error(cw.post(UDF, new_field(caption="SIGNL4STATUS_C")), 400, "InvalidObject")
    assert body["errors"][0]["code"] == "ObjectExists" and body["errors"][0]["field"] == "caption"
    cw.ok("POST", UDF, 201, json=new_field(podId=4))  # another pod may reuse it
    second = cw.ok("POST", UDF, 201, json=new_field(caption="Other"))
    error(cw.patch("%s/%d" % (UDF, second["id"]), {"op": "replace", "path": "caption", "value": "Signl4Status_c"}),
          400, "InvalidObject")


# ----- tickets and their custom fields -----------------------------------------------------------
def test_ticket_shape(cw):
    ticket = cw.ok("GET", TICKETS + "/1")
    assert list(ticket)[0] == "id" and list(ticket)[-1] == "_info"
    assert ticket["board"]["name"] == "Service Desk" and ticket["board"]["_info"]["board_href"].endswith(
        "/v2025_1/apis/3.0/service/boards/1")
    assert ticket["status"] == {"id": 1, "name": "New (not responded)", "sort": 0, "_info": {
        "status_href": cw.base + "/service/boards/1/statuses/1"}}
    assert set(ticket["company"]) == {"id", "identifier", "name", "_info"}
    assert [f["caption"] for f in ticket["customFields"]] == ["Customer VIP", "Outage ID", "Escalation Level"]
    assert ticket["customFields"][0]["value"] is True and ticket["customFields"][1]["value"] is None
    assert "dateEntered" not in ticket and ticket["_info"]["dateEntered"] == "2025-02-03T09:00:00Z"


def test_new_ticket_custom_field_appears_on_every_ticket(cw):
    field = cw.ok("POST", UDF, 201, json=new_field(caption="Signl4Retrieved_c", fieldTypeIdentifier="Checkbox"))
    cw.ok("POST", UDF, 201, json=new_field(caption="Contact only", podId=4))
    tickets = cw.ok("GET", TICKETS, pageSize=1000)
    for ticket in tickets:
        entry = ticket["customFields"][-1]
        assert entry["id"] == field["id"] and entry["type"] == "Checkbox" and entry["value"] is None
        assert all(f["caption"] != "Contact only" for f in ticket["customFields"])


def test_custom_field_values_are_set_as_a_whole_array(cw):
    field = cw.ok("POST", UDF, 201, json=new_field(caption="Signl4Retrieved_c", fieldTypeIdentifier="Checkbox"))
    ticket = cw.ok("GET", TICKETS + "/10")
    values = ticket["customFields"]
    values[-1]["value"] = True
    updated = cw.ok("PATCH", TICKETS + "/10", json=[{"op": "replace", "path": "customFields", "value": values}])
    assert [f.get("value") for f in updated["customFields"]] == [False, "OUT-1043", 1, True]
    only_new = [{"id": field["id"], "value": False}]
    updated = cw.ok("PATCH", TICKETS + "/10", json=[{"op": "replace", "path": "customFields", "value": only_new}])
    assert [f.get("value") for f in updated["customFields"]] == [None, None, None, False]
    assert updated["_info"]["lastUpdated"] > ticket["_info"]["lastUpdated"]


@pytest.mark.parametrize("entry", [{"id": 1, "value": "yes"}, {"id": 3, "value": "3"}, {"id": 2, "value": 5},
                                   {"id": 4, "value": "Email"}, {"id": 99, "value": "x"}, {"value": "x"}])
def test_bad_custom_field_values(cw, entry):
    body = error(cw.patch(TICKETS + "/1", {"op": "replace", "path": "customFields", "value": [entry]}),
                 400, "InvalidObject")
    assert body["errors"][0]["field"] == "customFields"


def test_custom_field_conditions(cw):
    found = cw.ok("GET", TICKETS, customFieldConditions='caption="Customer VIP" AND value = True', fields="id")
    assert found == [{"id": 1}]
    found = cw.ok("GET", TICKETS, customFieldConditions="caption='Outage ID' AND value != null", fields="id")
    assert found == [{"id": 3}, {"id": 10}]
    count = cw.ok("GET", TICKETS + "/count", customFieldConditions='caption="Escalation Level" AND value >= 1',
                  conditions='status/name = "New (not responded)"')
    assert count == {"count": 1}
    error(cw.get(TICKETS, customFieldConditions='caption in ("x")'), 400, "ApiFindCondition")
    error(cw.get("/service/boards", customFieldConditions='caption="x"'), 400, "ApiFindCondition")


def test_create_ticket_with_references_by_name(cw):
    ticket = cw.ok("POST", TICKETS, 201, json={
        "summary": "Disk full on EXCH01", "company": {"identifier": "fabrikam"},
        "board": {"name": "Network Operations"}, "status": {"name": "Acknowledged"},
        "priority": {"name": "Priority 1 - Emergency Response"}, "owner": {"identifier": "bjones"},
        "initialDescription": "Seen by monitoring", "customFields": [{"id": 2, "value": "OUT-9"}]})
    assert ticket["id"] == 12 and ticket["board"]["id"] == 2 and ticket["status"]["id"] == 10
    assert ticket["company"]["name"] == "Fabrikam, Inc." and ticket["owner"]["name"] == "Bob Jones"
    assert ticket["priority"]["sort"] == 1 and "initialDescription" not in ticket
    assert ticket["customFields"][1]["value"] == "OUT-9" and ticket["closedFlag"] is False
    assert cw.ok("GET", TICKETS + "/12") == ticket


def test_create_ticket_defaults(cw):
    ticket = cw.ok("POST", TICKETS, 201, json={"summary": "Phone issue", "company": {"id": 3}})
    assert ticket["board"]["name"] == "Service Desk" and ticket["status"]["name"] == "New (not responded)"
    assert ticket["priority"]["name"] == "Priority 3 - Normal Response"
    assert ticket["location"]["name"] == "Tampa Office" and ticket["department"]["identifier"] == "SVC"


@pytest.mark.parametrize("body, field, code", [
    ({"company": {"id": 2}}, "summary", "MissingRequiredField"),
    ({"summary": "x"}, "company", "MissingRequiredField"),
    ({"summary": "x" * 101, "company": {"id": 2}}, "summary", "InvalidField"),
    ({"summary": "x", "company": {"identifier": "Nobody"}}, "company", "InvalidField"),
    ({"summary": "x", "company": {"id": 2}, "board": {"name": "Projects"}, "status": {"name": "Assigned"}},
     "status", "InvalidField"),
    ({"summary": "x", "company": {"id": 2}, "status": {"id": 9}}, "status", "InvalidField"),
    ({"summary": "x", "company": {"id": 2}, "owner": {"identifier": "ghost"}}, "owner", "InvalidField"),
    ({"summary": "x", "company": {"id": 2}, "impact": "Huge"}, "impact", "InvalidField"),
    ({"summary": "x", "company": "Fabrikam"}, "company", "InvalidField"),
])
def test_invalid_tickets(cw, body, field, code):
    errors = error(cw.post(TICKETS, body), 400, "InvalidObject")["errors"]
    assert (errors[0]["field"], errors[0]["code"], errors[0]["resource"]) == (field, code, "ticket")


def test_assign_owner_and_close_by_patch(cw):
    ticket = cw.ok("PATCH", TICKETS + "/2", json=[
        {"op": "replace", "path": "owner", "value": {"identifier": "jdoe"}},
        {"op": "replace", "path": "status", "value": {"name": "Acknowledged"}}])
    assert ticket["owner"]["identifier"] == "jdoe" and ticket["status"]["name"] == "Acknowledged"
    closed = cw.ok("PATCH", TICKETS + "/2", json=[{"op": "replace", "path": "status",
                                                   "value": {"name": "Closed (resolved)"}}])
    assert closed["closedFlag"] is True and closed["closedBy"] == "apiautomation" and closed["closedDate"]
    reopened = cw.ok("PATCH", TICKETS + "/2", json=[{"op": "replace", "path": "status", "value": {"id": 2}}])
    assert reopened["closedFlag"] is False and "closedDate" not in reopened
    error(cw.patch(TICKETS + "/2", {"op": "replace", "path": "board", "value": {"name": "Projects"}}),
          400, "InvalidObject")


def test_renamed_references_show_the_new_name(cw):
    cw.ok("PATCH", "/service/boards/1", json=[{"op": "replace", "path": "name", "value": "Help Desk"}])
    assert cw.ok("GET", TICKETS + "/1")["board"]["name"] == "Help Desk"


# ----- other resources -------------------------------------------------------------------------------
def test_board_statuses_are_nested(cw):
    statuses = cw.ok("GET", "/service/boards/1/statuses", pageSize=100)
    assert len(statuses) == 8 and {s["board"]["id"] for s in statuses} == {1}
    assert [s["name"] for s in statuses if s["closedStatus"]] == ["Closed (resolved)", "Closed (cancelled)"]
    assert cw.ok("GET", "/service/boards/2/statuses/count") == {"count": 4}
    error(cw.get("/service/boards/2/statuses/1"), 404, "NotFound")
    error(cw.get("/service/boards/99/statuses"), 404, "NotFound")
    created = cw.ok("POST", "/service/boards/3/statuses", 201, json={"name": "On Hold", "parentId": 1})
    assert created["parentId"] == 3 and created["board"]["name"] == "Projects"
    error(cw.post("/service/boards/3/statuses", {"name": "on hold"}), 400, "InvalidObject")
    cw.ok("POST", "/service/boards/2/statuses", 201, json={"name": "On Hold"})


def test_deleting_a_board_deletes_its_statuses(cw):
    cw.ok("DELETE", "/service/boards/3", 204)
    error(cw.get("/service/boards/3/statuses"), 404, "NotFound")
    assert cw.ok("GET", TICKETS, conditions='status/name = "Completed"') == []


def test_seeded_reference_data(cw):
    priorities = cw.ok("GET", "/service/priorities", orderBy="sortOrder")
    assert [p["name"] for p in priorities][0] == "Priority 1 - Emergency Response"
    assert "Do not respond" in [p["name"] for p in priorities]
    members = cw.ok("GET", "/system/members", conditions='officeEmail = "JDOE@contoso-msp.com"')
    assert [m["identifier"] for m in members] == ["jdoe"]
    assert cw.ok("GET", "/system/locations", fields="name") == [{"name": "Tampa Office"}, {"name": "Remote"}]
    assert [d["name"] for d in cw.ok("GET", "/system/departments")] == ["Services", "Professional Services"]
    assert cw.ok("GET", "/company/companies/count") == {"count": 6}


def test_member_create_and_duplicate_identifier(cw):
    body = {"identifier": "gwhite", "firstName": "Grace", "lastName": "White", "licenseClass": "F",
            "hireDate": "2024-01-02T00:00:00Z", "defaultEmail": "Office", "defaultPhone": "Office",
            "securityRole": {"id": 2}, "officeEmail": "gwhite@contoso-msp.com", "password": "s3cret!"}
    member = cw.ok("POST", "/system/members", 201, json=body)
    # id 9: after the 7 seeded members and the seeded API member
    assert member["id"] == 9 and "password" not in member and member["hireDate"] == "2024-01-02T00:00:00Z"
    date_only = dict(body, identifier="hgreen", hireDate="2024-01-02")
    assert error(cw.post("/system/members", date_only), 400, "InvalidObject")["errors"][0]["field"] == "hireDate"
    body["identifier"] = "GWHITE"
    assert error(cw.post("/system/members", body), 400, "InvalidObject")["errors"][0]["code"] == "ObjectExists"


# ----- queries ----------------------------------------------------------------------------------
def test_conditions_count_fields_and_order(cw):
    open_desk = 'board/name = "Service Desk" and closedFlag = false'
    assert cw.ok("GET", TICKETS + "/count", conditions=open_desk) == {"count": 6}
    rows = cw.ok("GET", TICKETS, conditions=open_desk, fields="id,summary,status/name,owner/identifier",
                 orderBy="status/name desc, id asc")
    assert [r["status"]["name"] for r in rows] == ["Waiting on Client", "New (not responded)", "New (not responded)",
                                                   "New", "Assigned", "Acknowledged"]
    assert rows[1] == {"id": 1, "summary": "Email not syncing on CEO's phone", "status": {"name": "New (not responded)"}}
    assert rows[4]["owner"] == {"identifier": "asmith"}
    newest = cw.ok("GET", TICKETS, orderBy="lastUpdated desc", pageSize=1, fields="id")
    assert newest == [{"id": 11}]
    assert cw.ok("GET", TICKETS, conditions="lastUpdated > [2025-02-03T18:30:00Z]", fields="id") == [{"id": 11}]


@pytest.mark.parametrize("params", [
    {"conditions": "nonsense = 1"}, {"conditions": 'summary = "unterminated'}, {"conditions": "id = 1 and"},
    {"conditions": "customFields/value = 1"}, {"orderBy": "nonsense asc"}, {"orderBy": "id sideways"},
])
def test_bad_queries_are_400(cw, params):
    assert error(cw.get(TICKETS, **params), 400, "ApiFindCondition")["message"]


@pytest.mark.parametrize("params", [{"page": "0"}, {"page": "x"}, {"pageSize": "0"}, {"pageSize": "-5"}])
def test_bad_paging_parameters_are_400(cw, params):
    assert cw.get(TICKETS, **params).status_code == 400


def links_of(response):
    return dict((rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers["Link"]))


def test_navigable_link_header(cw):
    response = cw.get(TICKETS, page=2, pageSize=3, conditions="id > 0")
    links = links_of(response)
    assert set(links) == {"first", "prev", "next", "last"}
    assert links["next"].startswith(cw.base + TICKETS + "?conditions=id%20%3E%200&pageSize=3&page=3")
    # page is the last parameter of every URL: clients read it with ``page=(\d+)>``
    pages = dict((rel, int(n)) for n, rel in re.findall(r'[?&]page=(\d+)>; rel="(\w+)"', response.headers["Link"]))
    assert pages == {"first": 1, "prev": 1, "next": 3, "last": 4}
    assert [t["id"] for t in response.json()] == [4, 5, 6]
    assert set(links_of(cw.get(TICKETS, pageSize=3))) == {"next", "last"}
    assert set(links_of(cw.get(TICKETS, page=4, pageSize=3))) == {"first", "prev", "last"}
    single = links_of(cw.get(TICKETS))
    assert list(single) == ["last"] and single["last"].endswith("pageSize=25&page=1")
    assert cw.ok("GET", TICKETS, page=9, pageSize=3) == []


def test_page_size_is_capped_at_1000(big):
    assert len(big.ok("GET", TICKETS, pageSize=5000, fields="id")) == 1000
    assert len(big.ok("GET", TICKETS, fields="id")) == 25


@pytest.mark.parametrize("forward_only", [False, True])
def test_2500_tickets_page_completely(big, forward_only):
    total = big.ok("GET", TICKETS + "/count")["count"]
    assert total == 2511
    headers = {"pagination-type": "forward-only"} if forward_only else None
    url, ids, pages = big.base + TICKETS + "?pageSize=1000&fields=id,summary", [], 0
    while url:
        response = big.session.get(url, headers=headers, timeout=10)
        assert response.status_code == 200
        ids += [t["id"] for t in response.json()]
        pages += 1
        # forward-only always links the next pageId and ends with an empty page; navigable stops at last
        url = links_of(response).get("next") if response.json() else None
    assert pages == (4 if forward_only else 3)
    assert len(ids) == total and len(set(ids)) == total and ids == sorted(ids)


def test_forward_only_rules(big):
    headers = {"pagination-type": "forward-only"}
    page = big.ok("GET", TICKETS, headers=headers, pageId=2500, page=7, pageSize=5, fields="id")
    assert page == [{"id": n} for n in range(2501, 2506)]
    last = big.get(TICKETS, headers=headers, pageId=2509, pageSize=5)
    assert [t["id"] for t in last.json()] == [2510, 2511]
    assert links_of(last) == {"next": big.base + TICKETS + "?pageSize=5&pageId=2511"}
    end = big.get(TICKETS, headers=headers, pageId=2511, pageSize=5)
    assert end.json() == [] and links_of(end) == {"next": big.base + TICKETS + "?pageSize=5&pageId=2511"}
    error(big.get(TICKETS, headers=headers, orderBy="id desc"), 400, "InvalidObject")
    assert big.get(TICKETS, headers=headers, pageId=-1).status_code == 400


# ----- faults, journal, reset ----------------------------------------------------------------------
def test_429_with_retry_after_then_recovery(cw):
    cw.server.inject(429, count=2, retry_after=3, path="/service/tickets")
    for response in [cw.get(TICKETS), cw.get(TICKETS)]:
        assert response.status_code == 429 and response.headers["Retry-After"] == "3"
        assert "Too many requests" in response.json()["message"]
    assert cw.get(TICKETS).status_code == 200
    assert cw.get("/service/boards").status_code == 200


def test_journal_and_reset(cw):
    cw.ok("POST", UDF, 201, json=new_field())
    entries = cw.server.requests()
    assert entries[-1]["method"] == "POST" and entries[-1]["status"] == 201
    assert entries[-1]["headers"]["authorization"] == "***"
    cw.server.reset()
    assert cw.server.requests() == [] and cw.ok("GET", UDF + "/count") == {"count": 4}


# ----- the vendor's document -----------------------------------------------------------------------
SPEC_QUIRKS = re.compile(
    r"customFields/\d+/value"  # CustomFieldValue.value is typed object; real values are scalars
    r"|request body: .* at \d+/value"  # PatchOperation.value is typed object too
    r"|/count -> 200: response body")  # the checker matches /count against /{id}


def test_responses_conform_to_the_spec_subset(cw):
    spec_conformance = pytest.importorskip("tests.support.spec_conformance")
    if not os.path.isdir(spec_conformance.SPECS_DIR):
        pytest.skip("spec documents not available")
    cw.server.clear_requests()
    for path in ("/service/tickets", "/service/tickets/3", "/service/boards", "/service/boards/1",
                 "/service/boards/1/statuses", "/service/priorities", "/system/members", "/system/members/2",
                 UDF, UDF + "/4", "/system/info"):
        cw.ok("GET", path)
    created = cw.ok("POST", UDF, 201, json=new_field())
    cw.ok("PATCH", "%s/%d" % (UDF, created["id"]), json=[{"op": "replace", "path": "helpText", "value": "x"}])
    cw.ok("POST", TICKETS, 201, json={"summary": "Spec check", "company": {"id": 2}, "owner": {"id": 1}})
    cw.get(UDF + "/999")
    report = spec_conformance.manage_spec().check(cw.server.requests())
    assert len(report.checked) >= 14
    problems = [p for p in report.problems if not SPEC_QUIRKS.search(p)]
    assert problems == []
