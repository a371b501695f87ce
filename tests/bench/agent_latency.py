"""Benchmarks 1 and 2 of issue 12: the sync agent's latency and its cost when idle.

    python -m tests.bench.agent_latency            # full: 200 tickets per mode, 10 idle minutes
    python -m tests.bench.agent_latency --quick    # smoke run: 20 tickets per mode, 1 idle minute

Everything runs as real processes on this machine: both emulators (tests/emulators) and the agent
(``python -m signl4_agent run``). Three deployments of the agent, each on freshly reset emulators:

- **push**: Manage callbacks registered and a SIGNL4 outbound webhook subscribed to the agent (its full
  cycle every ``--push-poll-interval`` seconds stays as the safety net);
- **pull, every N s** (``--poll-intervals``, default 2 and 10): no callback, no webhook; the agent
  polls Manage (workflow event ``/test``) and SIGNL4's alerts (``signl4.poll_alerts``) every N seconds.

In each deployment a stream of tickets is created (seeded random gaps, the seed is printed) and one
watcher thread records when each ticket's Signl is first listed by SIGNL4's alert API; then the same
Signls are acknowledged one by one as a SIGNL4 user (emulator control ``/act``) and a watcher records
when Manage shows the ticket "In Progress" (the seed's "Signl acknowledged" action; the same PATCH
sets the owner). Times are ``time.monotonic()`` in this process; a watcher polls every
``--watch-interval`` seconds, so each figure includes up to one watch period.

Idle: an agent polling both APIs every ``--idle-poll-interval`` seconds with nothing to do. API calls
come from the emulators' journals, grouped into cycles by the gaps between them; the floor is one
``/test`` per workflow event in use plus one SIGNL4 alert poll. RSS (VmRSS, VmHWM) and CPU time
(utime + stime) of the agent process are read from /proc over ``--idle-minutes``.

Exits non-zero when a correctness condition fails: a Signl missing or raised twice, an acknowledge
not applied, the agent dying, an emulator answering 5xx.
"""

import argparse
import datetime as dt
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.bench import common, results
from tests.bench.common import metric_sum
from tests.agent import support  # noqa: E402 - after common, which puts the agent and the collection on sys.path

TARGET_P95 = 1.0  # seconds, ticket -> Signl with callbacks (issue 12)
IN_PROGRESS = "In Progress"  # the seed's "Signl acknowledged" action sets this status
OWNER = "asmith"  # the Manage member given Olivia's office e-mail: the owner an acknowledge assigns
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
RULE_READ = re.compile(r"/system/workflows(/\d+/events)?/?$", re.IGNORECASE)  # the agent caches these 5 minutes


# ----- pure helpers (tests/unit/test_bench_agent_latency.py) -----------------------------------

def stream_gaps(seed, count, low, high):
    """The seconds to wait before each of ``count`` creations/acknowledgements (reproducible by seed)."""
    rng = random.Random(seed)
    return [round(rng.uniform(low, high), 3) for _unused in range(count)]


def summarize(values):
    """``{n, p50, p95, max}`` of latencies in seconds (nearest-rank percentiles); n=0 when empty."""
    if not values:
        return dict(n=0, p50=None, p95=None, max=None)
    return dict(n=len(values), p50=results.percentile(values, 0.5), p95=results.percentile(values, 0.95),
                max=max(values))


def spread(figures):
    """``(median, min, max)`` of one figure across repetitions (None values left out)."""
    values = [v for v in figures if v is not None]
    if not values:
        return None, None, None
    return statistics.median(values), min(values), max(values)


def cycles(entries, gap):
    """Calls per agent cycle: ``entries`` are ``(unix time, api, path)`` of journaled calls; a pause
    longer than ``gap`` seconds starts a new cycle. The first and last groups may be cut by the window
    and are dropped. Returns one ``{api: calls, "rule_reads": reads of workflow rules or their events}``
    per complete cycle."""
    groups, last = [], None
    for stamp, api, path in sorted(entries):
        if last is None or stamp - last > gap:
            groups.append({"rule_reads": 0})
        groups[-1][api] = groups[-1].get(api, 0) + 1
        groups[-1]["rule_reads"] += 1 if RULE_READ.search(path) else 0
        last = stamp
    return groups[1:-1]


