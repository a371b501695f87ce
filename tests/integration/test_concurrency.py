"""Eight real processes run the same module with the same arguments at the same moment (as forks of
one playbook, or several MSP playbooks, do): they must converge to exactly one object, every run
must succeed, and a later run must find nothing to change.

Each run is the module itself (``python -m ansible_collections...``), reading its arguments from
stdin as Ansible's debug entry point does; all eight are started, wait on stdin until each has
imported, then get their arguments at once. A small emulator latency keeps the runs' look-up and
create overlapping, as they do against a real, remote API.
"""

import json
import os
import subprocess
import sys
import time

import pytest

from tests.emulators.harness import REPO_ROOT
from tests.emulators.signl4 import DEFAULT_API_KEY, DEFAULT_TEAM_SECRET
from tests.support.modules import run_module, run_playbook

RUNS = 8
LATENCY = 0.02
MODULES = "ansible_collections.signl4.connectwise.plugins.modules."
RULE = dict(name="SIGNL4 - Parallel rule", table_type="Service Ticket", board="Service Desk", events=[
    dict(name="New ticket", condition='status/name = "New (not responded)"', actions=[
        dict(notify_type="Add Note", note="Raised in SIGNL4.", internal_notes=True)]),
    dict(name="Closed", condition="closedFlag = True", actions=[
        dict(notify_type="Update Status", board_status="Closed (resolved)")]),
])
FIELD = dict(caption="Signl4Parallel_c", pod_id=10, field_type="Text", sequence_number=22, display_on_screen=False)
WEBHOOK = dict(name="Parallel hook", url="https://agent.example.com/signl4?token=par4llel-t0ken", team="Service Desk",
               description="one of eight")
CONNECTOR = dict(team="Service Desk", enabled=True, config={"companyId": "contoso"})


CONNECTION_ENV = ("CW_", "SIGNL4_API_", "SIGNL4_TEAM_SECRET", "SIGNL4_VALIDATE_CERTS", "ANSIBLE_")


def environment(tmp_path):
    """The test's environment without connection settings; the eight runs share one run cache, as
    the tasks of one run do (a fresh one: the emulators were reset behind the clients' backs)."""
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(CONNECTION_ENV))
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(REPO_ROOT, "build", "collections"), REPO_ROOT])
    env["SIGNL4_CONNECTWISE_RUN_CACHE"] = str(tmp_path / "run-cache")
    return env


def waiting_on_stdin(process):
    """True once the process blocks reading its arguments (Linux); elsewhere, after a grace period."""
    try:
        with open("/proc/%d/wchan" % process.pid) as handle:
            return "pipe_read" in handle.read()
    except OSError:
        return time.monotonic() - process.started > 3


