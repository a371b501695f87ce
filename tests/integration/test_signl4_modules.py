"""signl4_webhook, signl4_connector and their _info twins against the SIGNL4 emulator: every path of
the ensure (create, no change, update, delete), each in check mode without writes, the diff, bad
input, secrets in no output (a real ansible-playbook -vvv included), the webhook life cycle seen
by an outbound subscriber, and the recorded REST traffic checked against the spec subset."""

import concurrent.futures
import json
import multiprocessing
import os
import re

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import NotFoundError
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import Signl4Client, event_payload
from tests.emulators.signl4 import (
    CONNECTWISE_APP_ID, DEFAULT_API_KEY, DEFAULT_TEAM_ID, DEFAULT_TEAM_SECRET, SECOND_TEAM_ID, SUBSCRIPTION_ID, USERS,
)
from tests.emulators.receiver import Receiver
from tests.support.modules import recap, run_module, run_playbook
from tests.support.spec_conformance import signl4_spec

TOKEN = "rcv-t0ken-555"
URL = "https://agent.example.com/signl4/events?token=" + TOKEN
PRIVATE_KEY = "Priv4te-CW-key-987"
MASK = "********"
PLAYBOOK = os.path.join("tests", "integration", "playbooks", "signl4_objects.yml")
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(autouse=True)
def no_signl4_environment(monkeypatch):
    for name in ("SIGNL4_API_URL", "SIGNL4_API_KEY", "SIGNL4_TEAM_SECRET"):
        monkeypatch.delenv(name, raising=False)


def connection(signl4, **overrides):
    options = dict(signl4_api_url=signl4.url + "/api", signl4_api_key=DEFAULT_API_KEY,
                   signl4_team_secret=DEFAULT_TEAM_SECRET)
    options.update(overrides)
    return options


def webhook(signl4, check_mode=False, **options):
    args = dict(name="ConnectWise sync agent", url=URL, team="Service Desk")
    args.update(options)
    return run_module("signl4_webhook", dict(connection(signl4), **args), check_mode=check_mode)


def connector(signl4, check_mode=False, **options):
    args = dict(team="Service Desk", enabled=True, config={"instanceUri": "https://na.myconnectwise.net", "companyId": "contoso"},
                secret_config={"privateApiKey": PRIVATE_KEY})
    args.update(options)
    return run_module("signl4_connector", dict(connection(signl4), **args), check_mode=check_mode)


def client(signl4):
    return Signl4Client(signl4.url + "/api", DEFAULT_API_KEY, DEFAULT_TEAM_SECRET)


def writes(signl4):
    return ["%s %s" % (r["method"], r["path"][len("/api"):]) for r in signl4.writes()]


def assert_no_secret(result):
    text = json.dumps(result)
    for secret in (TOKEN, PRIVATE_KEY, DEFAULT_API_KEY, DEFAULT_TEAM_SECRET):
        assert secret not in text, secret


# ----- signl4_webhook -----------------------------------------------------------------------------

