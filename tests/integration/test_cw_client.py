"""The Manage client against the Manage emulator over real HTTP: discovery (and re-discovery, and
the run cache), auth, paging, retries, cached lookups, concurrent reads."""

import json
import time

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils import run_cache as run_cache_module
from ansible_collections.signl4.connectwise.plugins.module_utils.cache import LookupCache
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import CODEBASE_KIND, ManageClient, condition
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import (
    AuthenticationError, InputError, NotFoundError, OutcomeUnknownError, RateLimitedError, UnexpectedResponseError,
    ValidationError,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.run_cache import RunCache
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import RetryPolicy
from tests.conftest import manage_emulator
from tests.integration.raw_server import Answer, RawServer
from tests.support.clock import Clock
from tests.support.modules import run_module
from tests.support.spec_conformance import manage_spec


def make_client(emulator, sleep=lambda seconds: None, run_cache=None, codebase=None, **overrides):
    options = dict(emulator.connection)
    options.update(overrides)
    retry = RetryPolicy(max_retries=5, sleep=sleep)
    return ManageClient(options["cw_url"], options["cw_company_id"], options["cw_public_key"],
                        options["cw_private_key"], options["cw_client_id"], retry=retry, run_cache=run_cache,
                        codebase=codebase)


TICKET = {"summary": "Ticket one", "company": {"identifier": "Fabrikam"}, "board": {"name": "Service Desk"},
          "status": {"name": "New (not responded)"}, "priority": {"name": "Priority 2 - Quick Response"},
          "contactName": "Megan Bowen"}


def test_codebase_is_discovered_from_companyinfo(manage):
    client = make_client(manage)
    assert client.base_url == manage.url + "/v2025_1/apis/3.0"
    first = manage.requests()[0]
    assert first["path"] == "/login/companyinfo/signl4demo"


def test_requests_carry_auth_client_id_and_versioned_accept(manage):
    make_client(manage).list("/service/boards")
    call = [r for r in manage.requests() if r["path"].endswith("/service/boards")][0]
    assert call["headers"]["clientid"] == "00000000-0000-4000-8000-000000000001"
    assert call["headers"]["accept"] == "application/vnd.connectwise.com+json; version=2025.8"  # the spec subset's model version
    assert call["headers"]["authorization"] == "***"  # the journal masks it; the emulator checked it


def test_wrong_private_key_is_an_authentication_error_without_the_key(manage):
    client = make_client(manage, cw_private_key="not-the-key")
    with pytest.raises(AuthenticationError) as caught:
        client.list("/service/boards")
    assert "not-the-key" not in str(caught.value)
    assert caught.value.status == 401


def test_errors_carry_managed_code_and_message(manage):
    client = make_client(manage)
    with pytest.raises(NotFoundError) as caught:
        client.get("/system/userDefinedFields/999999")
    assert caught.value.code == "NotFound"
    with pytest.raises(ValidationError) as caught:
        client.create("/system/userDefinedFields", {"caption": "x"})
    assert caught.value.code == "InvalidObject" and caught.value.errors


def test_list_survives_three_429s_and_two_5xx(manage):
    waits = []
    client = make_client(manage, sleep=waits.append)
    expected = len(client.list("/service/tickets"))
    manage.inject(429, count=3, retry_after=2, path="/service/tickets")
    manage.inject(503, count=2, path="/service/tickets")
    assert len(client.list("/service/tickets")) == expected
    assert waits[:3] == [2.0, 2.0, 2.0]  # Retry-After, to the second
    assert len(waits) == 5 and all(w <= 30 for w in waits[3:])


def test_retry_after_is_really_waited(manage):
    client = make_client(manage, sleep=time.sleep)
    client.list("/service/priorities")
    manage.inject(429, count=1, retry_after=1, path="/service/priorities")
    started = time.monotonic()
    client.list("/service/priorities")
    assert time.monotonic() - started >= 1.0


def test_429_beyond_the_retry_budget_is_reported(manage):
    client = make_client(manage)
    manage.inject(429, count=10, retry_after=1, path="/service/boards")
    with pytest.raises(RateLimitedError):
        client.list("/service/boards")


@pytest.mark.parametrize("status", [500, 503])
def test_a_failed_post_is_not_blindly_retried(manage, status):
    client = make_client(manage)
    manage.inject(status, count=1, method="POST")
    with pytest.raises(OutcomeUnknownError):
        client.create("/system/userDefinedFields", {"podId": 10, "caption": "Once", "sequenceNumber": 1,
                                                    "fieldTypeIdentifier": "Text"})
    assert len([r for r in manage.requests() if r["method"] == "POST"]) == 1


def test_conditions_with_quotes_and_and_cannot_widen_the_query(manage):
    client = make_client(manage)
    tricky = 'x" OR caption != "y'
    assert client.find("/system/userDefinedFields", condition("caption", "=", tricky)) == []
    assert client.count("/system/userDefinedFields", condition("caption", "=", 'a AND b')) == 0


@pytest.fixture(scope="module")
def big_manage():
    with manage_emulator("--tickets", "2500") as server:
        yield server


@pytest.mark.parametrize("forward_only", [True, False])
def test_2500_records_come_back_complete(big_manage, forward_only):
    big_manage.clear_requests()
    client = make_client(big_manage)
    total = client.count("/service/tickets")
    assert total >= 2500
    order = None if forward_only else "id asc"
    records = client.list("/service/tickets", forward_only=forward_only, order_by=order, fields=["id", "summary"])
    ids = [r["id"] for r in records]
    assert len(ids) == total and len(set(ids)) == total
    pages = [r for r in big_manage.requests() if r["path"].endswith("/service/tickets")]
    # Navigable: the last page has no next link. Forward-only: the next link is always there (the
    # Manage guide); the list ends on the first page shorter than pageSize, and only a list that fills
    # its last page exactly costs the read of the empty page after it.
    assert len(pages) == -(-total // 1000) + (1 if forward_only and total % 1000 == 0 else 0)
    if forward_only:
        assert all(r["headers"].get("pagination-type") == "forward-only" for r in pages)
    manage_spec().assert_conforms(big_manage.requests(), min_checked=len(pages))


@pytest.mark.parametrize("caption", ['O\'Brien "VIP"', "it's mine", 'say "hi"', "x AND y OR 1=1", "back\\slash"])
def test_any_value_round_trips_through_a_condition(manage, caption):
    client = make_client(manage)
    created = client.create("/system/userDefinedFields", {"podId": 10, "caption": caption, "sequenceNumber": 9,
                                                          "fieldTypeIdentifier": "Text"})
    found = client.find("/system/userDefinedFields", condition("caption", "=", caption))
    assert [f["id"] for f in found] == [created["id"]]


def test_put_replaces_the_whole_record_and_delete_removes_it(manage):
    client = make_client(manage)
    created = client.create("/system/userDefinedFields", {"podId": 10, "caption": "Replace me", "sequenceNumber": 9,
                                                          "fieldTypeIdentifier": "Text", "helpText": "old"})
    path = "/system/userDefinedFields/%d" % created["id"]
    replaced = client.put(path, {"podId": 10, "caption": "Replaced", "sequenceNumber": 8,
                                 "fieldTypeIdentifier": "Number"})
    assert (replaced["caption"], replaced["fieldTypeIdentifier"], replaced.get("helpText")) == ("Replaced", "Number", None)
    assert client.get(path)["caption"] == "Replaced"
    client.delete(path)
    with pytest.raises(NotFoundError):
        client.get(path)
    manage_spec().assert_conforms(manage.requests(), path_filter="userDefinedFields", min_checked=4)


# ----- lookups cached, with expiry and invalidation -------------------------------------------

def board_reads(emulator):
    """The board list queries (first pages; a forward-only list ends with an empty page after them)."""
    return [r for r in emulator.requests()
            if r["method"] == "GET" and r["path"].endswith("/service/boards") and "pageId" not in r["query"]]


def test_lookups_by_name_are_cached(manage):
    client = make_client(manage)
    first = client.resolve("/service/boards", "Service Desk", what="board")
    assert client.resolve("/service/boards", "service desk", what="board") == first  # names match case-insensitively
    assert len(board_reads(manage)) == 1  # DESIGN.md: lookups are cached for a run; fails with the cache off


def test_cached_lookups_expire_after_their_ttl(manage):
    clock = Clock()
    client = make_client(manage)
    client.cache = LookupCache(ttl=300, clock=clock)
    client.resolve("/service/boards", "Service Desk")
    clock.now += 299
    client.resolve("/service/boards", "Service Desk")
    assert len(board_reads(manage)) == 1
    clock.now += 2
    client.resolve("/service/boards", "Service Desk")
    assert len(board_reads(manage)) == 2


def test_a_rename_or_a_404_drops_the_cached_lookups_of_that_collection(manage):
    client = make_client(manage)
    board = client.resolve("/service/boards", "Service Desk")
    client.patch("/service/boards/%d" % board["id"], [{"op": "replace", "path": "name", "value": "Help Desk"}])
    with pytest.raises(InputError, match="unknown board 'Service Desk'; known: .*Help Desk"):
        client.resolve("/service/boards", "Service Desk", what="board")  # re-read, not served stale
    assert client.resolve("/service/boards", "Help Desk")["id"] == board["id"]
    reads = len(board_reads(manage))
    with pytest.raises(NotFoundError):
        client.get("/service/boards/987654")
    client.resolve("/service/boards", "Help Desk")
    assert len(board_reads(manage)) == reads + 1


# ----- the codebase: re-discovered when the path is gone, shared by the tasks of a run, of one shape ----

def test_codebase_is_rediscovered_when_the_api_says_the_path_is_gone(manage, tmp_path):
    run_cache = RunCache(str(tmp_path))
    client = make_client(manage, run_cache=run_cache)
    client.list("/service/priorities")
    # A cloud upgrade since another task of the run discovered the codebase: the cached one is gone.
    run_cache.put(CODEBASE_KIND, client.site_key, {"codebase": "v2024_1/", "is_cloud": True})
    manage.inject(404, count=5, path="^/v2024_1/")  # {"code": "ConnectWiseApi", ...}: the endpoint does not exist
    manage.clear_requests()
    upgraded = make_client(manage, run_cache=run_cache)
    assert len(upgraded.list("/service/priorities")) > 0
    assert [(r["path"].split("/apis/")[0], r["status"]) for r in manage.requests() if "pageId" not in r["query"]] == [
        ("/v2024_1", 404), ("/login/companyinfo/signl4demo", 200), ("/v2025_1", 200)]
    assert run_cache.get(CODEBASE_KIND, client.site_key)["codebase"] == "v2025_1/"


def test_a_cached_codebase_of_another_shape_is_not_used_but_discovered_again(manage, tmp_path):
    """A codebase holding a "?" once turned the rest of a PATCH's path into a query string: only the
    documented shape (letters, digits, _ and ., ending in /) is taken from the run cache."""
    setup = make_client(manage)
    first = setup.create("/service/tickets", TICKET)
    second = setup.create("/service/tickets", dict(TICKET, summary="Ticket two"))
    run_cache = RunCache(str(tmp_path))
    run_cache.put(CODEBASE_KIND, setup.site_key,
                  {"codebase": "v2025_1/apis/3.0/service/tickets/%d?" % second["id"], "is_cloud": False})
    manage.clear_requests()
    client = make_client(manage, run_cache=run_cache)
    client.patch("/service/tickets/%d" % first["id"], [{"op": "replace", "path": "summary", "value": "Patched"}])
    assert [r["path"] for r in manage.requests()] == [
        "/login/companyinfo/signl4demo", "/v2025_1/apis/3.0/service/tickets/%d" % first["id"]]
    assert setup.get("/service/tickets/%d" % second["id"])["summary"] == "Ticket two"
    assert run_cache.get(CODEBASE_KIND, setup.site_key)["codebase"] == "v2025_1/"


@pytest.mark.parametrize("codebase", ["v2025_1/apis/3.0/service/tickets/2?", "../", "v2025_1/x/", "v2025 1/", "\u00e9/", "v2025_1/\n"])
def test_a_codebase_of_another_shape_is_refused_from_companyinfo_and_from_the_options(manage, codebase):
    with RawServer([Answer(body=json.dumps({"Codebase": codebase, "IsCloud": False}))]) as server:
        client = ManageClient(server.url, "signl4demo", "pub", "priv", "00000000-0000-4000-8000-000000000001")
        with pytest.raises(UnexpectedResponseError, match="set cw_codebase"):
            client.list("/service/boards")
        assert [r["path"] for r in server.requests] == ["/login/companyinfo/signl4demo"]
    with pytest.raises(InputError, match="cw_codebase must be a codebase such as v2025_1/"):
        make_client(manage, codebase=codebase)
    assert manage.requests() == []


@pytest.mark.parametrize("codebase", ["v2025_1", "/v2025_1/", "v4_6_release/"])
def test_a_codebase_given_with_or_without_its_slashes_is_used(manage, codebase):
    client = make_client(manage, codebase=codebase)
    assert client.base_url == manage.url + "/%s/apis/3.0" % codebase.strip("/")


def test_a_missing_record_does_not_trigger_rediscovery(manage):
    client = make_client(manage)
    client.list("/service/priorities")
    manage.clear_requests()
    with pytest.raises(NotFoundError):
        client.get("/system/userDefinedFields/999999")  # {"code": "NotFound"}: the path exists
    assert [r["path"] for r in manage.requests()] == ["/v2025_1/apis/3.0/system/userDefinedFields/999999"]


def test_two_module_runs_discover_the_codebase_once(manage, tmp_path, monkeypatch):
    cache_dir = tmp_path / "run-cache"
    monkeypatch.setenv(run_cache_module.ENV_VAR, str(cache_dir))
    for _run in range(2):
        assert not run_module("cw_custom_field_info", manage.connection).get("failed")
    discoveries = [r for r in manage.requests() if r["path"].startswith("/login/companyinfo")]
    assert len(discoveries) == 1
    [entry] = list(cache_dir.iterdir())
    assert oct(cache_dir.stat().st_mode & 0o777) == "0o700" and oct(entry.stat().st_mode & 0o777) == "0o600"
    content = entry.read_text()
    assert "v2025_1/" in content and "demoprivate" not in content and "demopublic" not in content


def test_the_run_cache_can_be_turned_off(manage, monkeypatch):
    monkeypatch.setenv(run_cache_module.ENV_VAR, "off")
    for _run in range(2):
        assert not run_module("cw_custom_field_info", manage.connection).get("failed")
    assert len([r for r in manage.requests() if r["path"].startswith("/login/companyinfo")]) == 2


def test_a_run_cache_in_a_directory_others_can_write_is_not_used(manage, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    make_client(manage, run_cache=RunCache(str(shared))).list("/service/priorities")
    assert list(shared.iterdir()) == []


# ----- pooled session: context manager, concurrent reads ------------------------------------------

def test_the_client_is_a_context_manager_and_reads_concurrently(manage):
    with make_client(manage) as client:
        fields = client.list("/system/userDefinedFields", fields=["id"])
        paths = ["/system/userDefinedFields/%d" % field["id"] for field in fields]
        records = client.get_many(paths)
        assert [r["id"] for r in records] == [f["id"] for f in fields] and len(records) >= 2
        session = client.transport.session
        assert 1 <= session.idle_connections() <= 4  # kept alive for the next request (at most one per reader)
    assert session.idle_connections() == 0  # closed on leaving the with block
    with pytest.raises(NotFoundError):
        make_client(manage).get_many(paths[:1] + ["/system/userDefinedFields/999999"])


def test_list_many_reads_lists_concurrently_and_in_order(manage):
    with make_client(manage) as client:
        boards = client.list("/service/boards", fields=["id"])
        paths = ["/service/boards/%d/statuses" % board["id"] for board in boards]
        manage.clear_requests()
        lists = client.list_many(paths)
        assert lists == [client.list(path) for path in paths] and len(lists) >= 2
    # One GET per list: each list fits in one page, and a short page is the last.
    assert len(manage.requests()) == 2 * len(paths)
    with pytest.raises(NotFoundError):
        make_client(manage).list_many(paths[:1] + ["/service/boards/999999/statuses"])


def test_a_full_page_is_followed_and_a_short_one_ends_the_list(manage):
    client = make_client(manage)
    total = len(client.list("/service/boards"))
    assert total >= 2
    manage.clear_requests()
    assert len(client.list("/service/boards", page_size=total)) == total  # full page: one more (empty) page
    assert len(client.list("/service/boards", page_size=total + 1)) == total  # short page: the last
    assert [len(r["query"].get("pageId", [])) for r in manage.requests()] == [0, 1, 0]


@pytest.mark.parametrize("value", ["", "  ", None])
def test_an_empty_name_is_never_looked_up(manage, value):
    with pytest.raises(InputError, match="a board name is required"):
        make_client(manage).resolve("/service/boards", value, what="board")
    assert manage.requests() == []
