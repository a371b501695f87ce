"""cw_callback and cw_callback_info against the Manage emulator: matched by url + type + level +
object, objects given by name, the url (which holds a token) compared but never shown nor sent in
a query string, check mode without writes, and one real ansible-playbook run at -vvv."""

import os

import pytest

from tests.support.modules import recap, run_module, run_playbook
from tests.support.spec_conformance import manage_spec

TOKEN = "s3cr3t-T0ken-4711"
URL = "https://sync.example.com/manage/callback?token=%s&recordId=" % TOKEN
BOARD_CALLBACK = dict(url=URL, type="Ticket", level="Board", object="Service Desk", description="SIGNL4 sync agent")
PLAYBOOK = os.path.join("tests", "integration", "playbooks", "cw_callback.yml")


def callback(manage, **overrides):
    return dict(manage.connection, **dict(BOARD_CALLBACK, **overrides))


def stored(manage, **filters):
    return run_module("cw_callback_info", dict(manage.connection, **filters))["callbacks"]


def assert_no_token(manage, *results):
    """Neither a result nor any query string the client sent holds the token."""
    assert TOKEN not in repr(results)
    assert not [r["raw_path"] for r in manage.requests() if TOKEN in r["raw_path"]]


def test_create_then_no_change_without_writes(manage):
    result = run_module("cw_callback", callback(manage))
    assert result["changed"] is True
    created = result["callback"]
    assert (created["type"], created["level"], created["objectId"], created["url"]) == ("Ticket", "Board", 1, "********")
    assert result["diff"]["before"] == {} and result["diff"]["after"]["url"] == "********"
    manage.clear_requests()
    again = run_module("cw_callback", callback(manage))
    assert again["changed"] is False and again["diff"] == {"before": {}, "after": {}}
    assert manage.writes() == []
    assert_no_token(manage, result, again)


def test_an_update_patches_only_what_differs(manage):
    run_module("cw_callback", callback(manage))
    manage.clear_requests()
    result = run_module("cw_callback", callback(manage, description="SIGNL4 sync agent (HA)", self_suppressed=True))
    assert result["changed"] is True
    assert result["diff"] == {"before": {"description": "SIGNL4 sync agent", "isSelfSuppressedFlag": False},
                              "after": {"description": "SIGNL4 sync agent (HA)", "isSelfSuppressedFlag": True}}
    writes = manage.writes()
    assert [w["method"] for w in writes] == ["PATCH"]
    assert {op["path"] for op in writes[0]["request_json"]} == {"description", "isSelfSuppressedFlag"}
    assert_no_token(manage, result)


def test_the_url_is_part_of_the_match(manage):
    run_module("cw_callback", callback(manage))
    other = run_module("cw_callback", callback(manage, url="https://standby.example.com/cb?recordId="))
    assert other["changed"] is True and other["diff"]["before"] == {}
    assert len(stored(manage, type="ticket", level="board")) == 2


def test_the_same_url_on_another_board_is_another_callback(manage):
    """The callbacks of a type and level are read together with the board lookup and narrowed to the
    board's id in memory: one on another board is never the match, nor touched."""
    first = run_module("cw_callback", callback(manage, object="Network Operations"))
    manage.clear_requests()
    result = run_module("cw_callback", callback(manage))
    assert result["changed"] is True and result["diff"]["before"] == {}
    assert [w["method"] for w in manage.writes()] == ["POST"]
    boards = sorted(c["objectId"] for c in stored(manage, type="ticket", level="board"))
    assert boards == sorted([first["callback"]["objectId"], result["callback"]["objectId"]]) and boards[0] != boards[1]
    assert run_module("cw_callback", callback(manage, object="Network Operations"))["changed"] is False


def test_absent_deletes_then_is_no_change(manage):
    run_module("cw_callback", callback(manage))
    result = run_module("cw_callback", callback(manage, state="absent"))
    assert result["changed"] is True and result["callback"] is None
    assert result["diff"]["before"]["url"] == "********" and result["diff"]["after"] == {}
    assert [(w["method"], w["status"]) for w in manage.writes() if w["method"] == "DELETE"] == [("DELETE", 204)]
    manage.clear_requests()
    again = run_module("cw_callback", callback(manage, state="absent"))
    assert again["changed"] is False and manage.writes() == [] and stored(manage) == []
    assert_no_token(manage, result, again)


@pytest.mark.parametrize("path", ["create", "update", "delete", "noop"])
def test_check_mode_predicts_every_path_without_writes(manage, path):
    if path != "create":
        run_module("cw_callback", callback(manage))
    overrides = {"create": {}, "update": {"inactive": True}, "delete": {"state": "absent"}, "noop": {}}[path]
    before = stored(manage)
    manage.clear_requests()
    result = run_module("cw_callback", callback(manage, **overrides), check_mode=True)
    assert manage.writes() == []
    assert result["changed"] is (path != "noop")
    assert stored(manage) == before
    if path == "update":
        assert result["diff"] == {"before": {"inactiveFlag": False}, "after": {"inactiveFlag": True}}
    assert_no_token(manage, result)


