"""Chaos suite of the agents in high availability (issue 21): three agents on one PostgreSQL share five
tenants while lease holders are killed and paused, PostgreSQL restarts mid-burst and an agent's link to
PostgreSQL is cut; afterwards exactly one Signl per ticket, every transition and note applied once, and no
API call by an agent for a tenant whose lease another agent had taken.

    python -m tests.bench.ha_chaos [--seed N] [--tickets 500] [--kills 10] [--stops 5] [--pg-restarts 2]
                                   [--cut 60] [--quick]

How it works:
- a throwaway PostgreSQL cluster (tests/support/postgres.py, commits durable as on a production server:
  ``fsync``, ``synchronous_commit`` on, so a crash of the server loses nothing committed); the agent's schema is made by the
  agent's own migrations and a trigger on ``leases`` logs every takeover (new epoch) and release with the
  database's clock (``bench_lease_history``).
- each tenant has its own Manage and SIGNL4 emulator processes, each behind a recording proxy that notes every
  request with its time of arrival and the agent node that sent it (the agents' ``User-Agent: signl4-agent/<v>
  node/<node id>``); the workload's own requests go through the Manage proxy too (the keys of the callbacks its
  changes trigger are then read from the URL the agents know) and are told apart by their User-Agent.
- three agents (``python -m signl4_agent run``, nodes ``agent-1`` to ``agent-3``, the same five tenants, lease
  ``--lease`` s, SIGNL4 polling on, ``owner_assignment: both``, chaos.py's routes, ``notes.to_signl4`` and
  ``escalations``), each reaching PostgreSQL through a TCP proxy of
  its own (tests/support/tcp_proxy.py); SIGNL4's outbound webhook and a Manage callback of every tenant go to
  every agent (every node receives).
- the workload is the chaos suite's (tests/bench/chaos.py) per tenant: tickets created over ``--duration``, each
  with a seeded plan of transitions made by one side at a time, annotations in SIGNL4, Discussion notes in Manage
  and escalations in SIGNL4.
- the faults, one after the other at seeded moments while the tickets come: ``--kills`` x SIGKILL of the agent
  process that drives the most tenants (by its /healthz; started again at once), ``--stops`` x SIGSTOP of a holder for three lease times, then SIGCONT,
  ``--pg-restarts`` x a PostgreSQL restart (a fast shutdown, then a crash: ``immediate``), and one cut of a
  holder's link to PostgreSQL for ``--cut`` seconds (``blackhole``: its connections go silent, as in a network
  partition).
- at the end: wait until every expected state is reached, no intent is pending in the database and both
  emulators' delivery queues are empty (bounded by ``--final-wait``), let late deliveries land, stop the agents
  with SIGTERM, then compare each tenant's ledger with both emulators (chaos.py's checks) and every agent call
  recorded at the proxies with the lease history. Exit 1 on a loss, a duplicate, or a call by an agent that did
  not hold the tenant's lease at that moment (the reads every node makes as a receiver, the keys callbacks are
  signed with, excepted).
"""

import argparse
import collections
import os
import random
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.bench import ha_support as ha  # noqa: E402 - puts the agent and the collection on sys.path
from tests.agent import support  # noqa: E402
from tests.bench import chaos, results  # noqa: E402

SCRIPT = "tests/bench/ha_chaos.py"
FULL = dict(tickets=500, tenants=5, agents=3, kills=10, stops=5, pg_restarts=2, cut=60.0)
QUICK = dict(tickets=60, tenants=5, agents=3, kills=2, stops=1, pg_restarts=1, cut=10.0)


class NotDown:
    """The workload defers SIGNL4 users' actions while SIGNL4 is down: here it never is."""
    is_down = False


# ----- the faults ------------------------------------------------------------------------------------

