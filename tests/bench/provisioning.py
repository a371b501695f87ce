"""Benchmark 4, provisioning: the seed set with this collection vs. a hand-written uri playbook.

Starts the Manage and SIGNL4 emulators as real processes on 127.0.0.1 and, at each emulated latency
per request, runs both playbooks through three phases on freshly reset emulators:

    first       the first real run on the empty system
    no-change   the same playbook again once everything exists (nothing may be written)
    check       ``ansible-playbook --check`` once everything exists (drift detection; nothing written)

Between ``first`` and ``no-change`` the benchmark sets the security role's permission levels through
the emulator's test control, as the administrator does in Manage's UI (REST cannot write them).
Once per benchmark (first latency, first repetition) each tool also runs ``--check`` on the empty
system (``check-empty``, the preview before the first run); that run is reported apart, not repeated.

For every run it records the API calls from the emulators' journals (Manage and SIGNL4 apart), the wall
time and the CPU time of ansible-playbook and all its children (user + sys). Each cell is repeated,
the two tools alternating which goes first, and reported as median and spread (min-max). The no-change
run's calls are also given as a ratio to the read floor, computed from the seed data by
:func:`read_floor`. Results go to stdout and to ``tests/bench/RESULTS.md``.

    python -m tests.bench.provisioning            # full: latency 0, 0.1, 0.25 s; 3 repetitions
    python -m tests.bench.provisioning --quick    # latency 0 only, 1 repetition (a smoke run)
"""

import argparse
import base64
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import yaml

from tests.bench import common, results as results_file
from tests.emulators.harness import REPO_ROOT

BENCH_DIR = os.path.join(REPO_ROOT, "tests", "bench")
DATA_DIR = os.path.join(REPO_ROOT, "tests", "integration", "data")
PLAYBOOKS = {
    "collection": os.path.join("tests", "bench", "provision_collection.yml"),
    "uri": os.path.join("tests", "bench", "baseline", "provision_uri.yml"),
}
TOOLS = ("collection", "uri")
PHASES = ("first", "no-change", "check")

CW = dict(company_id="signl4demo", public_key="demopublic", private_key="demoprivate",
          client_id="00000000-0000-4000-8000-000000000001", codebase="v2025_1/")
S4 = dict(api_key="demo-signl4-api-key", team_secret="demoteamsecret")
LEVEL_KEYS = (("add_level", "add"), ("edit_level", "edit"), ("delete_level", "delete"), ("inquire_level", "inquire"))


# ----- the seed set and its read floor ---------------------------------------------------------

def load_seed():
    def read(path):
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    seed = read(os.path.join(BENCH_DIR, "seed.yml"))
    seed["rules"] = read(os.path.join(DATA_DIR, "seed_workflow_rules.yml"))
    seed["role"] = read(os.path.join(DATA_DIR, "seed_security_role.yml"))
    return seed


def read_floor(seed):
    """The fewest GETs that still compare every managed key of the seed set, as ``[(what, gets, system)]``.

    One GET per object that must be compared. Where Manage returns an object only together with its
    siblings (a rule's events, an event's actions, an action's custom-field values), that one list GET
    counts once. Nested lists that the seed does not declare are not read: an omitted list changes
    nothing. SIGNL4's instance list does not carry an instance's ``config``, so the connector costs a
    list and a detail GET. Name lookups are not part of the floor; :func:`unavoidable_lookups` lists them.
    """
    events = [event for rule in seed["rules"] for event in rule.get("events", [])]
    with_actions = [event for event in events if event.get("actions") is not None]
    actions = [action for event in with_actions for action in event["actions"]]
    with_values = [action for action in actions if action.get("custom_fields") is not None]
    return [
        ("custom fields, one list GET for their pod (all in bench_custom_field_pod)", 1, "Manage"),
        ("workflow rules, one GET each", len(seed["rules"]), "Manage"),
        ("events, one list GET per rule", len(seed["rules"]), "Manage"),
        ("actions, one list GET per event that declares actions", len(with_actions), "Manage"),
        ("action custom-field values, one list GET per action that declares them", len(with_values), "Manage"),
        ("security role", 1, "Manage"),
        ("security role permission levels (settings list)", 1 if seed["role"].get("permissions") else 0, "Manage"),
        ("API member", 1, "Manage"),
        ("callback (the callbacks of its type, level and object)", 1, "Manage"),
        ("outbound webhook (the subscription's webhook list)", 1, "SIGNL4"),
        ("connector instance (instance list, then the instance for its config)", 2, "SIGNL4"),
    ]


