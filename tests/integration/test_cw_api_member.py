"""cw_api_member and cw_api_member_info against the Manage emulator: created, updated with a
minimal PATCH, never deleted (absent = deactivated), check mode without writes, names resolved
before any write, and the traffic checked against the vendor's document."""

import pytest

from tests.support.modules import run_module
from tests.support.spec_conformance import manage_spec

SIGNL4_MEMBER = dict(identifier="signl4", name="Derdack SIGNL4", role="Admin", location="Tampa Office",
                     business_unit="Services", default_board="Service Desk", email="signl4@contoso-msp.com")


def member(manage, **overrides):
    return dict(manage.connection, **dict(SIGNL4_MEMBER, **overrides))


def stored(manage, identifier="signl4"):
    return run_module("cw_api_member_info", dict(manage.connection, identifier=identifier))["api_members"]


def test_create_then_no_change_without_writes(manage):
    result = run_module("cw_api_member", member(manage))
    assert result["changed"] is True
    created = result["api_member"]
    assert created["identifier"] == "signl4" and created["name"] == "Derdack SIGNL4"
    assert created["emailAddress"] == "signl4@contoso-msp.com"
    assert (created["securityRole"]["name"], created["defaultLocation"]["name"], created["defaultDepartment"]["name"],
            created["serviceDefaultBoard"]["name"]) == ("Admin", "Tampa Office", "Services", "Service Desk")
    assert created["inactiveFlag"] is False
    assert result["diff"]["before"] == {} and result["diff"]["after"]["securityRole"] == {"id": 1, "name": "Admin"}
    manage.clear_requests()
    again = run_module("cw_api_member", member(manage))
    assert again["changed"] is False and again["diff"] == {"before": {}, "after": {}}
    assert manage.writes() == []


def test_an_update_patches_only_what_differs(manage):
    run_module("cw_api_member", member(manage))
    manage.clear_requests()
    result = run_module("cw_api_member", member(manage, role="Technician", email="alerts@contoso-msp.com"))
    assert result["changed"] is True
    assert result["diff"]["before"]["emailAddress"] == "signl4@contoso-msp.com"
    assert result["diff"]["after"] == {"emailAddress": "alerts@contoso-msp.com", "securityRole": {"id": 2, "name": "Technician"}}
    writes = manage.writes()
    assert [w["method"] for w in writes] == ["PATCH"]
    assert {op["path"] for op in writes[0]["request_json"]} == {"emailAddress", "securityRole"}
    assert stored(manage)[0]["securityRole"]["name"] == "Technician"


def test_check_mode_shows_a_role_an_earlier_task_would_create_by_its_name(manage):
    """A check-mode run creates nothing, so the role this run would create first does not exist yet: named in
    assume_created, it shows in the diff; any other unknown name still fails, and a real run needs the role."""
    for existing in (False, True):
        if existing:
            run_module("cw_api_member", member(manage))
            manage.clear_requests()
        result = run_module("cw_api_member", member(manage, role="SIGNL4", assume_created=["signl4 "]), check_mode=True)
        assert result.get("failed") is None and result["changed"] is True, result
        assert result["diff"]["after"]["securityRole"] == {"name": "SIGNL4"}
        if existing:
            assert result["diff"]["before"]["securityRole"]["name"] == "Admin"
        assert manage.writes() == []
    unknown = run_module("cw_api_member", member(manage, role="SIGNL4"), check_mode=True)
    assert unknown["failed"] is True and "unknown security role 'SIGNL4'" in unknown["msg"]
    other = run_module("cw_api_member", member(manage, role="SIGNL4", location="Mars", assume_created=["SIGNL4"]),
                       check_mode=True)
    assert other["failed"] is True and "unknown location 'Mars'" in other["msg"]
    real = run_module("cw_api_member", member(manage, role="SIGNL4", assume_created=["SIGNL4"]))
    assert real["failed"] is True and "unknown security role 'SIGNL4'" in real["msg"]
    assert manage.writes() == []


def test_only_given_options_are_compared(manage):
    run_module("cw_api_member", member(manage))
    manage.clear_requests()
    assert run_module("cw_api_member", dict(manage.connection, identifier="signl4"))["changed"] is False
    assert manage.writes() == []


