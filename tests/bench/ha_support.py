"""What the HA chaos suite and the HA benchmarks share (tests/bench/ha_chaos.py, tests/bench/ha_bench.py):
a throwaway PostgreSQL with a lease history, agent processes with their own link to it, tenants each with
their own pair of emulators behind recording proxies that know which agent sent what, and the check that no
agent called a tenant's APIs while another agent held its lease.

- :class:`Cluster`: ``tests/support/postgres.Cluster``, optionally with ``pg_stat_statements`` preloaded.
- :func:`install_lease_history`: the agent's schema (its own migrations) and a trigger on ``leases`` that
  logs every takeover (a new epoch) and every release with the database's ``clock_timestamp()``.
- :class:`TaggedProxy`: the chaos suite's recording proxy that also notes, per request, when it came and
  which agent node sent it (``User-Agent: signl4-agent/<version> node/<node id>``).
- :class:`Tenant`: a Manage and a SIGNL4 emulator (processes), each behind a :class:`TaggedProxy`.
- :class:`AgentNode`: one ``python -m signl4_agent run`` with its configuration and its own TCP link to
  PostgreSQL (``tests/support/tcp_proxy.py``), started again after a kill.
- :func:`calls_without_lease`: every recorded call of an agent for a tenant whose lease, at that moment,
  another holder had taken (or nobody held).
"""

import bisect
import collections
import json
import os
import re
import signal
import threading
import time

from tests.bench import common
from tests.conftest import MANAGE_CLIENT_ID

import psycopg  # noqa: E402 - in requirements-dev.txt (the agent's PostgreSQL driver)
from psycopg.rows import dict_row  # noqa: E402

from tests.agent import support  # noqa: E402 - after common, which puts the agent and the collection on sys.path
from tests.bench.proxy import RecordingProxy, _json  # noqa: E402
from tests.support import postgres  # noqa: E402
from tests.support.tcp_proxy import TcpProxy  # noqa: E402

NODE = re.compile(r"signl4-agent/\S+ node/(\S+)")
# Reads every node makes as a receiver, whatever it holds: the key a Manage callback is signed with.
RECEIVER_READS = re.compile(r"/system/callbackkey/", re.IGNORECASE)
SHARED_MACHINE = " (uptime's load average; the 2 cores are shared with other sessions' test runs)"


# ----- PostgreSQL ------------------------------------------------------------------------------------

class Cluster(postgres.Cluster):
    """The test cluster; ``statements=True`` preloads ``pg_stat_statements`` (a server start option);
    ``durable=True`` makes commits wait for the WAL on disk (``fsync``, ``synchronous_commit`` and
    ``full_page_writes`` on, as on a production server) where the test cluster's defaults skip that."""

    def __init__(self, statements=False, durable=False):
        self.statements, self.durable = statements, durable
        super().__init__()

    def _command(self, name, *args):
        if name == "postgres" and self.statements:
            args += ("-c", "shared_preload_libraries=pg_stat_statements", "-c", "pg_stat_statements.track=all")
        if name == "postgres" and self.durable:  # a later -c wins over the test cluster's own
            args += ("-c", "fsync=on", "-c", "synchronous_commit=on", "-c", "full_page_writes=on")
        return super()._command(name, *args)


HISTORY = """
CREATE TABLE IF NOT EXISTS bench_lease_history (
    id BIGSERIAL PRIMARY KEY, tenant TEXT NOT NULL, holder TEXT, epoch BIGINT NOT NULL, event TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL);
CREATE OR REPLACE FUNCTION bench_lease_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.epoch IS DISTINCT FROM OLD.epoch THEN
        INSERT INTO bench_lease_history (tenant, holder, epoch, event, at)
        VALUES (NEW.tenant, NEW.holder, NEW.epoch, 'acquired', extract(epoch FROM clock_timestamp()));
    ELSIF NEW.holder IS NULL AND OLD.holder IS NOT NULL THEN
        INSERT INTO bench_lease_history (tenant, holder, epoch, event, at)
        VALUES (NEW.tenant, OLD.holder, OLD.epoch, 'released', extract(epoch FROM clock_timestamp()));
    END IF;
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS bench_lease_log ON leases;
CREATE TRIGGER bench_lease_log AFTER UPDATE ON leases FOR EACH ROW EXECUTE FUNCTION bench_lease_log();
"""


def install_lease_history(dsn):
    """The agent's schema, made by the agent's own migrations, and the lease history trigger."""
    from signl4_agent import pgstore  # noqa: PLC0415 - the agent is on sys.path only here

    with psycopg.connect(dsn, autocommit=True, row_factory=dict_row) as connection:
        pgstore.migrate(connection, "the bench database")
        connection.execute(HISTORY)


