import os
import sys

import pytest

from tests.emulators.harness import REPO_ROOT

# The agent runs as ``PYTHONPATH=agent:build/collections python -m signl4_agent``; tests import it the same way.
AGENT_DIR = os.path.join(REPO_ROOT, "agent")
if AGENT_DIR not in sys.path:
    sys.path.insert(0, AGENT_DIR)

from tests.agent import support  # noqa: E402 - needs the path above


@pytest.fixture
def provisioned(manage, signl4):
    """Both emulators reset, Manage holding the seed's custom fields and workflow rules."""
    support.provision(manage)
    return manage, signl4


@pytest.fixture
def cw(manage):
    with support.manage_client(manage) as client:
        yield client
