"""The HA suite: the agent on a real PostgreSQL (a throwaway cluster from the machine's PostgreSQL server
binaries, one per session; a database per test). Without the binaries the suite fails at once: ``make
test-ha`` needs them (Debian: ``apt-get install postgresql``); ``make test`` says so and skips it."""

import pytest

# the agent suite's fixtures (importing its conftest also puts agent/ on the path)
from tests.agent.conftest import cw, provisioned  # noqa: F401 pylint: disable=unused-import
from tests.support import postgres


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
