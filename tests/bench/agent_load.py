"""Benchmarks 3 and 5 of issue 12: the sync agent under a burst of new tickets and at scale.

    python -m tests.bench.agent_load [--quick] [--part burst|scale|all]

**agent-burst** (benchmark 3): the Manage emulator starts with ``--burst-tickets`` new tickets already
there (its seeding switch ``--tickets N --new-tickets N``: they exist at once, creation takes no time),
SIGNL4's emulator enforces the commercial plan's event windows (150 per 15 s, 600 per minute,
36,000 per hour; ``--rate-limit commercial``), and the agent starts as a real process
(``python -m signl4_agent run``). Measured: from the agent's start to the last Signl raised (the
alert's creation time in SIGNL4), against the floor the windows allow; 429 answers from SIGNL4's
journal, duplicates from its state (alerts per external id), after one more full cycle.

**agent-scale** (benchmark 5): the Manage emulator starts with ``--scale-tickets`` tickets of which
``--signls`` are new (the seed's own new tickets counted); the agent (``Agent.cycle()`` in a worker
process of its own, so its time is measured in-process and its memory is the process's) raises them
all in one full cycle, then runs idle cycles, then cycles every ``--poll-interval`` seconds while
``--changes-per-minute`` tickets change status (half to "In Progress" = acknowledge, half to "Closed
(resolved)" = close) for ``--minutes``. Measured per cycle: wall and CPU time of the worker, peak
resident memory (VmHWM, reset before each cycle through ``/proc/self/clear_refs``), API calls; the
state database's size (file + WAL). Every change must reach SIGNL4 (no lost transition), no Signl
twice, no 429, no 5xx.

The script exits 1 when a correctness condition fails. Run it from the repo root (``make bench``
sets PYTHONPATH).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timezone

from tests.bench import common, results
from tests.bench.procfs import memory_kb
from tests.emulators.common import CONTROL_PREFIX
from tests.emulators.harness import REPO_ROOT

from tests.agent import support  # noqa: E402 - after common, which puts the agent and the collection on sys.path
from tests.emulators.manage import seed  # noqa: E402

SCRIPT = "tests/bench/agent_load.py"
# SIGNL4's commercial plan, events (support article "Event Throttling"): (limit, seconds)
EVENT_WINDOWS = ((150, 15), (600, 60), (36000, 3600))
SEEDED_NEW = sum(1 for ticket in seed.TICKETS if ticket[3] == seed.NEW_STATUS and ticket[2] == "Service Desk")
ACKNOWLEDGED, CLOSED = 2, 4
CHANGE_TO = {ACKNOWLEDGED: "In Progress", CLOSED: "Closed (resolved)"}
STATUS_WORD = {ACKNOWLEDGED: "Acknowledged", CLOSED: "Resolved"}
FULL = dict(burst_tickets=2000, burst_runs=2, scale_tickets=50000, signls=5000, changes_per_minute=100, minutes=5.0,
            idle_cycles=5, poll_interval=30.0)
QUICK = dict(burst_tickets=300, burst_runs=1, scale_tickets=2000, signls=200, changes_per_minute=100, minutes=1.0,
             idle_cycles=3, poll_interval=15.0)


# ----- small measurements ---------------------------------------------------------------------

def event_floor(count, windows=EVENT_WINDOWS):
    """Seconds from the first to the ``count``-th event when every window is used to the full: the
    k-th event (from 0) cannot go before ``(k // limit) * seconds`` of each window, the last one
    decides."""
    return max((count - 1) // limit * seconds for limit, seconds in windows) if count else 0


def busiest(times, seconds):
    """Most events in any ``seconds`` long interval (sliding)."""
    ordered, most, first = sorted(times), 0, 0
    for last, when in enumerate(ordered):
        while when - ordered[first] >= seconds:
            first += 1
        most = max(most, last - first + 1)
    return most


def alert_time(alert):
    """Unix time of an alert's creation (SIGNL4 writes 7 fraction digits)."""
    text = alert["history"]["created"]
    return datetime.strptime(text[:26], "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()


def spread(values, unit="s", digits=2):
    """``median (min-max)`` of a list of figures."""
    if not values:
        return "-"
    fmt = "%%.%df" % digits
    return "%s%s (%s-%s)" % (fmt % statistics.median(values), " " + unit if unit else "", fmt % min(values),
                             fmt % max(values))


def db_size(path):
    """``(file, WAL)`` bytes of a SQLite state file."""
    sizes = [os.path.getsize(p) if os.path.exists(p) else 0 for p in (path, path + "-wal")]
    return sizes[0], sizes[1]


def mb(kb_or_bytes, unit_kb=True):
    return kb_or_bytes / 1024.0 if unit_kb else kb_or_bytes / (1024.0 * 1024.0)


# ----- the emulators ----------------------------------------------------------------------------

class Emulators(common.Emulators):
    """Both emulators as processes: Manage seeded with ``tickets`` of which ``new`` are new, SIGNL4
    enforcing the commercial plan's windows; the seed's custom fields and rules provisioned."""

    def __init__(self, tickets, new):
        generated_new = max(0, new - SEEDED_NEW)
        super().__init__(["--tickets", str(tickets - len(seed.TICKETS)), "--new-tickets", str(generated_new)],
                         ["--rate-limit", "commercial"], timeout=1800)
        self.start_rss = memory_kb(self.manage.proc.pid)[0]
        self.tickets, self.new = tickets, generated_new + SEEDED_NEW
        support.provision(self.manage)

    def alerts(self):
        return self.signl4.control("GET", "/state")["alerts"]

    @staticmethod
    def journal(emulator):
        """The journal's entries and how many it evicted (its memory budget)."""
        with urllib.request.urlopen(emulator.url + CONTROL_PREFIX + "/requests", timeout=120) as response:  # noqa: S310
            return json.loads(response.read()), int(response.headers.get("X-Journal-Evicted") or 0)

    def wire_problems(self):
        """``{"429": n, "5xx": n, "evicted": n}`` over both journals (429 from SIGNL4 only)."""
        s4, s4_evicted = self.journal(self.signl4)
        cw, cw_evicted = self.journal(self.manage)
        return {"429": sum(1 for e in s4 if e["status"] == 429),
                "5xx": sum(1 for e in s4 + cw if e["status"] >= 500),
                "evicted": s4_evicted + cw_evicted}


def duplicates(alerts):
    """Alerts beyond the first per external id."""
    per_ticket = {}
    for alert in alerts:
        per_ticket[alert.get("externalId")] = per_ticket.get(alert.get("externalId"), 0) + 1
    return sum(count - 1 for count in per_ticket.values())


def agent_config(workdir, emulators, name, **overrides):
    raw = support.config(workdir, emulators.manage, emulators.signl4, state={"path": str(workdir / ("%s.db" % name))},
                         manage={"timeout": 300}, signl4={"plan": "commercial", "timeout": 60}, **overrides)
    return support.write_config(workdir, raw, "%s.yml" % name), raw


# ----- benchmark 3: burst -----------------------------------------------------------------------

def metric(agent, name, **labels):
    """Sum of a metric's samples on the agent's ``/metrics`` whose labels include ``labels``."""
    return common.metric_sum((agent.get("/metrics")[1] or b"").decode(), name, **labels)


def burst_once(workdir, emulators, number):
    """One burst: the agent starts with ``emulators.new`` new tickets waiting."""
    port = support.free_port()
    path, raw = agent_config(workdir, emulators, "burst-%d" % number, port=port, poll_interval=5)
    expected = emulators.new
    limit = event_floor(expected) * 3 + 300
    started = time.time()
    agent = support.AgentProcess(path, port)
    try:
        done = support.wait_for(lambda: agent.proc.poll() is not None
                                or metric(agent, "signl4_agent_signls_raised_total") >= expected, limit, 1.0)
        # one more full cycle after the burst: it must raise nothing again
        first = support.wait_for(lambda: metric(agent, "signl4_agent_last_good_cycle_timestamp"), 120, 0.5)
        support.wait_for(lambda: metric(agent, "signl4_agent_last_good_cycle_timestamp") > first, 120, 0.5)
        agent_429 = metric(agent, "signl4_agent_api_calls_total", api="signl4", endpoint="POST /webhook/{secret}", status="429")
        rss, peak = memory_kb(agent.proc.pid)
    finally:
        code, output = agent.stop()
    if "Traceback" in output or code != 0:
        print("agent exit %s; its log ends:\n%s" % (code, output[output.find("Traceback") - 2000:][-6000:]), flush=True)
    alerts = emulators.alerts()
    times = sorted(alert_time(a) for a in alerts)
    run = dict(expected=expected, raised=len(alerts), duplicates=duplicates(alerts), exit=code, done=bool(done),
               tracebacks=output.count("Traceback"), agent_429=agent_429, rss=rss, peak=peak,
               first=times[0] - started if times else None, last=times[-1] - started if times else None,
               span=times[-1] - times[0] if times else None,
               busiest15=busiest(times, 15), busiest60=busiest(times, 60), **emulators.wire_problems())
    return run


def burst_ok(run):
    return (run["done"] and run["raised"] == run["expected"] and not run["duplicates"] and not run["429"]
            and not run["5xx"] and run["exit"] == 0 and not run["tracebacks"]
            and run["busiest15"] <= EVENT_WINDOWS[0][0] and run["busiest60"] <= EVENT_WINDOWS[1][0])


def burst(args, workdir, cond):
    emulators = Emulators(args.burst_tickets + len(seed.TICKETS), args.burst_tickets)
    runs = []
    try:
        for number in range(args.burst_runs):
            if number:
                emulators.fresh()
            run = burst_once(workdir, emulators, number)
            runs.append(run)
            print("burst %d: %d Signls, last raised %.1f s after the agent started (first %.1f s), floor %d s; "
                  "429: %d (agent saw %d), duplicates: %d, 5xx: %d, busiest 15 s / 60 s: %d / %d, exit %s"
                  % (number + 1, run["raised"], run["last"] or -1, run["first"] or -1, event_floor(run["expected"]),
                     run["429"], run["agent_429"], run["duplicates"], run["5xx"], run["busiest15"], run["busiest60"],
                     run["exit"]), flush=True)
    finally:
        emulators.stop()
    results.write_section("agent-burst", burst_markdown(args, results.end(cond), runs))
    return all(burst_ok(run) for run in runs)


def burst_markdown(args, cond, runs):
    expected = runs[0]["expected"]
    floor_exact, floor_issue = event_floor(expected), expected / 600.0 * 60
    lasts = [r["last"] for r in runs if r["last"] is not None]
    intro = [
        "Script: `%s` (`make bench`), part `burst`." % SCRIPT, "",
        "The Manage emulator starts with the new tickets already there (its seeding switch `--tickets N",
        "--new-tickets M`; the seed's own %d new tickets included): they exist at once, so creating them takes" % SEEDED_NEW,
        "no time. The SIGNL4 emulator enforces the commercial plan's event windows (`--rate-limit commercial`:",
        "150 per 15 s, 600 per minute, 36,000 per hour, fixed windows; a request over a window is answered 429",
        "and blocks the window).",
        "The agent (`python -m signl4_agent run`, poll interval 5 s, plan `commercial`) starts afterwards;",
        "time runs from its start to the creation time of the last Signl in SIGNL4 (so it includes the agent's",
        "start-up and its first page of the trigger event's `/test`). The agent is stopped after one more full",
        "cycle, which must raise nothing. 429s and 5xx are counted from the emulators' journals, duplicates",
        "from SIGNL4's state (alerts per external id); *busiest* = most Signls created in any 15 s / 60 s.", "",
        "**Floor.** The issue's floor is %d / 600 per minute = %.0f s. Exact, from both windows: the k-th event"
        % (expected, floor_issue),
        "(from 0) cannot go before (k // 150) x 15 s nor (k // 600) x 60 s after the first, so the last of %d"
        % expected,
        "goes at %d s at the earliest (the 15 s window decides; the first 150 go at once)." % floor_exact,
        "Above the floor: SIGNL4 gives `X-RateLimit-Reset` in whole seconds, and the client waits for it once",
        "a window is used up, so each 15 s window takes up to 16 s; then the last window's Signls take their",
        "own time to send."]
    body = ["### Figures", "", *burst_table("run", [(str(n), run) for n, run in enumerate(runs, start=1)], floor_issue, floor_exact),
            "", "Median of the last-raised times: %s; ratio to the issue's floor %.3f, to the exact floor %.3f."
            % (spread(lasts, digits=1), statistics.median(lasts) / floor_issue,
               statistics.median(lasts) / floor_exact if floor_exact else 0)]
    return results.section("Burst: %d new tickets at once (benchmark 3 / bench)" % expected, intro, cond, body)


def burst_table(first_column, labelled_runs, floor_issue, floor_exact):
    """The figures of bursts (``[(label, run)]``) as a Markdown table (also tests/bench/ha_bench.py's)."""
    header = ("| %s | Signls | last raised | first raised | ratio to %.0f s | ratio to %d s | 429 (agent saw) | duplicates |"
              " 5xx | busiest 15 s / 60 s | agent RSS (peak) |" % (first_column, floor_issue, floor_exact))
    return [header, "|---|---|---|---|---|---|---|---|---|---|---|"] + [
        "| %s | %d / %d | %.1f s | %.1f s | %.3f | %.3f | %d (%d) | %d | %d | %d / %d | %.1f MB (%.1f MB) |" % (
            label, run["raised"], run["expected"], run["last"] or -1, run["first"] or -1, (run["last"] or 0) / floor_issue,
            (run["last"] or 0) / floor_exact if floor_exact else 0, run["429"], run["agent_429"], run["duplicates"],
            run["5xx"], run["busiest15"], run["busiest60"], mb(run["rss"]), mb(run["peak"])) for label, run in labelled_runs]


# ----- benchmark 5: scale -----------------------------------------------------------------------

class Worker:
    """The agent in a process of its own (``tests/bench/agent_worker.py``): each ``cycle()`` runs ``Agent.cycle()`` and
    reports wall and CPU time, peak resident memory and API calls of that cycle."""

    def __init__(self, config_path, workdir):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO_ROOT, os.path.join(REPO_ROOT, "agent"),
                                                           os.path.join(REPO_ROOT, "build", "collections")]))
        self.log_path = workdir / "worker.log"
        self.log = open(self.log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.bench.agent_worker", config_path],
                                     cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        self.ready = self._answer()

    def _answer(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the agent worker died:\n%s" % self.log_path.read_text()[-3000:])
        return json.loads(line)

    def cycle(self):
        self.proc.stdin.write("cycle\n")
        self.proc.stdin.flush()
        return self._answer()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class ChangeLoad(threading.Thread):
    """``per_minute`` status changes a minute, evenly spaced, for ``minutes``: ticket ``i`` of
    ``tickets`` goes to "In Progress" (acknowledge) when ``i`` is even, "Closed (resolved)" (close)
    when odd. ``expected`` maps each changed ticket to the alert status it must reach."""

    def __init__(self, manage, tickets, per_minute, minutes):
        super().__init__(daemon=True)
        self.manage, self.per_minute = manage, per_minute
        self.tickets = tickets[:int(per_minute * minutes)]
        self.expected = {}
        self.errors = []
        self.stop_event = threading.Event()

    def run(self):
        started = time.monotonic()
        with support.manage_client(self.manage) as client:
            for number, ticket_id in enumerate(self.tickets):
                if self.stop_event.wait(max(0.0, started + number * 60.0 / self.per_minute - time.monotonic())):
                    return
                code = ACKNOWLEDGED if number % 2 == 0 else CLOSED
                try:
                    support.set_status(client, ticket_id, CHANGE_TO[code])
                    self.expected[ticket_id] = code
                except Exception as exc:  # noqa: BLE001 - counted, the run fails
                    self.errors.append("%s: %s" % (ticket_id, exc))


def scale(args, workdir, cond):
    emulators = Emulators(args.scale_tickets, args.signls)
    report = dict(tickets=args.scale_tickets, signls=emulators.new, emulator_start=emulators.manage_seconds,
                  emulator_rss=emulators.start_rss)
    print("Manage emulator: %d tickets seeded in %.1f s, RSS %.0f MB" % (
        args.scale_tickets, emulators.manage_seconds, mb(emulators.start_rss)), flush=True)
    path, raw = agent_config(workdir, emulators, "scale")
    worker = Worker(path, workdir)
    try:
        report["baseline"] = worker.ready
        ok = _scale_phases(args, emulators, worker, raw["state"]["path"], report)
    finally:
        report["worker_exit"] = worker.stop()
        report["emulator_peak"] = memory_kb(emulators.manage.proc.pid)[1]
        emulators.stop()
    ok = ok and report["worker_exit"] == 0
    results.write_section("agent-scale", scale_markdown(args, results.end(cond), report))
    return ok


def _scale_phases(args, emulators, worker, db_path, report):
    full = report["full"] = worker.cycle()
    report["db_full"] = db_size(db_path)
    alerts = emulators.alerts()
    report["raised_alerts"], report["duplicates_full"] = len(alerts), duplicates(alerts)
    print("full cycle: %d Signls raised in %.1f s wall, %.1f s CPU, peak RSS %.1f MB; state DB %.0f kB + WAL %.0f kB"
          % (full["raised"], full["wall"], full["cpu"], mb(full["peak"]), report["db_full"][0] / 1024.0,
             report["db_full"][1] / 1024.0), flush=True)
    report["idle"] = [worker.cycle() for unused in range(args.idle_cycles)]
    idle = report["idle"]
    print("idle cycles: wall %s, CPU %s, peak RSS %s, API calls %s" % (
        spread([c["wall"] for c in idle]), spread([c["cpu"] for c in idle]),
        spread([mb(c["peak"]) for c in idle], "MB", 1), spread([c["calls"] for c in idle], "", 0)), flush=True)
    report["query_seconds"] = _one_test_query(emulators)
    tickets = sorted(int(a["externalId"]) for a in alerts)
    load = ChangeLoad(emulators.manage, tickets, args.changes_per_minute, args.minutes)
    report["loaded"] = _cycles_under_load(load, worker, args.poll_interval)
    report["settle"] = worker.cycle()  # the changes of the last interval
    report["db_end"] = db_size(db_path)
    report.update(_verify_changes(emulators, load))
    report.update(emulators.wire_problems())
    loaded = report["loaded"]
    print("under load (%d changes): %d cycles, wall %s, CPU %s, peak RSS %s; lost transitions %d, spurious %d, "
          "duplicates %d, 429 %d, 5xx %d" % (
              len(load.expected), len(loaded), spread([c["wall"] for c in loaded]), spread([c["cpu"] for c in loaded]),
              spread([mb(c["peak"]) for c in loaded], "MB", 1), report["lost"], report["spurious"],
              report["duplicates"], report["429"], report["5xx"]), flush=True)
    cycles = [full] + idle + loaded + [report["settle"]]
    errors = [c["error"] for c in cycles if c["error"]] + load.errors
    report["errors"] = errors
    return not (errors or report["lost"] or report["spurious"] or report["duplicates"] or report["429"]
                or report["5xx"] or report["duplicates_full"] or report["raised_alerts"] != emulators.new)


def _one_test_query(emulators):
    """Seconds the Manage emulator takes for one page of the trigger event's ``/test`` (what an idle
    cycle waits for, four times)."""
    with support.manage_client(emulators.manage) as client:
        rule = client.list("/system/workflows", conditions='name = "SIGNL4 - Trigger Signls"')[0]
        event = client.list("/system/workflows/%d/events" % rule["id"])[0]
        started = time.monotonic()
        client.list("/system/workflows/%d/events/%d/test" % (rule["id"], event["id"]), page_size=100)
        return time.monotonic() - started


def _cycles_under_load(load, worker, interval):
    cycles = []
    load.start()
    try:
        while load.is_alive():
            started = time.monotonic()
            cycles.append(worker.cycle())
            print("  cycle under load: %.1f s wall, %.1f s CPU, %d transitions, %d calls" % (
                cycles[-1]["wall"], cycles[-1]["cpu"], cycles[-1]["transitions"], cycles[-1]["calls"]), flush=True)
            load.join(max(0.0, started + interval - time.monotonic()))
    finally:
        load.stop_event.set()
        load.join()
    return cycles


def _verify_changes(emulators, load):
    """Every changed ticket's Signl in the state its change asks for; every other one still open."""
    alerts = emulators.alerts()
    status = dict((int(a["externalId"]), a["status"]["statusCode"]) for a in alerts)
    lost = sum(1 for ticket_id, code in load.expected.items() if status.get(ticket_id) != code)
    spurious = sum(1 for ticket_id, code in status.items() if ticket_id not in load.expected and code != 1)
    with support.manage_client(emulators.manage) as client:
        unrecorded = sum(1 for ticket_id, code in load.expected.items()
                         if support.custom(client.get("/service/tickets/%d" % ticket_id), "Signl4Status_c")
                         != STATUS_WORD[code])
    return dict(changes=len(load.expected), lost=lost + unrecorded, spurious=spurious, duplicates=duplicates(alerts))


def scale_markdown(args, cond, r):
    full, idle, loaded = r["full"], r["idle"], r["loaded"]
    intro = [
        "Script: `%s` (`make bench`), part `scale`." % SCRIPT, "",
        "The Manage emulator starts with %d tickets (seeding switch; %d of them new, the seed's %d included),"
        % (r["tickets"], r["signls"], SEEDED_NEW),
        "SIGNL4's emulator enforces the commercial plan's windows. The agent runs in a worker process of its own",
        "(`Agent.cycle()` called in-process, so a cycle's time is measured there; the process's memory is the",
        "agent's): one **full** cycle raises every Signl (it cannot beat SIGNL4's event rate: %d s at the least"
        % event_floor(r["signls"]),
        "for %d Signls), then %d **idle** cycles, then cycles every %.0f s while %d tickets a minute change"
        % (r["signls"], len(idle), args.poll_interval, args.changes_per_minute),
        "status for %.0f minute(s) (even ones to \"In Progress\" = acknowledge, odd ones to \"Closed (resolved)\""
        % args.minutes,
        "= close), and one more cycle for the last changes. *Wall* and *CPU* are the worker's (CPU = the agent's",
        "own work; the rest of the wall time is waiting for the emulators and for SIGNL4's rate windows).",
        "*Peak RSS* is VmHWM, reset before each cycle (`/proc/self/clear_refs`). The state DB size is the",
        "SQLite file plus its WAL. Correctness: every changed ticket's Signl acknowledged/closed in SIGNL4 and",
        "its `Signl4Status_c` written (else *lost*), no other Signl moved (*spurious*), one Signl per ticket,",
        "no 429, no 5xx. The full cycle is above its floor for the reason the burst is (whole-second",
        "`X-RateLimit-Reset`: up to 16 s per 15 s window). An idle cycle's floor is 4 calls (one `/test` per",
        "event in use); one that finds a workflow rule's 5-minute cache expired reads that rule again (2 more)."]
    rows = [
        ("Manage emulator start with %d tickets" % r["tickets"],
         "%.1f s, RSS %.0f MB (peak %.0f MB during the run)" % (r["emulator_start"], mb(r["emulator_rss"]),
                                                                mb(r["emulator_peak"]))),
        ("one `/test` of the trigger event (Manage emulator)", "%.2f s" % r["query_seconds"]),
        ("agent worker after start", "RSS %.1f MB" % mb(r["baseline"]["rss"])),
        ("full cycle (%d Signls raised)" % full["raised"],
         "wall %.1f s (%.3fx the %d s floor), CPU %.1f s, peak RSS %.1f MB, %d API calls" % (
             full["wall"], full["wall"] / max(1, event_floor(r["signls"])), event_floor(r["signls"]), full["cpu"],
             mb(full["peak"]), full["calls"])),
        ("idle cycle (x%d)" % len(idle),
         "wall %s, CPU %s, peak RSS %s, API calls %s" % (
             spread([c["wall"] for c in idle]), spread([c["cpu"] for c in idle], digits=3),
             spread([mb(c["peak"]) for c in idle], "MB", 1), spread([c["calls"] for c in idle], "", 0))),
        ("cycle under %d changes/min (x%d)" % (args.changes_per_minute, len(loaded)),
         "wall %s, CPU %s, peak RSS %s, transitions per cycle %s" % (
             spread([c["wall"] for c in loaded]), spread([c["cpu"] for c in loaded], digits=3),
             spread([mb(c["peak"]) for c in loaded], "MB", 1), spread([c["transitions"] for c in loaded], "", 0))),
        ("state DB after the full cycle", "%.0f kB + WAL %.0f kB" % (r["db_full"][0] / 1024.0, r["db_full"][1] / 1024.0)),
        ("state DB at the end", "%.0f kB + WAL %.0f kB" % (r["db_end"][0] / 1024.0, r["db_end"][1] / 1024.0)),
        ("changes / lost / spurious", "%d / %d / %d" % (r["changes"], r["lost"], r["spurious"])),
        ("duplicates, 429, 5xx, cycle errors", "%d, %d, %d, %d" % (r["duplicates"], r["429"], r["5xx"],
                                                                   len(r["errors"]))),
    ]
    return results.section("Scale: %d tickets, %d open Signls, %d changes a minute (benchmark 5 / bench)"
                           % (r["tickets"], r["signls"], args.changes_per_minute), intro, cond,
                           ["### Figures", "", *results.table(("what", "figure"), rows)])


# ----- entry point ------------------------------------------------------------------------------

def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("burst", "scale", "all"), default="all")
    return results.sized_args(parser, FULL, QUICK, argv)


def main(argv=None):
    args = parse(argv)
    return results.run_parts("agent_load", "agent", dict(burst=burst, scale=scale), args,
                             ", ".join("%s=%s" % (k, getattr(args, k)) for k in FULL))


if __name__ == "__main__":
    sys.exit(main())
