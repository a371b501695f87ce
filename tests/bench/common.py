"""What the benchmark and chaos scripts share to run their systems (``results.py`` has what they share to report).

Importing it puts the agent and the collection on ``sys.path``. :class:`Emulators` starts both emulators as
processes; :func:`terminate` stops an agent process, with a thread dump when it hangs; :func:`metric_sum` reads
the agent's ``/metrics``; :func:`scratch_dir` is a working directory kept on request.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.emulators.harness import REPO_ROOT, RunningEmulator

for _path in (os.path.join(REPO_ROOT, "build", "collections"), os.path.join(REPO_ROOT, "agent")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from tests.agent import support  # noqa: E402 - needs the path above
from tests.conftest import MANAGE_ARGS, manage_connection  # noqa: E402


class Emulators:
    """Both emulators as processes (Manage stopped again when SIGNL4 does not start), ``manage.connection`` set;
    ``manage_seconds``: how long Manage took to start (it seeds its tickets first)."""

    def __init__(self, manage_args=(), signl4_args=(), timeout=15):
        started = time.monotonic()
        self.manage = RunningEmulator("tests.emulators.manage", MANAGE_ARGS + list(manage_args), timeout=timeout)
        self.manage_seconds = time.monotonic() - started
        try:
            self.signl4 = RunningEmulator("tests.emulators.signl4", list(signl4_args))
        except Exception:
            self.manage.stop()
            raise
        self.manage.connection = manage_connection(self.manage.url)

    def apis(self):
        return (("manage", self.manage), ("signl4", self.signl4))

    def fresh(self):
        """Both reset to their seed (empty journals), Manage provisioned with the seed's custom fields and rules."""
        self.manage.reset()
        self.signl4.reset()
        support.provision(self.manage)

    def journals(self, clear=False):
        """``{api: the journal's entries}``, cleared afterwards when ``clear``."""
        found = {}
        for api, emulator in self.apis():
            found[api] = emulator.requests()
            if clear:
                emulator.clear_requests()
        return found

    def clear_journals(self):
        for _api, emulator in self.apis():
            emulator.clear_requests()

    def server_errors(self):
        """``{api: count}`` of journaled answers >= 500."""
        return dict((api, sum(1 for r in entries if r.get("status", 0) >= 500)) for api, entries in self.journals().items())

    def register_agent(self, agent_url, cw=None):
        """SIGNL4's outbound webhook and a Manage ticket callback (level owner) to the agent at ``agent_url``
        (through ``cw``, a Manage client, when given)."""
        support.subscribe(self.signl4, "%s/signl4/%s" % (agent_url, support.WEBHOOK_TOKEN))
        with contextlib.nullcontext(cw) if cw else support.manage_client(self.manage) as client:
            client.create("/system/callbacks", {"url": "%s/manage/%s/callback?recordId=" % (agent_url, support.CALLBACK_TOKEN),
                                                "objectId": 1, "type": "ticket", "level": "owner", "description": "agent"})

    def stop(self):
        self.manage.stop()
        self.signl4.stop()


def terminate(agent, timeout=15):
    """SIGTERM an agent process (``support.AgentProcess``): ``(exit code, its log)``. One that does not end within
    ``timeout`` s gets SIGABRT, whose thread dump (``PYTHONFAULTHANDLER``, set by the suites) ends its log."""
    agent.proc.terminate()
    try:
        agent.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        agent.proc.send_signal(signal.SIGABRT)
    return agent.stop()


def metric_sum(text, name, **labels):
    """Sum of the samples of one Prometheus metric whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, value = line.rsplit(" ", 1)
        if all('%s="%s"' % item in head for item in labels.items()):
            total += float(value)
    return total


@contextlib.contextmanager
def scratch_dir(prefix, keep, what="working directory"):
    """A working directory, removed afterwards unless ``keep`` (then its path is printed)."""
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield Path(path)
    finally:
        if keep:
            print("%s kept: %s" % (what, path))
        else:
            shutil.rmtree(path, ignore_errors=True)