class Faults:
    """The faults in a seeded order, one at a time, at seeded gaps; ``log`` notes each with its time."""

    def __init__(self, rng, args, cluster, dsn, nodes, log):
        self.rng, self.args, self.cluster, self.dsn, self.nodes, self.log = rng, args, cluster, dsn, nodes, log
        kinds = ["kill"] * args.kills + ["stop"] * args.stops + ["pg_restart"] * args.pg_restarts + ["cut"]
        rng.shuffle(kinds)
        self.schedule = kinds
        self.restarts = 0
        self.done = []  # (kind, time.time(), node name or mode, tenants it held)
        self.finished = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.stopping.wait(self.rng.uniform(8, 15))
            for kind in self.schedule:
                if self.stopping.is_set():
                    return
                getattr(self, "_" + kind)()
                self.stopping.wait(self.rng.uniform(4, 12))
        finally:
            self.finished.set()

    def _holder(self):
        """The agent process driving the most tenants now (a random one among equals), by its own /healthz: the
        lease rows name the node, and a node started again after a kill shares its name with the process whose
        leases have not run out yet. Any live agent if none drives a tenant."""
        live = [node for node in self.nodes if node.alive()]
        held = dict((node.name, driven(node)) for node in live)
        most = max((len(tenants) for tenants in held.values()), default=0)
        node = self.rng.choice([node for node in live if len(held[node.name]) == most] or live)
        return node, held.get(node.name, [])

    def _kill(self):
        node, tenants = self._holder()
        node.kill()
        self.done.append(("kill", time.time(), node.name, tenants))
        self.log("SIGKILL %s (it held %s); started again" % (node.name, ", ".join(tenants) or "nothing"))
        node.start()
        if not node.process.wait_ready(30):
            self.log("%s did not answer /healthz within 30 s after its restart" % node.name)

    def _stop(self):
        node, tenants = self._holder()
        seconds = 3 * self.args.lease
        node.pause()
        self.done.append(("stop", time.time(), node.name, tenants))
        self.log("SIGSTOP %s (it held %s) for %.0f s" % (node.name, ", ".join(tenants) or "nothing", seconds))
        time.sleep(seconds)
        node.resume()
        self.log("SIGCONT %s" % node.name)

    def _pg_restart(self):
        mode = "fast" if self.restarts % 2 == 0 else "immediate"
        self.restarts += 1
        started = time.time()
        self.cluster.restart(mode)
        self.done.append(("pg_restart", started, mode, []))
        self.log("PostgreSQL restarted (%s shutdown), down %.1f s" % (mode, time.time() - started))

    def _cut(self):
        node, tenants = self._holder()
        node.link.cut("blackhole")
        self.done.append(("cut", time.time(), node.name, tenants))
        self.log("link of %s to PostgreSQL cut (blackhole) for %.0f s; it held %s" % (
            node.name, self.args.cut, ", ".join(tenants) or "nothing"))
        time.sleep(self.args.cut)
        node.link.restore()
        self.log("link of %s restored" % node.name)

    def stop(self):
        self.stopping.set()
        self.thread.join()


def driven(node):
    """The tenants this agent process drives, from its /healthz (none when it does not answer)."""
    _status, body = node.health()
    return sorted(body.get("held") or [])


# ----- the end: caught up? -------------------------------------------------------------------------

def tenant_caught_up(run):
    """Every ticket of the tenant in its expected state with its Signl, every annotation a note, no delivery queued."""
    if chaos.states_reached(run.workload, run.tenant.signl4, run.cw) is None:
        return False
    if any(min(chaos._note_counts(run.cw, t)[0] or [1]) < 1 for t in run.workload.tickets if t.annotations):
        return False
    return run.tenant.signl4.control("GET", "/outbound")["pending"] == 0 and \
        run.tenant.manage.control("GET", "/callbacks")["pending"] == 0


def caught_up(runs, dsn):
    try:
        if ha.pending_work(dsn) != (0, 0):
            return False
    except Exception:  # noqa: BLE001 - psycopg.Error: the database restarting; not yet
        return False
    return all(tenant_caught_up(run) for run in runs)


# ----- the run ---------------------------------------------------------------------------------------

class TenantRun:
    """One tenant: its emulators, ledger, Manage client (through the proxy), members and workload."""

    def __init__(self, tenant_id, calls, rng, tickets, duration):
        self.ledger = chaos.AgentLedger()
        self.tenant = ha.Tenant(tenant_id, calls, ledger=self.ledger)
        support.provision(self.tenant.manage)
        self.cw = chaos._client(self.tenant.manage)
        self.members = chaos._members(self.cw)
        self.ledger.status_ids = chaos.status_ids(self.cw)
        self.workload = chaos.Workload(rng, self.tenant.manage, self.tenant.signl4, self.cw, tickets, duration, NotDown())

    def close(self):
        self.cw.close()
        self.tenant.stop()


