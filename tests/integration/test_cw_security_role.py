"""cw_security_role and cw_security_role_info against the Manage emulator, with the seed's
least-privilege SIGNL4 matrix: the role is created and deleted over REST, its levels are only
verified (the API cannot write them), and every difference comes back as a UI step."""

import os

import pytest
import yaml

from tests.emulators.harness import REPO_ROOT
from tests.support.modules import run_module
from tests.support.spec_conformance import manage_spec

with open(os.path.join(REPO_ROOT, "tests", "integration", "data", "seed_security_role.yml")) as handle:
    SEED_ROLE = yaml.safe_load(handle)
LEVELS = ("add_level", "edit_level", "delete_level", "inquire_level")
LABELS = dict(zip(LEVELS, ("Add Level", "Edit Level", "Delete Level", "Inquire Level")))
STEP = "System > Security Roles > SIGNL4 > Service Desk > Close Service Tickets: set Inquire Level to All (now None)"


def role(manage, **overrides):
    return dict(manage.connection, **dict(SEED_ROLE, **overrides))


def click(manage, role_id, changes):
    """The administrator setting levels in the UI."""
    manage.control("POST", "/securityRoles/%d/settings" % role_id, changes)


def grant_seed_matrix(manage, role_id):
    click(manage, role_id, [dict(module=e["module"], function=e["function"],
                                 **{level.split("_", 1)[0]: e[level] for level in LEVELS}) for e in SEED_ROLE["permissions"]])


def settings_writes(manage):
    return [r for r in manage.writes() if "/settings" in r["path"].lower()]


def created_role(manage):
    """Create the role (its levels still differ, so the run fails) and return its id."""
    return run_module("cw_security_role", role(manage))["security_role"]["id"]


def expected_drift():
    """Every declared level that is not None: what a new role (all None) lacks."""
    return sorted((e["function"], LABELS[level]) for e in SEED_ROLE["permissions"] for level in LEVELS
                  if e[level] != "None")


def test_creating_the_role_reports_every_missing_level_as_a_ui_step(manage):
    result = run_module("cw_security_role", role(manage))
    assert result["failed"] is True and result["changed"] is True
    assert result["security_role"]["name"] == "SIGNL4" and result["diff"]["after"]["name"] == "SIGNL4"
    assert "name" not in result["diff"]["before"]
    assert sorted((d["function"], d["level"]) for d in result["drift"]) == expected_drift()
    # The diff shows every differing level before and after, keyed "module > function".
    levels = result["diff"]["after"]["permissions"]["Service Desk > Close Service Tickets"]
    assert levels == {"Edit Level": "All", "Inquire Level": "All"}
    assert result["diff"]["before"]["permissions"]["Service Desk > Close Service Tickets"] == {
        "Edit Level": "None", "Inquire Level": "None"}
    assert sorted((function.split(" > ")[1], level) for function, changed in result["diff"]["after"]["permissions"].items()
                  for level in changed) == expected_drift()
    assert {d["function"] for d in result["drift"]} == {e["function"] for e in SEED_ROLE["permissions"]}
    assert STEP in [d["step"] for d in result["drift"]] and STEP in result["msg"]
    assert [(w["method"], w["path"].split("apis/3.0")[1]) for w in manage.writes()] == [("POST", "/system/securityroles")]


def test_a_matching_role_is_ok_and_nothing_is_written(manage):
    grant_seed_matrix(manage, created_role(manage))
    manage.clear_requests()
    result = run_module("cw_security_role", role(manage, purge_permissions=True))
    assert result.get("failed") is None, result.get("msg")
    assert result["changed"] is False and result["drift"] == [] and result["diff"] == {"before": {}, "after": {}}
    assert manage.writes() == []