def unavoidable_lookups():
    """Name -> id lookups a comparison by name needs because the API keeps only the id."""
    return [("the callback's board (objectId is a board id)", 1, "Manage"),
            ("the SIGNL4 team, once for the connector and once for the webhook (both hold a team id)", 2, "SIGNL4")]


# ----- emulators ---------------------------------------------------------------------------------

class Systems(common.Emulators):
    """Both emulators, with the helpers the benchmark needs between runs."""

    def __init__(self):
        super().__init__(["--codebase", CW["codebase"]])

    def env(self):
        return {"BENCH_CW_URL": self.manage.url, "BENCH_CW_COMPANY_ID": CW["company_id"],
                "BENCH_CW_PUBLIC_KEY": CW["public_key"], "BENCH_CW_PRIVATE_KEY": CW["private_key"],
                "BENCH_CW_CLIENT_ID": CW["client_id"], "BENCH_CW_CODEBASE": CW["codebase"], "BENCH_SIGNL4_URL": self.signl4.url,
                "BENCH_SIGNL4_API_KEY": S4["api_key"], "BENCH_SIGNL4_TEAM_SECRET": S4["team_secret"]}

    def reset(self, latency):
        for emulator in (self.manage, self.signl4):
            emulator.reset()  # seeded state, empty journal, latency 0
        self.set_latency(latency)

    def set_latency(self, latency):
        for emulator in (self.manage, self.signl4):
            emulator.set_latency(latency)

    # The benchmark's own reads below are journaled; callers clear the journals afterwards.
    def manage_get(self, path, **query):
        auth = base64.b64encode(("%s+%s:%s" % (CW["company_id"], CW["public_key"], CW["private_key"])).encode()).decode()
        url = "%s/%sapis/3.0%s" % (self.manage.url, CW["codebase"], path)
        if query:
            url += "?" + urllib.parse.urlencode(query)
        request = urllib.request.Request(url, headers={"Authorization": "Basic " + auth, "clientId": CW["client_id"]})
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
            return json.loads(response.read() or b"null")

    def signl4_get(self, path, ok_404=False):
        request = urllib.request.Request(self.signl4.url + "/api/v2" + path, headers={"X-S4-Api-Key": S4["api_key"]})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            if ok_404 and err.code == 404:
                return []
            raise

    def set_role_levels(self, role):
        """What the administrator clicks in Manage's UI: the declared levels on the created role."""
        found = self.manage_get("/system/securityroles", conditions='name="%s"' % role["name"])
        if not found:
            return False
        body = [dict({"module": p["module"], "function": p["function"]},
                     **{short: p[option] for option, short in LEVEL_KEYS if option in p}) for p in role["permissions"]]
        self.manage.control("POST", "/securityRoles/%d/settings" % found[0]["id"], body)
        return True

    def snapshot(self, seed):
        """The provisioned objects without ids and timestamps, to check both tools built the same thing."""
        names = [f["caption"] for f in seed["bench_custom_fields"]]
        fields = [pick(f, "caption podId fieldTypeIdentifier entryTypeIdentifier sequenceNumber helpText "
                          "displayOnScreenFlag readOnlyFlag") for f in self.manage_get("/system/userDefinedFields", pageSize=1000)
                  if f["caption"] in names]
        rules = []
        for rule in self.manage_get("/system/workflows", pageSize=1000):
            events = []
            for event in self.manage_get("/system/workflows/%d/events" % rule["id"], pageSize=1000):
                actions = []
                for action in self.manage_get("/system/workflows/%d/events/%d/actions" % (rule["id"], event["id"]), pageSize=1000):
                    values = self.manage_get("/system/workflows/userdefinedfields/events/%d/actions/%d" % (event["id"], action["id"]))
                    actions.append(dict(notifyType=name_of(action.get("notifyType")), boardStatus=name_of(action.get("boardStatus")),
                                        values=sorted((v["caption"], v.get("value")) for v in values)))
                events.append(dict(pick(event, "name eventCondition executionTime"), actions=sorted(actions, key=repr)))
            rules.append(dict(name=rule["name"], tableType=name_of(rule.get("tableType")), board=name_of(rule.get("board")),
                              activateFlag=rule.get("activateFlag"), events=sorted(events, key=repr)))
        members = [dict(pick(m, "identifier name emailAddress inactiveFlag"),
                        **{key: name_of(m.get(key)) for key in ("securityRole", "defaultLocation", "defaultDepartment",
                                                                "serviceDefaultBoard")})
                   for m in self.manage_get("/system/apiMembers", pageSize=1000)]
        callbacks = [pick(c, "url type level objectId description isSelfSuppressedFlag inactiveFlag")
                     for c in self.manage_get("/system/callbacks", pageSize=1000)]
        roles = sorted(r["name"] for r in self.manage_get("/system/securityroles", pageSize=1000))
        webhooks = [pick(w, "name extUrl description teamId enabled") for w in self.signl4_get("/webhooks", ok_404=True)]
        instances = [pick(self.signl4_get("/scripts/instances/%s" % i["instanceId"]), "scriptName teamId enabled config")
                     for i in self.signl4_get("/scripts/instances")]
        return dict(custom_fields=sorted(fields, key=repr), rules=sorted(rules, key=repr), roles=roles,
                    api_members=members, callbacks=callbacks, webhooks=webhooks, connectors=instances)