def test_webhook_create_no_change_update_delete(signl4):
    created = webhook(signl4, description="Ticket sync")
    assert created["changed"] is True and GUID.match(created["webhook"]["id"])
    assert created["webhook"]["extUrl"] == MASK and created["webhook"]["enabled"] is True
    assert created["diff"] == {"before": {}, "after": {"name": "ConnectWise sync agent", "extUrl": MASK,
                                                       "teamId": DEFAULT_TEAM_ID, "description": "Ticket sync"}}
    assert writes(signl4) == ["POST /v2/webhooks"]
    assert client(signl4).webhook(created["webhook"]["id"])["extUrl"] == URL

    signl4.clear_requests()
    again = webhook(signl4, description="Ticket sync")
    assert again["changed"] is False and again["diff"] == {"before": {}, "after": {}} and writes(signl4) == []

    updated = webhook(signl4, description="Ticket sync v2")
    assert updated["changed"] is True
    assert updated["diff"] == {"before": {"description": "Ticket sync"}, "after": {"description": "Ticket sync v2"}}
    [put] = signl4.writes()
    assert put["method"] == "PUT"
    assert put["request_json"] == {"name": "ConnectWise sync agent", "extUrl": URL, "description": "Ticket sync v2",
                                   "teamId": DEFAULT_TEAM_ID}
    signl4.clear_requests()
    disabled = webhook(signl4, enabled=False)
    assert disabled["changed"] is True and disabled["webhook"]["enabled"] is False
    assert writes(signl4) == ["POST /v2/webhooks/%s/disable" % created["webhook"]["id"]]  # only the switch

    signl4.clear_requests()
    deleted = webhook(signl4, state="absent")
    assert deleted["changed"] is True and deleted["webhook"] is None and deleted["diff"]["before"]["extUrl"] == MASK
    assert writes(signl4) == ["DELETE /v2/webhooks/%s" % created["webhook"]["id"]]
    signl4.clear_requests()
    assert webhook(signl4, state="absent")["changed"] is False and writes(signl4) == []
    signl4_spec().assert_conforms(signl4.requests())


def test_webhook_check_mode_predicts_without_writing(signl4):
    predicted = webhook(signl4, check_mode=True, enabled=False)
    assert predicted["changed"] is True and predicted["webhook"]["name"] == "ConnectWise sync agent"
    assert predicted["webhook"]["extUrl"] == MASK and predicted["diff"]["after"]["enabled"] is False
    assert writes(signl4) == [] and client(signl4).webhooks() == []

    webhook(signl4)
    signl4.clear_requests()
    update = webhook(signl4, check_mode=True, description="new", team="Network Operations")
    assert update["changed"] is True
    assert update["diff"] == {"before": {"description": None, "teamId": DEFAULT_TEAM_ID},
                              "after": {"description": "new", "teamId": SECOND_TEAM_ID}}
    assert update["webhook"]["teamId"] == SECOND_TEAM_ID
    delete = webhook(signl4, check_mode=True, state="absent")
    assert delete["changed"] is True and delete["webhook"] is None
    assert writes(signl4) == []
    [stored] = client(signl4).webhooks()
    assert stored["teamId"] == DEFAULT_TEAM_ID and "description" not in stored


def test_webhook_url_is_compared_but_never_shown(signl4):
    webhook(signl4)
    changed = webhook(signl4, url=URL.replace(TOKEN, "other-token-777"))
    assert changed["changed"] is True
    assert changed["diff"] == {"before": {"extUrl": MASK}, "after": {"extUrl": MASK + " (changed)"}}
    assert "other-token-777" not in json.dumps(changed)
    info = run_module("signl4_webhook_info", dict(connection(signl4), team="Service Desk"))
    assert [w["extUrl"] for w in info["webhooks"]] == [MASK]
    assert_no_secret(info)


def test_webhook_info_filters(signl4):
    assert run_module("signl4_webhook_info", connection(signl4))["webhooks"] == []
    webhook(signl4, name="a")
    webhook(signl4, name="b", team="Network Operations")
    everything = run_module("signl4_webhook_info", connection(signl4))
    assert everything["changed"] is False and sorted(w["name"] for w in everything["webhooks"]) == ["a", "b"]
    assert [w["name"] for w in run_module("signl4_webhook_info", dict(connection(signl4), name="b"))["webhooks"]] == ["b"]
    by_team = run_module("signl4_webhook_info", dict(connection(signl4), team="network operations"))["webhooks"]
    assert [w["name"] for w in by_team] == ["b"]


@pytest.mark.parametrize("url", ["agent.example.com/in?token=" + TOKEN, "ftp://agent.example.com/?token=" + TOKEN,
                                 "https:// spaced.example.com/?token=" + TOKEN])
def test_malformed_url_fails_without_write_and_without_echo(signl4, url):
    result = webhook(signl4, url=url)
    assert result["failed"] is True and "not an absolute http:// or https:// URL" in result["msg"]
    assert TOKEN not in result["msg"]
    assert writes(signl4) == []


