"""The run cache and the object locks in a shared temporary directory (no ``XDG_RUNTIME_DIR``: cron,
CI, sudo, containers), where another local user may create their directory first. The attacks of
issue 18, reproduced against the clients and modules with the Manage and SIGNL4 emulators:

- a planted codebase entry made a PATCH of ticket 1 land on ticket 2: a cache directory that is not
  this user's private one is not used (the task warns once and runs without it);
- a planted lock directory let the lock code create files through a symbolic link, or hold a lock
  so a module waited forever: a lock directory that is not private fails the task naming it, a lock
  file is never opened through a link, and a lock is waited for a bounded time, then the task fails
  naming the object.
"""

import fcntl
import json
import os
import tempfile
import threading

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils import object_lock, private_state, run_cache
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import CODEBASE_KIND
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from tests.agent import support
from tests.emulators.signl4 import DEFAULT_API_KEY
from tests.support.clock import Clock
from tests.support.modules import outside_client, run_module

AS_ROOT = os.getuid() == 0
OTHER_UID = 65534  # nobody: the other local user
PLANTS = ["owned by another user", "open to other users", "a symbolic link"]


@pytest.fixture
def shared_tmp(tmp_path, monkeypatch):
    """A world-writable, sticky temporary directory like /tmp, as the modules' default base."""
    shared = tmp_path / "tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    for name in ("XDG_RUNTIME_DIR", run_cache.ENV_VAR, object_lock.LOCK_DIR_ENV, object_lock.LOCK_TIMEOUT_ENV):
        monkeypatch.delenv(name, raising=False)
    return shared


def plant(directory, how, elsewhere):
    """``directory`` as another local user could leave it for the victim (``how``: one of PLANTS)."""
    if how == "owned by another user" and not AS_ROOT:
        pytest.skip("making a directory another user's takes root")
    if how == "a symbolic link":
        elsewhere.mkdir(mode=0o700)
        directory.symlink_to(elsewhere, target_is_directory=True)
        return elsewhere
    directory.mkdir(mode=0o700)
    if how == "open to other users":
        directory.chmod(0o777)
    return directory


def give_away(how, *paths):
    """What the attacker made stays the attacker's (as root the test can make it so); "open to other
    users" is the victim's own directory left writable for others."""
    if AS_ROOT and how != "open to other users":
        for path in paths:
            os.chown(path, OTHER_UID, OTHER_UID)


def expected_problem(how):
    return {"owned by another user": "is owned by uid %d, not by this user" % OTHER_UID,
            "open to other users": "is open to other users (mode 0777, not 0700)",
            "a symbolic link": "is a symbolic link"}[how]


def manage_client(manage, warnings):
    return outside_client(manage, run_cache=run_cache.RunCache.default(warn=warnings.append))


# ----- the run cache ------------------------------------------------------------------------------

@pytest.mark.parametrize("how", PLANTS)
def test_a_planted_codebase_entry_does_not_send_a_patch_to_another_ticket(manage, shared_tmp, tmp_path, how):
    with support.manage_client(manage) as setup:  # no run cache: the attacker is first in the shared directory
        real_codebase = setup.company_info()["Codebase"].strip("/")
        first = support.new_ticket(setup, summary="Ticket one")
        second = support.new_ticket(setup, summary="Ticket two")
        site_key = setup.site_key
    # The attacker's entry: a "codebase" whose "?" turns the rest of every API path into a query string.
    cache_dir = plant(shared_tmp / os.path.basename(run_cache.default_directory()), how, tmp_path / "attacker")
    entry = {"key": site_key, "expires": 4102444800,
             "value": {"codebase": "%s/apis/3.0/service/tickets/%d?" % (real_codebase, second["id"]), "is_cloud": False}}
    name = run_cache.RunCache(str(cache_dir))._name(CODEBASE_KIND, site_key)
    (cache_dir / name).write_text(json.dumps(entry))
    (cache_dir / name).chmod(0o600)
    give_away(how, cache_dir / name, cache_dir)

    warnings = []
    with manage_client(manage, warnings) as victim:
        victim.patch("/service/tickets/%d" % first["id"], [{"op": "replace", "path": "summary", "value": "Patched"}])
        victim.get("/service/tickets/%d" % first["id"])
        assert victim.get("/service/tickets/%d" % second["id"])["summary"] == "Ticket two"
        assert victim.get("/service/tickets/%d" % first["id"])["summary"] == "Patched"
    assert len(warnings) == 1, warnings  # once per task, not once per read
    shown = run_cache.default_directory()
    assert "the run cache directory %s %s" % (shown, expected_problem(how)) in warnings[0]
    assert "SIGNL4_CONNECTWISE_RUN_CACHE" in warnings[0]