def pick(record, keys):
    return {key: record.get(key) for key in keys.split()}


def name_of(reference):
    return (reference or {}).get("name")


# ----- one playbook run --------------------------------------------------------------------------

FAILED_TASK = re.compile(r"^TASK \[(?P<task>.*)\]")


def failed_tasks(output):
    """Names of the tasks that failed (their errors ignored), in order, once each."""
    failed, task = [], None
    for line in output.splitlines():
        match = FAILED_TASK.match(line)
        if match:
            task = match.group("task")
        elif (line.startswith("fatal:") or line.startswith("failed:")) and task and task not in failed:
            failed.append(task)
    return failed


def recap(output):
    for line in output.splitlines():
        if line.startswith("localhost") and "ok=" in line:
            return {k: int(v) for k, v in (part.split("=") for part in line.split(":", 1)[1].split())}
    return {}


def run_playbook(tool, systems, check):
    env = dict(os.environ)
    env.update(systems.env())
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO_ROOT, "build", "collections"),
        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0", "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "PYTHONPATH": REPO_ROOT,
    })
    # The collection's tasks share the discovered codebase through a run cache that outlives the run (5 min);
    # each run starts with an empty one (the benchmark gives cw_codebase anyway, as the uri playbook has it).
    run_cache = tempfile.mkdtemp(prefix="bench-run-cache-")
    env["SIGNL4_CONNECTWISE_RUN_CACHE"] = os.path.join(run_cache, "cache")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), PLAYBOOKS[tool]]
    if check:
        command.append("--check")
    systems.clear_journals()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    result = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800, check=False)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(run_cache, ignore_errors=True)
    journal = systems.journals()
    manage, signl4 = journal["manage"], journal["signl4"]
    output = result.stdout + result.stderr
    return {
        "rc": result.returncode, "wall": wall, "endpoints": endpoints(manage, "Manage") + endpoints(signl4, "SIGNL4"),
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "manage": len(manage), "signl4": len(signl4), "calls": len(manage) + len(signl4),
        "reads": sum(1 for r in manage + signl4 if r["method"] == "GET"),
        "writes": sum(1 for r in manage + signl4 if r["method"] != "GET"),
        "repeated_gets": repeated_gets(manage + signl4),
        "errors": sum(1 for r in manage + signl4 if r["status"] >= 400 and not (r["status"] == 404 and r["method"] == "GET")),
        "tasks": sum(recap(result.stdout).get(key, 0) for key in ("ok", "skipped", "failed", "ignored")),
        "recap": recap(result.stdout), "failed_tasks": failed_tasks(result.stdout),
        "tail": output[-2500:] if result.returncode else "",
    }


ID_SEGMENT = re.compile(r"/(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?=/|$)", re.IGNORECASE)
CODEBASE = re.compile(r"^/v\d+_\d+/apis/3\.0|^/api", re.IGNORECASE)


def endpoints(journal, system):
    """``[(system, "GET /system/workflows/{id}/events")]``: each call's method and path, ids folded."""
    return [(system, "%s %s" % (r["method"], ID_SEGMENT.sub("/{id}", CODEBASE.sub("", r["path"])))) for r in journal]


