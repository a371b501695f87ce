"""The SIGNL4 emulator over raw HTTP (no collection code): inbound webhook, REST v2 behaviour the
spec documents, the alert life cycle, outbound delivery with its switches, the "act as a user"
control, the opt-in rate limit, and every REST exchange checked against the spec subset."""

import math
import re
import urllib.error
import uuid

import pytest
import requests

from tests.emulators.harness import RunningEmulator
from tests.emulators.signl4 import (
    CONNECTWISE_APP_ID,
    DEFAULT_API_KEY,
    DEFAULT_TEAM_ID,
    DEFAULT_TEAM_SECRET,
    SECOND_TEAM_ID,
    SECOND_TEAM_SECRET,
    USERS,
)
from tests.emulators.receiver import Receiver
from tests.support.spec_conformance import signl4_spec

ROW_ID = re.compile(r"^\d{19}_[0-9a-f-]{36}$")
RENE, OLIVIA = USERS[0], USERS[1]


class Api:
    """Raw HTTP against one emulator: REST with the API key, the webhook without it."""

    def __init__(self, server, api_key=DEFAULT_API_KEY):
        self.server = server
        self.session = requests.Session()
        self.session.headers["X-S4-Api-Key"] = api_key

    def rest(self, method, path, **kwargs):
        return self.session.request(method, self.server.url + "/api" + path, timeout=10, **kwargs)

    def event(self, body=None, secret=DEFAULT_TEAM_SECRET, **kwargs):
        return requests.post(self.server.url + "/webhook/" + secret, json=body, timeout=10, **kwargs)

    def alerts(self, **filters):
        response = self.rest("POST", "/v2/alerts/paged", params={"userId": RENE["id"]}, json=filters)
        return [] if response.status_code == 204 else response.json()["results"]


def subscribe(api, url, team_id=None, name="receiver"):
    body = {"name": name, "extUrl": url}
    if team_id:
        body["teamId"] = team_id
    response = api.rest("POST", "/v2/webhooks", json=body)
    assert response.status_code == 201
    return response.json()


def drain(signl4):
    return signl4.control("POST", "/outbound/drain", {"timeout": 10})


# ----- authentication and the inbound webhook ----------------------------------------------

def test_rest_needs_the_api_key_the_webhook_does_not(signl4, api):
    assert Api(signl4, api_key="wrong").rest("GET", "/v2/teams").status_code == 401
    assert requests.get(signl4.url + "/api/v2/teams", timeout=10).status_code == 401
    assert api.rest("GET", "/v2/teams").status_code == 200
    response = api.event({"Title": "t", "Message": "m"})
    assert response.status_code == 201 and ROW_ID.match(response.json()["eventId"])
    assert signl4.requests()[0]["headers"]["x-s4-api-key"] == "***"  # the journal never keeps the key


def test_unknown_secret_answers_404_with_code_3004(api):
    response = api.event({"Title": "t"}, secret="nosuch99")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == 3004 and body["message"] == "Error raising event."
    assert body["details"] == "An event source with ID nosuch99 was not found." and body["requestId"]


def test_external_id_status_moves_only_the_alerts_raised_with_it(api):
    api.event({"Title": "Printer", "Message": "jam", "X-S4-ExternalID": "T-1"})
    api.event({"Title": "Other", "X-S4-ExternalID": "T-2"})
    api.event({"Title": "Same id, other team", "X-S4-ExternalID": "T-1"}, secret=SECOND_TEAM_SECRET)
    assert api.event({"X-S4-ExternalID": "T-1", "X-S4-Status": "acknowledged"}).status_code == 201
    by_team = dict(((a["externalId"], a["teamId"]), a["status"]["statusCode"]) for a in api.alerts())
    assert by_team == {("T-1", DEFAULT_TEAM_ID): 2, ("T-2", DEFAULT_TEAM_ID): 1, ("T-1", SECOND_TEAM_ID): 1}
    api.event({"X-S4-ExternalID": "T-1", "X-S4-Status": "Resolved"})  # values are case-insensitive
    closed = [a for a in api.alerts(externalId="T-1") if a["teamId"] == DEFAULT_TEAM_ID][0]
    assert closed["status"]["statusCode"] == 4 and closed["history"]["closedAt"]


