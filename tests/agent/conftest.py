import os
import sys
import time

import pytest

from tests.emulators.harness import REPO_ROOT

# The agent runs as ``PYTHONPATH=agent:build/collections python -m signl4_agent``; tests import it the same way.
AGENT_DIR = os.path.join(REPO_ROOT, "agent")
if AGENT_DIR not in sys.path:
    sys.path.insert(0, AGENT_DIR)

from tests.agent import support  # noqa: E402 - needs the path above

from signl4_agent import config as config_module  # noqa: E402
from signl4_agent.agent import Agent  # noqa: E402


@pytest.fixture
def provisioned(manage, signl4):
    """Both emulators reset, Manage holding the seed's custom fields and workflow rules."""
    support.provision(manage)
    return manage, signl4


@pytest.fixture
def cw(manage):
    with support.manage_client(manage) as client:
        yield client


@pytest.fixture
def make_agent(tmp_path, provisioned):
    """Agents in process for the two emulators (``support.config`` with ``overrides``, validated with ``env``; the
    agent's ``clock`` and ``retry`` policy unless given), closed at teardown. With ``receiver`` the agent's receiver
    listens at ``agent.url``; with ``subscribe`` too, SIGNL4's outbound webhooks are delivered there. A test file
    needing a variant overrides this fixture using it."""
    manage, signl4 = provisioned
    made = []

    def make(receiver=True, subscribe=True, clock=time.time, retry=None, env=None, **overrides):
        config = config_module.validate(support.config(tmp_path, manage, signl4, **overrides), env=env or {})
        agent = Agent(config, clock=clock, retry=retry)
        made.append(agent)
        if receiver:
            agent.server = agent._start_server()
            agent.url = "http://127.0.0.1:%s" % agent.server.effective_port
            if subscribe:
                support.subscribe(signl4, "%s/signl4/%s" % (agent.url, support.WEBHOOK_TOKEN))
        return agent

    yield make
    for agent in made:
        if getattr(agent, "server", None):
            agent.server.close()
        agent.close()