def idle_floor(config):
    """API calls an idle cycle cannot do without: one ``/test`` per workflow event in use (trigger,
    re-entry after close unless ``reopen: ignore``, acknowledge and close as mapped) plus one SIGNL4
    alert poll when ``signl4.poll_alerts``."""
    mappings = config.get("status_mappings") or {}
    events = 1 + (config.get("reopen", "new_signl") != "ignore")
    events += sum(1 for key in ("manage_acknowledge", "manage_close") if mappings.get(key, True))
    return {"manage": events, "signl4": 1 if (config.get("signl4") or {}).get("poll_alerts") else 0}


def cpu_seconds(stat_text):
    """utime + stime in seconds from the text of ``/proc/<pid>/stat`` (fields counted after the comm)."""
    fields = stat_text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(CLOCK_TICKS)


def memory_kb(status_text):
    """``{rss, hwm, anon}`` in kB from the text of ``/proc/<pid>/status``: VmRSS, VmHWM and RssAnon (the
    process's own heap and stacks; the file-backed rest of VmRSS shrinks when the kernel reclaims it)."""
    values = dict(line.split(":", 1) for line in status_text.splitlines() if ":" in line)
    names = (("rss", "VmRSS"), ("hwm", "VmHWM"), ("anon", "RssAnon"))
    return dict((key, int(values[name].split()[0])) for key, name in names)


def parse_iso(text):
    """Unix seconds of SIGNL4's ``2026-11-30T07:54:18.1234560Z`` (7 fraction digits)."""
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z?$", text or "")
    if not match:
        return None
    whole = dt.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
    return whole.timestamp() + float("0." + (match.group(2) or "0"))


# ----- the moving parts -----------------------------------------------------------------------------

class Failures(list):
    """Correctness failures of the run (each makes the exit status non-zero)."""

    def check(self, ok, message):
        if not ok:
            print("FAILED: %s" % message, flush=True)
            self.append(message)
        return ok


class Watcher(threading.Thread):
    """Polls ``poll()`` (an iterable of ``(key, extra)``) every ``interval`` s and records the first
    monotonic time each key is seen, with its ``extra``."""

    def __init__(self, poll, interval):
        super().__init__(daemon=True)
        self.poll, self.interval = poll, interval
        self.seen, self.errors, self.polls = {}, [], 0
        self.halt = threading.Event()
        self.started = None

    def run(self):
        self.started = time.monotonic()
        while not self.halt.is_set():
            try:
                for key, extra in self.poll():
                    self.seen.setdefault(key, (time.monotonic(), extra))
            except Exception as exc:  # noqa: BLE001 - a failed poll is reported, the watch goes on
                self.errors.append(repr(exc))
            self.polls += 1
            self.halt.wait(self.interval)

    def wait_all(self, keys, timeout):
        return support.wait_for(lambda: all(k in self.seen for k in keys), timeout=timeout, interval=0.1)

    def finish(self):
        self.halt.set()
        self.join(10)
        return (time.monotonic() - self.started) / max(1, self.polls)  # mean watch period


class Emulators(common.Emulators):
    """Both emulators as processes, reset and provisioned per deployment."""

    def fresh(self):
        super().fresh()
        with support.manage_client(self.manage) as cw:  # Olivia (SIGNL4) is this member in Manage
            member = cw.list("/system/members", conditions='identifier = "%s"' % OWNER)[0]
            change = [{"op": "replace", "path": "officeEmail", "value": support.OLIVIA}]
            cw.patch("/system/members/%d" % member["id"], change)


class Deployment:
    """One agent process against freshly reset emulators: ``push`` (callbacks + outbound webhook) or pull."""

    def __init__(self, emulators, workdir, name, poll_interval, push):
        self.emulators, self.name, self.push = emulators, name, push
        self.poll_interval = poll_interval
        emulators.fresh()
        port = support.free_port()
        self.config = support.config(workdir, emulators.manage, emulators.signl4, port=port, poll_interval=poll_interval,
                                     signl4={"poll_alerts": not push}, owner_assignment="acknowledge",
                                     state={"path": str(workdir / ("%s.db" % name))})
        self.agent = support.AgentProcess(support.write_config(workdir, self.config, "%s.yml" % name), port)
        if not self.agent.wait_ready(timeout=60):
            raise RuntimeError("agent did not start: %s" % self.agent.stop()[1][-2000:])
        if push:
            emulators.register_agent(self.agent.url)

    def metrics(self):
        status, body = self.agent.get("/metrics")
        return body.decode("utf-8", "replace") if status == 200 else ""

    def stop(self):
        alive = self.agent.proc.poll() is None
        code, output = self.agent.stop()
        return alive, code, output


