"""Exactly once under ``kill -9`` with the PostgreSQL store: the crash test of tests/agent/test_crash.py (random kills
while tickets are raised, acknowledged and closed both ways) with the agent's state in PostgreSQL. Each restarted
agent is a new lease holder: it takes the tenant over once the killed one's lease has run out (1 s here), and waits
out the killed one's request deadline (2 x the 2 s timeouts) before it reconciles what was pending."""

import pytest

from tests.agent.test_crash import crash_run
from tests.agent import support


@pytest.mark.slow
def test_kill_9_loses_nothing_and_duplicates_nothing_on_postgresql(provisioned, cw, tmp_path, dsn):
    manage, signl4 = provisioned
    base = support.config(tmp_path, manage, signl4)
    crash_run(provisioned, cw, tmp_path, state=dict(dsn=dsn, lease_seconds=1), node=dict(id="crash"),
              manage=dict(base["manage"], timeout=2), signl4=dict(base["signl4"], timeout=2, poll_alerts=True))
