"""The transport over real HTTP: no traceback and a clear error for bodies that are not JSON or
not the expected shape, refused connections, TLS and DNS errors (not retried), timeouts; POSTs
never repeated blindly; every request within its deadline; retry waits interruptible; secrets
masked in every form inside API errors; paging by real Manage Link headers."""

import base64
import json
import threading
import time
from urllib.parse import quote, quote_plus

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import ManageClient
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import (
    AuthenticationError, CancelledError, OutcomeUnknownError, RateLimitedError, TransportError,
    UnexpectedResponseError, ValidationError,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import Signl4Client
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import RetryPolicy
from tests.emulators.signl4 import DEFAULT_API_KEY, DEFAULT_TEAM_SECRET
from tests.integration.raw_server import Answer, RawServer, closed_port, zeros_compressed
from tests.support.clock import Clock
from tests.support.modules import run_module

CW = dict(company_id="signl4demo", public_key="demopublic", private_key="demoprivate",
          client_id="00000000-0000-4000-8000-000000000001")


def manage_client(url, clock=None, codebase=None, timeout=30.0, private_key="demoprivate", **retry):
    clock = clock or Clock()
    policy = RetryPolicy(sleep=clock.sleep, clock=clock, **retry)
    return ManageClient(url, CW["company_id"], CW["public_key"], private_key, CW["client_id"],
                        codebase=codebase, timeout=timeout, retry=policy)


# ----- bodies that are not JSON or not the expected shape ---------------------------------------

def test_a_200_that_is_not_json_is_a_clear_error():
    with RawServer([Answer(200, "<html><body>Gateway login</body></html>", content_type="text/html")]) as server:
        client = manage_client(server.url, codebase="v2025_1/")
        with pytest.raises(UnexpectedResponseError) as caught:
            client.get("/service/boards/1")
        text = str(caught.value)
        assert "not JSON" in text and "text/html" in text and "Gateway login" in text
        assert server.url + "/v2025_1/apis/3.0/service/boards/1" in text
        signl4 = Signl4Client(server.url + "/api", DEFAULT_API_KEY, retry=RetryPolicy(sleep=lambda s: None))
        with pytest.raises(UnexpectedResponseError, match="not JSON"):
            signl4.teams()


def test_company_info_that_is_not_json_is_a_clear_error():
    with RawServer([Answer(200, "Service Unavailable", content_type="text/plain")]) as server:
        with pytest.raises(UnexpectedResponseError, match="/login/companyinfo/signl4demo"):
            manage_client(server.url).list("/service/boards")


@pytest.mark.parametrize("body, call, why", [
    ({"unexpected": True}, "list", "JSON object where a list was expected"),
    ([1, 2], "list", "items are not all JSON objects"),
    ([{"id": 1}], "get", "JSON list where an object was expected"),
    ({"total": 3}, "count", "no integer count"),
])
def test_wrongly_shaped_200_bodies_are_clear_errors(manage, body, call, why):
    client = manage_client(manage.url)
    manage.inject(200, body=body, path="/service/boards")
    with pytest.raises(UnexpectedResponseError, match=why):
        {"list": lambda: client.list("/service/boards"), "get": lambda: client.get("/service/boards/1"),
         "count": lambda: client.count("/service/boards")}[call]()


def test_signl4_lists_of_the_wrong_shape_are_clear_errors(signl4):
    client = Signl4Client(signl4.url + "/api", DEFAULT_API_KEY, retry=RetryPolicy(sleep=lambda s: None))
    signl4.inject(200, body={"teams": []}, path="/v2/teams")
    with pytest.raises(UnexpectedResponseError, match="JSON object where a list was expected"):
        client.resolve_team("Service Desk")


# ----- failures without an HTTP answer ----------------------------------------------------------

def test_a_refused_connection_is_one_line_and_retried_for_every_method():
    clock = Clock()
    url = "http://127.0.0.1:%d" % closed_port()
    client = manage_client(url, clock=clock, codebase="v2025_1/")
    with pytest.raises(TransportError) as caught:
        client.get("/service/boards")
    text = str(caught.value)
    assert "connection refused by " + url in text and "Max retries" not in text and "\n" not in text
    assert len(clock.sleeps) == 5
    clock.sleeps.clear()
    with pytest.raises(TransportError) as caught:  # not OutcomeUnknownError: nothing was sent
        client.create("/service/boards", {"name": "x"})
    assert not isinstance(caught.value, OutcomeUnknownError) and len(clock.sleeps) == 5


@pytest.mark.parametrize("url, codebase, why", [
    ("https://{host}", "v2025_1/", "TLS error talking to https://127.0.0.1:.*scheme"),  # TLS errors say what to check
    ("{host}", None, "TLS error .*http/https"),  # a site given without scheme is https: fails clearly against plain http
    ("http://no-such-host.invalid", "v2025_1/", "does not resolve"),
], ids=["tls", "no scheme", "unknown host"])
def test_errors_that_cannot_go_away_are_not_retried(manage, url, codebase, why):
    clock = Clock()
    client = manage_client(url.format(host=manage.url.replace("http://", "")), clock=clock, codebase=codebase)
    with pytest.raises(TransportError, match=why):
        client.list("/service/boards")
    assert clock.sleeps == []


def test_read_timeouts_retry_reads_but_a_post_is_outcome_unknown():
    # A scripted server that answers late (not the emulator: a late write there would land in the next test).
    with RawServer([Answer(200, "{}", delay=1.0)]) as server:
        client = manage_client(server.url, codebase="v2025_1/", timeout=0.2, rng=lambda: 0.0)
        client.transport.retry.clock = time.monotonic  # the deadline needs the real clock: these waits are real
        with pytest.raises(OutcomeUnknownError, match="did not answer within .*may have been applied"):
            client.create("/system/userDefinedFields", {"caption": "Slow"})
        assert [r["method"] for r in server.requests] == ["POST"]  # never repeated
        with pytest.raises(TransportError, match="did not answer within") as caught:
            client.get("/service/boards")
        assert not isinstance(caught.value, OutcomeUnknownError)
        methods = [r["method"] for r in server.requests]
        assert methods.count("POST") == 1 and methods.count("GET") >= 2  # reads retried until the deadline


# ----- answers larger than the clients read ------------------------------------------------------

BOMB = 17 * 1024 * 1024  # decoded: over the 16 MiB bound; about 17 KiB on the wire


def test_an_answer_larger_than_the_bound_is_one_clear_error_and_not_retried():
    with RawServer([Answer(200, zeros_compressed(BOMB), headers={"Content-Encoding": "gzip"})]) as server:
        client = manage_client(server.url, codebase="v2025_1/")
        with pytest.raises(TransportError) as caught:
            client.get("/service/boards/1")
        assert not isinstance(caught.value, OutcomeUnknownError)
        assert "sent an answer larger than the 16 MiB the client reads" in str(caught.value)
        assert "decodes to more than 16777216 bytes" in str(caught.value)
        assert len(server.requests) == 1  # the same request would get the same answer
        with pytest.raises(OutcomeUnknownError, match="larger than the 16 MiB .*may have been applied"):
            client.create("/system/userDefinedFields", {"caption": "Big"})
        assert [r["method"] for r in server.requests] == ["GET", "POST"]


@pytest.mark.parametrize("module", ["cw_custom_field_info", "signl4_webhook_info"])
def test_a_module_fails_clearly_on_an_answer_larger_than_the_bound(module):
    with RawServer([Answer(200, zeros_compressed(BOMB), headers={"Content-Encoding": "gzip"})]) as server:
        if module.startswith("cw_"):
            args = dict(("cw_" + key, value) for key, value in CW.items())
            args.update(cw_url=server.url, cw_codebase="v2025_1/")
        else:
            args = dict(signl4_api_url=server.url + "/api", signl4_api_key=DEFAULT_API_KEY)
        result = run_module(module, args)
    assert result.get("failed") and "sent an answer larger than the 16 MiB the client reads" in result["msg"], result
    assert "Traceback" not in str(result)


# ----- deadline, budget, interruption -------------------------------------------------------------

def test_every_request_ends_within_its_deadline(manage):
    clock = Clock()
    client = manage_client(manage.url, clock=clock, timeout=30.0)  # deadline 60 s
    client.list("/service/priorities")
    manage.clear_requests()
    manage.inject(429, count=10, retry_after=25, path="/service/priorities")
    with pytest.raises(RateLimitedError):
        client.list("/service/priorities")
    assert clock.sleeps == [25.0, 25.0]  # a third wait would end past 60 s
    assert [r["status"] for r in manage.requests() if r["path"].endswith("/service/priorities")] == [429, 429, 429]


class InterruptingEvent(threading.Event):
    """An Event that another thread sets shortly after a wait on it began (a SIGTERM handler)."""

    def __init__(self):
        super().__init__()
        self.requested = []

    def wait(self, timeout=None):
        self.requested.append(timeout)
        threading.Timer(0.05, self.set).start()
        return super().wait(timeout)


def test_an_interrupted_retry_wait_ends_the_request(manage):
    event = InterruptingEvent()
    client = ManageClient(manage.url, retry=RetryPolicy(cancel=event, retry_after_max=300), timeout=200, **CW)
    client.list("/service/priorities")
    manage.inject(429, count=1, retry_after=100, path="/service/priorities")
    with pytest.raises(CancelledError):
        client.list("/service/priorities")  # returns (raises) at once instead of after 100 s
    assert event.requested == [100.0]
    first_pages = [r for r in manage.requests() if r["path"].endswith("/service/priorities") and "pageId" not in r["query"]]
    assert [r["status"] for r in first_pages] == [200, 429]


# ----- secrets inside API errors ------------------------------------------------------------------

def every_form(secret):
    return [secret, quote(secret, safe=""), quote(secret), quote_plus(secret),
            base64.b64encode(secret.encode()).decode(), secret[:9]]


def signl4_trigger_error(signl4, secret):
    """Everything a failed trigger with the team secret ``secret`` says: the error, its dict, the client's log."""
    lines = []
    client = Signl4Client(signl4.url + "/api", DEFAULT_API_KEY, secret, log=lines.append,
                          retry=RetryPolicy(sleep=lambda s: None))
    with pytest.raises(Exception) as caught:
        client.trigger("t", "m")
    return str(caught.value) + json.dumps(caught.value.to_dict()) + "\n".join(lines)


def test_secrets_are_masked_in_every_form_inside_a_manage_error(manage):
    key = "Pr1v@te/Key+Value=9"
    basic = base64.b64encode(("signl4demo+demopublic:" + key).encode()).decode()
    spelled = every_form(key) + ["Basic " + basic]
    manage.inject(400, path="/service/boards", body={
        "code": "InvalidObject", "message": "echo " + " ".join(spelled),
        "errors": [{"code": "Echo", "field": "f", "message": text} for text in spelled] + [{"deep": {"x": [key]}}]})
    client = manage_client(manage.url, private_key=key, codebase="v2025_1/")
    with pytest.raises(ValidationError) as caught:
        client.list("/service/boards")
    text = str(caught.value) + json.dumps(caught.value.to_dict())
    assert "echo ********" in text and len(caught.value.errors) == len(spelled) + 1
    assert [form for form in every_form(key) + [basic] if form in text] == []


def test_secrets_are_masked_in_every_form_inside_a_signl4_error(signl4):
    secret = DEFAULT_TEAM_SECRET
    spelled = every_form(secret) + ["https://connect.signl4.com/webhook/" + secret[:5] + "..."]
    signl4.inject(404, path="/webhook/", body={"code": 3004, "message": "unknown", "details": " ".join(spelled),
                                               "errors": [{"message": text} for text in spelled]})
    text = signl4_trigger_error(signl4, secret)
    assert "/webhook/********" in text
    assert [form for form in every_form(secret) + ["/webhook/" + secret[:5]] if form in text] == []


RECEIVER_TOKEN = "hook-token-0123456789abcdef"


@pytest.mark.parametrize("url", ["https://agent.example.com/signl4/" + RECEIVER_TOKEN,
                                 "https://agent.example.com/signl4/events?token=T0ken/Receiver+Value=55"])
def test_a_receiver_url_signl4_echoes_percent_encoded_as_a_whole_is_masked_in_the_task(signl4, url):
    """ansible-core masks a no_log value only as it was given; SIGNL4 may echo the webhook URL
    percent-encoded as a whole (``https%3A%2F%2F...``), which left the receiver's token readable."""
    core = "0123456789abcdef" if RECEIVER_TOKEN in url else "Receiver"  # in every encoding of the token
    echo = "extUrl %s is not reachable (%s)" % (quote(url, safe=""), quote(quote(url, safe=""), safe=""))
    signl4.inject(400, method="POST", path="/v2/webhooks", body={"code": 400, "message": echo, "details": echo})
    result = run_module("signl4_webhook", dict(signl4_api_url=signl4.url + "/api", signl4_api_key=DEFAULT_API_KEY,
                                               name="Echoed hook", url=url, team="Service Desk"))
    assert result.get("failed") and "is not reachable" in result["msg"], result
    text = json.dumps(result)
    assert core.lower() not in text.lower() and "********" in text, text


def test_the_team_secret_in_an_inbound_url_percent_encoded_as_a_whole_is_masked(signl4):
    secret = "Te@m/Secret+Value=31"
    inbound = "%s/webhook/%s" % (signl4.url, quote(secret, safe=""))
    signl4.inject(404, path="/webhook/", body={"code": 3004, "message": "unknown source " + quote(inbound, safe=""),
                                               "details": "see " + quote(inbound, safe="").lower()})
    text = signl4_trigger_error(signl4, secret)
    assert "unknown source " in text and "********" in text
    assert "secret" not in text.lower(), text  # the secret's core, in any encoding and case


@pytest.mark.parametrize("module, option", [("cw_custom_field_info", "cw_validate_certs"),
                                            ("signl4_webhook_info", "signl4_validate_certs")])
def test_certificate_checks_turned_off_warn_once_in_the_task_result(manage, signl4, module, option):
    args = dict(manage.connection) if module.startswith("cw_") else dict(signl4_api_url=signl4.url + "/api",
                                                                         signl4_api_key=DEFAULT_API_KEY)
    assert run_module(module, args)["warnings"] == []
    warnings = run_module(module, dict(args, **{option: False}))["warnings"]
    assert len(warnings) == 1 and warnings[0].startswith("%s is false: the TLS certificate of " % option), warnings


def test_a_401_names_the_options_to_check(manage):
    manage.inject(401, path="/service/boards", body={"code": "ConnectWiseApi", "message": "UserNotAuthenticated"})
    with pytest.raises(AuthenticationError) as caught:
        manage_client(manage.url).list("/service/boards")
    text = str(caught.value)
    assert "HTTP 401 (ConnectWiseApi): UserNotAuthenticated" in text and "cw_private_key" in text


# ----- the same through the modules: a failed task with a clear message -----------------------

@pytest.mark.parametrize("option, value, message", [
    ("cw_url", "http://[::1", "cw_url is not a valid URL"),
    ("cw_url", "http://h:99999", "cw_url is not a valid URL (Port out of range"),
    ("cw_url", "ftp://h", "cw_url must be an absolute http:// or https:// URL"),
    ("cw_timeout", -1, "cw_timeout must be a positive, finite number of seconds up to 3600, got -1"),
    ("cw_timeout", float("inf"), "cw_timeout must be a positive, finite number"),
    ("cw_timeout", float("nan"), "cw_timeout must be a positive, finite number"),
    ("cw_client_id", "", "cw_client_id is required (or the CW_CLIENT_ID environment variable)"),
])
def test_manage_modules_fail_clearly_on_bad_connection_options(manage, option, value, message):
    result = run_module("cw_custom_field_info", dict(manage.connection, **{option: value}))
    assert result.get("failed") and message in result["msg"], result
    assert manage.requests() == []


@pytest.mark.parametrize("option, value, message", [
    ("signl4_api_url", "http://h:99999/api", "signl4_api_url is not a valid URL"),
    ("signl4_api_url", "connect.signl4.com/api", "signl4_api_url must be an absolute"),
    ("signl4_timeout", float("nan"), "signl4_timeout must be a positive, finite number"),
])
def test_signl4_modules_fail_clearly_on_bad_connection_options(signl4, option, value, message):
    args = dict(signl4_api_url=signl4.url + "/api", signl4_api_key=DEFAULT_API_KEY)
    args[option] = value
    result = run_module("signl4_webhook_info", args)
    assert result.get("failed") and message in result["msg"], result


# ----- paging by Link headers in the forms real Manage sends --------------------------------------

def page(records, link=None):
    return Answer(200, json.dumps(records), headers={"Link": link} if link is not None else {})


def test_navigable_paging_follows_real_manage_links_with_page_last():
    with RawServer([]) as server:
        base = server.url + "/v2025_1/apis/3.0/service/tickets"

        def link(*rels):
            return ", ".join('<%s?pageSize=2&page=%d>; rel="%s"' % (base, n, rel) for n, rel in rels)

        server.answers[:] = [page([{"id": 1}, {"id": 2}], link((2, "next"), (3, "last"))),
                             page([{"id": 3}, {"id": 4}], link((1, "first"), (1, "prev"), (3, "next"), (3, "last"))),
                             page([{"id": 5}], link((1, "first"), (2, "prev"), (3, "last")))]
        records = manage_client(server.url, codebase="v2025_1/").list("/service/tickets", order_by="id", page_size=2)
        assert [r["id"] for r in records] == [1, 2, 3, 4, 5]
        assert [r["query"].get("page") for r in server.requests] == ["1", "2", "3"]
        assert all(r["path"] == "/v2025_1/apis/3.0/service/tickets" for r in server.requests)


@pytest.mark.parametrize("last_link", ["", None])
def test_forward_only_paging_ends_on_an_empty_or_missing_link(last_link):
    with RawServer([]) as server:
        base = server.url + "/v2025_1/apis/3.0/service/tickets"
        server.answers[:] = [page([{"id": 1}, {"id": 2}], '<%s?pageSize=2&pageId=2>; rel="next"' % base),
                             page([{"id": 3}], last_link)]
        records = manage_client(server.url, codebase="v2025_1/").list("/service/tickets", page_size=2)
        assert [r["id"] for r in records] == [1, 2, 3]
        assert [r["query"].get("pageId") for r in server.requests] == [None, "2"]


def test_forward_only_paging_ends_on_an_empty_page_even_with_a_next_link():
    with RawServer([]) as server:
        base = server.url + "/v2025_1/apis/3.0/service/tickets"
        server.answers[:] = [page([{"id": 1}], '<%s?pageSize=1&pageId=1>; rel="next"' % base),
                             page([], '<%s?pageSize=1&pageId=1>; rel="next"' % base),
                             page([{"id": 99}])]
        records = manage_client(server.url, codebase="v2025_1/").list("/service/tickets", page_size=1)
        assert [r["id"] for r in records] == [1]
        assert len(server.requests) == 2


def test_a_next_link_to_another_host_is_asked_of_our_host_only():
    with RawServer([]) as server:
        server.answers[:] = [page([{"id": 1}], '<https://evil.example.com/x?pageSize=1&pageId=1>; rel="next"'),
                             page([])]
        manage_client(server.url, codebase="v2025_1/").list("/service/tickets", page_size=1)
        assert len(server.requests) == 2 and server.requests[1]["path"] == "/v2025_1/apis/3.0/service/tickets"
