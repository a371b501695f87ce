"""The Manage emulator's administration resources over real HTTP: security roles and their
read-only settings (plus the test control standing for the UI), API members, member tokens and
callbacks with the validation bodies observed on the real server."""

import os
import urllib.error

import pytest
import requests
import yaml

from tests.emulators.harness import REPO_ROOT
from tests.support.spec_conformance import manage_spec
from tests.integration.emulators.test_manage_emulator import COMPANY, Api, error

ROLES = "/system/securityroles"
SETTINGS = "/system/securityRoles/%d/settings"
API_MEMBERS = "/system/apiMembers"
CALLBACKS = "/system/callbacks"
LEVELS = ("addLevel", "editLevel", "deleteLevel", "inquireLevel")
SIGNL4_MEMBER = {"identifier": "signl4", "name": "Derdack SIGNL4", "securityRole": {"name": "Admin"},
                 "defaultLocation": {"name": "Tampa Office"}, "defaultDepartment": {"identifier": "SVC"},
                 "serviceDefaultBoard": {"name": "Service Desk"}}
OWNER_CALLBACK = {"url": "https://test.com/webhook?recordId=", "objectId": 0, "type": "ticket", "level": "owner",
                  "payloadVersion": "3.0.0", "inactiveFlag": False, "isSelfSuppressedFlag": False}


@pytest.fixture
def cw(manage):
    return Api(manage)


def levels(setting):
    return tuple(setting[field] for field in LEVELS)


# ----- security roles ------------------------------------------------------------------------
def test_seeded_roles_are_the_ones_members_reference(cw):
    roles = cw.ok("GET", ROLES)
    assert [(r["id"], r["name"], r["adminFlag"]) for r in roles] == [(1, "Admin", True), (2, "Technician", False)]
    member_roles = {m["securityRole"]["id"] for m in cw.ok("GET", "/system/members")}
    assert member_roles <= {r["id"] for r in roles}
    assert {levels(s) for s in cw.ok("GET", SETTINGS % 1, pageSize=1000)} == {("All",) * 4}


def test_a_new_role_gets_every_function_at_none(cw):
    role = cw.ok("POST", ROLES, 201, json={"name": "SIGNL4"})
    settings = cw.ok("GET", SETTINGS % role["id"], pageSize=1000)
    assert len(settings) == cw.ok("GET", SETTINGS % role["id"] + "/count")["count"] == len(cw.ok("GET", SETTINGS % 1, pageSize=1000))
    assert {levels(s) for s in settings} == {("None",) * 4}
    assert [s["sortOrder"] for s in settings] == sorted(s["sortOrder"] for s in settings)
    one = cw.ok("GET", SETTINGS % role["id"] + "/%d" % settings[0]["id"])
    assert one["moduleName"] == "Companies" and one["parentId"] == role["id"]
    system = cw.ok("GET", SETTINGS % role["id"], conditions='moduleName = "System"')
    assert {s["moduleFunctionName"] for s in system} >= {"API Reports", "Member Maintenance", "My Account", "Table Setup"}


def test_the_catalogue_has_every_function_of_the_signl4_role(cw):
    with open(os.path.join(REPO_ROOT, "tests", "integration", "data", "seed_security_role.yml")) as handle:
        declared = yaml.safe_load(handle)["permissions"]
    catalogue = {(s["moduleName"], s["moduleFunctionName"]) for s in cw.ok("GET", SETTINGS % 1, pageSize=1000)}
    assert {(e["module"], e["function"]) for e in declared} <= catalogue


def test_roles_cannot_be_changed_and_settings_cannot_be_written(cw):
    role_id = cw.ok("POST", ROLES, 201, json={"name": "SIGNL4"})["id"]
    setting_id = cw.ok("GET", SETTINGS % role_id)[0]["id"]
    assert cw.put(ROLES + "/%d" % role_id, {"name": "Other"}).status_code == 405
    assert cw.patch(ROLES + "/%d" % role_id, {"op": "replace", "path": "name", "value": "x"}).status_code == 405
    assert cw.post(SETTINGS % role_id, {"addLevel": "All"}).status_code == 405
    item = SETTINGS % role_id + "/%d" % setting_id
    assert cw.put(item, {"addLevel": "All"}).status_code == 405
    assert cw.patch(item, {"op": "replace", "path": "addLevel", "value": "All"}).status_code == 405
    assert cw.delete(item).status_code == 405
    assert {levels(s) for s in cw.ok("GET", SETTINGS % role_id, pageSize=1000)} == {("None",) * 4}


@pytest.mark.parametrize("body, code", [({"name": "admin"}, "ObjectExists"), ({"name": "x" * 31}, "InvalidField"),
                                        ({"roleType": "Standard"}, "MissingRequiredField")])
def test_role_validation(cw, body, code):
    assert error(cw.post(ROLES, body), 400, "InvalidObject")["errors"][0]["code"] == code


