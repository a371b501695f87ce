"""The molecule scenario's fixture: both emulators as detached processes, Manage provisioned the way the
integration role does it, tickets, alerts. ``python emulators.py start|ticket|alerts|stop SANDBOX [TICKET]``;
``start`` writes SANDBOX/emulators.json (URLs, pids) and prints it."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

from tests.agent import support
from tests.emulators.harness import REPO_ROOT, RunningEmulator

MANAGE = ("tests.emulators.manage", ["--company-id", "signl4demo", "--public-key", "demopublic",
                                     "--private-key", "demoprivate", "--client-id", "00000000-0000-4000-8000-000000000001"])
SIGNL4 = ("tests.emulators.signl4", [])
READY = re.compile(r"emulator ready on (http://127\.0\.0\.1:\d+)")


def _launch(sandbox, module, args):
    log = os.path.join(sandbox, module.rsplit(".", 1)[1] + ".log")
    with open(log, "w", encoding="utf-8") as handle:
        proc = subprocess.Popen([sys.executable, "-m", module, "--port", "0"] + args, cwd=REPO_ROOT, stdout=handle,
                                stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        with open(log, encoding="utf-8") as handle:
            match = READY.search(handle.read())
        if match:
            return match.group(1), proc.pid
        time.sleep(0.1)
    raise SystemExit("%s did not start; see %s" % (module, log))


def _manage(state):
    return SimpleNamespace(url=state["manage_url"], connection=dict(
        cw_url=state["manage_url"], cw_company_id="signl4demo", cw_public_key="demopublic",
        cw_private_key="demoprivate", cw_client_id="00000000-0000-4000-8000-000000000001"))


def _signl4(state):
    """Enough of the SIGNL4 emulator's harness for ``support.alerts``: its test controls over HTTP."""
    emulator = RunningEmulator.__new__(RunningEmulator)  # the running process is not ours: only its URL
    emulator.url = state["signl4_url"]
    return emulator


def start(sandbox):
    os.makedirs(sandbox, exist_ok=True)
    manage_url, manage_pid = _launch(sandbox, *MANAGE)
    signl4_url, signl4_pid = _launch(sandbox, *SIGNL4)
    state = dict(manage_url=manage_url, signl4_url=signl4_url, pids=[manage_pid, signl4_pid])
    with open(os.path.join(sandbox, "emulators.json"), "w", encoding="utf-8") as handle:
        json.dump(state, handle)
    support.provision(_manage(state))
    return state


def load(sandbox):
    with open(os.path.join(sandbox, "emulators.json"), encoding="utf-8") as handle:
        return json.load(handle)


def ticket(sandbox):
    with support.manage_client(_manage(load(sandbox))) as client:
        return support.new_ticket(client)["id"]


def alerts(sandbox, ticket_id=None):
    """How many Signls ticket ``ticket_id`` (None: any ticket) has."""
    return len(support.alerts(_signl4(load(sandbox)), ticket_id))


def stop(sandbox):
    try:
        state = load(sandbox)
    except FileNotFoundError:
        return "nothing to stop"
    for pid in state["pids"]:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    os.remove(os.path.join(sandbox, "emulators.json"))
    return "stopped %s" % state["pids"]


if __name__ == "__main__":
    command, folder = sys.argv[1], sys.argv[2]
    if command == "start":
        print(json.dumps(start(folder)))
    elif command == "ticket":
        print(ticket(folder))
    elif command == "alerts":
        print(alerts(folder, sys.argv[3] if len(sys.argv) > 3 else None))
    else:
        print(stop(folder))