def split(total, parts):
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def run(args, workdir, log):
    rng = random.Random(args.seed)
    cluster = ha.Cluster(durable=True).start()
    runs, nodes, calls = [], [], []
    try:
        dbname = cluster.database("ha_chaos")
        dsn = cluster.dsn(dbname)
        ha.install_lease_history(dsn)
        for number, tickets in enumerate(split(args.tickets, args.tenants), start=1):
            runs.append(TenantRun("tenant-%d" % number, calls, rng, tickets, args.duration))
        # the features of the chaos suite's workload on: it waits for each ticket's notes and escalations to travel
        shared = ha.base_config(poll_interval=args.poll_interval, signl4={"poll_alerts": True}, owner_assignment="both",
                                routes=chaos.ROUTES, notes={"to_signl4": {"enabled": True}},
                                escalations=dict(enabled=True, note=True, priority=chaos.ESCALATION_PRIORITY))
        tenants = [r.tenant.config() for r in runs]
        nodes = [ha.AgentNode(workdir, "agent-%d" % n, cluster, dbname, shared, tenants, args.lease)
                 for n in range(1, args.agents + 1)]
        ha.start_nodes(nodes)
        for each in runs:
            each.tenant.subscribe([node.url for node in nodes])
            each.workload.started = time.monotonic()
        log("%d agents up, %d tenants, %d tickets over %.0f s" % (len(nodes), len(runs), args.tickets, args.duration))
        faults = Faults(rng, args, cluster, dsn, nodes, log)
        outcome = _drive(args, runs, nodes, faults, dsn, log)
        outcome.update(_finish(args, runs, nodes, dsn, calls, faults))
        return outcome
    finally:
        for node in nodes:
            node.close()
        for each in runs:
            each.close()
        cluster.destroy()


def _drive(args, runs, nodes, faults, dsn, log):
    started, last_print = time.monotonic(), 0.0
    while not (all(r.workload.finished() for r in runs) and faults.finished.is_set()):
        for each in runs:
            each.workload.tick()
        if time.monotonic() - last_print > 15:
            last_print = time.monotonic()
            created = sum(r.workload.created for r in runs)
            done = sum(1 for r in runs for t in r.workload.tickets if t.waiting == "done")
            log("tickets %d/%d created, %d through their plan; faults %d/%d" % (
                created, args.tickets, done, len(faults.done), len(faults.schedule)))
        time.sleep(0.5)
    faults.stop()
    workload_seconds = time.monotonic() - started
    log("workload and faults done; waiting for the agents to catch up (at most %.0f s)" % args.final_wait)
    caught = support.wait_for(lambda: caught_up(runs, dsn), timeout=args.final_wait, interval=2)
    catch_up = time.monotonic() - started - workload_seconds
    time.sleep(args.settle)  # late deliveries still land and must change nothing
    return dict(caught=caught, seconds=(workload_seconds, catch_up, args.settle))


def _finish(args, runs, nodes, dsn, calls, faults):
    exits = dict((node.name, node.terminate()) for node in nodes)
    problems, counts = [], collections.Counter()
    for each in runs:
        found, tenant_counts = chaos._compare(each.workload, each.tenant.signl4, each.cw, each.ledger, each.members)
        problems += ["%s: %s" % (each.tenant.id, p) for p in found]
        counts.update(tenant_counts)
    history = ha.lease_history(dsn)
    violations = ha.calls_without_lease(list(calls), history)
    for call, why, latest in violations[:50]:
        problems.append("%s %s %s by %s at %.3f: lease %s (latest: %s)" % (
            call.tenant, call.method, call.path, call.node, call.at, why,
            "%s epoch %d by %s at %.3f" % (latest.event, latest.epoch, latest.node, latest.at) if latest else "none"))
    tracebacks = dict((node.name, sum(log.count("Traceback") for _code, log in node.outputs)) for node in nodes)
    for node in nodes:
        for _code, log in node.outputs:
            if "Traceback" in log:
                at = log.index("Traceback")
                print("%s: the first traceback in its log:\n%s" % (node.name, log[max(0, at - 1500):at + 2500]), flush=True)
                break
    for name, (code, log) in exits.items():
        if code != 0:
            problems.append("%s exited %s on SIGTERM: %s" % (name, code, log[-500:]))
    return dict(problems=problems, counts=counts, history=history, violations=violations, exits=exits,
                tracebacks=tracebacks, calls=list(calls), faults=faults.done, starts=dict((n.name, n.starts) for n in nodes),
                exempt=sum(1 for c in calls if c.node and ha.RECEIVER_READS.search(c.path)))