def test_deleting_a_role_takes_its_settings_unless_members_use_it(cw):
    role_id = cw.ok("POST", ROLES, 201, json={"name": "SIGNL4"})["id"]
    assert cw.delete(ROLES + "/%d" % role_id).status_code == 204
    error(cw.get(SETTINGS % role_id), 404, "NotFound")
    error(cw.get(ROLES + "/%d" % role_id), 404, "NotFound")
    body = error(cw.delete(ROLES + "/2"), 409, "ObjectInUse")
    assert "asmith" in body["message"]
    cw.ok("GET", ROLES + "/2")


def test_the_ui_control_sets_levels(manage, cw):
    role_id = cw.ok("POST", ROLES, 201, json={"name": "SIGNL4"})["id"]
    settings = manage.control("POST", "/securityRoles/%d/settings" % role_id, [
        {"module": "service desk", "function": "Close Service Tickets", "edit": "All", "inquire": "All"},
        {"module": "System", "function": "TableSetup", "add": "All"}])
    by_name = {s["moduleFunctionName"]: levels(s) for s in cw.ok("GET", SETTINGS % role_id, pageSize=1000)}
    assert by_name["Close Service Tickets"] == ("None", "All", "None", "All")
    assert by_name["Table Setup"] == ("All", "None", "None", "None")
    assert {s["moduleFunctionName"]: levels(s) for s in settings} == by_name


@pytest.mark.parametrize("change", [{"module": "System", "function": "Coffee Machine", "add": "All"},
                                    {"module": "System", "function": "My Account", "add": "Some"}])
def test_the_ui_control_refuses_what_the_ui_has_not(manage, change):
    with pytest.raises(urllib.error.HTTPError) as failure:
        manage.control("POST", "/securityRoles/1/settings", [change])
    assert failure.value.code == 400


# ----- API members ----------------------------------------------------------------------------
def test_api_member_create_resolves_references_and_has_no_delete(cw):
    created = cw.ok("POST", API_MEMBERS, 201, json=SIGNL4_MEMBER)
    assert (created["securityRole"]["id"], created["defaultLocation"]["id"], created["defaultDepartment"]["name"],
            created["serviceDefaultBoard"]["id"]) == (1, 1, "Services", 1)
    assert created["inactiveFlag"] is False and "inactiveDate" not in created
    assert cw.ok("GET", API_MEMBERS + "/count")["count"] == 2  # and the seeded one the test's keys act as
    assert cw.delete(API_MEMBERS + "/%d" % created["id"]).status_code == 405
    assert cw.ok("GET", API_MEMBERS, conditions='identifier = "SIGNL4"')[0]["id"] == created["id"]


def test_deactivating_dates_it_and_reactivating_clears_the_date(cw):
    member_id = cw.ok("POST", API_MEMBERS, 201, json=SIGNL4_MEMBER)["id"]
    item = API_MEMBERS + "/%d" % member_id
    inactive = cw.ok("PATCH", item, json=[{"op": "replace", "path": "inactiveFlag", "value": True}])
    assert inactive["inactiveFlag"] is True and inactive["inactiveDate"]
    active = cw.ok("PATCH", item, json=[{"op": "replace", "path": "inactiveFlag", "value": False}])
    assert "inactiveDate" not in active
    error(cw.patch(item, {"op": "replace", "path": "inactiveDate", "value": "2025-01-01T00:00:00Z"}), 400, "InvalidObject")


@pytest.mark.parametrize("change, code, field", [
    ({"name": None}, "MissingRequiredField", "name"),
    ({"securityRole": None}, "MissingRequiredField", "securityRole"),
    ({"securityRole": {"name": "Nobody"}}, "InvalidField", "securityRole"),
    ({"defaultDepartment": {"identifier": "XX"}}, "InvalidField", "defaultDepartment"),
    ({"identifier": "jdoe"}, "ObjectExists", "identifier"),
    ({"identifier": "x" * 16}, "InvalidField", "identifier"),
])
def test_api_member_validation(cw, change, code, field):
    body = dict(SIGNL4_MEMBER, **change)
    errors = error(cw.post(API_MEMBERS, {k: v for k, v in body.items() if v is not None}), 400, "InvalidObject")["errors"]
    assert (errors[0]["code"], errors[0]["field"]) == (code, field)


