"""The transport's and the Manage client's pure rules: option checks (URLs, timeouts), Link
headers in the forms real Manage sends, what counts as retriable, interruptible waits."""

import threading

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import (
    ManageClient, next_page_query, parse_links, split_site,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import CancelledError, InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import Signl4Client
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import (
    PooledClient, RetryPolicy, check_http_url, check_seconds, parse_retry_after,
)

CW_ARGS = ("signl4demo", "pub", "priv", "00000000-0000-4000-8000-000000000001")


# ----- option checks -----------------------------------------------------------------------

@pytest.mark.parametrize("url, why", [
    ("http://[::1", "not a valid URL"),
    ("http://h:99999", "not a valid URL"),
    ("ftp://h/x", "absolute http:// or https:// URL"),
    ("http:///nohost", "absolute http:// or https:// URL"),
    ("http://", "absolute http:// or https:// URL"),
])
def test_unparseable_urls_are_input_errors_naming_the_option(url, why):
    with pytest.raises(InputError, match="signl4_api_url .*" + why):
        Signl4Client(url, "key")
    with pytest.raises(InputError, match="cw_url"):
        ManageClient(url, *CW_ARGS)


def test_a_manage_site_without_scheme_is_https():
    assert split_site("na.myconnectwise.net") == ("https", "na.myconnectwise.net", None)
    assert split_site("HTTP://127.0.0.1:8080/") == ("http", "127.0.0.1", 8080)
    with pytest.raises(InputError, match="signl4_api_url"):
        Signl4Client("connect.signl4.com/api", "key")  # SIGNL4's URL has a path: no guessing there


@pytest.mark.parametrize("value", [-1, 0, float("inf"), float("nan"), "nan", "soon", None])
def test_timeouts_must_be_positive_and_finite(value):
    with pytest.raises(InputError, match="cw_timeout must be a positive, finite number"):
        ManageClient("http://127.0.0.1:9", *CW_ARGS, timeout=value)
    with pytest.raises(InputError, match="signl4_timeout"):
        Signl4Client("http://127.0.0.1:9/api", "key", timeout=value)
    assert check_seconds("2.5", "x") == 2.5


def test_missing_connection_options_are_named_as_the_user_sets_them():
    with pytest.raises(InputError, match="cw_client_id .*CW_CLIENT_ID"):
        ManageClient("http://127.0.0.1:9", "signl4demo", "pub", "priv", " ")
    with pytest.raises(InputError, match="cw_private_key .*CW_PRIVATE_KEY"):
        ManageClient("http://127.0.0.1:9", "signl4demo", "pub", None, "client")


def test_check_http_url_keeps_the_parts():
    parts = check_http_url("https://api-na.myconnectwise.net:8443/x", "cw_url")
    assert (parts.hostname, parts.port) == ("api-na.myconnectwise.net", 8443)


def test_retry_after_that_is_not_finite_is_soon():
    assert parse_retry_after("inf") == 1.0 and parse_retry_after("nan") == 1.0 and parse_retry_after("7") == 7.0


# ----- Link headers ------------------------------------------------------------------------
BASE = "https://api-na.myconnectwise.net/v2025_1/apis/3.0/service/tickets"
REAL_MIDDLE_PAGE = ('<{0}?pageSize=25&page=1>; rel="first", <{0}?pageSize=25&page=1>; rel="prev", '
                    '<{0}?pageSize=25&page=3>; rel="next", <{0}?pageSize=25&page=40>; rel="last"').format(BASE)
REAL_LAST_PAGE = ('<{0}?pageSize=25&page=1>; rel="first", <{0}?pageSize=25&page=39>; rel="prev", '
                  '<{0}?pageSize=25&page=40>; rel="last"').format(BASE)


def test_real_manage_link_header_with_page_last():
    links = parse_links(REAL_MIDDLE_PAGE)
    assert set(links) == {"first", "prev", "next", "last"}
    assert links["next"].endswith("?pageSize=25&page=3")
    assert next_page_query(REAL_MIDDLE_PAGE) == {"pageSize": "25", "page": "3"}


def test_the_last_page_has_no_next_relation_and_ends_the_list():
    assert "last" in parse_links(REAL_LAST_PAGE)
    assert next_page_query(REAL_LAST_PAGE) is None


def test_forward_only_links_carry_the_page_id_and_the_whole_query():
    header = '<%s?conditions=summary%%20like%%20%%22a%%2Cb%%22&pageSize=1000&pageId=1234>; rel="next"' % BASE
    assert next_page_query(header) == {"conditions": 'summary like "a,b"', "pageSize": "1000", "pageId": "1234"}


@pytest.mark.parametrize("header", [None, "", "   ", '<%s?page=1>; rel="first"' % BASE])
def test_no_next_link_ends_the_list(header):
    assert next_page_query(header) is None


def test_page_first_or_unquoted_relations_parse_too():
    header = '<%s?page=2&pageSize=50>; rel=next, <%s?page=4&pageSize=50>; rel=last' % (BASE, BASE)
    assert next_page_query(header) == {"page": "2", "pageSize": "50"}


# ----- what is retried ---------------------------------------------------------------------

# What each failure without an answer counts as: tests/integration/test_http_session.py (real sockets).


# ----- interruptible waits -----------------------------------------------------------------

def test_an_interrupted_wait_raises_cancelled_at_once():
    cancel = threading.Event()
    policy = RetryPolicy(cancel=cancel)
    threading.Timer(0.05, cancel.set).start()
    with pytest.raises(CancelledError):
        policy.sleep(3600)  # returns because of the interrupt; without it this test would hang for an hour
    with pytest.raises(CancelledError):
        policy.sleep(0)  # and every later wait too


def test_an_injected_sleep_is_used_but_a_cancel_still_wins():
    waits, cancel = [], threading.Event()
    policy = RetryPolicy(sleep=waits.append, cancel=cancel)
    policy.sleep(2)
    cancel.set()
    with pytest.raises(CancelledError):
        policy.sleep(3)
    assert waits == [2]


def test_concurrent_reads_overlap_keep_their_order_and_raise_the_first_error():
    """``PooledClient.concurrently``: the reads run at the same time (each waits for the other to
    start), results come back in the order given, and the first read's error wins."""
    both_started = threading.Barrier(2, timeout=10)

    def read(value):
        both_started.wait()  # a sequential run would break the barrier
        return value

    client = PooledClient()
    assert client.concurrently(lambda: read("a"), lambda: read("b")) == ["a", "b"]
    assert client.concurrently(lambda: 1) == [1] and client.concurrently() == []

    def fail(message):
        raise InputError(message)

    with pytest.raises(InputError, match="first"):
        client.concurrently(lambda: fail("first"), lambda: fail("second"))