LeaseEvent = collections.namedtuple("LeaseEvent", "at tenant node holder epoch event")


def node_of(holder):
    return holder.split("/")[0] if holder else None


def lease_history(dsn):
    with psycopg.connect(dsn, autocommit=True) as connection:
        rows = connection.execute("SELECT at, tenant, holder, epoch, event FROM bench_lease_history ORDER BY id").fetchall()
    return [LeaseEvent(at, tenant, node_of(holder), holder, epoch, event) for at, tenant, holder, epoch, event in rows]


def held(dsn):
    """``{tenant: node}`` of the leases held now (not expired), on the database's clock."""
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as connection:
        rows = connection.execute("SELECT tenant, holder FROM leases WHERE holder IS NOT NULL "
                                  "AND expires_at > clock_timestamp()").fetchall()
    return dict((tenant, node_of(holder)) for tenant, holder in rows)


def pending_work(dsn):
    """Intents not done yet and tickets callbacks asked to read again, over all tenants."""
    with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as connection:
        intents = connection.execute("SELECT count(*) FROM intents WHERE state = 'pending'").fetchone()[0]
        requests = connection.execute("SELECT count(*) FROM requests").fetchone()[0]
    return intents, requests


# ----- who sent what -----------------------------------------------------------------------------------

Call = collections.namedtuple("Call", "at node tenant method path status")


class TaggedProxy(RecordingProxy):
    """Forwards like the chaos suite's proxy; notes every request (time of arrival, the agent node from the
    User-Agent, or None for the workload's own requests) in ``calls`` and gives the agents' requests to
    ``record(method, path, status, sent)`` (chaos.AgentLedger's)."""

    def __init__(self, upstream_port, tenant, calls, record=None):
        self.tenant, self.calls = tenant, calls
        self.ledger_record = record
        super().__init__(upstream_port)

    def forward(self, method, path, headers, body):
        arrived = time.time()
        status, answer_headers, payload = super().forward(method, path, headers, body)
        match = NODE.search(headers.get("User-Agent") or "")
        node = match.group(1) if match else None
        self.calls.append(Call(arrived, node, self.tenant, method, path, status))
        if node and self.ledger_record is not None:
            self.ledger_record(method, path, status, _json(body))
        return status, answer_headers, payload


def calls_without_lease(calls, history, exempt=RECEIVER_READS):
    """The agents' calls (``Call`` with a node) made for a tenant while that node did not hold its lease: at the
    call's arrival the tenant's latest lease event was a takeover by another node (``taken``: this node had held it
    before, so it was fenced), a release, or none, or a takeover by another node that this node never preceded
    (``not held``). Calls whose path matches ``exempt`` (what every node reads as a receiver) are left out.
    Returns ``[(call, why, latest event)]``."""
    events = collections.defaultdict(list)
    for event in sorted(history):
        events[event.tenant].append(event)
    times = dict((tenant, [e.at for e in found]) for tenant, found in events.items())
    found = []
    for call in calls:
        if call.node is None or (exempt is not None and exempt.search(call.path)):
            continue
        tenant_events = events.get(call.tenant, [])
        index = bisect.bisect_right(times.get(call.tenant, []), call.at) - 1
        latest = tenant_events[index] if index >= 0 else None
        if latest is not None and latest.event == "acquired" and latest.node == call.node:
            continue
        held_before = any(e.event == "acquired" and e.node == call.node for e in tenant_events[:max(index, 0)])
        why = "taken" if latest is not None and latest.event == "acquired" and held_before else "not held"
        found.append((call, why, latest))
    return found


# ----- tenants: emulators behind proxies ------------------------------------------------------------------

class Tenant(common.Emulators):
    """One tenant's Manage and SIGNL4 (emulator processes), each behind a :class:`TaggedProxy`; ``manage`` and
    ``signl4`` are the emulators (test controls), ``manage.connection`` goes through the proxy (so the keys of
    the callbacks that the workload's changes trigger are read from the URL the agents know)."""

    def __init__(self, tenant_id, calls, manage_args=(), signl4_args=(), ledger=None):
        super().__init__(manage_args, signl4_args, timeout=600)
        self.id = tenant_id
        self.manage_proxy = TaggedProxy(_port(self.manage), tenant_id, calls, ledger.manage if ledger else None)
        self.signl4_proxy = TaggedProxy(_port(self.signl4), tenant_id, calls, ledger.signl4 if ledger else None)
        self.manage.connection["cw_url"] = self.manage_proxy.url
        self.ledger = ledger

    def config(self):
        """The tenant's entry of the agents' ``tenants:`` list."""
        return tenant_config(self.id, self.manage_proxy.url, self.signl4_proxy.url, callback_token=support.CALLBACK_TOKEN)

    def subscribe(self, agent_urls):
        """SIGNL4's outbound webhook and a Manage ticket callback to every agent (every node receives)."""
        for url in agent_urls:
            self.register_agent("%s/t/%s" % (url, self.id))

    def stop(self):
        for part in (self.manage_proxy, self.signl4_proxy):
            part.close()
        super().stop()