@pytest.mark.parametrize("overrides, expected", [
    ({"level": "Owner", "object": None}, ("Ticket", "Owner", 1)),
    ({"level": "status", "board": "Service Desk", "object": "In Progress"}, ("Ticket", "Status", 4)),
    ({"level": "Ticket", "object": "3"}, ("Ticket", "Ticket", 3)),
    ({"type": "Member", "level": "SecurityRole", "object": "Technician"}, ("Member", "SecurityRole", 2)),
    ({"type": "Member", "level": "Member", "object": "asmith"}, ("Member", "Member", 2)),
    ({"type": "Member", "level": "Location", "object": "Remote"}, ("Member", "Location", 2)),
])
def test_objects_are_given_by_name(manage, overrides, expected):
    result = run_module("cw_callback", callback(manage, **overrides))
    assert result.get("failed") is None, result.get("msg")
    created = result["callback"]
    assert (created["type"], created["level"], created["objectId"]) == expected
    assert run_module("cw_callback", callback(manage, **overrides))["changed"] is False


@pytest.mark.parametrize("overrides, message", [
    ({"object": None}, "level Board of type Ticket needs object: the Board it watches"),
    ({"level": "Owner"}, "object does not apply to level Owner"),
    ({"object": "Help Desk"}, "unknown board 'Help Desk'; known: Network Operations, Projects, Service Desk"),
    ({"level": "Status", "board": "Service Desk", "object": "Reopened"},
     "unknown Service Desk status 'Reopened'; known: Acknowledged, Assigned"),
    ({"level": "Status", "object": "New"}, "level Status needs board"),
    ({"type": "Member", "level": "Board"}, "level 'Board' does not exist for type Member"),
    ({"level": "Ticket", "object": "the printer one"}, "is the record's id (digits)"),
    ({"url": "sync.example.com/cb?token=%s" % TOKEN}, "url is not an absolute http:// or https:// URL"),
    ({"url": "https://sync.example.com/a b?token=%s" % TOKEN}, "url is not an absolute http:// or https:// URL"),
    ({"description": "x" * 101}, "description must be at most 100 characters"),
    ({"type": "Ticket2"}, "value of type must be one of"),
])
def test_bad_input_fails_clearly_and_writes_nothing(manage, overrides, message):
    result = run_module("cw_callback", callback(manage, **overrides))
    assert result["failed"] is True and message in result["msg"]
    assert manage.writes() == []
    assert_no_token(manage, result)


def test_info_masks_urls_and_filters(manage):
    run_module("cw_callback", callback(manage))
    run_module("cw_callback", callback(manage, type="Member", level="Owner", object=None))
    everything = stored(manage)
    assert [(c["type"], c["level"]) for c in everything] == [("Ticket", "Board"), ("Member", "Owner")]
    assert {c["url"] for c in everything} == {"********"}
    assert [c["type"] for c in stored(manage, type="member")] == ["Member"]
    assert stored(manage, type="Ticket", level="Owner") == []
    assert_no_token(manage, everything)


def test_traffic_conforms_to_the_manage_document(manage):
    run_module("cw_callback", callback(manage))
    run_module("cw_callback", callback(manage, inactive=True))
    run_module("cw_callback_info", dict(manage.connection))
    run_module("cw_callback", callback(manage, state="absent"))
    report = manage_spec().assert_conforms(manage.requests(), path_filter="callbacks")
    assert {"GET /system/callbacks", "POST /system/callbacks", "PATCH /system/callbacks/{id}",
            "DELETE /system/callbacks/{id}"} <= set(report.checked)


@pytest.mark.slow
def test_a_real_playbook_at_vvv_never_shows_the_url(manage):
    result = run_playbook(PLAYBOOK, {"TEST_CW_URL": manage.url, "TEST_CALLBACK_TOKEN": TOKEN}, args=["-vvv", "--diff"])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert recap(result.stdout)["changed"] == 3
    assert TOKEN not in output
    assert "SIGNL4 sync agent (HA)" in output  # the diff is shown, only the url is hidden
    assert_no_token(manage)


def test_payload_version_reaches_the_api_and_reads_back_without_drift(manage):
    created = run_module("cw_callback", callback(manage, payload_version="2"))
    assert created["changed"] is True and created["diff"]["after"]["payloadVersion"] == "2"
    assert [c["payloadVersion"] for c in stored(manage)] == ["2"]
    manage.clear_requests()
    assert run_module("cw_callback", callback(manage, payload_version="2"))["changed"] is False
    assert manage.writes() == []
    changed = run_module("cw_callback", callback(manage, payload_version="1"))
    assert changed["changed"] is True and changed["diff"]["after"] == {"payloadVersion": "1"}


def test_a_blank_object_or_board_is_an_error_not_a_wider_match(manage):
    manage.clear_requests()
    cases = ((dict(object=" "), "needs object"), (dict(level="Status", object="New", board=""), "needs board"))
    for overrides, message in cases:
        result = run_module("cw_callback", callback(manage, **overrides))
        assert result.get("failed") is True and message in result["msg"], result
    assert manage.writes() == []