def _signl_poll(signl4, user_id):
    """The watcher's poll of SIGNL4: alerts newer than the newest seen (``afterId``), keyed by external id."""
    client = support.signl4_client(signl4)
    newest = {"id": None}
    existing = list(client.alerts(user_id=user_id))
    if existing:
        newest["id"] = min(a["id"] for a in existing)  # ids sort newest first

    def poll():
        found = list(client.alerts(user_id=user_id, after_id=newest["id"]))
        if found:
            newest["id"] = min(a["id"] for a in found)
        return [(a.get("externalId"), a) for a in found]
    return client, poll


def _ticket_poll(manage, pending):
    """The watcher's poll of Manage: which of the ``pending`` tickets show the acknowledged status."""
    client = support.manage_client(manage)

    def poll():
        ids = sorted(pending)
        if not ids:
            return []
        conditions = 'id in (%s) AND status/name = "%s"' % (",".join(str(i) for i in ids), IN_PROGRESS)
        found = client.list("/service/tickets", conditions=conditions, fields="id")
        for ticket in found:
            pending.discard(ticket["id"])
        return [(ticket["id"], None) for ticket in found]
    return client, poll


def _olivia(signl4):
    with support.signl4_client(signl4) as client:
        return client.user(support.OLIVIA)["id"]


def raise_stream(deployment, gaps, watch_interval, failures):
    """Tickets created as a stream; per ticket the seconds until its Signl is listed (watcher) and by
    the emulators' own clocks (alert ``history.created`` - the ticket's creation, same machine clock)."""
    emulators = deployment.emulators
    client, poll = _signl_poll(emulators.signl4, _olivia(emulators.signl4))
    watcher = Watcher(poll, watch_interval)
    created = {}  # external id -> (monotonic, unix) when the ticket's POST returned
    with client, support.manage_client(emulators.manage) as cw:
        watcher.start()
        for number, gap in enumerate(gaps):
            time.sleep(gap)
            ticket = support.new_ticket(cw, summary="Latency %s %03d" % (deployment.name, number))
            created[str(ticket["id"])] = (time.monotonic(), time.time())
        complete = watcher.wait_all(created, timeout=3 * deployment.poll_interval + 60)
        period = watcher.finish()
    failures.check(complete, "%s: Signl missing for %d of %d tickets" % (
        deployment.name, sum(1 for k in created if k not in watcher.seen), len(created)))
    failures.check(not watcher.errors, "%s: the Signl watcher failed: %s" % (deployment.name, watcher.errors[:3]))
    seen = dict((k, v) for k, v in watcher.seen.items() if k in created)
    return dict(watched=[seen[k][0] - created[k][0] for k in seen],
                stamped=[parse_iso(seen[k][1]["history"]["created"]) - created[k][1] for k in seen],
                period=period, tickets=[int(k) for k in sorted(created, key=lambda k: created[k][0])])


def acknowledge_stream(deployment, tickets, gaps, watch_interval, failures):
    """The tickets' Signls acknowledged in SIGNL4 as a stream; per ticket the seconds until Manage shows it."""
    emulators = deployment.emulators
    pending = set()
    client, poll = _ticket_poll(emulators.manage, pending)
    watcher = Watcher(poll, watch_interval)
    acted = {}
    with client:
        watcher.start()
        for ticket_id, gap in zip(tickets, gaps):
            time.sleep(gap)
            support.act(emulators.signl4, "acknowledge", ticket_id)
            acted[ticket_id] = time.monotonic()
            pending.add(ticket_id)
        complete = watcher.wait_all(acted, timeout=3 * deployment.poll_interval + 60)
        period = watcher.finish()
    failures.check(complete, "%s: acknowledge not applied to %d of %d tickets" % (
        deployment.name, sum(1 for k in acted if k not in watcher.seen), len(acted)))
    failures.check(not watcher.errors, "%s: the ticket watcher failed: %s" % (deployment.name, watcher.errors[:3]))
    return dict(watched=[watcher.seen[k][0] - acted[k] for k in acted if k in watcher.seen], period=period)