def test_unknown_status_is_discarded_and_new_twice_raises_twice(api):
    api.event({"Title": "x", "X-S4-ExternalID": "T-9", "X-S4-Status": "pending"})
    assert api.alerts() == []
    api.event({"Title": "x", "X-S4-ExternalID": "T-9", "X-S4-Status": "new"})
    api.event({"Title": "x", "X-S4-ExternalID": "T-9", "X-S4-Status": ""})
    assert len(api.alerts(externalId="T-9")) == 2  # inbound creation is not idempotent


def test_form_payload_query_mapping_service_and_tiles(signl4, api):
    url = signl4.url + "/webhook/" + DEFAULT_TEAM_SECRET
    query = {"ExtIDParam": "Id", "ExtStatusParam": "State", "ResolvedStatus": "UP", "AckStatus": "PENDING"}
    requests.post(url, data={"Subject": "Host down", "Body": "db1", "Id": "H-1", "State": "DOWN",
                             "X-S4-Service": "connectwise"}, params=query, timeout=10)
    alert = api.alerts()[0]
    assert (alert["title"], alert["text"], alert["externalId"]) == ("Host down", "db1", "H-1")
    categories = api.rest("GET", "/v2/categories/" + DEFAULT_TEAM_ID).json()
    assert alert["categoryId"] == [c["id"] for c in categories if c["name"] == "ConnectWise"][0]
    details = api.rest("GET", "/v2/alerts/%s/details" % alert["id"]).json()
    assert {"Subject", "Body", "Id", "State"} <= {p["name"] for p in details["parameters"]}
    requests.post(url, data={"Id": "H-1", "State": "PENDING"}, params=query, timeout=10)
    assert api.alerts()[0]["status"]["statusCode"] == 2
    requests.post(url, data={"Id": "H-1", "State": "UP"}, params=query, timeout=10)
    assert api.alerts()[0]["status"]["statusCode"] == 4


def test_rest_events_answer_an_overview_event(api):
    response = api.rest("POST", "/v2/events/%s/" % DEFAULT_TEAM_SECRET,
                        json={"Title": "API event", "Message": "m", "X-S4-ExternalID": "E-1"})
    assert response.status_code == 201
    event = response.json()
    assert event["eventSourceType"] == 7 and event["eventStatus"] == 2 and event["alertId"]
    resolved = api.rest("POST", "/v2/events/%s/" % DEFAULT_TEAM_SECRET,
                        json={"Title": "", "Message": "", "X-S4-ExternalID": "E-1", "X-S4-Status": "resolved"}).json()
    assert resolved["closedAlerts"] == [event["alertId"]] and resolved["eventStatus"] == 4


# ----- alerts over REST ------------------------------------------------------------------------

def test_alert_life_cycle_and_its_409s(api):
    alert = api.rest("POST", "/v2/alerts", json={"teamId": DEFAULT_TEAM_ID, "title": "t", "text": "x"}).json()
    path = "/v2/alerts/%s/" % alert["id"]
    as_rene = {"uid": RENE["id"], "descr": "on it"}
    assert api.rest("POST", path + "acknowledge", json=as_rene).json()["status"]["statusCode"] == 2
    assert api.rest("POST", path + "acknowledge", json=as_rene).status_code == 409
    assert api.rest("POST", path + "undoAcknowledge", json=as_rene).json()["status"]["statusCode"] == 1
    assert api.rest("POST", path + "undoClose", json=as_rene).status_code == 403
    closed = api.rest("POST", path + "close", json=as_rene).json()
    assert closed["status"]["statusCode"] == 4 and closed["history"]["closedBy"] == RENE["id"]
    for action in ("acknowledge", "close"):
        conflict = api.rest("POST", path + action, json=as_rene)
        assert conflict.status_code == 409 and "lifecycle" in conflict.json()["message"]
    assert api.rest("POST", path + "acknowledge", json={}).status_code == 400
    note = api.rest("POST", path + "annotate", json={"text": "done", "type": 1, "userId": OLIVIA["id"]}).json()
    assert note["text"] == "done" and note["userId"] == OLIVIA["id"] and ROW_ID.match(note["id"])
    assert api.rest("GET", path.rstrip("/")).json()["flags"] == 2
    assert api.rest("GET", "/v2/alerts/nope").status_code == 404


