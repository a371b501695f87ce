"""Fixtures shared by every pytest suite: the emulators as real processes on 127.0.0.1.

Each emulator is started once per session and reset before every test that uses it, so a
test sees the seeded state and an empty request journal.
"""

import contextlib
import os
import sys

import pytest

from tests.emulators.harness import REPO_ROOT, RunningEmulator

# The collection is importable as ansible_collections.signl4.connectwise through build/collections
# (a symlink the Makefile creates); make sure in-process module tests can import it.
COLLECTIONS_DIR = os.path.join(REPO_ROOT, "build", "collections")
if COLLECTIONS_DIR not in sys.path:
    sys.path.insert(0, COLLECTIONS_DIR)

MANAGE_CLIENT_ID = "00000000-0000-4000-8000-000000000001"
MANAGE_ARGS = ["--company-id", "signl4demo", "--public-key", "demopublic", "--private-key", "demoprivate",
               "--client-id", MANAGE_CLIENT_ID]


def manage_connection(url, private_key="demoprivate"):
    """The module options that reach a Manage emulator started with MANAGE_ARGS (or with ``private_key``)."""
    return dict(cw_url=url, cw_company_id="signl4demo", cw_public_key="demopublic", cw_private_key=private_key,
                cw_client_id=MANAGE_CLIENT_ID)


@contextlib.contextmanager
def manage_emulator(*args):
    """A Manage emulator of the caller's own, started with MANAGE_ARGS and ``args``, with ``.connection``."""
    server = RunningEmulator("tests.emulators.manage", MANAGE_ARGS + list(args))
    server.connection = manage_connection(server.url)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def manage_server():
    with manage_emulator() as server:
        yield server


@pytest.fixture
def manage(manage_server):
    """The Manage emulator, reset to its seed, with ``.url`` and ``.connection`` (module options)."""
    manage_server.reset()
    manage_server.connection = manage_connection(manage_server.url)  # a fresh copy: a test may change its own
    return manage_server


@pytest.fixture(scope="session")
def signl4_server():
    server = RunningEmulator("tests.emulators.signl4", [])
    yield server
    server.stop()


@pytest.fixture
def signl4(signl4_server):
    """The SIGNL4 emulator, reset to its seed."""
    signl4_server.reset()
    return signl4_server


@pytest.fixture(autouse=True)
def private_run_cache(tmp_path_factory, monkeypatch):
    """Each test its own run cache (plugins/module_utils/run_cache.py): the emulators are reset
    between tests behind the clients' backs, so codebases and lookups shared across tests could
    be stale. Module runs within one test share it, as the tasks of a run do."""
    monkeypatch.setenv("SIGNL4_CONNECTWISE_RUN_CACHE", str(tmp_path_factory.mktemp("run-cache") / "cache"))