def verify(deployment, tickets, failures):
    """Exactly one Signl per ticket, every ticket acknowledged with its owner, no 5xx, the agent alive."""
    emulators, name = deployment.emulators, deployment.name
    alerts = support.alerts(emulators.signl4)
    per_ticket = dict((t, sum(1 for a in alerts if a.get("externalId") == str(t))) for t in tickets)
    failures.check(max(per_ticket.values() or [1]) <= 1, "%s: duplicate Signls: %s" % (
        name, dict((t, n) for t, n in per_ticket.items() if n > 1)))
    with support.manage_client(emulators.manage) as cw:
        found = cw.list("/service/tickets", conditions="id in (%s)" % ",".join(str(t) for t in tickets),
                        fields="id,status/name,owner/identifier,customFields")
    wrong = [t["id"] for t in found if (t.get("owner") or {}).get("identifier") != OWNER
             or support.custom(t, "Signl4Status_c") != "Acknowledged" or t["status"]["name"] != IN_PROGRESS]
    failures.check(len(found) == len(tickets) and not wrong,
                   "%s: %d tickets without status/owner/Signl4Status_c of the acknowledge" % (name, len(wrong)))
    errors = emulators.server_errors()
    failures.check(not any(errors.values()), "%s: emulator 5xx answers: %s" % (name, errors))
    echoes = sum(1 for r in emulators.signl4.requests() if r["method"] == "POST" and r["path"].endswith("/acknowledge"))
    failures.check(echoes == 0, "%s: the agent acknowledged %d Signls SIGNL4 had acknowledged already" % (name, echoes))


def run_deployment(emulators, workdir, name, poll_interval, push, args, failures):
    count = args.samples
    deployment = Deployment(emulators, workdir, name, poll_interval, push)
    try:
        raised = raise_stream(deployment, stream_gaps(args.seed, count, args.gap_min, args.gap_max),
                              args.watch_interval, failures)
        acknowledged = acknowledge_stream(deployment, raised["tickets"],
                                          stream_gaps(args.seed + 1, count, args.gap_min, args.gap_max),
                                          args.watch_interval, failures)
        verify(deployment, raised["tickets"], failures)
        errors = metric_sum(deployment.metrics(), "signl4_agent_errors_total")
    finally:
        alive, code, output = deployment.stop()
    failures.check(alive, "%s: the agent died (exit %s): %s" % (name, code, output[-2000:]))
    return dict(raised=raised, acknowledged=acknowledged, agent_errors=errors)


# ----- idle ---------------------------------------------------------------------------------------------------

def _proc_sample(pid):
    base = "/proc/%d/" % pid
    return dict(memory_kb(Path(base + "status").read_text()), at=time.monotonic(),
                cpu=cpu_seconds(Path(base + "stat").read_text()))


def _warm_up(deployment, count):
    """A few tickets raised and acknowledged first, so the idle agent is one that has worked."""
    emulators = deployment.emulators
    with support.manage_client(emulators.manage) as cw:
        tickets = [support.new_ticket(cw, summary="Idle warm-up %d" % n)["id"] for n in range(count)]
        raised = support.wait_for(lambda: all(support.alerts(emulators.signl4, t) for t in tickets), timeout=120,
                                  interval=0.5)
        for ticket_id in tickets:
            support.act(emulators.signl4, "acknowledge", ticket_id)
        done = support.wait_for(lambda: all(cw.get("/service/tickets/%d" % t)["status"]["name"] == IN_PROGRESS
                                            for t in tickets), timeout=120, interval=0.5)
    return raised and done


def _journal_entries(emulators):
    return [(r["time"], api, r["path"]) for api, entries in emulators.journals().items() for r in entries]


def idle_run(emulators, workdir, args, failures):
    """An agent with nothing to do for ``args.idle_minutes``: calls per cycle, RSS, CPU."""
    interval = args.idle_poll_interval
    deployment = Deployment(emulators, workdir, "idle", interval, push=False)
    try:
        failures.check(_warm_up(deployment, args.idle_warmup), "idle: the warm-up tickets were not synced")
        time.sleep(2 * interval + 1)  # the cycles after the warm-up: the next ones have nothing to do
        emulators.clear_journals()
        calls_before = metric_sum(deployment.metrics(), "signl4_agent_api_calls_total")
        samples = [_proc_sample(deployment.agent.proc.pid)]
        end = samples[0]["at"] + 60 * args.idle_minutes
        while time.monotonic() < end and deployment.agent.proc.poll() is None:
            time.sleep(min(args.idle_sample, max(0.0, end - time.monotonic())))
            samples.append(_proc_sample(deployment.agent.proc.pid))
        calls_after = metric_sum(deployment.metrics(), "signl4_agent_api_calls_total")
        entries = _journal_entries(emulators)
        errors = emulators.server_errors()
    finally:
        alive, code, output = deployment.stop()
    failures.check(alive, "idle: the agent died (exit %s): %s" % (code, output[-2000:]))
    failures.check(not any(errors.values()), "idle: emulator 5xx answers: %s" % errors)
    per_cycle = cycles(entries, interval / 2.0)
    return dict(interval=interval, floor=idle_floor(deployment.config), cycles=per_cycle, journal=len(entries),
                agent_counted=calls_after - calls_before, samples=samples)