def test_absent_deactivates_never_deletes_and_present_reactivates(manage):
    run_module("cw_api_member", member(manage))
    manage.clear_requests()
    result = run_module("cw_api_member", dict(manage.connection, identifier="signl4", state="absent"))
    assert result["changed"] is True and result["api_member"]["inactiveFlag"] is True
    assert result["diff"] == {"before": {"inactiveFlag": False}, "after": {"inactiveFlag": True}}
    writes = manage.writes()
    assert [w["method"] for w in writes] == ["PATCH"] and writes[0]["request_json"] == [
        {"op": "replace", "path": "inactiveFlag", "value": True}]
    manage.clear_requests()
    again = run_module("cw_api_member", dict(manage.connection, identifier="signl4", state="absent"))
    assert again["changed"] is False and manage.writes() == []
    assert stored(manage)[0]["inactiveFlag"] is True
    assert run_module("cw_api_member", member(manage))["api_member"]["inactiveFlag"] is False


def test_absent_for_a_member_that_does_not_exist_is_no_change(manage):
    result = run_module("cw_api_member", dict(manage.connection, identifier="nobody", state="absent"))
    assert result["changed"] is False and result["api_member"] is None and manage.writes() == []


@pytest.mark.parametrize("path", ["create", "update", "deactivate", "noop"])
def test_check_mode_predicts_every_path_without_writes(manage, path):
    if path != "create":
        run_module("cw_api_member", member(manage))
    overrides = {"create": {}, "update": {"name": "SIGNL4 Connector"}, "deactivate": {"state": "absent"}, "noop": {}}[path]
    before = stored(manage)
    manage.clear_requests()
    result = run_module("cw_api_member", member(manage, **overrides), check_mode=True)
    assert manage.writes() == []
    assert result["changed"] is (path != "noop")
    assert stored(manage) == before
    if path == "update":
        assert result["diff"] == {"before": {"name": "Derdack SIGNL4"}, "after": {"name": "SIGNL4 Connector"}}
        assert result["api_member"]["name"] == "SIGNL4 Connector"


@pytest.mark.parametrize("overrides, message", [
    ({"role": "Nobody"}, "unknown security role 'Nobody'; known: Admin, Technician"),
    ({"default_board": "Help Desk"}, "unknown board 'Help Desk'"),
    ({"location": "Moon Base"}, "unknown location 'Moon Base'"),
    ({"business_unit": "Sales"}, "unknown business unit 'Sales'"),
    ({"identifier": "a-much-too-long-identifier"}, "identifier must be at most 15 characters"),
    ({"role": None, "location": None}, "creating API member 'signl4' needs role, location"),
])
def test_bad_input_fails_clearly_and_writes_nothing(manage, overrides, message):
    result = run_module("cw_api_member", member(manage, **overrides))
    assert result["failed"] is True and message in result["msg"]
    assert manage.writes() == []


def test_an_identifier_a_member_already_has_is_refused_with_manages_reason(manage):
    result = run_module("cw_api_member", member(manage, identifier="jdoe"))
    assert result["failed"] is True and "identifier: A member with identifier jdoe already exists" in result["msg"]
    assert [w["status"] for w in manage.writes()] == [400]


def test_info_filters(manage):
    run_module("cw_api_member", member(manage))
    run_module("cw_api_member", member(manage, identifier="monitoring", name="Monitoring"))
    run_module("cw_api_member", dict(manage.connection, identifier="monitoring", state="absent"))
    everyone = run_module("cw_api_member_info", dict(manage.connection))["api_members"]
    assert [m["identifier"] for m in everyone] == ["apiautomation", "signl4", "monitoring"]  # the caller's own first
    active = run_module("cw_api_member_info", dict(manage.connection, inactive=False))["api_members"]
    assert [m["identifier"] for m in active] == ["apiautomation", "signl4"]


def test_traffic_conforms_to_the_manage_document(manage):
    run_module("cw_api_member", member(manage))
    run_module("cw_api_member", member(manage, name="SIGNL4 Connector"))
    run_module("cw_api_member", dict(manage.connection, identifier="signl4", state="absent"))
    run_module("cw_api_member", member(manage, identifier="jdoe"))
    report = manage_spec().assert_conforms(manage.requests(), path_filter="apiMembers")
    assert {"GET /system/apiMembers", "POST /system/apiMembers", "PATCH /system/apiMembers/{id}"} <= set(report.checked)