def test_a_level_changed_in_the_ui_is_named_and_never_written(manage):
    role_id = created_role(manage)
    grant_seed_matrix(manage, role_id)
    click(manage, role_id, [{"module": "Service Desk", "function": "Close Service Tickets", "inquire": "None"},
                            {"module": "System", "function": "My Account", "edit": "All"}])
    manage.clear_requests()
    result = run_module("cw_security_role", role(manage))
    assert result["failed"] is True and result["changed"] is False
    assert [(d["function"], d["level"], d["expected"], d["actual"]) for d in result["drift"]] == [
        ("Close Service Tickets", "Inquire Level", "All", "None"), ("My Account", "Edit Level", "None", "All")]
    assert result["drift"][0]["step"] == STEP
    assert "in 2 places" in result["msg"] and "My Account: set Edit Level to None (now All)" in result["msg"]
    assert manage.writes() == [] and settings_writes(manage) == []


def test_warn_reports_changed_with_the_steps_and_does_not_fail(manage):
    role_id = created_role(manage)
    grant_seed_matrix(manage, role_id)
    click(manage, role_id, [{"module": "Service Desk", "function": "Close Service Tickets", "inquire": "None"}])
    result = run_module("cw_security_role", role(manage, on_matrix_drift="warn"))
    assert result.get("failed") is None and result["changed"] is True
    assert [d["step"] for d in result["drift"]] == [STEP]
    assert any(STEP in warning for warning in result["warnings"])


def test_report_reports_changed_with_the_steps_in_drift_only(manage):
    """For a play that lists the steps itself (the integration role): changed, no warning, never ok."""
    role_id = created_role(manage)
    grant_seed_matrix(manage, role_id)
    click(manage, role_id, [{"module": "Service Desk", "function": "Close Service Tickets", "inquire": "None"}])
    result = run_module("cw_security_role", role(manage, on_matrix_drift="report"))
    assert result.get("failed") is None and result["changed"] is True
    assert [d["step"] for d in result["drift"]] == [STEP] and result["warnings"] == []
    assert result["diff"]["after"]["permissions"] == {"Service Desk > Close Service Tickets": {"Inquire Level": "All"}}
    grant_seed_matrix(manage, role_id)
    matching = run_module("cw_security_role", role(manage, on_matrix_drift="report"))
    assert matching["changed"] is False and matching["drift"] == [] and matching["warnings"] == []


def test_unlisted_functions_are_verified_only_with_purge(manage):
    role_id = created_role(manage)
    grant_seed_matrix(manage, role_id)
    click(manage, role_id, [{"module": "Companies", "function": "Contacts", "inquire": "All", "edit": "My"}])
    assert run_module("cw_security_role", role(manage))["drift"] == []
    purged = run_module("cw_security_role", role(manage, purge_permissions=True))
    assert purged["failed"] is True
    assert [(d["module"], d["function"], d["level"], d["expected"], d["actual"]) for d in purged["drift"]] == [
        ("Companies", "Contacts", "Edit Level", "None", "My"), ("Companies", "Contacts", "Inquire Level", "None", "All")]


def test_levels_not_given_are_not_verified(manage):
    role_id = created_role(manage)
    click(manage, role_id, [{"module": "Service Desk", "function": "Service Tickets", "edit": "All", "inquire": "All"}])
    partial = [{"module": "service desk", "function": "service tickets", "inquire_level": "All"}]
    result = run_module("cw_security_role", role(manage, permissions=partial))
    assert result.get("failed") is None and result["drift"] == [] and result["changed"] is False


def test_without_permissions_nothing_is_verified_even_with_purge(manage):
    manage.clear_requests()
    result = run_module("cw_security_role", dict(manage.connection, name="Technician", purge_permissions=True))
    assert result.get("failed") is None and result["changed"] is False and result["drift"] == []
    assert not [r for r in manage.requests() if "/settings" in r["path"].lower()]


@pytest.mark.parametrize("existing", [False, True])
def test_check_mode_predicts_creation_and_drift_without_writes(manage, existing):
    if existing:
        created_role(manage)
    manage.clear_requests()
    result = run_module("cw_security_role", role(manage), check_mode=True)
    assert manage.writes() == []
    assert result["changed"] is (not existing) and result["failed"] is True
    assert sorted((d["function"], d["level"]) for d in result["drift"]) == expected_drift()
    roles = run_module("cw_security_role_info", dict(manage.connection, name="SIGNL4"))["security_roles"]
    assert len(roles) == int(existing)