def test_unknown_team_and_missing_url_fail_without_write(signl4):
    result = webhook(signl4, team="Night Shift")
    assert result["failed"] is True
    assert result["msg"] == "unknown SIGNL4 team 'Night Shift'; known: Network Operations, Service Desk"
    missing = webhook(signl4, url=None)
    assert missing["failed"] is True and missing["msg"] == "url is required to create the outbound webhook 'ConnectWise sync agent'"
    assert writes(signl4) == []


def test_missing_api_key_fails_before_any_request(signl4):
    result = run_module("signl4_webhook", dict(connection(signl4, signl4_api_key=None), name="x", url=URL))
    assert result["failed"] is True and "SIGNL4_API_KEY" in result["msg"]
    assert signl4.requests() == []


def test_api_key_from_the_environment(signl4, monkeypatch):
    monkeypatch.setenv("SIGNL4_API_KEY", DEFAULT_API_KEY)
    monkeypatch.setenv("SIGNL4_API_URL", signl4.url + "/api")
    result = run_module("signl4_webhook_info", {})
    assert result["webhooks"] == [] and "failed" not in result


def test_wrong_api_key_is_a_clear_error(signl4):
    result = run_module("signl4_webhook_info", connection(signl4, signl4_api_key="Wr0ng-key-0000"))
    assert result["failed"] is True
    assert result["msg"].startswith("SIGNL4 returned HTTP 401 (401): Unauthorized")
    assert result["api_error"]["status"] == 401 and "Wr0ng-key-0000" not in json.dumps(result)


# ----- signl4_connector ---------------------------------------------------------------------------

def test_connector_create_no_change_update_delete(signl4):
    created = connector(signl4, display_name="ConnectWise Manage (prod)")
    assert created["changed"] is True
    instance = created["connector"]
    assert instance["scriptId"] == CONNECTWISE_APP_ID and instance["teamId"] == DEFAULT_TEAM_ID and instance["enabled"] is True
    assert instance["config"] == {"instanceUri": "https://na.myconnectwise.net", "companyId": "contoso", "privateApiKey": MASK}
    assert instance["webhookUrl"] == MASK
    assert created["diff"]["before"] == {} and created["diff"]["after"]["config"]["privateApiKey"] == MASK
    [post] = signl4.writes()
    assert post["path"] == "/api/v2/scripts/instances" and post["request_json"]["config"]["privateApiKey"] == PRIVATE_KEY
    assert_no_secret(created)

    signl4.clear_requests()
    again = connector(signl4, display_name="ConnectWise Manage (prod)")
    assert again["changed"] is False and writes(signl4) == []

    updated = connector(signl4, config={"companyId": "fabrikam"})
    assert updated["changed"] is True
    assert updated["diff"]["before"]["config"]["companyId"] == "contoso"
    assert updated["diff"]["after"]["config"] == {"instanceUri": "https://na.myconnectwise.net", "companyId": "fabrikam",
                                                  "privateApiKey": MASK}
    [put] = signl4.writes()
    assert put["method"] == "PUT" and put["request_json"]["config"]["companyId"] == "fabrikam"
    assert put["request_json"]["config"]["instanceUri"] == "https://na.myconnectwise.net"  # unlisted keys are kept

    signl4.clear_requests()
    stopped = connector(signl4, enabled=False, config=None, secret_config=None)
    assert stopped["changed"] is True and stopped["diff"] == {"before": {"enabled": True}, "after": {"enabled": False}}
    assert writes(signl4) == ["POST /v2/scripts/instances/%s/disable" % instance["instanceId"]]

    signl4.clear_requests()
    deleted = connector(signl4, state="absent")
    assert deleted["changed"] is True and deleted["connector"] is None
    assert deleted["diff"]["before"]["config"]["privateApiKey"] == MASK and deleted["diff"]["before"]["webhookUrl"] == MASK
    assert writes(signl4) == ["DELETE /v2/scripts/instances/%s" % instance["instanceId"]]
    assert_no_secret(deleted)
    signl4.clear_requests()
    assert connector(signl4, state="absent")["changed"] is False and writes(signl4) == []
    signl4_spec().assert_conforms(signl4.requests())


