"""The SIGNL4 client against the SIGNL4 emulator over real HTTP: events, alerts with paging,
users, teams, subscriptions, connector apps, SIGNL4's errors, retries on 429 with Retry-After
or X-RateLimit-Reset, pacing by the rate-limit headers, and secrets in no message."""

import time

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils.cache import LookupCache
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import (
    AuthenticationError, ConflictError, InputError, NotFoundError, OutcomeUnknownError, RateLimitedError, TransportError,
    ValidationError,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import (
    AlertStatus, Signl4Client, event_payload, webhook_base,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import RetryPolicy
from tests.emulators.signl4 import (
    CONNECTWISE_APP_ID, DEFAULT_API_KEY, DEFAULT_TEAM_ID, DEFAULT_TEAM_SECRET, SECOND_TEAM_ID, USERS,
)
from tests.support.clock import Clock
from tests.support.spec_conformance import signl4_spec

RENE, OLIVIA = USERS[0], USERS[1]


class SleepRecorder:
    """Records the waits; ``real`` also sleeps them (for tests against a real clock window)."""

    def __init__(self, real=False):
        self.waits = []
        self.real = real

    def __call__(self, seconds):
        self.waits.append(seconds)
        if self.real:
            time.sleep(seconds)


def make_client(signl4, sleep=None, log=None, **overrides):
    options = dict(api_url=signl4.url + "/api", api_key=DEFAULT_API_KEY, team_secret=DEFAULT_TEAM_SECRET)
    options.update(overrides)
    return Signl4Client(retry=RetryPolicy(max_retries=5, sleep=sleep or SleepRecorder()), log=log, **options)


def raise_alert(client, external_id, **controls):
    """Raise an alert through the inbound webhook and read it back."""
    client.trigger("alert " + external_id, "x", external_id=external_id, **controls)
    [alert] = client.alerts(user_id=RENE["id"], external_id=external_id)
    return alert


def calls(signl4, path_part, method=None):
    return [r for r in signl4.requests() if path_part in r["path"] and (method is None or r["method"] == method)]


# ----- construction, auth, errors --------------------------------------------------------------

def test_webhook_url_sits_next_to_the_api_base():
    assert webhook_base("https://connect.signl4.com/api") == "https://connect.signl4.com/webhook"
    assert webhook_base("http://127.0.0.1:8080/api/") == "http://127.0.0.1:8080/webhook"
    with pytest.raises(InputError):
        Signl4Client("connect.signl4.com/api", DEFAULT_API_KEY)


def test_rest_calls_send_the_api_key_header(signl4):
    make_client(signl4).teams()
    [call] = calls(signl4, "/v2/teams")
    assert call["headers"]["x-s4-api-key"] == "***"  # present (the journal masks it) and accepted
    assert call["status"] == 200


def test_missing_api_key_or_secret_fails_before_sending(signl4):
    with pytest.raises(InputError, match="SIGNL4_API_KEY"):
        make_client(signl4, api_key=None).webhooks()
    with pytest.raises(InputError, match="SIGNL4_TEAM_SECRET"):
        make_client(signl4, team_secret="").trigger("t", "m")
    assert signl4.requests() == []


def test_wrong_api_key_is_an_authentication_error_without_the_key(signl4):
    with pytest.raises(AuthenticationError) as caught:
        make_client(signl4, api_key="Wr0ng-api-key-123").teams()
    assert caught.value.status == 401 and "Unauthorized" in str(caught.value)
    assert "Wr0ng-api-key-123" not in str(caught.value) + repr(caught.value.to_dict())


def test_wrong_team_secret_surfaces_signl4s_404_masked(signl4):
    lines = []
    client = make_client(signl4, team_secret="wr0ngsecret", log=lines.append)
    with pytest.raises(NotFoundError) as caught:
        client.trigger("Disk full", "srv1")
    error = caught.value
    assert error.status == 404 and error.code == 3004
    assert "Error raising event." in str(error) and "An event source with ID ******** was not found." in str(error)
    everything = str(error) + repr(error.to_dict()) + "\n".join(lines)
    assert "wr0ngsecret" not in everything and "/webhook/********" in error.url


def test_connection_errors_do_not_show_the_secret():
    client = Signl4Client("http://127.0.0.1:9/api", DEFAULT_API_KEY, "s3cr3tteam",
                          retry=RetryPolicy(max_retries=1, sleep=SleepRecorder()))
    with pytest.raises(TransportError) as caught:
        client.trigger("t", "m")
    assert "s3cr3tteam" not in str(caught.value) and DEFAULT_API_KEY not in str(caught.value)


def test_signl4_errors_carry_its_code_and_message(signl4):
    client = make_client(signl4)
    with pytest.raises(ValidationError) as caught:
        client.create_webhook({"name": "x", "extUrl": "not a url"})
    assert caught.value.code == 400 and "extUrl must be an absolute http(s) URL" in str(caught.value)
    with pytest.raises(NotFoundError):
        client.alert("no-such-alert")


# ----- events and alerts ------------------------------------------------------------------------

def test_event_payload_sets_only_the_given_controls():
    assert event_payload(title="t", message="m", external_id="T-1", status="new", source_system="ConnectWise",
                         parameters={"Ticket": "#1"}) == {
        "Ticket": "#1", "Title": "t", "Message": "m", "X-S4-ExternalID": "T-1", "X-S4-Status": "new",
        "X-S4-SourceSystem": "ConnectWise"}
    with pytest.raises(InputError):
        event_payload(status="closed", external_id="T-1")
    with pytest.raises(InputError):
        event_payload(status="resolved")


def test_external_id_drives_the_alert_life_cycle(signl4):
    client = make_client(signl4)
    event_id = client.trigger("Printer jam", "3rd floor", external_id="T-42", source_system="ConnectWise",
                              service="ConnectWise")
    [alert] = list(client.alerts(user_id=RENE["id"], external_id="T-42"))
    assert alert["eventId"] == event_id and alert["status"]["statusCode"] == AlertStatus.OPEN
    client.webhook_event(event_payload(external_id="T-42", status="acknowledged"))
    assert client.alert(alert["id"])["status"]["statusCode"] == AlertStatus.ACKNOWLEDGED
    client.webhook_event(event_payload(external_id="T-42", status="resolved"))
    assert client.alert(alert["id"])["status"]["statusCode"] == AlertStatus.CLOSED
    sent = [r["request_json"] for r in calls(signl4, "/webhook/")]
    assert sent[1] == {"X-S4-ExternalID": "T-42", "X-S4-Status": "acknowledged"}
    assert sent[0]["X-S4-SourceSystem"] == "ConnectWise" and sent[0]["X-S4-Status"] == "new"


def test_paging_follows_continuation_tokens(signl4):
    client = make_client(signl4)
    for number in range(7):
        client.trigger("alert %d" % number, "x", external_id="P-%d" % number)
    signl4.clear_requests()
    titles = [a["title"] for a in client.alerts(user_id=RENE["id"], page_size=3)]
    assert titles == ["alert %d" % n for n in range(6, -1, -1)]
    pages = calls(signl4, "/v2/alerts/paged")
    assert len(pages) == 3 and pages[0]["query"] == {"maxResults": ["3"], "userId": [RENE["id"]]}
    assert "continuationToken" not in pages[0]["request_json"]
    assert pages[1]["request_json"]["continuationToken"] == pages[0]["response_json"]["continuationToken"]
    assert list(client.alerts(user_id=RENE["id"], status=AlertStatus.CLOSED)) == []  # a 204 is an empty page
    with pytest.raises(InputError):
        client.alerts_page(user_id=RENE["id"], max_results=500)
    with pytest.raises(InputError):
        list(client.alerts(user_id=RENE["id"], colour="red"))


def test_acknowledge_close_annotate_undo_and_409(signl4):
    client = make_client(signl4)
    alert = raise_alert(client, "A-7", parameters={"Ticket": "#7"})
    assert client.acknowledge(alert["id"], RENE["id"], comment="mine")["history"]["acknowledgements"] == [RENE["id"]]
    note = client.annotate(alert["id"], OLIVIA["id"], "Called the customer")
    assert note["text"] == "Called the customer"
    assert client.close_alert(alert["id"], OLIVIA["id"])["history"]["closedBy"] == OLIVIA["id"]
    with pytest.raises(ConflictError) as caught:
        client.acknowledge(alert["id"], RENE["id"])
    assert caught.value.status == 409 and "lifecycle" in str(caught.value)
    assert client.undo_close(alert["id"], RENE["id"])["status"]["statusCode"] == AlertStatus.ACKNOWLEDGED
    details = client.alert_details(alert["id"])
    assert [(p["name"], p["value"]) for p in details["parameters"]] == [("Ticket", "#7"), ("Title", "alert A-7"), ("Message", "x")]
    assert details["timelineEntries"]
    with pytest.raises(InputError):
        client.acknowledge(alert["id"], None)


# ----- users, teams, categories ---------------------------------------------------------------

def test_users_by_e_mail_and_teams_by_name(signl4):
    client = make_client(signl4)
    assert client.user(OLIVIA["mail"].upper())["id"] == OLIVIA["id"]
    with pytest.raises(NotFoundError):
        client.user("nobody@example.com")
    assert client.user(RENE["id"])["mail"] == RENE["mail"]
    assert client.resolve_team("service desk")["id"] == DEFAULT_TEAM_ID
    assert client.resolve_team(SECOND_TEAM_ID)["name"] == "Network Operations"
    signl4.clear_requests()
    client.resolve_team("Service Desk")
    assert signl4.requests() == []  # cached (for the TTL, see test_team_lookups_expire_and_a_404_drops_them)
    with pytest.raises(InputError) as caught:
        client.resolve_team("Night Shift")
    assert "known: Network Operations, Service Desk" in str(caught.value)
    assert [t["id"] for t in client.teams([SECOND_TEAM_ID])] == [SECOND_TEAM_ID]
    created = client.create_category(DEFAULT_TEAM_ID, {"name": "Network", "color": "#000000", "imageName": "network.svg",
                                                       "keywordMatching": 0, "keywords": []})
    assert created["id"] in [c["id"] for c in client.categories(DEFAULT_TEAM_ID)]


# ----- outbound webhook subscriptions and connector apps ---------------------------------------

def test_webhook_subscriptions(signl4):
    client = make_client(signl4)
    assert client.webhooks() == []  # SIGNL4's 404 for "none" is an empty list
    webhook_id = client.create_webhook({"name": "agent", "extUrl": "https://agent.example.com/in?token=t",
                                        "teamId": DEFAULT_TEAM_ID})
    assert client.webhook(webhook_id)["enabled"] is True
    assert [w["id"] for w in client.webhooks(DEFAULT_TEAM_ID)] == [webhook_id]
    assert client.webhooks(SECOND_TEAM_ID) == []
    assert client.update_webhook(webhook_id, {"name": "agent", "extUrl": "https://agent.example.com/in?token=u"})["extUrl"].endswith("u")
    assert client.disable_webhook(webhook_id)["enabled"] is False
    assert client.enable_webhook(webhook_id)["enabled"] is True
    client.delete_webhook(webhook_id)
    with pytest.raises(NotFoundError):
        client.webhook(webhook_id)


def test_connector_apps(signl4):
    client = make_client(signl4)
    app = client.resolve_app("connectwise manage")
    assert app["scriptId"] == CONNECTWISE_APP_ID
    with pytest.raises(InputError) as caught:
        client.resolve_app("ServiceNow")
    assert "ConnectWise Manage" in str(caught.value)
    instance = client.create_script_instance({"scriptId": app["scriptId"], "teamId": DEFAULT_TEAM_ID,
                                              "config": {"companyId": "contoso"}})
    instance_id = instance["instanceId"]
    assert [i["instanceId"] for i in client.script_instances([DEFAULT_TEAM_ID])] == [instance_id]
    assert client.update_script_instance(instance_id, {"config": {"companyId": "fabrikam"}})["config"] == {"companyId": "fabrikam"}
    assert client.enable_script_instance(instance_id)["enabled"] is True
    assert client.disable_script_instance(instance_id)["enabled"] is False
    assert client.script_instance(instance_id)["config"] == {"companyId": "fabrikam"}
    client.delete_script_instance(instance_id)
    assert client.script_instances() == []


# ----- retries and rate limits --------------------------------------------------------------------

def test_429_is_retried_after_retry_after(signl4):
    sleep = SleepRecorder()
    client = make_client(signl4, sleep=sleep)
    signl4.inject(429, count=3, retry_after=2, path="/v2/teams")
    assert len(client.teams()) == 2
    assert sleep.waits == [2.0, 2.0, 2.0]
    assert [r["status"] for r in calls(signl4, "/v2/teams")] == [429, 429, 429, 200]


def test_inbound_events_are_retried_on_429_but_never_on_500(signl4):
    sleep = SleepRecorder()
    client = make_client(signl4, sleep=sleep)
    signl4.inject(429, count=1, retry_after=1, path="/webhook/")
    assert client.trigger("t", "m")
    signl4.inject(500, count=1, path="/webhook/")
    with pytest.raises(OutcomeUnknownError) as caught:
        client.trigger("t", "m")
    assert caught.value.status == 500 and "may have been applied" in str(caught.value)
    assert [r["status"] for r in calls(signl4, "/webhook/")] == [429, 201, 500]  # a 500 may have raised it


def test_429_outliving_the_retries_is_rate_limited_error(signl4):
    client = make_client(signl4)
    signl4.inject(429, count=10, retry_after=0, path="/v2/teams")
    with pytest.raises(RateLimitedError) as caught:
        client.teams()
    assert caught.value.status == 429 and DEFAULT_API_KEY not in str(caught.value)


def test_rate_limit_headers_are_read_and_paced(signl4):
    signl4.control("POST", "/rate-limit", {"windows": {"rest": [[3, 2]]}})
    sleep = SleepRecorder(real=True)
    client = make_client(signl4, sleep=sleep)
    client.teams()
    rest = client.rate_limits["rest"]
    assert (rest.limit, rest.remaining) == (3, 2) and rest.reset >= time.time()
    client.teams()
    client.teams()
    client.trigger("events are counted apart", "m")
    # events are counted apart: their headers (sent on every event answer) show plenty left
    assert sleep.waits == [] and client.rate_limits["events"].remaining > 100
    client.teams()  # nothing left: wait for the window instead of earning a 429 (which would extend the block)
    assert len(sleep.waits) == 1 and 0 < sleep.waits[0] <= 3
    assert 429 not in [r["status"] for r in signl4.requests()]


def test_429_without_retry_after_waits_for_x_ratelimit_reset(signl4):
    signl4.control("POST", "/rate-limit", {"windows": {"rest": [[1, 1]]}})
    make_client(signl4).teams()  # another client used the window up
    sleep = SleepRecorder(real=True)
    client = make_client(signl4, sleep=sleep)
    assert client.teams()
    statuses = [r["status"] for r in calls(signl4, "/v2/teams")]
    assert statuses[:2] == [200, 429] and statuses[-1] == 200
    refused = calls(signl4, "/v2/teams")[1]
    assert "Retry-After" not in refused["response_headers"]
    assert len(sleep.waits) == 1 and 0.9 <= sleep.waits[0] <= 2.0  # from X-RateLimit-Reset, not a jittered backoff


# ----- the REST traffic against the spec ---------------------------------------------------------

def test_everything_the_client_sends_conforms_to_the_spec(signl4):
    client = make_client(signl4)
    team_id = client.resolve_team("Service Desk")["id"]
    alert = raise_alert(client, "C-1", parameters={"a": 1})
    client.alerts_page(user_id=RENE["id"], max_results=2, team_ids=[team_id], status=AlertStatus.OPEN, text="t")
    list(client.alerts(user_id=RENE["id"], page_size=1))
    client.alert(alert["id"], user_id=RENE["id"])
    client.alert_details(alert["id"], user_id=RENE["id"])
    client.annotate(alert["id"], RENE["id"], "note")
    client.acknowledge(alert["id"], RENE["id"], comment="c")
    client.close_alert(alert["id"], RENE["id"])
    client.undo_close(alert["id"], RENE["id"])
    client.user(RENE["mail"])
    client.teams([team_id])
    client.team(team_id)
    client.categories(team_id)
    category = client.create_category(team_id, {"name": "Spec", "color": "#000000", "imageName": "network.svg",
                                                "keywordMatching": 0, "keywords": []})
    client.update_category(team_id, category["id"], dict(category, color="#ffffff"))
    client.delete_category(team_id, category["id"])
    client.category_images()
    client.webhooks()
    webhook_id = client.create_webhook({"name": "n", "extUrl": "https://example.com/x", "teamId": team_id, "description": "d"})
    client.update_webhook(webhook_id, {"name": "n", "extUrl": "https://example.com/y"})
    client.disable_webhook(webhook_id)
    client.enable_webhook(webhook_id)
    client.webhooks(team_id)
    client.delete_webhook(webhook_id)
    client.script_inventory()
    instance = client.create_script_instance({"scriptId": CONNECTWISE_APP_ID, "teamId": team_id, "enabled": False,
                                              "config": {"k": "v"}, "customScriptName": "CW"})
    client.update_script_instance(instance["instanceId"], {"config": {"k": "w"}, "customScriptDescription": "d"})
    client.enable_script_instance(instance["instanceId"])
    client.disable_script_instance(instance["instanceId"])
    client.script_instances([team_id])
    client.script_instance(instance["instanceId"])
    client.delete_script_instance(instance["instanceId"])
    report = signl4_spec().assert_conforms(signl4.requests(), min_checked=30)
    assert report.uncovered == ["POST /webhook/" + DEFAULT_TEAM_SECRET]
    assert len(set(report.checked)) >= 25  # distinct operations


def test_client_closes_its_pooled_connections_as_a_context_manager(signl4):
    with make_client(signl4) as client:
        assert client.teams()
        session = client.transport.session
        assert session.idle_connections() == 1  # the one keep-alive connection, reused by each request
    assert session.idle_connections() == 0


# ----- cached lookups: expiry and invalidation; reads sent as POST ------------------------------

def test_team_lookups_expire_and_a_404_drops_them(signl4):
    clock = Clock()
    client = make_client(signl4, lookup_cache=LookupCache(ttl=300, clock=clock))
    client.resolve_team("Service Desk")
    client.resolve_team("Service Desk")
    assert len(calls(signl4, "/v2/teams")) == 1
    clock.now += 301
    client.resolve_team("Service Desk")
    assert len(calls(signl4, "/v2/teams")) == 2
    with pytest.raises(NotFoundError):
        client.team("no-such-team")  # a team we resolved may be gone too
    client.resolve_team("Service Desk")
    assert len([c for c in calls(signl4, "/v2/teams") if c["path"].endswith("/v2/teams")]) == 3


def test_the_paged_alert_query_is_a_read_and_retried_on_503(signl4):
    sleep = SleepRecorder()
    client = make_client(signl4, sleep=sleep)
    signl4.inject(503, count=1, path="/v2/alerts/paged")
    assert client.alerts_page(user_id=RENE["id"])["results"] is not None
    assert [c["status"] for c in calls(signl4, "/v2/alerts/paged")] == [503, 204] and len(sleep.waits) == 1


def test_a_post_that_writes_is_not_retried_on_503(signl4):
    client = make_client(signl4)
    signl4.inject(503, count=1, path="/v2/webhooks", method="POST")
    with pytest.raises(OutcomeUnknownError):
        client.create_webhook({"name": "x", "extUrl": "https://h/x", "teamId": DEFAULT_TEAM_ID})
    assert len(calls(signl4, "/v2/webhooks", "POST")) == 1