def test_absent_deletes_then_is_no_change_and_check_mode_writes_nothing(manage):
    created_role(manage)
    manage.clear_requests()
    checked = run_module("cw_security_role", role(manage, state="absent"), check_mode=True)
    assert checked["changed"] is True and manage.writes() == []
    result = run_module("cw_security_role", role(manage, state="absent"))
    assert result["changed"] is True and result["security_role"] is None
    assert result["diff"]["before"]["name"] == "SIGNL4" and result["diff"]["after"] == {}
    assert [(w["method"], w["status"]) for w in manage.writes()] == [("DELETE", 204)]
    manage.clear_requests()
    again = run_module("cw_security_role", role(manage, state="absent"))
    assert again["changed"] is False and manage.writes() == []


def test_a_role_in_use_is_not_deleted(manage):
    result = run_module("cw_security_role", dict(manage.connection, name="Technician", state="absent"))
    assert result["failed"] is True and "HTTP 409" in result["msg"] and "asmith" in result["msg"]
    assert run_module("cw_security_role_info", dict(manage.connection, name="Technician"))["security_roles"]


@pytest.mark.parametrize("overrides, message", [
    (dict(permissions=[{"module": "Service Desk", "function": "Close All Tickets", "inquire_level": "All"}]),
     "unknown function 'Close All Tickets' in module 'Service Desk'; known: Close Service Tickets"),
    (dict(permissions=[{"module": "Finance", "function": "Invoicing", "inquire_level": "All"}]), "unknown module 'Finance'"),
    (dict(permissions=[{"module": "System", "function": "My Account"}, {"module": "system", "function": "MY ACCOUNT"}]),
     "lists system > MY ACCOUNT more than once"),
    (dict(permissions=[{"module": "System", "function": "My Account", "inquire_level": "Everything"}]),
     "value of inquire_level must be one of: None, My, All"),
    (dict(name="A role name that is far too long here"), "name must be at most 30 characters"),
])
def test_a_bad_matrix_or_name_fails_before_the_role_is_created(manage, overrides, message):
    result = run_module("cw_security_role", role(manage, **overrides))
    assert result["failed"] is True and message in result["msg"]
    assert manage.writes() == []


def test_info_returns_the_matrix_in_the_module_shape(manage):
    role_id = created_role(manage)
    grant_seed_matrix(manage, role_id)
    found = run_module("cw_security_role_info", dict(manage.connection, name="signl4"))["security_roles"]
    assert [r["name"] for r in found] == ["SIGNL4"]
    matrix = found[0]["permissions"]
    assert {"module": "Service Desk", "function": "Close Service Tickets", "add_level": "None", "edit_level": "All",
            "delete_level": "None", "inquire_level": "All"} in matrix
    # What info reads is what the module accepts: fed back with purge, it matches exactly.
    assert run_module("cw_security_role", role(manage, permissions=matrix, purge_permissions=True))["drift"] == []
    everything = run_module("cw_security_role_info", dict(manage.connection, include_permissions=False))
    assert [r["name"] for r in everything["security_roles"]] == ["Admin", "Technician", "SIGNL4"]
    assert "permissions" not in everything["security_roles"][0]


def test_traffic_conforms_to_the_manage_document(manage):
    role_id = created_role(manage)
    grant_seed_matrix(manage, role_id)
    run_module("cw_security_role", role(manage, purge_permissions=True))
    run_module("cw_security_role_info", dict(manage.connection))
    run_module("cw_security_role", role(manage, state="absent"))
    run_module("cw_security_role", dict(manage.connection, name="Technician", state="absent"))
    report = manage_spec().assert_conforms(manage.requests(), path_filter="securityroles")
    assert {"GET /system/securityroles", "POST /system/securityroles", "DELETE /system/securityroles/{id}",
            "GET /system/securityRoles/{parentId}/settings"} <= set(report.checked)