def repeated_gets(journal):
    """GETs of a URL already fetched in the same run."""
    seen, repeats = set(), 0
    for entry in journal:
        if entry["method"] == "GET":
            repeats += entry["raw_path"] in seen
            seen.add(entry["raw_path"])
    return repeats


def run_tool(tool, systems, seed, latency, once):
    """The phases of one tool on freshly reset emulators; returns ``{phase: run}`` and, when ``once``,
    the state after the first run (and the extra ``check-empty`` run)."""
    runs = {}
    systems.reset(latency)
    if once:
        runs["check-empty"] = run_playbook(tool, systems, check=True)
    runs["first"] = run_playbook(tool, systems, check=False)
    systems.set_latency(0)  # the benchmark's own reads are not measured: no need to wait for them
    runs["role_levels_set"] = systems.set_role_levels(seed["role"])
    state = systems.snapshot(seed) if once else None
    systems.set_latency(latency)
    runs["no-change"] = run_playbook(tool, systems, check=False)
    runs["check"] = run_playbook(tool, systems, check=True)
    return runs, state


# ----- statistics and reporting ------------------------------------------------------------------

def spread(values, fmt):
    median = statistics.median(values)
    if min(values) == max(values):
        return fmt % median
    return "%s (%s-%s)" % (fmt % median, fmt % min(values), fmt % max(values))


def ratio(a, b):
    return a / b if b else float("nan")


def summarise(results, latencies):
    """``{latency: {phase: {tool: {metric: [values]}}}}`` from the raw runs."""
    table = {}
    for latency in latencies:
        table[latency] = {}
        for phase in PHASES:
            table[latency][phase] = {}
            for tool in TOOLS:
                runs = [rep[tool][phase] for rep in results[latency]]
                table[latency][phase][tool] = {key: [run[key] for run in runs]
                                               for key in ("calls", "manage", "signl4", "wall", "cpu", "writes",
                                                           "repeated_gets", "tasks")}
    return table


def report_rows(table, latency, floor):
    rows = []
    for phase in PHASES:
        cells = table[latency][phase]
        for tool in TOOLS:
            c = cells[tool]
            rows.append("| %s | %s | %s (%s + %s) | %s | %s | %s | %s | %s |" % (
                phase, tool, spread(c["calls"], "%d"), spread(c["manage"], "%d"), spread(c["signl4"], "%d"),
                spread(c["writes"], "%d"), spread(c["repeated_gets"], "%d"), spread(c["tasks"], "%d"),
                spread(c["wall"], "%.2f"), spread(c["cpu"], "%.2f")))
        col, uri = cells["collection"], cells["uri"]
        rows.append("| %s | **collection / uri** | **%.2fx** | | | | **%.2fx** | **%.2fx** |" % (
            phase, ratio(statistics.median(col["calls"]), statistics.median(uri["calls"])),
            ratio(statistics.median(col["wall"]), statistics.median(uri["wall"])),
            ratio(statistics.median(col["cpu"]), statistics.median(uri["cpu"]))))
    nochange = table[latency]["no-change"]
    floor_line = "no-change calls / read floor (%d): collection %.2fx, uri %.2fx" % (
        floor, ratio(statistics.median(nochange["collection"]["calls"]), floor),
        ratio(statistics.median(nochange["uri"]["calls"]), floor))
    return rows, floor_line


HEADER = ("| phase | tool | API calls (Manage + SIGNL4) | writes | repeated GETs | tasks run | wall s | CPU s (user+sys) |\n"
          "|---|---|---|---|---|---|---|---|")


def problems_of(results, latencies):
    """Failed tasks, non-zero exit codes, writes in runs that must not write, and so on, once each."""
    notes = []
    for latency, tool, phase, run, label in each_run(results, latencies):
        if run["failed_tasks"]:
            notes.append("%s: failed task(s), errors ignored so the rest ran: %s" % (label, "; ".join(run["failed_tasks"])))
        if run["rc"]:
            notes.append("%s: ansible-playbook exited %d" % (label, run["rc"]))
        if phase != "first" and run["writes"]:
            notes.append("%s: %d write(s) in a run that must not write" % (label, run["writes"]))
        if phase == "no-change" and run["recap"].get("changed"):
            notes.append("%s: %d task(s) reported changed" % (label, run["recap"]["changed"]))
    notes += ["%s (latency %.2f s): the security role did not exist after the first run" % (tool, latency)
              for latency in latencies for rep in results[latency] for tool in TOOLS if not rep[tool]["role_levels_set"]]
    return list(dict.fromkeys(notes))