# ----- the report --------------------------------------------------------------------------------------

def takeover_seconds(faults, history):
    """For each tenant a killed, paused or cut-off agent held: seconds from the fault to the next takeover of it."""
    found = []
    for kind, moment, _name, tenants in faults:
        for tenant in tenants:
            later = [e.at for e in history if e.tenant == tenant and e.event == "acquired" and e.at > moment]
            if later:
                found.append((kind, min(later) - moment))
    return found


def late_takeovers(faults, history, bound):
    """The tenants taken over more than ``bound`` seconds after the fault of the agent that held them:
    ``[(kind, agent, tenant, seconds, taken by)]``."""
    found = []
    for kind, moment, name, tenants in faults:
        for tenant in tenants:
            later = [e for e in sorted(history) if e.tenant == tenant and e.event == "acquired" and e.at > moment]
            if later and later[0].at - moment > bound:
                found.append((kind, name, tenant, later[0].at - moment, later[0].node))
    return found


def lease_counts(history):
    acquired = [e for e in history if e.event == "acquired"]
    previous, takeovers = {}, 0
    for event in sorted(history):
        if event.event == "acquired":
            if previous.get(event.tenant) not in (None, event.holder):
                takeovers += 1
            previous[event.tenant] = event.holder
        else:
            previous[event.tenant] = None
    return dict(acquisitions=len(acquired), takeovers=takeovers,
                releases=sum(1 for e in history if e.event == "released"),
                epochs=", ".join("%s %d" % (t, max(e.epoch for e in acquired if e.tenant == t))
                                 for t in sorted({e.tenant for e in acquired})))


def _rows(args, outcome):
    counts, history = outcome["counts"], outcome["history"]
    taken = sum(1 for _c, why, _l in outcome["violations"] if why == "taken")
    by_kind = collections.defaultdict(list)
    for kind, seconds in takeover_seconds(outcome["faults"], history):
        by_kind[kind].append(seconds)
    leases = lease_counts(history)
    agent_calls = [c for c in outcome["calls"] if c.node]
    return [
        ("seed", args.seed),
        ("agents / tenants / lease", "%d / %d / %.0f s" % (args.agents, args.tenants, args.lease)),
        *chaos.ledger_rows(counts, outcome["problems"]),
        ("notes: expected / written", "%d / %d" % (counts["notes expected"], counts["notes written"])),
        ("faults done", ", ".join("%s %d" % kv for kv in sorted(collections.Counter(f[0] for f in outcome["faults"]).items()))),
        ("fault -> next takeover of a tenant the agent held (median, max)", "; ".join(
            "%s %s" % (kind, _spread(values)) for kind, values in sorted(by_kind.items())) or "-"),
        ("takeovers later than lease + 1 s after the fault (fault, agent, tenant, seconds, taken by)", "; ".join(
            "%s %s %s %.1f s %s" % late for late in late_takeovers(outcome["faults"], history, args.lease + 1)) or "none"),
        ("lease acquisitions / takeovers from another holder / releases", "%(acquisitions)d / %(takeovers)d / %(releases)d" % leases),
        ("last epoch per tenant", leases["epochs"]),
        ("agent API calls recorded (receiver key reads among them)", "%d (%d)" % (len(agent_calls), outcome["exempt"])),
        ("calls by an agent whose lease another had taken", taken),
        ("calls by an agent that did not hold the lease otherwise", len(outcome["violations"]) - taken),
        ("agent processes started (per node)", ", ".join("%s %d" % kv for kv in sorted(outcome["starts"].items()))),
        ("exit codes on the final SIGTERM", ", ".join("%s %s" % (n, code) for n, (code, _l) in sorted(outcome["exits"].items()))),
        ("tracebacks in the agents' logs", ", ".join("%s %d" % kv for kv in sorted(outcome["tracebacks"].items()))),
        ("wall: workload and faults / catch-up / settle", "%.0f s / %.0f s / %.0f s" % outcome["seconds"]),
        ("mismatches", len(outcome["problems"])),
    ]