def test_connector_is_recognised_by_the_app_name_its_instance_carries(signl4):
    """No-change reads the instance list (with the team lookup) and the instance, not the catalogue;
    the app given by its id matches too."""
    connector(signl4)
    for app in ("ConnectWise Manage", CONNECTWISE_APP_ID):
        signl4.clear_requests()
        assert connector(signl4, app=app)["changed"] is False
        assert not [r for r in signl4.requests() if r["path"].endswith("/scripts/inventory")]
        assert writes(signl4) == []


def test_connector_of_another_team_is_not_the_match(signl4):
    """An instance of the same app in another team is neither matched nor touched: the new team gets its own."""
    other = connector(signl4, team="Network Operations")["connector"]
    signl4.clear_requests()
    mine = connector(signl4)
    assert mine["changed"] is True and mine["diff"]["before"] == {}
    assert writes(signl4) == ["POST /v2/scripts/instances"]
    assert mine["connector"]["teamId"] == DEFAULT_TEAM_ID and other["teamId"] == SECOND_TEAM_ID
    assert mine["connector"]["instanceId"] != other["instanceId"]


def test_connector_of_an_unknown_app_fails_before_any_write(signl4):
    connector(signl4)  # the team has an instance, of another app
    signl4.clear_requests()
    result = connector(signl4, app="No Such App")
    assert result.get("failed") and "No Such App" in result["msg"]
    assert writes(signl4) == []


def test_connector_check_mode_predicts_without_writing(signl4):
    predicted = connector(signl4, check_mode=True)
    assert predicted["changed"] is True and predicted["connector"]["config"]["privateApiKey"] == MASK
    assert writes(signl4) == [] and client(signl4).script_instances() == []
    connector(signl4)
    signl4.clear_requests()
    update = connector(signl4, check_mode=True, enabled=False, description="prod", secret_config={"privateApiKey": "rotated-key-1"})
    assert update["changed"] is True
    assert update["diff"]["before"]["enabled"] is True and update["diff"]["after"]["customScriptDescription"] == "prod"
    assert "rotated-key-1" not in json.dumps(update)
    assert connector(signl4, check_mode=True, state="absent")["changed"] is True
    assert writes(signl4) == []
    [stored] = client(signl4).script_instances()
    assert stored["enabled"] is True and "customScriptDescription" not in stored


def test_secret_config_is_compared_without_being_echoed(signl4):
    connector(signl4)
    rotated = connector(signl4, secret_config={"privateApiKey": "rotated-key-2"})
    assert rotated["changed"] is True
    assert rotated["diff"]["before"]["config"]["privateApiKey"] == MASK
    assert rotated["diff"]["after"]["config"]["privateApiKey"] == MASK + " (changed)"
    assert "rotated-key-2" not in json.dumps(rotated)
    assert signl4.writes()[-1]["request_json"]["config"]["privateApiKey"] == "rotated-key-2"
    assert connector(signl4, secret_config={"privateApiKey": "rotated-key-2"})["changed"] is False


def test_update_secrets_on_create_ignores_a_secret_alone(signl4):
    connector(signl4)
    signl4.clear_requests()
    assert connector(signl4, secret_config={"privateApiKey": "new-key-3"}, update_secrets="on_create")["changed"] is False
    assert writes(signl4) == []
    with_other = connector(signl4, secret_config={"privateApiKey": "new-key-3"}, update_secrets="on_create",
                           config={"companyId": "other"})
    assert with_other["changed"] is True
    assert signl4.writes()[-1]["request_json"]["config"]["privateApiKey"] == "new-key-3"  # written with the change