def test_paging_with_continuation_tokens_and_204_when_empty(api):
    assert api.rest("POST", "/v2/alerts/paged", params={"userId": RENE["id"]}, json={}).status_code == 204
    assert api.rest("POST", "/v2/alerts/paged", json={}).status_code == 400  # userId is required
    for number in range(5):
        api.event({"Title": "alert %d" % number})
    seen, token = [], None
    while True:
        body = {"continuationToken": token} if token else {}
        page = api.rest("POST", "/v2/alerts/paged", params={"userId": RENE["id"], "maxResults": 2}, json=body).json()
        seen += [a["title"] for a in page["results"]]
        if not page["hasMore"]:
            break
        token = page["continuationToken"]
    assert seen == ["alert %d" % n for n in (4, 3, 2, 1, 0)]  # newest first, each once
    assert api.rest("POST", "/v2/alerts/paged", params={"userId": RENE["id"], "maxResults": 101}, json={}).status_code == 400
    only_nick = api.rest("POST", "/v2/alerts/paged", params={"userId": USERS[2]["id"]}, json={})
    assert only_nick.status_code == 204  # Nick is not in the Service Desk team


# ----- users, teams, categories ---------------------------------------------------------------

def test_users_by_id_and_e_mail_teams_and_memberships(api):
    assert api.rest("GET", "/v2/users/" + OLIVIA["mail"].upper()).json()["id"] == OLIVIA["id"]
    assert api.rest("GET", "/v2/users/nobody@example.com").status_code == 404
    assert {u["mail"] for u in api.rest("GET", "/v2/users").json()} == {u["mail"] for u in USERS}
    teams = api.rest("GET", "/v2/teams", params={"teamId": SECOND_TEAM_ID}).json()
    assert [t["name"] for t in teams] == ["Network Operations"]
    members = api.rest("GET", "/v2/teams/%s/memberships" % DEFAULT_TEAM_ID).json()
    assert {m["mailAddress"] for m in members} == {RENE["mail"], OLIVIA["mail"]}
    created = api.rest("POST", "/v2/categories/" + DEFAULT_TEAM_ID,
                       json={"name": "Network", "color": "#000000", "imageName": "network.svg", "keywordMatching": 0,
                             "keywords": ["switch"]})
    assert created.status_code == 201 and created.json()["teamId"] == DEFAULT_TEAM_ID


# ----- outbound webhook subscriptions ----------------------------------------------------------

def test_webhooks_crud_404_when_empty_and_201_with_the_id(api, receiver):
    assert api.rest("GET", "/v2/webhooks").status_code == 404
    webhook_id = subscribe(api, receiver.url, DEFAULT_TEAM_ID)
    uuid.UUID(webhook_id)
    listed = api.rest("GET", "/v2/webhooks").json()
    assert [(w["id"], w["enabled"], w["extUrl"]) for w in listed] == [(webhook_id, True, receiver.url)]
    updated = api.rest("PUT", "/v2/webhooks/" + webhook_id,
                       json={"name": "renamed", "extUrl": receiver.url, "description": "d"}).json()
    assert updated["name"] == "renamed" and "teamId" not in updated  # PUT replaces the base fields
    assert api.rest("POST", "/v2/webhooks/%s/disable" % webhook_id).json()["enabled"] is False
    assert api.rest("DELETE", "/v2/webhooks/" + webhook_id).status_code == 200
    assert api.rest("GET", "/v2/webhooks/" + webhook_id).status_code == 404


