"""Where the attacks of ``attacks.py`` run: both emulators, the agent as a process (``python -m
signl4_agent``), modules run by ``ansible`` (quick: as the process Ansible starts), decoy servers, and the
record of what each attack tried and observed.

Everything here sees the agent and the modules from outside: HTTP to the receiver, the emulators'
journals, the agent's log lines, ``/metrics``, its ``status`` command and ``/proc``; a module's task
output as Ansible prints it. Nothing imports the agent's code.
"""

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.agent import support
from tests.bench import procfs
from tests.conftest import MANAGE_ARGS
from tests.emulators.harness import REPO_ROOT, RunningEmulator
from tests.integration.raw_server import RawServer

ANSIBLE = os.path.join(os.path.dirname(sys.executable), "ansible")
TASK_LINE = "localhost | "
PEAK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peak.py")


class Result:
    """One attack: what it tried, what was observed (each observation judged), whether it was refused."""

    def __init__(self, name, tried):
        self.name, self.tried = name, tried
        self.evidence = []  # "what: observed" lines, in order
        self.problems = []  # the observations that show the attack was not refused

    def expect(self, what, observed, refused):
        """Record ``what: observed``; ``refused`` False makes it a problem. Returns ``refused``."""
        line = "".join(c if c.isprintable() else "\\x%02x" % ord(c) for c in "%s: %s" % (what, observed))
        self.evidence.append(line)
        if not refused:
            self.problems.append(line)
        return refused

    @property
    def refused(self):
        return bool(self.evidence) and not self.problems

    def report(self):
        lines = ["%s (%s): %s" % (self.name, self.tried, "refused" if self.refused else "NOT REFUSED")]
        return "\n".join(lines + ["  %s%s" % ("!! " if line in self.problems else "", line) for line in self.evidence])


def histogram(values):
    """``{value: count}`` as text, most frequent first: ``401 x 50, 202 x 3``."""
    return ", ".join("%s x %d" % item for item in Counter(values).most_common()) or "none"


def settled(read, quiet=0.5, timeout=20.0):
    """``read()`` once it has stopped changing for ``quiet`` seconds (a wait for asynchronous work to end)."""
    deadline = time.monotonic() + timeout
    last, since = read(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = read()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return last


class Agent(support.AgentProcess):
    """``python -m signl4_agent run`` with its config; what it answers, counts, logs and weighs."""

    def metric(self, name, **labels):
        """The sum of the samples ``name`` whose labels include ``labels`` (0 when none)."""
        status, text = self.get("/metrics")
        if status != 200:
            return 0.0
        return sum(sample.value for family in text_string_to_metric_families(text.decode("utf-8"))
                   for sample in family.samples
                   if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()))

    def deliveries(self, source, outcome=None):
        labels = {"source": source} if outcome is None else {"source": source, "outcome": outcome}
        return int(self.metric("signl4_agent_webhook_deliveries_total", **labels))

    def logs(self, level=None):
        """The log's JSON lines (``level``: only those)."""
        lines = []
        for line in self.output().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and (level is None or entry.get("level") == level):
                lines.append(entry)
        return lines

    def peak_mib(self):
        """Peak resident memory (VmHWM) of the running agent."""
        return procfs.memory_kb(self.proc.pid)[1] / 1024.0


class TaskRun:
    """A module run as its own process: by ``ansible localhost -m signl4.connectwise.<module> -a <args>``, or
    (``through_ansible`` false, for speed) as Ansible's module runner starts it, the arguments on stdin. Its
    result, warnings, whole output, and the peak memory of the largest process of the run (``peak.py``; the
    module's own process, or Ansible's when that is larger)."""

    def __init__(self, module, args, env, workdir, through_ansible=True, timeout=300):
        self.module, self.through_ansible = module, through_ansible
        paths = dict((suffix, workdir / ("%s.%s" % (module, suffix))) for suffix in ("out", "err", "in", "peak"))
        paths["in"].write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        paths["in"].chmod(0o600)
        paths["peak"].unlink(missing_ok=True)
        if through_ansible:
            command = [ANSIBLE, "localhost", "-m", "signl4.connectwise." + module, "-a", json.dumps(args)]
        else:
            command = [sys.executable, "-m", "ansible_collections.signl4.connectwise.plugins.modules." + module]
            env = dict(env, PYTHONPATH=os.pathsep.join([os.path.join(REPO_ROOT, "build", "collections"), REPO_ROOT]))
        with open(paths["in"], "rb") as given, open(paths["out"], "w+b") as out, open(paths["err"], "w+b") as err:
            proc = subprocess.Popen([sys.executable, PEAK, str(paths["peak"])] + command, cwd=REPO_ROOT, env=env,
                                    stdin=given, stdout=out, stderr=err, start_new_session=True)
            try:
                self.returncode, self.timed_out = proc.wait(timeout), False
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                self.returncode, self.timed_out = proc.wait(), True
        peak = paths["peak"].read_text() if paths["peak"].exists() else ""
        self.peak_mib = int(peak) / 1024.0 if peak.strip() else None
        self.stdout, self.stderr = paths["out"].read_text(errors="replace"), paths["err"].read_text(errors="replace")
        self.output = self.stdout + self.stderr
        self.result = self._result()
        self.warnings = [line[len("[WARNING]: "):] for line in self.stderr.splitlines() if line.startswith("[WARNING]: ")]
        # a module's own result: each warning a message, or (ansible-core 2.19) a summary of its event
        self.warnings += [w["event"].get("msg", "") if isinstance(w, dict) and isinstance(w.get("event"), dict) else str(w)
                          for w in self.result.get("warnings") or []]

    def _result(self):
        start = self.stdout.find(" => ", self.stdout.find(TASK_LINE)) + 4 if self.through_ansible else 0
        start = self.stdout.find("{", start)
        try:
            return json.JSONDecoder().raw_decode(self.stdout[start:])[0] if start >= 0 else {}
        except ValueError:
            return {}

    @property
    def failed(self):
        return bool(self.result.get("failed")) or self.returncode != 0

    def outcome(self):
        if self.timed_out:
            return "still running after its timeout (killed)"
        return "%s, exit %s" % ("failed" if self.failed else "ok", self.returncode)