def test_purge_config_removes_unlisted_entries(signl4):
    connector(signl4, config={"instanceUri": "https://na.myconnectwise.net", "companyId": "contoso", "legacy": "x"})
    assert connector(signl4)["changed"] is False  # unlisted "legacy" is kept by default
    purged = connector(signl4, purge_config=True)
    assert purged["changed"] is True and "legacy" not in purged["connector"]["config"]
    assert "legacy" in purged["diff"]["before"]["config"] and "legacy" not in purged["diff"]["after"]["config"]


def test_any_app_by_name_and_display_name_picks_among_several(signl4):
    jira = dict(app="Jira Service Management", config={"url": "https://jira.example.com"}, secret_config=None)
    first = connector(signl4, display_name="Jira A", **jira)
    assert first["changed"] is True and first["connector"]["scriptName"] == "Jira Service Management"
    client(signl4).create_script_instance({"scriptId": first["connector"]["scriptId"], "teamId": DEFAULT_TEAM_ID,
                                           "customScriptName": "Jira B"})
    ambiguous = connector(signl4, **jira)
    assert ambiguous["failed"] is True and "set display_name" in ambiguous["msg"]
    picked = connector(signl4, display_name="Jira B", **jira)
    assert picked["changed"] is True and picked["connector"]["customScriptName"] == "Jira B"


def test_unknown_app_or_team_fails_without_write(signl4):
    unknown_app = connector(signl4, app="ServiceNow Bridge")
    assert unknown_app["failed"] is True
    assert unknown_app["msg"].startswith("unknown SIGNL4 app 'ServiceNow Bridge'; known: Autotask, ConnectWise Manage")
    unknown_team = connector(signl4, team="Night Shift")
    assert unknown_team["failed"] is True and "known: Network Operations, Service Desk" in unknown_team["msg"]
    assert writes(signl4) == []
    assert_no_secret(unknown_app)


def test_connector_info_masks_declared_and_secret_looking_entries(signl4):
    connector(signl4, config={"companyId": "contoso", "publicApiKey": "pub-1", "tenantNote": "n"})
    connector(signl4, team="Network Operations", app="Freshservice", config={"domain": "x.freshservice.com"},
              secret_config=None)
    info = run_module("signl4_connector_info", dict(connection(signl4), team="Service Desk", secret_keys=["tenantNote"]))
    [cw] = info["connectors"]
    assert cw["config"] == {"companyId": "contoso", "publicApiKey": MASK, "tenantNote": MASK, "privateApiKey": MASK}
    assert cw["webhookUrl"] == MASK
    assert_no_secret(info)
    apps = run_module("signl4_connector_info", dict(connection(signl4), app="freshservice"))["connectors"]
    assert [(c["scriptName"], c["teamId"]) for c in apps] == [("Freshservice", SECOND_TEAM_ID)]
    assert len(run_module("signl4_connector_info", connection(signl4))["connectors"]) == 2


# ----- the webhook life cycle seen by an outbound subscriber -------------------------------------------

def assert_notification_shape(payload):
    """The envelope of signl4-api.md section 4.3/4.4, and nothing else."""
    assert set(payload) <= {"id", "eventType", "eventRaisedUtc", "subscription", "team", "user", "alert", "annotation"}
    assert GUID.match(payload["id"]) and payload["subscription"] == {"id": SUBSCRIPTION_ID}
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", payload["eventRaisedUtc"])
    alert = payload["alert"]
    assert set(alert) <= {"statusCode", "eventId", "externalEventId", "acknowledgedUserIds", "id"}
    assert isinstance(alert["statusCode"], int) and alert["eventId"] and alert["id"]
    if "user" in payload:
        assert set(payload["user"]) == {"username", "mailaddress", "id"}
    if payload["eventType"] == 201:
        assert isinstance(alert["acknowledgedUserIds"], list)
    if payload["eventType"] == 203:
        assert set(payload["annotation"]) == {"message", "id"} and alert["statusCode"] == 0