# ----- reporting ------------------------------------------------------------------------------------------------

def _fmt(value):
    return "-" if value is None else "%.3f" % value


def _row(mode, direction, summaries, periods):
    """One table row: the figures of one mode over its repetitions (median, and min-max when > 1)."""
    cells = []
    for key in ("p50", "p95", "max"):
        median, low, high = spread([s[key] for s in summaries])
        cells.append(_fmt(median) + (" (%s-%s)" % (_fmt(low), _fmt(high)) if len(summaries) > 1 else ""))
    n = "+".join(str(s["n"]) for s in summaries)
    return "| %s | %s | %s | %s | %.0f ms |" % (direction, mode, n, " | ".join(cells), 1000 * statistics.mean(periods))


def latency_tables(runs):
    """Markdown rows for ``runs`` = ``[(mode, [run result per repetition])]``."""
    lines = ["| direction | mode | n | p50 s | p95 s | max s | watch period |", "|---|---|---|---|---|---|---|"]
    for mode, reps in runs:
        lines.append(_row(mode["raise_label"], "ticket created -> Signl listed",
                          [summarize(r["raised"]["watched"]) for r in reps], [r["raised"]["period"] for r in reps]))
    for mode, reps in runs:
        lines.append(_row(mode["ack_label"], "Signl acknowledged -> ticket updated",
                          [summarize(r["acknowledged"]["watched"]) for r in reps],
                          [r["acknowledged"]["period"] for r in reps]))
    lines += ["", "Cross-check by the emulators' own clocks (alert `history.created` minus the moment the ticket's "
              "POST returned; same machine clock, no watch period), ticket created -> Signl raised:", "",
              "| mode | p50 s | p95 s | max s |", "|---|---|---|---|"]
    for mode, reps in runs:
        figures = [summarize(r["raised"]["stamped"]) for r in reps]
        cells = [_fmt(spread([f[key] for f in figures])[0]) for key in ("p50", "p95", "max")]
        lines.append("| %s | %s |" % (mode["raise_label"], " | ".join(cells)))
    return lines


def _memory_row(label, minutes, samples, key):
    values = [s[key] / 1024.0 for s in samples]
    return "| %.1f | %d | %s | %.1f | %.1f | %.1f |" % (minutes, len(samples), label, values[0], values[-1], max(values))


def idle_tables(idle):
    counts = idle["cycles"]
    manage = [c.get("manage", 0) for c in counts]
    signl4 = [c.get("signl4", 0) for c in counts]
    total = [m + s for m, s in zip(manage, signl4)]
    floor = idle["floor"]["manage"] + idle["floor"]["signl4"]
    samples = idle["samples"]
    minutes = (samples[-1]["at"] - samples[0]["at"]) / 60.0
    cpu = samples[-1]["cpu"] - samples[0]["cpu"]
    lines = ["| complete cycles | Manage calls/cycle (mean, min-max) | SIGNL4 calls/cycle | total mean | floor | ratio |",
             "|---|---|---|---|---|---|"]
    if counts:
        lines.append("| %d | %.2f (%d-%d) | %.2f (%d-%d) | %.2f | %d (%d Manage `/test` + %d SIGNL4) | %.2fx |" % (
            len(counts), statistics.mean(manage), min(manage), max(manage), statistics.mean(signl4), min(signl4),
            max(signl4), statistics.mean(total), floor, idle["floor"]["manage"], idle["floor"]["signl4"],
            statistics.mean(total) / floor))
    at_floor = sum(1 for t in total if t == floor)
    rereads = sum(1 for c in counts if c["rule_reads"])
    lines += ["", "Cycles at the floor: %d of %d; cycles that re-read workflow rules (the agent caches a rule and its "
              "events for 5 minutes): %d." % (at_floor, len(counts), rereads),
              "", "Calls in the idle window: %d in the emulators' journals, %d counted by the agent's own "
              "`signl4_agent_api_calls_total`." % (idle["journal"], idle["agent_counted"]), "",
              "| idle minutes | samples | memory, MB | start | end | max | VmHWM MB at end | CPU s (utime+stime) | CPU s per idle minute |",
              "|---|---|---|---|---|---|---|---|---|",
              _memory_row("VmRSS", minutes, samples, "rss") + " %.1f | %.2f | %.3f |" % (
                  samples[-1]["hwm"] / 1024.0, cpu, cpu / max(minutes, 1e-9)),
              _memory_row("RssAnon", minutes, samples, "anon") + " | | |"]
    return lines