def run_in_parallel(module, args, tmp_path):
    processes = []
    for _run in range(RUNS):
        process = subprocess.Popen([sys.executable, "-m", MODULES + module], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment(tmp_path), cwd=str(tmp_path))
        process.started = time.monotonic()
        processes.append(process)
    for _poll in range(600):  # at most ~30 s for eight interpreters to import on a busy machine
        if all(waiting_on_stdin(p) for p in processes):
            break
        time.sleep(0.05)
    payload = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode("utf-8")
    for process in processes:
        process.stdin.write(payload)
        process.stdin.flush()
    for process in processes:  # the release: each run starts when its stdin closes
        process.stdin.close()
        process.stdin = None  # communicate() below must not touch it again
    runs = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        runs.append((process.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")))
    return runs


def results_of(runs):
    results = []
    for returncode, out, err in runs:
        assert "Traceback" not in err and "Traceback" not in out, err[-2000:] or out[-2000:]
        try:
            result = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise AssertionError("a run printed no result (rc %s): %s %s" % (returncode, out[-1000:], err[-1000:]))
        results.append(result)
    return results


def assert_converged(results, count_objects, again):
    objects = count_objects()
    failures = [r.get("msg") for r in results if r.get("failed")]
    assert objects == 1, "%d objects after %d parallel runs (failures: %s)" % (objects, RUNS, failures)
    assert failures == [], "%d of %d parallel runs failed: %s" % (len(failures), RUNS, failures)
    assert sum(1 for r in results if r.get("changed")) >= 1
    later = again()
    assert "failed" not in later and later["changed"] is False, later


@pytest.fixture
def slow_manage(manage):
    manage.set_latency(LATENCY)
    yield manage
    manage.set_latency(0)


@pytest.fixture
def slow_signl4(signl4):
    signl4.set_latency(LATENCY)
    yield signl4
    signl4.set_latency(0)


def s4_args(signl4, options):
    return dict(signl4_api_url=signl4.url + "/api", signl4_api_key=DEFAULT_API_KEY, signl4_team_secret=DEFAULT_TEAM_SECRET,
                **options)


@pytest.mark.slow
def test_eight_parallel_runs_create_one_workflow_rule_with_each_event_once(slow_manage, tmp_path):
    args = dict(slow_manage.connection, **RULE)
    results = results_of(run_in_parallel("cw_workflow_rule", args, tmp_path))
    slow_manage.set_latency(0)

    def rules():
        return run_module("cw_workflow_rule_info", dict(slow_manage.connection, name=RULE["name"]))["workflow_rules"]

    assert_converged(results, lambda: len(rules()), lambda: run_module("cw_workflow_rule", args))
    [rule] = rules()
    events = sorted(event["name"] for event in rule["events"])
    assert events == sorted(event["name"] for event in RULE["events"]), "events after parallel runs: %s" % events
    assert [len(event["actions"]) for event in rule["events"]] == [1, 1]


# (module, its options, the emulator it writes to, how many of the module's objects that emulator holds)
ONE_OBJECT = [
    ("cw_custom_field", FIELD, "slow_manage",
     lambda manage: len(run_module("cw_custom_field_info", dict(manage.connection, caption=FIELD["caption"]))["custom_fields"])),
    ("signl4_webhook", WEBHOOK, "slow_signl4",
     lambda signl4: len([w for w in signl4.control("GET", "/state")["webhooks"] if w["name"] == WEBHOOK["name"]])),
    ("signl4_connector", CONNECTOR, "slow_signl4", lambda signl4: len(signl4.control("GET", "/state")["instances"])),
]


@pytest.mark.slow
@pytest.mark.parametrize("module, options, emulator, count", ONE_OBJECT, ids=[row[0] for row in ONE_OBJECT])
def test_eight_parallel_runs_create_one_object(request, tmp_path, module, options, emulator, count):
    server = request.getfixturevalue(emulator)
    args = dict(server.connection, **options) if module.startswith("cw_") else s4_args(server, options)
    results = results_of(run_in_parallel(module, args, tmp_path))
    server.set_latency(0)
    assert_converged(results, lambda: count(server), lambda: run_module(module, args))


# ----- the same through ansible-playbook: eight forks of one play ----------------------------------

FORKS_PLAYBOOK = os.path.join("tests", "integration", "playbooks", "parallel_forks.yml")


@pytest.mark.slow
def test_eight_forks_of_one_play_create_one_rule_and_one_webhook(slow_manage, slow_signl4, tmp_path):
    inventory = tmp_path / "forks.ini"
    inventory.write_text("[forks]\n" + "".join("fork%d ansible_python_interpreter=%s\n" % (n, sys.executable)
                                               for n in range(1, RUNS + 1)))
    env = {"TEST_CW_URL": slow_manage.url, "TEST_CW_PRIVATE_KEY": "demoprivate", "TEST_SIGNL4_URL": slow_signl4.url,
           "TEST_SIGNL4_API_KEY": DEFAULT_API_KEY, "ANSIBLE_FORKS": str(RUNS),
           "SIGNL4_CONNECTWISE_RUN_CACHE": str(tmp_path / "run-cache")}
    played = run_playbook(FORKS_PLAYBOOK, env, args=["-i", str(inventory)])
    slow_manage.set_latency(0)
    slow_signl4.set_latency(0)
    output = played.stdout + played.stderr
    assert "Traceback" not in output, output[-3000:]
    rules = run_module("cw_workflow_rule_info", dict(slow_manage.connection, name="SIGNL4 - Forked rule"))["workflow_rules"]
    hooks = [w for w in slow_signl4.control("GET", "/state")["webhooks"] if w["name"] == "Forked hook"]
    assert (len(rules), len(hooks)) == (1, 1), "%d rules and %d webhooks after %d forks" % (len(rules), len(hooks), RUNS)
    assert sorted(event["name"] for event in rules[0]["events"]) == ["Closed", "New ticket"]
    assert played.returncode == 0, output[-3000:]
    recaps = [line for line in played.stdout.splitlines() if line.startswith("fork") and "failed=" in line]
    assert len(recaps) == RUNS and all("failed=0" in line for line in recaps), recaps