def _spread(values):
    ordered = sorted(values)
    return "%.1f s, %.1f s (%d)" % (ordered[len(ordered) // 2], ordered[-1], len(ordered))


def report(args, cond, outcome, timeline):
    intro = [
        "Script: `%s` (`make chaos`); reproduce with `python -m tests.bench.ha_chaos --seed %d%s`." % (
            SCRIPT, args.seed, " --quick" if args.quick else ""), "",
        "%d agents (`python -m signl4_agent run`, lease %.0f s, poll interval %.0f s, SIGNL4 polling on) share %d tenants "
        "on one PostgreSQL (a throwaway cluster, commits durable); each tenant has its own Manage and SIGNL4 emulator "
        "behind a proxy that records which agent sent each request (its `User-Agent`), SIGNL4's webhook and a Manage "
        "callback of every tenant go to every agent. %d tickets are created over %.0f s with chaos.py's workload "
        "(seeded transitions on both sides, annotations), while, one after the other: %d x SIGKILL of the agent process "
        "driving the most tenants (by its `/healthz`; started again at once), %d x SIGSTOP of one for %.0f s (3 leases) then SIGCONT, %d x a "
        "PostgreSQL restart (fast, then immediate), and the link of a holder to PostgreSQL cut for %.0f s (its "
        "connections silent, as in a partition). A trigger on `leases` logs every takeover and release on the "
        "database's clock; every agent request recorded at the proxies is checked against it. Afterwards the final "
        "state of every tenant is compared with its ledger." % (
            args.agents, args.lease, args.poll_interval, args.tenants, args.tickets, args.duration, args.kills,
            args.stops, 3 * args.lease, args.pg_restarts, args.cut)]
    chaos.report_counts(args, "ha-chaos", "HA chaos: 3 agents, 5 tenants, one PostgreSQL (suite part: high availability)",
                        intro, cond, _rows(args, outcome), outcome["problems"],
                        ["", "### Faults", "", *["- %.0f s: %s" % entry for entry in timeline.entries if _fault_line(entry[1])]])


def _fault_line(text):
    return text.startswith(("SIGKILL", "SIGSTOP", "SIGCONT", "PostgreSQL", "link"))


# ----- entry point -----------------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None, help="drives everything random (default: a random one)")
    parser.add_argument("--lease", type=float, default=10.0, help="state.lease_seconds (the agent's default: 10)")
    parser.add_argument("--poll-interval", type=float, default=2.0)
    parser.add_argument("--duration", type=float, default=None, help="seconds over which the tickets are created "
                        "(default: 0.8 s per ticket, at least 60 s)")
    parser.add_argument("--final-wait", type=float, default=900.0, help="at most this long for the agents to catch up")
    parser.add_argument("--settle", type=float, default=8.0, help="seconds for late deliveries after catching up")
    parser.add_argument("--no-results", action="store_true", help="do not write tests/bench/RESULTS.md")
    args = results.sized_args(parser, FULL, QUICK, argv)
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    if args.duration is None:
        args.duration = max(60.0, 0.8 * args.tickets)
    return args


def main(argv=None):
    args = parse_args(argv)
    os.environ["PYTHONFAULTHANDLER"] = "1"  # an agent that does not stop dumps its threads on SIGABRT
    signal.signal(signal.SIGTERM, lambda *unused: sys.exit(143))  # stopped: still stop everything it started
    cond = results.start(args.quick, load_note=ha.SHARED_MACHINE, seed=args.seed)
    timeline = ha.Timeline()
    with tempfile.TemporaryDirectory(prefix="ha-chaos-") as tmp:
        outcome = run(args, Path(tmp), timeline)
    if not outcome["caught"]:
        outcome["problems"].insert(0, "the agents did not catch up within %.0f s" % args.final_wait)
    report(args, results.end(cond), outcome, timeline)
    return 0 if not outcome["problems"] else 1


if __name__ == "__main__":
    sys.exit(main())