def test_member_tokens_authenticate_until_reset(manage, cw):
    cw.ok("POST", API_MEMBERS, 201, json=SIGNL4_MEMBER)
    token = cw.ok("POST", "/system/members/signl4/tokens", json={"memberIdentifier": "signl4"})
    assert set(token) == {"publicKey", "privateKey", "expiration"}
    impersonated = requests.get(cw.base + "/system/info", auth=("%s+%s" % (COMPANY, token["publicKey"]), token["privateKey"]),
                                headers={"clientId": manage.connection["cw_client_id"]}, timeout=10)
    assert impersonated.status_code == 200
    assert cw.post("/system/members/jdoe/tokens", {}).status_code == 200
    error(cw.post("/system/members/nobody/tokens", {}), 404, "NotFound")
    error(cw.post("/system/members/fnguyen/tokens", {}), 400, "InvalidObject")  # inactive
    error(cw.post("/system/members/jdoe/tokens", {"memberIdentifier": "asmith"}), 400, "InvalidObject")
    manage.reset()
    again = requests.get(cw.base + "/system/info", auth=("%s+%s" % (COMPANY, token["publicKey"]), token["privateKey"]),
                         headers={"clientId": manage.connection["cw_client_id"]}, timeout=10)
    assert again.status_code == 401


# ----- callbacks ------------------------------------------------------------------------------
def test_the_observed_create_and_its_defaults(cw):
    created = cw.ok("POST", CALLBACKS, 201, json=OWNER_CALLBACK)
    assert created["objectId"] == 1 and created["memberId"] and created["connectWiseID"]
    assert (created["type"], created["level"], created["isSoapCallbackFlag"]) == ("ticket", "owner", False)
    assert cw.ok("GET", CALLBACKS + "/count")["count"] == 1
    assert cw.ok("GET", CALLBACKS, conditions='type = "Ticket" AND level = "Owner"')[0]["id"] == created["id"]


def test_the_observed_validation_bodies(cw):
    both = error(cw.post(CALLBACKS, dict(OWNER_CALLBACK, url="not a url", level="nowhere")), 400, "InvalidObject")
    assert both["message"] == "callbackEntry object is invalid"
    assert [(e["code"], e["message"], e["field"]) for e in both["errors"]] == [
        ("InvalidField", "Invalid URL", "url"),
        ("InvalidObject", "Unrecognized level for type, see documentation for supported levels for each type", "level")]
    cw.ok("POST", CALLBACKS, 201, json=OWNER_CALLBACK)
    duplicate = error(cw.post(CALLBACKS, dict(OWNER_CALLBACK, type="Ticket", level="Owner")), 400, "InvalidObject")
    assert duplicate["errors"] == [{"code": "ObjectExists", "message": "A matching callback entry already exists",
                                    "resource": "callbackEntry", "field": "objectId"}]


@pytest.mark.parametrize("change, field", [
    ({"level": "Board", "objectId": 99}, "objectId"),
    ({"level": "Project", "objectId": 0}, "objectId"),
    ({"type": "Member", "level": "Board", "objectId": 1}, "level"),
    ({"url": None}, "url"),
])
def test_callback_objects_and_levels_are_checked(cw, change, field):
    body = {k: v for k, v in dict(OWNER_CALLBACK, **change).items() if v is not None}
    assert error(cw.post(CALLBACKS, body), 400, "InvalidObject")["errors"][0]["field"] == field


def test_callback_update_and_delete(cw):
    created = cw.ok("POST", CALLBACKS, 201, json=dict(OWNER_CALLBACK, level="Board", objectId=2))
    item = CALLBACKS + "/%d" % created["id"]
    assert cw.ok("PATCH", item, json=[{"op": "replace", "path": "description", "value": "sync"}])["description"] == "sync"
    error(cw.patch(item, {"op": "replace", "path": "memberId", "value": 1}), 400, "InvalidObject")
    assert cw.ok("PUT", item, json=dict(OWNER_CALLBACK, inactiveFlag=True))["level"] == "owner"
    assert cw.delete(item).status_code == 204
    error(cw.get(item), 404, "NotFound")


def test_all_of_it_conforms_to_the_manage_document(manage, cw):
    role_id = cw.ok("POST", ROLES, 201, json={"name": "SIGNL4"})["id"]
    cw.get(ROLES, conditions='name = "SIGNL4"')
    cw.get(SETTINGS % role_id, pageSize=5)
    cw.delete(ROLES + "/2")
    member_id = cw.ok("POST", API_MEMBERS, 201, json=SIGNL4_MEMBER)["id"]
    cw.patch(API_MEMBERS + "/%d" % member_id, {"op": "replace", "path": "inactiveFlag", "value": True})
    cw.put(API_MEMBERS + "/%d" % member_id, dict(SIGNL4_MEMBER, name="SIGNL4"))
    cw.post(API_MEMBERS, dict(SIGNL4_MEMBER, identifier="jdoe"))
    callback_id = cw.ok("POST", CALLBACKS, 201, json=OWNER_CALLBACK)["id"]
    cw.post(CALLBACKS, dict(OWNER_CALLBACK, url="nope"))
    cw.get(CALLBACKS + "/%d" % callback_id)
    cw.delete(CALLBACKS + "/%d" % callback_id)
    report = manage_spec().assert_conforms(manage.requests(), path_filter="securityroles|apiMembers|callbacks")
    assert len(report.checked) == 12