@pytest.mark.parametrize("url", ["not a url", "ftp://example.com/x", "/relative"])
def test_webhook_with_a_malformed_url_is_refused(api, url):
    assert api.rest("POST", "/v2/webhooks", json={"name": "x", "extUrl": url}).status_code == 400


def test_own_inbound_webhook_cannot_be_subscribed(signl4, api):
    response = api.rest("POST", "/v2/webhooks", json={"name": "loop", "extUrl": signl4.url + "/webhook/" + DEFAULT_TEAM_SECRET})
    assert response.status_code == 400


# ----- outbound delivery ----------------------------------------------------------------------

def test_every_alert_event_is_delivered_in_the_documented_shape(signl4, api, receiver):
    subscribe(api, receiver.url)
    event_id = api.event({"Title": "Disk", "X-S4-ExternalID": "T-7"}).json()["eventId"]
    signl4.control("POST", "/act", {"user": OLIVIA["mail"], "action": "annotate", "external_id": "T-7", "text": "looking"})
    signl4.control("POST", "/act", {"user": OLIVIA["mail"], "action": "acknowledge", "external_id": "T-7"})
    api.event({"X-S4-ExternalID": "T-7", "X-S4-Status": "resolved"})
    created, annotated, acked, closed = receiver.wait_for(4)
    assert created["eventType"] == 200 and created["alert"]["statusCode"] == 1
    assert created["alert"]["eventId"] == event_id and created["alert"]["externalEventId"] == "T-7"
    assert "user" not in created and created["subscription"]["id"]
    assert annotated["eventType"] == 203 and annotated["alert"]["statusCode"] == 0
    assert annotated["annotation"]["message"] == "looking" and annotated["annotation"]["id"]
    user = dict(username=OLIVIA["name"], mailaddress=OLIVIA["mail"], id=OLIVIA["id"])
    assert annotated["user"] == user and acked["user"] == user
    assert (acked["eventType"], acked["alert"]["statusCode"], acked["alert"]["acknowledgedUserIds"]) == (201, 2, [OLIVIA["id"]])
    assert (closed["eventType"], closed["alert"]["statusCode"]) == (201, 4) and "user" not in closed
    assert len({p["id"] for p in (created, annotated, acked, closed)}) == 4
    assert all(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$", p["eventRaisedUtc"]) for p in (created, closed))


def test_escalation_duty_and_punch_events_are_sent_in_their_own_shapes(signl4, api, receiver):
    subscribe(api, receiver.url)
    api.event({"Title": "Disk", "X-S4-ExternalID": "T-8"})
    emits = [{"eventType": 202, "external_id": "T-8"}, {"eventType": 300, "team": DEFAULT_TEAM_ID},
             {"eventType": 301, "team": DEFAULT_TEAM_ID, "whole_seconds": True},
             {"eventType": 302, "team": DEFAULT_TEAM_ID, "user": RENE["mail"]},
             {"eventType": 303, "user": OLIVIA["id"], "whole_seconds": True}]
    for emit in emits:
        signl4.control("POST", "/emit", emit)
    created, escalated, started, ended, punched_in, punched_out = receiver.wait_for(6)
    assert created["eventType"] == 200
    assert set(escalated) == {"id", "eventType", "eventRaisedUtc", "subscription", "team", "alert"}
    assert escalated["team"] == {"id": DEFAULT_TEAM_ID} and "user" not in escalated
    assert (escalated["alert"]["statusCode"], escalated["alert"]["acknowledgedUserIds"]) == (1, [])
    assert escalated["alert"]["externalEventId"] == "T-8"
    for duty, event_type in ((started, 300), (ended, 301)):
        assert duty["eventType"] == event_type and set(duty) == {"id", "eventType", "eventRaisedUtc", "team"}
    assert punched_in["user"] == {"id": RENE["id"]} and punched_out["user"] == {"id": OLIVIA["id"]}
    assert set(punched_in) == {"id", "eventType", "eventRaisedUtc", "team", "user"}  # no alert
    with_fraction = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$"
    whole = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"
    assert [bool(re.match(whole if emit.get("whole_seconds") else with_fraction, p["eventRaisedUtc"]))
            for emit, p in zip(emits, (escalated, started, ended, punched_in, punched_out))] == [True] * 5


@pytest.mark.parametrize("emit, status", [({"eventType": 200}, 400), ({"eventType": 202, "external_id": "none"}, 404),
                                          ({"eventType": 300, "team": "nope"}, 400),
                                          ({"eventType": 302, "user": "nobody@x"}, 404), ("x", 400)])
def test_bad_emits_are_refused(signl4, emit, status):
    with pytest.raises(urllib.error.HTTPError) as caught:
        signl4.control("POST", "/emit", emit)
    assert caught.value.code == status


def test_disabled_and_other_team_subscriptions_get_nothing(signl4, api, receiver):
    other = Receiver("/other")
    try:
        subscribe(api, other.url, SECOND_TEAM_ID, name="other team")
        disabled = subscribe(api, receiver.url + "&disabled=1", name="disabled")
        api.rest("POST", "/v2/webhooks/%s/disable" % disabled)
        subscribe(api, receiver.url, DEFAULT_TEAM_ID, name="mine")
        api.event({"Title": "only for the Service Desk"})
        drain(signl4)
        assert [r["path"] for r in receiver.received] == ["/signl4/events?token=receiver-token-0123"]
        assert other.received == []
    finally:
        other.stop()


def test_duplicates_switch_sends_the_same_notification_twice(signl4, api, receiver):
    subscribe(api, receiver.url)
    signl4.control("POST", "/outbound", {"duplicates": 2})
    api.event({"Title": "twice"})
    first, second = receiver.wait_for(2)
    assert first == second


def test_drop_and_delay_switches(signl4, api, receiver):
    subscribe(api, receiver.url)
    signl4.control("POST", "/clock", {"manual": True})
    signl4.control("POST", "/outbound", {"drop": 1, "delay": 0.5})
    api.event({"Title": "lost"})
    api.event({"Title": "late"})
    signl4.control("POST", "/clock", {"advance": 0.49})
    drain(signl4)
    assert receiver.received == []  # held back: not due yet
    signl4.control("POST", "/clock", {"advance": 0.01})
    [late] = receiver.wait_for(1)
    assert late["eventType"] == 200
    drain(signl4)
    statuses = [d["status"] for d in signl4.control("GET", "/outbound")["deliveries"]]
    assert statuses == ["dropped", 200] and len(receiver.received) == 1


def test_a_failing_receiver_is_retried_until_it_accepts(signl4, api, receiver):
    subscribe(api, receiver.url)
    receiver.statuses = [500, 503]
    signl4.control("POST", "/clock", {"manual": True})
    api.event({"Title": "at least once"})
    drain(signl4)
    assert [r["status"] for r in receiver.received] == [500]
    signl4.control("POST", "/clock", {"advance": 0.2})  # the first retry, then 0.4 s more for the second
    drain(signl4)
    assert [r["status"] for r in receiver.received] == [500, 503]
    signl4.control("POST", "/clock", {"advance": 0.4})
    [payload] = receiver.wait_for(1)
    assert [r["status"] for r in receiver.received] == [500, 503, 200]
    assert len({r["body"]["id"] for r in receiver.received}) == 1 and payload["eventType"] == 200


def test_act_control_follows_the_life_cycle(signl4, api):
    api.event({"Title": "x", "X-S4-ExternalID": "T-3"})
    closed = signl4.control("POST", "/act", {"user": RENE["id"], "action": "close", "external_id": "T-3"})
    assert closed["status"]["statusCode"] == 4 and closed["history"]["closedBy"] == RENE["id"]
    with pytest.raises(urllib.error.HTTPError) as caught:
        signl4.control("POST", "/act", {"user": RENE["id"], "action": "acknowledge", "external_id": "T-3"})
    assert caught.value.code == 409


# ----- connector apps -------------------------------------------------------------------------

def test_connector_app_inventory_and_instances(api):
    inventory = api.rest("GET", "/v2/scripts/inventory").json()
    assert [a["scriptId"] for a in inventory if a["scriptName"] == "ConnectWise Manage"] == [CONNECTWISE_APP_ID]
    created = api.rest("POST", "/v2/scripts/instances",
                       json={"scriptId": CONNECTWISE_APP_ID, "teamId": DEFAULT_TEAM_ID, "config": {"companyId": "x"}})
    assert created.status_code == 201
    instance = created.json()
    assert instance["enabled"] is False and instance["config"] == {"companyId": "x"}
    assert instance["runtimeInformation"]["runtimeStatus"] == 4
    path = "/v2/scripts/instances/" + instance["instanceId"]
    listed = api.rest("GET", "/v2/scripts/instances", params={"teamId": DEFAULT_TEAM_ID}).json()
    assert [i["instanceId"] for i in listed] == [instance["instanceId"]] and "config" not in listed[0]
    assert api.rest("PUT", path, json={"config": {"companyId": "y"}}).json()["config"] == {"companyId": "y"}
    again = api.rest("POST", "/v2/scripts/instances", json={"instanceId": instance["instanceId"], "enabled": True})
    assert again.status_code == 200 and again.json()["enabled"] is True
    assert api.rest("POST", path + "/disable").json()["runtimeInformation"]["runtimeStatus"] == 4
    secret = instance["webhookUrl"].rsplit("/", 1)[1]
    assert api.event({"Title": "from the app"}, secret=secret).status_code == 201
    assert api.rest("DELETE", path).status_code == 200
    assert api.event({"Title": "gone"}, secret=secret).status_code == 404
    assert api.rest("POST", "/v2/scripts/instances", json={"scriptId": "nope", "teamId": DEFAULT_TEAM_ID}).status_code == 404
    assert api.rest("POST", "/v2/scripts/instances", json={"scriptId": CONNECTWISE_APP_ID, "teamId": "nope"}).status_code == 404


# ----- rate limit, reset, flags, conformance ------------------------------------------------------

def test_every_event_answer_carries_the_rate_limit_headers(signl4, api):
    clock = signl4.control("POST", "/clock", {"manual": True})
    answers = [api.event({"Title": "x"}) for _event in range(3)] + [api.event({"Title": "x"}, secret="nosuchsecret")]
    assert [a.status_code for a in answers] == [201, 201, 201, 404]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["149", "148", "147", "146"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"150"}  # the commercial plan's 15 s window
    assert {int(a.headers["X-RateLimit-Reset"]) for a in answers} == {math.ceil(clock["time"] + 15)}
    signl4.control("POST", "/clock", {"advance": 15})
    assert api.event({"Title": "x"}).headers["X-RateLimit-Remaining"] == "149"  # a new window
    assert "X-RateLimit-Limit" not in api.rest("GET", "/v2/teams").headers  # REST only when throttling is on


def test_throttling_mirrors_the_documented_windows(signl4, api):
    clock = signl4.control("POST", "/clock", {"manual": True})
    signl4.control("POST", "/rate-limit", {"plan": "free"})
    first = api.event({"Title": "x"})
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("10", "9")
    assert int(first.headers["X-RateLimit-Reset"]) == math.ceil(clock["time"] + 15)
    assert [api.event({"Title": "x"}).status_code for _event in range(9)] == [201] * 9
    throttled = api.event({"Title": "x"})
    assert throttled.status_code == 429 and throttled.headers["X-RateLimit-Remaining"] == "0"
    assert api.rest("GET", "/v2/teams").status_code == 200  # REST is counted apart from events


def test_exceeding_a_window_blocks_for_a_whole_period(signl4, api):
    signl4.control("POST", "/clock", {"manual": True})
    signl4.control("POST", "/rate-limit", {"windows": {"rest": [[2, 1]]}})
    assert [api.rest("GET", "/v2/teams").status_code for _call in range(2)] == [200, 200]
    signl4.control("POST", "/clock", {"advance": 0.5})
    assert api.rest("GET", "/v2/teams").status_code == 429  # the refusal restarts the period
    signl4.control("POST", "/clock", {"advance": 0.9})
    assert api.rest("GET", "/v2/teams").status_code == 429  # 1.4 s after the window opened, 0.9 s after the refusal
    signl4.control("POST", "/clock", {"advance": 0.1})
    assert api.rest("GET", "/v2/teams").status_code == 200


def test_reset_restores_the_seed(signl4, api, receiver):
    subscribe(api, receiver.url)
    api.event({"Title": "x"})
    signl4.control("POST", "/rate-limit", {"plan": "free"})
    state = signl4.control("GET", "/state")
    assert len(state["webhooks"]) == 1 and [a["title"] for a in state["alerts"]] == ["x"]
    signl4.reset()
    assert signl4.control("GET", "/state")["alerts"] == [] and signl4.requests() == []
    assert api.rest("GET", "/v2/webhooks").status_code == 404
    assert api.alerts() == [] and api.event({"Title": "y"}).headers["X-RateLimit-Limit"] == "150"


def test_flags_set_the_credentials_and_team_id():
    team_id = str(uuid.uuid4())
    server = RunningEmulator("tests.emulators.signl4", ["--api-key", "k2", "--team-secret", "s2s2s2s2", "--team-id", team_id,
                                                        "--rate-limit", "free"])
    try:
        api = Api(server, api_key="k2")
        assert team_id in [t["id"] for t in api.rest("GET", "/v2/teams").json()]
        response = api.event({"Title": "x"}, secret="s2s2s2s2")
        assert response.status_code == 201 and response.headers["X-RateLimit-Limit"] == "10"
        assert api.event({"Title": "x"}).status_code == 404  # the default secret is not configured
    finally:
        server.stop()


def test_rest_exchanges_conform_to_the_spec(signl4, api, receiver):
    subscribe(api, receiver.url, DEFAULT_TEAM_ID)
    api.event({"Title": "x", "X-S4-ExternalID": "C-1"})
    alert = api.alerts()[0]
    api.rest("GET", "/v2/alerts/" + alert["id"])
    api.rest("GET", "/v2/alerts/%s/details" % alert["id"])
    api.rest("POST", "/v2/alerts/%s/annotate" % alert["id"], json={"text": "n", "type": 1, "userId": RENE["id"]})
    api.rest("POST", "/v2/alerts/%s/acknowledge" % alert["id"], json={"uid": RENE["id"]})
    api.rest("POST", "/v2/alerts/%s/close" % alert["id"], json={"uid": RENE["id"]})
    api.rest("POST", "/v2/alerts", json={"teamId": DEFAULT_TEAM_ID, "title": "t", "text": "x", "externalId": "C-2"})
    for path in ("/v2/users", "/v2/users/" + RENE["mail"], "/v2/teams", "/v2/teams/" + DEFAULT_TEAM_ID,
                 "/v2/teams/%s/memberships" % DEFAULT_TEAM_ID, "/v2/categories/" + DEFAULT_TEAM_ID,
                 "/v2/webhooks", "/v2/scripts/inventory", "/v2/scripts/inventory/parsed", "/v2/scripts/instances"):
        assert api.rest("GET", path).status_code == 200, path
    instance = api.rest("POST", "/v2/scripts/instances", json={"scriptId": CONNECTWISE_APP_ID, "teamId": DEFAULT_TEAM_ID}).json()
    api.rest("POST", "/v2/scripts/instances/%s/enable" % instance["instanceId"])
    api.rest("GET", "/v2/scripts/instances/" + instance["instanceId"])
    report = signl4_spec().assert_conforms(signl4.requests(), min_checked=20)
    assert report.uncovered == ["POST /webhook/" + DEFAULT_TEAM_SECRET]
