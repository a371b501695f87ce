"""The Manage client's pure rules: condition quoting, URL rules, Link parsing, backoff."""

import datetime

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import (
    all_of, api_host, condition, parse_links, patch_operations, quote_value, split_site,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import RetryPolicy, parse_retry_after


@pytest.mark.parametrize("value, literal", [
    ("plain", '"plain"'),
    ('say "hi"', "'say \"hi\"'"),
    ("it's", '"it\'s"'),
    ("both ' and \"", '"both \' and \\""'),
    (True, "True"), (False, "False"), (None, "null"), (42, "42"),
    (datetime.datetime(2026, 1, 2, 3, 4, 5), "[2026-01-02T03:04:05Z]"),
    (datetime.datetime(2026, 1, 2, 5, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2))), "[2026-01-02T03:04:05Z]"),
])
def test_quote_value(value, literal):
    assert quote_value(value) == literal


def test_condition_rejects_injection_through_the_field_name():
    with pytest.raises(InputError):
        condition('caption = "x" OR id', ">", 0)
    assert condition("status/name", "in", ["New", "In Progress"]) == 'status/name in ("New", "In Progress")'


def test_all_of_parenthesises_each_part():
    assert all_of('a = 1 OR b = 2', "c = 3") == "(a = 1 OR b = 2) AND (c = 3)"
    assert all_of("c = 3") == "c = 3"
    assert all_of() == ""


@pytest.mark.parametrize("host, codebase, cloud, expected", [
    ("na.myconnectwise.net", "v2025_1/", True, "api-na.myconnectwise.net"),
    ("api-eu.myconnectwise.net", "v2025_1/", True, "api-eu.myconnectwise.net"),
    ("cw.example.com", "v4_6_release/", False, "cw.example.com"),
    ("127.0.0.1", "v2025_1/", True, "127.0.0.1"),
    ("localhost", "v2025_1/", False, "localhost"),
])
def test_api_host(host, codebase, cloud, expected):
    assert api_host(host, codebase, cloud) == expected


def test_split_site():
    assert split_site("na.myconnectwise.net") == ("https", "na.myconnectwise.net", None)
    assert split_site("http://127.0.0.1:8080/") == ("http", "127.0.0.1", 8080)


def test_parse_links():
    header = '<https://h/x?page=2>; rel="next", <https://h/x?page=4>; rel="last"'
    assert parse_links(header) == {"next": "https://h/x?page=2", "last": "https://h/x?page=4"}
    assert parse_links("") == {}


def test_patch_operations_replace_each_key():
    expected = [{"op": "replace", "path": "a", "value": 1}, {"op": "replace", "path": "b", "value": [1]}]
    assert patch_operations({"a": 1, "b": [1]}) == expected


def test_retry_after_wins_and_is_capped():
    policy = RetryPolicy(retry_after_max=10, rng=lambda: 1.0)
    assert policy.delay(0, 3) == 3
    assert policy.delay(0, 300) == 10
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT") == 1.0


def test_backoff_is_jittered_and_bounded():
    policy = RetryPolicy(backoff_base=0.5, backoff_max=4, rng=lambda: 1.0)
    assert [policy.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 4, 4]
    assert RetryPolicy(rng=lambda: 0.25).delay(3) == 0.25 * 4.0