def modes(args):
    """The deployments measured: push (callbacks + outbound webhook) and pull at each poll interval."""
    found = [dict(name="push", poll=args.push_poll_interval, push=True,
                  raise_label="Manage callbacks (full cycle every %g s)" % args.push_poll_interval,
                  ack_label="outbound webhook (full cycle every %g s)" % args.push_poll_interval)]
    for interval in args.poll_intervals:
        found.append(dict(name="pull%g" % interval, poll=interval, push=False,
                          raise_label="polling Manage every %g s" % interval,
                          ack_label="polling SIGNL4 every %g s" % interval))
    return found


def _print_summary(label, values):
    figures = summarize(values)
    print("  %-60s n=%d p50=%s p95=%s max=%s" % (
        label, figures["n"], _fmt(figures["p50"]), _fmt(figures["p95"]), _fmt(figures["max"])), flush=True)


def measure_latency(emulators, workdir, args, failures):
    runs = []
    for mode in modes(args):
        reps = []
        for repetition in range(args.repeat):
            print("%s, repetition %d of %d" % (mode["name"], repetition + 1, args.repeat), flush=True)
            run = run_deployment(emulators, workdir, "%s-%d" % (mode["name"], repetition), mode["poll"], mode["push"],
                                 args, failures)
            _print_summary("ticket -> Signl, " + mode["raise_label"], run["raised"]["watched"])
            _print_summary("ticket -> Signl (emulator clocks), " + mode["raise_label"], run["raised"]["stamped"])
            _print_summary("acknowledged -> ticket, " + mode["ack_label"], run["acknowledged"]["watched"])
            reps.append(run)
        runs.append((mode, reps))
    return runs


def target_line(runs):
    push = [reps for mode, reps in runs if mode["push"]]
    if not push:
        return "Target (p95 < 1 s with callbacks): not measured in this run."
    p95 = spread([summarize(r["raised"]["watched"])["p95"] for r in push[0]])[0]
    return "Target (issue 12): ticket -> Signl p95 under %.0f s with callbacks: **%s** (p95 %s s). Reference: " \
           "SIGNL4's own connector documents \"less than a minute\"." % (
               TARGET_P95, "met" if p95 is not None and p95 < TARGET_P95 else "NOT met", _fmt(p95))


def latency_section(cond, args, runs, failures):
    intro = ["Script: `tests/bench/agent_latency.py` (`make bench`)", "",
             "The agent (`python -m signl4_agent run`) and both emulators run as separate processes on this machine. "
             "Per mode, a fresh agent on freshly reset emulators; %d tickets are created as a stream (random gaps "
             "%.1f-%.1f s, seed %d) while one watcher thread polls SIGNL4's alert API (`afterId`) every %.0f ms and "
             "records when each ticket's Signl is first listed; then the same Signls are acknowledged as a SIGNL4 user "
             "(emulator control `/act`, same kind of stream, seed %d) while a watcher polls Manage for the ticket "
             "showing \"%s\" (the seed's *Signl acknowledged* action; the same PATCH sets owner and `Signl4Status_c`). "
             "Times are `time.monotonic()` in the benchmark process, from the return of the ticket's POST / the "
             "acknowledge; each figure includes up to one watch period (its mean is in the table). "
             "**push**: Manage callback (level owner) and SIGNL4 outbound webhook registered to the agent. "
             "**polling**: neither; the agent polls Manage's workflow event `/test` and SIGNL4's alerts "
             "(`signl4.poll_alerts`) every N s. Percentiles are nearest-rank; with repetitions, each cell is the "
             "median over them and (min-max)." % (
                 args.samples, args.gap_min, args.gap_max, args.seed, 1000 * args.watch_interval, args.seed + 1,
                 IN_PROGRESS)]
    lines = ["### Latency", ""] + latency_tables(runs)
    lines += ["", "Errors the agents counted (`signl4_agent_errors_total`, all kinds): %s." % ", ".join(
        "%s %s" % (mode["name"], "+".join("%.0f" % r["agent_errors"] for r in reps)) for mode, reps in runs)]
    verdict = "FAILED: " + "; ".join(failures) if failures else \
        "every Signl raised exactly once, every acknowledge applied with its owner, no 5xx, no echo, the agent alive"
    lines += ["", target_line(runs), "", "Correctness: %s." % verdict]
    return results.section("Agent latency (benchmark 1 / bench)", intro, cond, lines)