def each_run(results, latencies):
    """``(latency, tool, phase, run, label)`` of every playbook run, in order."""
    for latency in latencies:
        for rep in results[latency]:
            for tool in TOOLS:
                for phase in [p for p in ("check-empty",) + PHASES if p in rep[tool]]:
                    yield latency, tool, phase, rep[tool][phase], "%s %s (latency %.2f s)" % (tool, phase, latency)


def once_rows(results, latencies):
    """The ``check-empty`` runs (first latency, first repetition): one row per tool."""
    first = results[latencies[0]][0]
    rows = []
    for tool in TOOLS:
        run = first[tool]["check-empty"]
        rows.append("| check-empty | %s | %d (%d + %d) | %d | %d | %d | %.2f | %.2f |" % (
            tool, run["calls"], run["manage"], run["signl4"], run["writes"], run["repeated_gets"], run["tasks"],
            run["wall"], run["cpu"]))
        if run["failed_tasks"]:
            rows.append("| | %s: failed tasks | %s | | | | | |" % (tool, "; ".join(run["failed_tasks"])))
    return rows


def endpoint_rows(results, latencies, phase):
    """Calls per endpoint of one run of each tool (first latency, first repetition), side by side."""
    first = results[latencies[0]][0]
    counts = {tool: {} for tool in TOOLS}
    for tool in TOOLS:
        for key in first[tool][phase]["endpoints"]:
            counts[tool][key] = counts[tool].get(key, 0) + 1
    keys = sorted(set(counts["collection"]) | set(counts["uri"]))
    rows = ["| system | endpoint | collection | uri |", "|---|---|---|---|"]
    rows += ["| %s | `%s` | %d | %d |" % (key[0], key[1], counts["collection"].get(key, 0), counts["uri"].get(key, 0))
             for key in keys]
    rows.append("| | **total** | **%d** | **%d** |" % (sum(counts["collection"].values()), sum(counts["uri"].values())))
    return rows