def test_webhook_events_drive_the_life_cycle_and_reach_the_subscriber(signl4):
    receiver = Receiver()
    try:
        subscribed = webhook(signl4, url=receiver.url)
        assert subscribed["changed"] is True
        api = client(signl4)
        event_id = api.trigger("Ticket #1001: server down", "Contoso / Board: Service", external_id="CW-1001",
                               source_system="ConnectWise")
        [alert] = list(api.alerts(user_id=USERS[0]["id"], external_id="CW-1001"))
        assert alert["eventId"] == event_id and alert["status"]["statusCode"] == 1
        api.webhook_event(event_payload(external_id="CW-1001", status="acknowledged"))
        assert api.alert(alert["id"])["status"]["statusCode"] == 2
        api.webhook_event(event_payload(external_id="CW-1001", status="resolved"))
        assert api.alert(alert["id"])["status"]["statusCode"] == 4
        olivia = USERS[1]
        signl4.control("POST", "/act", {"user": olivia["mail"], "action": "annotate", "alert_id": alert["id"],
                                        "text": "Customer called back"})

        created, acked, closed, annotated = receiver.wait_for(4)
        for payload in (created, acked, closed, annotated):
            assert_notification_shape(payload)
            assert (payload["alert"]["id"], payload["alert"]["eventId"]) == (alert["id"], event_id)
            assert payload["alert"]["externalEventId"] == "CW-1001"
        assert [(p["eventType"], p["alert"]["statusCode"]) for p in (created, acked, closed, annotated)] == [
            (200, 1), (201, 2), (201, 4), (203, 0)]
        assert annotated["user"] == {"username": olivia["name"], "mailaddress": olivia["mail"], "id": olivia["id"]}
        assert annotated["annotation"]["message"] == "Customer called back"
        assert len({p["id"] for p in (created, acked, closed, annotated)}) == 4

        # The same moves made by a user in the app carry who did them.
        api.trigger("Ticket #1002", "x", external_id="CW-1002")
        for action in ("acknowledge", "close"):
            signl4.control("POST", "/act", {"user": olivia["id"], "action": action, "external_id": "CW-1002"})
        by_user_ack, by_user_close = receiver.wait_for(7)[5:]
        assert (by_user_ack["alert"]["statusCode"], by_user_ack["alert"]["acknowledgedUserIds"]) == (2, [olivia["id"]])
        assert by_user_close["alert"]["statusCode"] == 4 and by_user_close["user"]["mailaddress"] == olivia["mail"]
        assert all(p["eventType"] in (200, 201, 203) for p in receiver.payloads())
    finally:
        receiver.stop()
    signl4_spec().assert_conforms(signl4.requests())


def test_wrong_team_secret_surfaces_the_404(signl4):
    wrong = Signl4Client(signl4.url + "/api", DEFAULT_API_KEY, "n0tthesecret")
    with pytest.raises(NotFoundError) as caught:
        wrong.trigger("t", "m", external_id="CW-1")
    assert caught.value.code == 3004
    assert str(caught.value).startswith("SIGNL4 returned HTTP 404 (3004): Error raising event. - An event source with ID")
    assert "n0tthesecret" not in str(caught.value)
    assert list(client(signl4).alerts(user_id=USERS[0]["id"])) == []


# ----- a real ansible-playbook run: idempotence, check/diff, secrets at -vvv ----------------------------

def playbook_env(signl4, description="Ticket sync"):
    return {"TEST_SIGNL4_URL": signl4.url, "TEST_SIGNL4_API_KEY": DEFAULT_API_KEY,
            "TEST_SIGNL4_TEAM_SECRET": DEFAULT_TEAM_SECRET, "TEST_RECEIVER_TOKEN": TOKEN,
            "TEST_CW_PRIVATE_KEY": PRIVATE_KEY, "TEST_DESCRIPTION": description}