def idle_section(cond, args, idle, failures):
    intro = ["Script: `tests/bench/agent_latency.py` (`make bench`)", "",
             "One agent process (poll interval %g s, `signl4.poll_alerts: true`, no callbacks, no webhook) syncs %d "
             "warm-up tickets (raised and acknowledged), then has nothing to do for %g minutes. API calls are the "
             "emulators' journals over that window, split into cycles at pauses longer than half the poll interval "
             "(the first and last group, possibly cut by the window, left out). Floor: one `/test` per workflow "
             "event in use (trigger, re-entry after close, acknowledge, close) plus one SIGNL4 alert poll. "
             "Memory from `/proc/<pid>/status` (VmRSS, VmHWM), CPU = utime + stime from `/proc/<pid>/stat`, "
             "sampled every %g s." % (idle["interval"], args.idle_warmup, args.idle_minutes, args.idle_sample)]
    lines = ["### Idle cost", ""] + idle_tables(idle)
    lines += ["", "Correctness: %s." % ("the agent alive, no 5xx" if not failures else "FAILED: " + "; ".join(failures))]
    return results.section("Agent cost when idle (benchmark 2 / bench)", intro, cond, lines)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 tickets per mode, 1 idle minute")
    parser.add_argument("--samples", type=int, help="tickets per mode (default 200; quick 20)")
    parser.add_argument("--poll-intervals", type=float, nargs="+", default=[2.0, 10.0])
    parser.add_argument("--push-poll-interval", type=float, default=30.0,
                        help="full-cycle interval of the push deployment (the agent's default)")
    parser.add_argument("--repeat", type=int, default=1, help="repetitions of each latency mode")
    parser.add_argument("--seed", type=int, help="seed of the random gaps (default: random, printed)")
    parser.add_argument("--gap-min", type=float, default=0.1)
    parser.add_argument("--gap-max", type=float, default=0.6)
    parser.add_argument("--watch-interval", type=float, default=0.02, help="seconds between a watcher's polls")
    parser.add_argument("--idle-minutes", type=float, help="default 10; quick 1")
    parser.add_argument("--idle-poll-interval", type=float, default=2.0)
    parser.add_argument("--idle-warmup", type=int, default=10, help="tickets synced before the idle window")
    parser.add_argument("--idle-sample", type=float, default=10.0, help="seconds between /proc samples")
    parser.add_argument("--only", choices=("latency", "idle"), help="run one of the two benchmarks")
    args = parser.parse_args(argv)
    if args.samples is None:
        args.samples = 20 if args.quick else 200
    if args.idle_minutes is None:
        args.idle_minutes = 1.0 if args.quick else 10.0
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(10 ** 6)
    return args


def main(argv=None):
    args = parse_args(argv)
    cond = results.start(args.quick, seed=args.seed)
    failures = Failures()
    emulators = Emulators(timeout=120)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            if args.only in (None, "latency"):
                runs = measure_latency(emulators, Path(tmp), args, failures)
                print(target_line(runs), flush=True)
                print("wrote", results.write_section("agent-latency", latency_section(results.end(cond), args, runs,
                                                                                      list(failures))))
            if args.only in (None, "idle"):
                before = len(failures)
                idle = idle_run(emulators, Path(tmp), args, failures)
                print("\n".join(idle_tables(idle)), flush=True)
                print("wrote", results.write_section("agent-idle", idle_section(results.end(cond), args, idle, failures[before:])))
    finally:
        emulators.stop()
    print("took %.0f s" % (time.monotonic() - started))
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