def render(args, cond, seed, table, latencies, problems, state_note, sample_tails, results):
    floor_items = read_floor(seed)
    floor = sum(n for _what, n, _system in floor_items)
    lookups = unavoidable_lookups()
    lines = ["## Provisioning (benchmark 4)", "",
             "Script: `tests/bench/provisioning.py` (`make bench`).", "",
             "The seed set (3 custom fields; the 3 `SIGNL4 - ...` workflow rules with their 7 events, 4 actions",
             "and 2 action custom-field values; the least-privilege security role; the API member; a Manage",
             "callback; the SIGNL4 connector app instance; an outbound webhook) provisioned on the emulators",
             "(real HTTP servers on 127.0.0.1) by:", "",
             "- **collection**: `tests/bench/provision_collection.yml`, one task per kind of object with this",
             "  collection's modules;",
             "- **uri**: `tests/bench/baseline/provision_uri.yml`, the same objects with `ansible.builtin.uri` only,",
             "  written as a competent engineer would: it reads before it writes, compares the same keys, skips",
             "  what matches, PATCHes only what differs and reads no nested list the seed does not declare.", "",
             "Phases, in this order on freshly reset emulators: **first** = the first run on the empty system;",
             "**no-change** = the re-run once everything exists (before it, the role's permission levels are",
             "set through the emulator's control, as an administrator does in the UI; REST cannot write them);",
             "**check** = `--check` once everything exists (drift detection). Latency is added by the emulator to every",
             "API request. Each cell: median (min-max) over %d repetition(s), the two tools alternating which" % args.repeat,
             "goes first. CPU = user + sys of ansible-playbook and all its children. API calls come from the",
             "emulators' journals (the benchmark's own control calls are not journaled); *repeated GETs* are",
             "GETs of a URL already fetched in the same run; *tasks run* = ok + skipped + failed + ignored in",
             "the play recap (Ansible's per-task cost is most of the wall time at low latency). Both",
             "playbooks run with Ansible's defaults (linear strategy, no pipelining, local connection). Each",
             "run starts with an empty run cache of its own (`SIGNL4_CONNECTWISE_RUN_CACHE`, which holds only the",
             "discovered codebase); each of the collection's tasks reads what it compares and looks names up itself.", "",
             "### Conditions", "",
             *results_file.conditions_lines(dict(cond, mode="quick (latency 0 only, 1 repetition)" if args.quick else "full")), ""]
    lines += ["### Summary: collection / uri (medians)", "",
              "| latency s | first: calls, wall, CPU | no-change: calls, wall, CPU | check: calls, wall, CPU | "
              "no-change calls / floor (collection, uri) |", "|---|---|---|---|---|"]
    for latency in latencies:
        cells = []
        for phase in PHASES:
            col, uri = table[latency][phase]["collection"], table[latency][phase]["uri"]
            cells.append(", ".join("%.2fx" % ratio(statistics.median(col[key]), statistics.median(uri[key]))
                                   for key in ("calls", "wall", "cpu")))
        nochange = table[latency]["no-change"]
        cells.append("%.2fx, %.2fx" % (ratio(statistics.median(nochange["collection"]["calls"]), floor),
                                       ratio(statistics.median(nochange["uri"]["calls"]), floor)))
        lines.append("| %.2f | %s |" % (latency, " | ".join(cells)))
    lines += ["", "Issue 20's budget (the tasks of a run share nothing but the codebase): no-change calls at most 26;",
              "no-change wall at 0.25 s latency at most 0.55x the uri playbook's.", ""]
    for latency in latencies:
        rows, floor_line = report_rows(table, latency, floor)
        lines += ["### Latency %.2f s per request" % latency, "", HEADER] + rows + ["", floor_line, ""]
    lines += ["### Check on the empty system (once, latency %.2f s)" % latencies[0], "",
              "`--check` before the first run (the preview). Not repeated and not a fair comparison: the",
              "uri playbook reads only top-level objects and skips every write, and objects that depend on",
              "objects created earlier in the same run cannot be resolved in check mode.", "", HEADER]
    lines += once_rows(results, latencies) + [""]
    lines += ["### Where the no-change calls go (latency %.2f s, first repetition)" % latencies[0], "",
              "Ids folded to `{id}`; query strings left out.", ""]
    lines += endpoint_rows(results, latencies, "no-change") + [""]
    lines += ["### The read floor: %d GETs" % floor, "",
              "One GET per object that must be compared. Where Manage returns an object only together with its",
              "siblings (a rule's events, an event's actions, an action's custom-field values), that list GET",
              "counts once; nested lists the seed does not declare need no read (an omitted list changes",
              "nothing). Computed from the seed data by `read_floor()`:", "",
              "| what | GETs | system |", "|---|---|---|"]
    lines += ["| %s | %d | %s |" % item for item in floor_items]
    lines += ["| **read floor** | **%d** | |" % floor, "",
              "Not in the floor, but needed by any comparison that starts from names, because the API keeps only",
              "an id there: %s. Floor plus these lookups: %d GETs. Codebase discovery" % (
                  "; ".join("%s (%d, %s)" % item for item in lookups), floor + sum(n for _w, n, _s in lookups)),
              "(`/login/companyinfo`) is not needed either: the uri playbook has the codebase in its URL, and the",
              "collection's tasks are given the same codebase through `cw_codebase` (without it, the first Manage",
              "task of a run discovers it once: one more call).", "",
              "The collection reads independent things of one task at the same time: a callback's board lookup",
              "with the callbacks of its type and level, the SIGNL4 team lookup with the app instances or the",
              "webhooks, a rule's action lists and action values event by event. Its first run reads more than the",
              "uri playbook's: each created object is read back once (two runs creating the same object at once",
              "must end with one), and names are looked up and checked before the first write (table and notify",
              "types, statuses, the custom fields an action sets, the app catalogue) where the uri playbook writes",
              "names and lets the API refuse them.", ""]
    lines += ["### State check", "", state_note, ""]
    lines += ["### Problems seen in these runs", ""]
    lines += ["- %s" % note for note in problems] or ["- none: every run exited 0, no failed task, no write in a check or no-change run."]
    for label, tail in sample_tails:
        lines += ["", "Last lines of %s:" % label, "", "```", tail.strip(), "```"]
    lines += ["", "### Limits of the uri playbook (what the collection does and it does not)", "",
              "- No `--check` support in `ansible.builtin.uri`: its reads carry `check_mode: false`, its writes are",
              "  skipped, so `--check` says nothing about what would change, and it cannot show a `--diff`.",
              "- No nested drift report: a difference shows as a changed task, not as a per-event/per-action diff.",
              "- No input validation before writing: a typo in a board, status or notify type name fails at the",
              "  write, after earlier objects were already written (the collection resolves every name first).",
              "- References are written by name, which the emulator (and Manage for many references) resolves; an",
              "  instance that insists on ids needs one lookup per name on writes.",
              "- Names are matched exactly (the collection ignores case); actions are matched by notify type only",
              "  (no recipient key); one page of results is read (`pageSize=1000`, no paging).",
              "- Secrets are not masked in its output beyond `no_log` on the tasks whose bodies hold them;",
              "  the security role's levels are only reported, like the collection's `on_matrix_drift: warn`.", "",
              "### Reproduce", "",
              "```", "make bench                                   # full run, writes this file",
              ".venv/bin/python -m tests.bench.provisioning --quick   # latency 0, 1 repetition",
              ".venv/bin/python -m tests.bench.provisioning --repeat 5 --latencies 0 0.25", "```", ""]
    return "\n".join(lines)


