"""Helpers of the HA suite: agent configurations on PostgreSQL, agents as processes, who holds what."""

import json
import time

import psycopg

from tests.agent import support


def config(tmp_path, manage_emulator, signl4_emulator, dsn, node="agent-a", lease=2, port=0, **overrides):
    """An agent configuration (parsed YAML) on the PostgreSQL database ``dsn``, node ``node``."""
    raw = support.config(tmp_path, manage_emulator, signl4_emulator, port=port, **overrides)
    raw["state"] = dict(dsn=dsn, lease_seconds=lease)
    raw["node"] = dict(id=node)
    return raw


def start(tmp_path, raw, name):
    """``python -m signl4_agent run`` with ``raw`` (its port must be set)."""
    path = support.write_config(tmp_path, raw, name=f"{name}.yml")
    agent = support.AgentProcess(path, raw["listen"]["port"])
    assert agent.wait_ready(), agent.output()[-3000:]
    return agent


def health(agent):
    status, body = agent.get("/healthz")
    return json.loads(body) if status in (200, 503) else {}


def holder(dsn, tenant="default"):
    """``(holder, epoch, seconds left)`` of a tenant's lease, as the database has it."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        row = connection.execute("SELECT holder, epoch, extract(epoch FROM expires_at - clock_timestamp())::float8 "
                                 "FROM leases WHERE tenant = %s", (tenant,)).fetchone()
    return row if row else (None, 0, None)


def node_of(holder_id):
    return holder_id.split("/")[0] if holder_id else None


def wait_held(dsn, node, tenant="default", timeout=20.0):
    """Wait until ``node`` holds the tenant; when it took it (time.time())."""
    assert support.wait_for(lambda: node_of(holder(dsn, tenant)[0]) == node and holder(dsn, tenant)[2] > 0,
                            timeout=timeout), f"{node} did not take {tenant}: {holder(dsn, tenant)}"
    return time.time()


def sent_by(emulator, node):
    """The requests in an emulator's journal that an agent of node ``node`` sent (its User-Agent)."""
    return [entry for entry in emulator.requests() if entry["headers"].get("user-agent", "").endswith(f"node/{node}")]
