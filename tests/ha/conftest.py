"""The HA suite: the agent on a real PostgreSQL (a throwaway cluster from the machine's PostgreSQL server
binaries, one per session; a database per test). Without the binaries the suite fails at once: ``make
test-ha`` needs them (Debian: ``apt-get install postgresql``); ``make test`` says so and skips it."""

import os
import sys

import pytest

from tests.emulators.harness import REPO_ROOT
from tests.support import postgres

AGENT_DIR = os.path.join(REPO_ROOT, "agent")
if AGENT_DIR not in sys.path:
    sys.path.insert(0, AGENT_DIR)

from tests.agent import support  # noqa: E402 - needs the path above


@pytest.fixture(scope="session")
def cluster():
    try:
        server = postgres.Cluster().start()
    except postgres.Unavailable as exc:
        pytest.fail(f"the HA suite needs PostgreSQL's server binaries: {exc}", pytrace=False)
    yield server
    server.destroy()


@pytest.fixture
def dsn(cluster):
    """A new empty database of the session's cluster: its connection string (the password in it)."""
    name = cluster.database()
    yield cluster.dsn(name)
    cluster.drop(name)


@pytest.fixture
def provisioned(manage, signl4):
    support.provision(manage)
    return manage, signl4


@pytest.fixture
def cw(manage):
    with support.manage_client(manage) as client:
        yield client