def state_note_of(states):
    """One sentence on whether both tools left the same objects after their first run."""
    if states.get("collection") == states.get("uri"):
        state = states["uri"]
        events = [event for rule in state["rules"] for event in rule["events"]]
        actions = [action for event in events for action in event["actions"]]
        return ("After the first run both tools left the same objects in both emulators, compared without ids "
                "and timestamps: %d custom fields, %d rules with %d events, %d actions and %d action values, "
                "roles %s, %d API member(s), %d callback(s), %d webhook(s), %d connector instance(s)." % (
                    len(state["custom_fields"]), len(state["rules"]), len(events), len(actions),
                    sum(len(a["values"]) for a in actions), ", ".join(state["roles"]), len(state["api_members"]),
                    len(state["callbacks"]), len(state["webhooks"]), len(state["connectors"])))
    differing = sorted(k for k in states.get("uri", {}) if states["uri"][k] != states.get("collection", {}).get(k))
    print("state differs:\n" + json.dumps({k: {t: states[t].get(k) for t in states} for k in differing}, indent=1))
    return "After the first run the two tools' objects DIFFER in: %s." % ", ".join(differing)


def failure_tails(results, latencies):
    """The output's last lines of the first failed run of each tool and phase."""
    tails, seen = [], set()
    for _latency, tool, phase, run, label in each_run(results, latencies):
        if run["tail"] and (tool, phase) not in seen:
            seen.add((tool, phase))
            tails.append((label, run["tail"]))
    return tails


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--quick", action="store_true", help="latency 0 only, 1 repetition")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per cell (default: %(default)s)")
    parser.add_argument("--latencies", type=float, nargs="+", default=[0.0, 0.1, 0.25],
                        help="emulated seconds per API request (default: %(default)s)")
    parser.add_argument("--output", default=results_file.RESULTS, help="the results file (default: tests/bench/RESULTS.md)")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.latencies = 1, [0.0]
    return args


def main(argv=None):
    args = parse_args(argv)
    seed = load_seed()
    cond = results_file.conditions()
    print("conditions: %s" % json.dumps(cond), flush=True)
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))  # stop the emulators on kill too
    systems = Systems()
    results, states = {}, {}
    try:
        for latency in args.latencies:
            results[latency] = []
            for rep in range(args.repeat):
                order = TOOLS if rep % 2 == 0 else tuple(reversed(TOOLS))
                runs = {}
                for tool in order:
                    once = rep == 0 and latency == args.latencies[0]
                    runs[tool], state = run_tool(tool, systems, seed, latency, once)
                    if state is not None:
                        states[tool] = state
                    print("latency %.2f rep %d %-10s %s" % (latency, rep + 1, tool, "  ".join(
                        "%s: %d calls (%d+%d) %.2fs cpu %.2fs rc=%d" % (
                            phase, r["calls"], r["manage"], r["signl4"], r["wall"], r["cpu"], r["rc"])
                        for phase, r in ((p, runs[tool][p]) for p in ("check-empty",) + PHASES if p in runs[tool]))), flush=True)
                results[latency].append(runs)
    finally:
        systems.stop()
    results_file.end(cond)
    table = summarise(results, args.latencies)
    problems = problems_of(results, args.latencies)
    state_note = state_note_of(states)
    tails = failure_tails(results, args.latencies)
    text = render(args, cond, seed, table, args.latencies, problems, state_note, tails, results)
    print("\n" + text)
    results_file.write_section("provisioning", text, path=args.output)
    print("written: %s" % os.path.relpath(args.output, REPO_ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