class Lab:
    """Both emulators (given, or started here), a working directory, and everything an attack starts,
    stopped by :meth:`close`. ``quick``: the small sizes of ``make test``."""

    def __init__(self, manage, signl4, workdir, quick):
        self.manage, self.signl4, self.quick = manage, signl4, quick
        self.workdir = Path(workdir)
        self.owned = []  # emulators this lab started
        self.agents, self.servers = [], []
        if not getattr(manage, "connection", None):
            manage.connection = dict(cw_url=manage.url, cw_company_id="signl4demo", cw_public_key="demopublic",
                                     cw_private_key="demoprivate", cw_client_id="00000000-0000-4000-8000-000000000001")

    @classmethod
    def started(cls, workdir, quick):
        manage = RunningEmulator("tests.emulators.manage", MANAGE_ARGS)
        try:
            signl4 = RunningEmulator("tests.emulators.signl4", [])
        except RuntimeError:
            manage.stop()
            raise
        lab = cls(manage, signl4, workdir, quick)
        lab.owned = [manage, signl4]
        return lab

    def size(self, quick, full):
        return quick if self.quick else full

    def dir(self, name):
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def fresh(self):
        """Both emulators back to their seed, Manage provisioned as the integration role leaves it."""
        self.manage.reset()
        self.signl4.reset()
        support.provision(self.manage)

    def cw(self):
        return support.manage_client(self.manage)

    # ----- the agent ---------------------------------------------------------------------------
    def config(self, name, port=0, **overrides):
        """An agent config for the emulators written to ``<name>/agent.yml`` (mode 0600): its path."""
        workdir = self.dir(name)
        path = support.write_config(workdir, support.config(workdir, self.manage, self.signl4, port=port, **overrides))
        os.chmod(path, 0o600)
        return path

    def agent(self, name, ready=True, **overrides):
        """``python -m signl4_agent run`` (after its first good cycle, with ``ready``)."""
        port = support.free_port()
        agent = Agent(self.config(name, port=port, **overrides), port)
        self.agents.append(agent)
        if ready:
            agent.wait_ready()
        return agent

    def agent_command(self, command, config_path, timeout=120):
        """``python -m signl4_agent <command> --config <path>``: the finished process (stdout, stderr)."""
        return support.cli(command, "--config", config_path, timeout=timeout)

    @staticmethod
    def survived(result, agent, who="agent"):
        """The agent is still up and answering, and stops cleanly on SIGTERM with no traceback logged."""
        alive = agent.proc.poll() is None
        health = agent.get("/healthz")[0] if alive else None
        result.expect("%s after the attack" % who, "running, /healthz %s" % health if alive else
                      "EXITED with %s" % agent.proc.returncode, alive and health is not None)
        code, output = agent.stop()
        traceback = "Traceback" in output
        result.expect("%s on SIGTERM" % who, "exit %s, %s" % (code, "a traceback in its log" if traceback else "no traceback"),
                      code == 0 and not traceback)

    # ----- modules, decoys ---------------------------------------------------------------------
    def module_env(self, **extra):
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO_ROOT, "build", "collections"), PYTHONPATH=REPO_ROOT,
                   ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_LOCALHOST_WARNING="0",
                   ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_DEPRECATION_WARNINGS="0",
                   SIGNL4_CONNECTWISE_RUN_CACHE=str(self.workdir / "run-cache"))
        env.setdefault("ANSIBLE_HOME", os.path.join(REPO_ROOT, "build", "ansible-home"))
        env.update(extra)
        return env

    def task(self, module, args, env=None, timeout=300):
        """``module`` run by ``ansible`` against localhost (quick: as the process Ansible starts): a :class:`TaskRun`."""
        return TaskRun(module, args, env or self.module_env(), self.dir("tasks"), not self.quick, timeout)

    def server(self, answers):
        """A scripted HTTP server (``tests/integration/raw_server.py``), closed with the lab."""
        server = RawServer(answers)
        self.servers.append(server)
        return server

    def close(self):
        for agent in self.agents:
            if agent.proc.poll() is None:
                agent.stop()
            elif not agent.log.closed:
                agent.log.close()
        for server in self.servers:
            server.close()
        for emulator in self.owned:
            emulator.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
