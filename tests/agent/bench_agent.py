"""Benchmark of the sync agent against both emulators; prints its figures.

    python -m tests.agent.bench_agent [--samples 30] [--poll-interval 2] [--memory-tickets 10000]

- ticket created -> Signl raised: p50/p95 with Manage callbacks (agent polls hourly), and without
  them (agent polls every ``--poll-interval`` seconds); measured from the POST of the ticket to the
  alert being listed by SIGNL4, polled every 10 ms;
- idle cost: API calls per cycle with nothing to do, against the floor (one ``/test`` per event in
  use, plus one SIGNL4 call when polling SIGNL4);
- resident memory of the agent process after it processed ``--memory-tickets`` tickets.

Run it with ``PYTHONPATH=.:agent:build/collections`` (``make`` sets the first) from the repo root.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.emulators.harness import REPO_ROOT, RunningEmulator

sys.path.insert(0, os.path.join(REPO_ROOT, "agent"))
sys.path.insert(0, os.path.join(REPO_ROOT, "build", "collections"))

from tests.agent import support  # noqa: E402
from signl4_agent import config as config_module  # noqa: E402
from signl4_agent.agent import Agent  # noqa: E402
from tests.conftest import MANAGE_ARGS  # noqa: E402


def _emulators(extra_tickets=0):
    manage = RunningEmulator("tests.emulators.manage", MANAGE_ARGS + ["--tickets", str(extra_tickets)], timeout=600)
    signl4 = RunningEmulator("tests.emulators.signl4", [])
    manage.connection = dict(cw_url=manage.url, cw_company_id="signl4demo", cw_public_key="demopublic",
                             cw_private_key="demoprivate", cw_client_id="00000000-0000-4000-8000-000000000001")
    support.provision(manage)
    return manage, signl4


def _latency(manage, signl4, workdir, samples, poll_interval, callbacks):
    port = support.free_port()
    raw = support.config(workdir, manage, signl4, port=port, poll_interval=3600 if callbacks else poll_interval,
                         state={"path": str(workdir / ("lat-%s.db" % callbacks))})
    agent = support.AgentProcess(support.write_config(workdir, raw, "lat.yml"), port)
    durations = []
    with support.manage_client(manage) as cw, support.signl4_client(signl4) as s4:
        user = s4.user(support.ACTING_USER)["id"]
        assert agent.wait_ready(), agent.stop()
        if callbacks:
            cw.create("/system/callbacks", {"url": "%s/manage/%s/callback?recordId=" % (agent.url, support.CALLBACK_TOKEN),
                                            "objectId": 1, "type": "ticket", "level": "owner"})
        for number in range(samples):
            started = time.monotonic()
            ticket = support.new_ticket(cw, summary="Latency %d" % number)
            while not list(s4.alerts(user_id=user, external_id=str(ticket["id"]))):
                time.sleep(0.01)
            durations.append(time.monotonic() - started)
            time.sleep(0.2 if callbacks else 0)
    agent.stop()
    return durations


def _idle_cost(manage, signl4, workdir, cycles=10):
    raw = support.config(workdir, manage, signl4, signl4={"poll_alerts": True}, state={"path": str(workdir / "idle.db")})
    agent = Agent(config_module.validate(raw, env={}))
    try:
        agent.cycle()
        agent.cycle()  # everything raised; the caches are warm
        before = agent.metrics.calls()
        for unused in range(cycles):
            agent.cycle()
        per_cycle = (agent.metrics.calls() - before) / cycles
    finally:
        agent.close()
    floor = 4 + 1  # trigger, re-entry after close, acknowledge, close; one SIGNL4 poll
    return per_cycle, floor


def _memory(workdir, tickets, batch=500):
    """Feed ``tickets`` new tickets in batches to a running agent; its resident memory at the end."""
    manage, signl4 = _emulators()
    try:
        port = support.free_port()
        raw = support.config(workdir, manage, signl4, port=port, poll_interval=2, state={"path": str(workdir / "mem.db")},
                             manage={"timeout": 60})
        agent = support.AgentProcess(support.write_config(workdir, raw, "mem.yml"), port)
        started = time.monotonic()
        with support.manage_client(manage) as cw:
            assert agent.wait_ready(), agent.stop()
            baseline = _raised(agent)
            for first in range(0, tickets, batch):
                for number in range(first, min(tickets, first + batch)):
                    support.new_ticket(cw, summary="Memory %05d" % number)
                done = baseline + min(tickets, first + batch)
                assert support.wait_for(lambda: _raised(agent) >= done, timeout=1800, interval=1), agent.stop()
        elapsed = time.monotonic() - started
        rss, peak = _rss_kb(agent.proc.pid)
        agent.stop()
        return rss, peak, elapsed, tickets
    finally:
        manage.stop()
        signl4.stop()


def _raised(agent):
    status, body = agent.get("/metrics")
    for line in (body or b"").decode().splitlines():
        if line.startswith("signl4_agent_signls_raised_total "):
            return float(line.split()[1])
    return 0.0


def _rss_kb(pid):
    """``(VmRSS, VmHWM)`` in kB: resident now and at the peak."""
    fields = dict(line.split(":", 1) for line in Path("/proc/%d/status" % pid).read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def _summary(name, durations):
    ordered = sorted(durations)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    print("%-40s n=%d p50=%.3f s p95=%.3f s max=%.3f s" % (name, len(ordered), statistics.median(ordered), p95, ordered[-1]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--poll-interval", type=float, default=2.0)
    parser.add_argument("--memory-tickets", type=int, default=10000, help="0 skips the memory run")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        manage, signl4 = _emulators()
        try:
            _summary("ticket -> Signl, with callbacks", _latency(manage, signl4, workdir, args.samples, 0, True))
            manage.reset(), signl4.reset()
            support.provision(manage)
            _summary("ticket -> Signl, polling every %.0f s" % args.poll_interval,
                     _latency(manage, signl4, workdir, max(5, args.samples // 3), args.poll_interval, False))
            per_cycle, floor = _idle_cost(manage, signl4, workdir)
            print("idle cost: %.1f API calls per cycle, floor %d, ratio %.2f" % (per_cycle, floor, per_cycle / floor))
        finally:
            manage.stop()
            signl4.stop()
        if args.memory_tickets:
            rss, peak, elapsed, raised = _memory(workdir, args.memory_tickets)
            print("memory: VmRSS %.1f MB (peak %.1f MB) after %d tickets raised their Signl (%.0f s)"
                  % (rss / 1024.0, peak / 1024.0, raised, elapsed))


if __name__ == "__main__":
    main()