def _port(emulator):
    return int(emulator.url.rsplit(":", 1)[1])


def tenant_config(tenant_id, manage_url, signl4_url, **listen):
    """A tenant's entry of the agents' ``tenants:`` list for the emulators (or their proxies) at these URLs."""
    return {"id": tenant_id,
            "manage": dict(url=manage_url, company_id="signl4demo", public_key="demopublic", private_key="demoprivate"),
            "signl4": dict(api_url=signl4_url + "/api", api_key="demo-signl4-api-key", team_secret="demoteamsecret"),
            "listen": dict(webhook_token=support.WEBHOOK_TOKEN, **listen)}


def base_config(poll_interval=2, **overrides):
    """What every tenant of the agents shares (the top level of their file, without state and node)."""
    raw = {"manage": dict(client_id=MANAGE_CLIENT_ID, timeout=5),
           "signl4": dict(acting_user=support.ACTING_USER, timeout=5),
           "listen": dict(host="127.0.0.1"),
           "filters": dict(entered_after="2000-01-01T00:00:00Z"),
           "poll_interval": poll_interval, "details": ["company", "contact", "priority", "board"],
           "logging": {"level": "INFO"}}
    for key, value in overrides.items():
        raw[key] = dict(raw[key], **value) if isinstance(value, dict) and isinstance(raw.get(key), dict) else value
    return raw


# ----- agents --------------------------------------------------------------------------------------------

class AgentNode:
    """An agent process of node ``name`` on the cluster through a TCP link of its own; ``kill``/``pause``/``resume``
    for faults; started again (a new process, the same node id) by :meth:`start`."""

    def __init__(self, workdir, name, cluster, dbname, shared, tenants, lease):
        self.name = name
        self.link = TcpProxy(cluster.port)
        self.port = support.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        raw = dict(shared)
        raw["listen"] = dict(raw["listen"], port=self.port)
        raw["state"] = {"dsn": "host=127.0.0.1 port=%d dbname=%s user=%s" % (self.link.port, dbname, postgres.SUPERUSER),
                        "password": postgres.PASSWORD, "lease_seconds": lease}
        raw["node"] = {"id": name}
        if tenants is not None:
            raw["tenants"] = tenants
        self.path = support.write_config(workdir, raw, name="%s.yml" % name)
        self.process = None
        self.outputs = []  # (exit code, log) of every process of this node that ended
        self.starts = 0

    def start(self):
        self.process = support.AgentProcess(self.path, self.port)
        self.starts += 1
        return self

    @property
    def pid(self):
        return self.process.proc.pid

    def alive(self):
        return self.process is not None and self.process.proc.poll() is None

    def kill(self):
        self.process.proc.send_signal(signal.SIGKILL)
        self.process.proc.wait()
        self.outputs.append(self.process.stop())

    def pause(self):
        self.process.proc.send_signal(signal.SIGSTOP)

    def resume(self):
        self.process.proc.send_signal(signal.SIGCONT)

    def health(self):
        status, body = self.process.get("/healthz")
        try:
            return status, json.loads(body or b"{}")
        except ValueError:
            return status, {}

    def terminate(self, timeout=60):
        """SIGTERM: ``(exit code, its log)``; SIGABRT (a thread dump, PYTHONFAULTHANDLER) when it does not end."""
        if not self.alive():
            return self.outputs[-1] if self.outputs else (None, "")
        result = common.terminate(self.process, timeout)
        self.outputs.append(result)
        return result

    def close(self):
        if self.alive():
            self.resume()
            self.terminate(15)
        self.link.close()


def start_nodes(nodes, timeout=60):
    """Start every node; wait until each answers /healthz (a standby too) or ends."""
    for node in nodes:
        node.start()
    for node in nodes:
        if not node.process.wait_ready(timeout):
            raise RuntimeError("agent %s did not start: %s" % (node.name, node.process.output()[-3000:]))


def cpu_seconds(pid):
    """User + system CPU seconds of a process so far (``/proc/<pid>/stat``)."""
    with open("/proc/%d/stat" % pid, encoding="utf-8") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def threads(pid):
    with open("/proc/%d/status" % pid, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


class Timeline:
    """Printed and kept: ``(seconds since start, what happened)``."""

    def __init__(self):
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.entries = []

    def __call__(self, text):
        moment = time.monotonic() - self.started
        with self.lock:
            self.entries.append((moment, text))
        print("%7.1f s  %s" % (moment, text), flush=True)