@pytest.mark.parametrize("how", PLANTS)
def test_a_module_runs_without_a_planted_cache_and_warns_once(manage, shared_tmp, tmp_path, how):
    cache_dir = plant(shared_tmp / os.path.basename(run_cache.default_directory()), how, tmp_path / "attacker")
    give_away(how, cache_dir)
    result = run_module("cw_custom_field_info", dict(manage.connection))
    assert not result.get("failed"), result
    [warning] = result["warnings"]
    assert expected_problem(how) in warning and "do not share the discovered codebase" in warning
    assert os.listdir(cache_dir) == []  # nothing written into it either


def test_an_entry_that_is_a_symbolic_link_is_neither_read_nor_written_through(tmp_path):
    cache = run_cache.RunCache(str(tmp_path / "cache"))
    cache.put("kind", "other key", {"ok": 1})  # makes the private directory
    target = tmp_path / "victim-file"
    target.write_text(json.dumps({"key": "key", "expires": 4102444800, "value": "from the link"}))
    target.chmod(0o600)  # a file of this user's, as private as an entry: only the link gives it away
    link = tmp_path / "cache" / cache._name("kind", "key")
    link.symlink_to(target)
    assert cache.get("kind", "key") is None
    cache.put("kind", "key", "mine")
    assert json.loads(target.read_text())["value"] == "from the link"  # the link was replaced, not followed
    assert not link.is_symlink() and cache.get("kind", "key") == "mine"
    assert oct(os.stat(link).st_mode & 0o777) == oct(0o600)


def test_an_entry_open_to_others_is_a_miss(tmp_path):
    cache = run_cache.RunCache(str(tmp_path / "cache"))
    cache.put("kind", "key", "value")
    path = tmp_path / "cache" / cache._name("kind", "key")
    path.chmod(0o666)
    assert cache.get("kind", "key") is None