@pytest.mark.slow
def test_playbook_secrets_appear_in_no_output_even_at_vvv(signl4):
    first = run_playbook(PLAYBOOK, playbook_env(signl4), args=["-vvv"])
    output = first.stdout + first.stderr
    assert first.returncode == 0, output[-4000:]
    assert recap(first.stdout)["changed"] == 2
    second = run_playbook(PLAYBOOK, playbook_env(signl4), args=["-vvv"])
    assert second.returncode == 0 and recap(second.stdout)["changed"] == 0
    signl4.clear_requests()
    drift = run_playbook(PLAYBOOK, playbook_env(signl4, description="Ticket sync v2"), args=["-vvv"], check=True)
    assert drift.returncode == 0 and recap(drift.stdout)["changed"] == 1
    assert '-    "description": "Ticket sync"' in drift.stdout and '+    "description": "Ticket sync v2"' in drift.stdout
    assert signl4.writes() == []
    for run in (first, second, drift):
        everything = run.stdout + run.stderr
        for secret in (DEFAULT_API_KEY, DEFAULT_TEAM_SECRET, PRIVATE_KEY, TOKEN):
            assert secret not in everything, secret
    assert "webhookUrl" in first.stdout and "Night Shift" in first.stdout  # the output is really there, masked
    signl4_spec().assert_conforms(signl4.requests(), min_checked=3)


def test_all_module_traffic_conforms_to_the_spec(signl4):
    webhook(signl4, description="d", enabled=False)
    webhook(signl4, description="e", enabled=True, team="Network Operations")
    connector(signl4, description="d")
    connector(signl4, enabled=False, config={"companyId": "x"})
    run_module("signl4_connector_info", connection(signl4))
    run_module("signl4_webhook_info", connection(signl4))
    connector(signl4, state="absent")
    webhook(signl4, state="absent")
    report = signl4_spec().assert_conforms(signl4.requests(), min_checked=20)
    assert report.uncovered == []


# ----- no lookup widens its scope; one name rule; parallel runs converge ----------------------
def test_an_empty_team_fails_and_never_touches_another_teams_instance(signl4):
    assert connector(signl4)["changed"] is True
    signl4.clear_requests()
    for options in (dict(team="", state="absent"), dict(team="", enabled=False), dict(team="   ", state="absent")):
        result = connector(signl4, **options)
        assert result.get("failed") is True and "team must not be empty" in result["msg"], result
    for module, options in (("signl4_webhook", dict(name="Hook", url=URL, team="")),
                            ("signl4_webhook_info", dict(team="")), ("signl4_connector_info", dict(team=""))):
        result = run_module(module, dict(connection(signl4), **options))
        assert result.get("failed") is True and "team" in result["msg"], (module, result)
    assert signl4.writes() == []
    assert [i["enabled"] for i in client(signl4).script_instances()] == [True]


def test_webhook_names_match_ignoring_case_and_surrounding_spaces(signl4):
    assert webhook(signl4, name="Robust Hook")["changed"] is True
    signl4.clear_requests()
    for name in ("Robust Hook ", " robust hook", "ROBUST HOOK"):
        result = webhook(signl4, name=name)
        assert result["changed"] is False, (name, result.get("diff"))
    assert signl4.writes() == []
    assert [w["name"] for w in client(signl4).webhooks()] == ["Robust Hook"]


def _create_webhook_in_a_child(args):
    return run_module("signl4_webhook", args).get("changed")


def test_eight_parallel_runs_create_one_webhook(signl4, tmp_path, monkeypatch):
    monkeypatch.setenv("SIGNL4_CONNECTWISE_LOCK_DIR", str(tmp_path))
    args = dict(connection(signl4), name="Parallel hook", url=URL, team="Service Desk", enabled=False)
    with concurrent.futures.ProcessPoolExecutor(8, mp_context=multiprocessing.get_context("fork")) as pool:
        changed = list(pool.map(_create_webhook_in_a_child, [args] * 8))
    assert sorted(changed) == [False] * 7 + [True]
    hooks = [w for w in client(signl4).webhooks() if w["name"] == "Parallel hook"]
    assert len(hooks) == 1 and hooks[0]["enabled"] is False