def test_xdg_runtime_dir_is_used_only_when_it_is_the_users_own(tmp_path, monkeypatch):
    runtime = tmp_path / "run-user"
    runtime.mkdir(mode=0o700)
    monkeypatch.delenv(run_cache.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    assert run_cache.default_directory() == str(runtime / ("signl4.connectwise-%d" % os.getuid()))
    if AS_ROOT:
        os.chown(runtime, OTHER_UID, OTHER_UID)  # sudo keeps the invoking user's XDG_RUNTIME_DIR
        assert run_cache.default_directory() == os.path.join(tempfile.gettempdir(), "signl4.connectwise-%d" % os.getuid())


# ----- the object locks ---------------------------------------------------------------------------

def webhook_args(signl4, name="Locked hook"):
    return dict(signl4_api_url=signl4.url + "/api", signl4_api_key=DEFAULT_API_KEY, name=name,
                url="https://agent.example.com/signl4/0123456789abcdef", team="Service Desk", enabled=False)


@pytest.mark.parametrize("how", PLANTS)
def test_a_planted_lock_directory_fails_the_task_naming_it_and_nothing_is_written(signl4, shared_tmp, tmp_path, how):
    lock_dir = plant(shared_tmp / os.path.basename(object_lock.lock_dir()), how, tmp_path / "attacker")
    give_away(how, lock_dir)
    result = run_module("signl4_webhook", webhook_args(signl4))
    assert result.get("failed"), result
    shown = shared_tmp / os.path.basename(object_lock.lock_dir())
    assert result["msg"].startswith("the lock directory %s %s" % (shown, expected_problem(how))), result["msg"]
    assert "SIGNL4_CONNECTWISE_LOCK_DIR" in result["msg"]
    assert signl4.writes() == [] and os.listdir(lock_dir) == []


def test_a_lock_file_is_never_opened_through_a_symbolic_link(tmp_path, monkeypatch):
    monkeypatch.setenv(object_lock.LOCK_DIR_ENV, str(tmp_path / "locks"))
    with object_lock.object_lock("site", "Webhooks", "hook"):
        pass
    path = object_lock.lock_path("site", "Webhooks", "hook")
    os.unlink(path)
    victim = tmp_path / "victim-file"  # a file the lock code must not create, open or lock
    os.symlink(victim, path)
    with pytest.raises(InputError, match="cannot open a lock file in .*locks"):
        with object_lock.object_lock("site", "Webhooks", "hook"):
            pass
    assert not victim.exists()
    victim.write_text("precious")
    victim.chmod(0o600)
    with pytest.raises(InputError, match="cannot open a lock file in .*locks .*symbolic links"):
        with object_lock.object_lock("site", "Webhooks", "hook"):
            pass
    assert victim.read_text() == "precious"


def test_a_lock_held_elsewhere_is_waited_for_a_bounded_time_then_the_task_fails_naming_the_object(
        signl4, tmp_path, monkeypatch):
    monkeypatch.setenv(object_lock.LOCK_DIR_ENV, str(tmp_path / "locks"))
    assert run_module("signl4_webhook", webhook_args(signl4))["changed"] is True
    [lock_file] = os.listdir(tmp_path / "locks")
    monkeypatch.setenv(object_lock.LOCK_TIMEOUT_ENV, "1")
    with open(tmp_path / "locks" / lock_file, "a") as holder:  # another run working on the same webhook
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
        results = []
        task = threading.Thread(target=lambda: results.append(run_module("signl4_webhook", webhook_args(signl4))))
        task.start()
        task.join(60)  # the test's own guard: without the bound the task would wait as long as the lock is held
        assert not task.is_alive(), "the task still waits for the lock"
    [result] = results
    assert result.get("failed") and result["msg"].startswith(
        "another run has held the lock of webhook 'locked hook' for 1 s"), result["msg"]
    assert "SIGNL4_CONNECTWISE_LOCK_TIMEOUT" in result["msg"] and lock_file not in result["msg"]


def test_the_lock_wait_backs_off_and_ends_at_its_timeout(tmp_path):
    path = tmp_path / "held.lock"
    with open(path, "a") as holder, open(path, "a") as waiter:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
        clock = Clock(0.0)
        with pytest.raises(InputError, match="the lock of workflow rule 'rule' for 120 s"):
            object_lock._wait_for(waiter.fileno(), 120.0, "workflow rule 'rule'", clock=clock, sleep=clock.sleep)
    assert clock.now == 120.0 and max(clock.sleeps) == object_lock.MAX_POLL and clock.sleeps[0] == 0.01
    assert object_lock.describe(("signl4.connectwise", ("h", "443"), "WorkflowRules", "signl4 - trigger")) == \
        "workflow rule 'signl4 - trigger'"
    assert object_lock.describe(("signl4.connectwise", ("h",), "ApiMembers", "signl4")) == "api member 'signl4'"


@pytest.mark.parametrize("value", ["0", "-3", "soon", "1e9"])
def test_a_bad_lock_timeout_is_an_input_error(monkeypatch, value):
    monkeypatch.setenv(object_lock.LOCK_TIMEOUT_ENV, value)
    with pytest.raises(InputError, match="SIGNL4_CONNECTWISE_LOCK_TIMEOUT must be"):
        object_lock.lock_timeout()


def test_private_state_checks_the_open_directory(tmp_path):
    """A file where the directory should be is refused, not written into."""
    (tmp_path / "file").write_text("")
    with pytest.raises(private_state.UnsafeStateError, match="cannot be opened"):
        with private_state.private_directory(str(tmp_path / "file"), "the test directory", "use another"):
            pass
