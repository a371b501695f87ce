"""Secrets: run site.yml (agent mode) and the installed agent at their most verbose, then search
everything they printed, logged, rendered or stored for every secret in every form.

    python -m tests.bench.secrets_scan [--quick]

1. Both emulators start with secrets of this run (characters that URL-encoding and JSON change).
2. ``ansible-playbook -vvvv --diff playbooks/site.yml`` provisions both sides in agent mode and installs
   the sync agent into a sandbox (service manager ``none``, log level DEBUG), with a HOME of its own
   (so ``~/.ansible`` is the run's) and a run cache of its own; then the same at ``--check --diff
   -vvvv`` (the full run only).
3. The installed agent (its virtualenv + zipapp) runs at DEBUG and does real work: a new ticket raises
   a Signl (Manage's callback wakes it), the Signl is acknowledged and annotated in SIGNL4 (the
   outbound webhook updates the ticket and adds a note), the ticket is resolved in Manage (the agent
   closes the Signl). Then SIGTERM, and ``check-config``, ``once`` and ``status`` at DEBUG.
4. Every secret (Manage private key, the Basic pair ``company+public:private``, the API member's
   private key, SIGNL4 API key, team secret, webhook token, callback token) is searched raw,
   URL-encoded (path, component, plus), base64 (standard and URL-safe; the Basic header forms too),
   JSON-escaped (once and twice) and cut to its first 12 characters, in: the playbook runs'
   stdout/stderr and Ansible's log file, the agent's log and CLI output, every file under the sandbox
   (install dir with virtualenv and zipapp, config dir, state dir with the database and its WAL/SHM,
   unit dir), the run's HOME (``~/.ansible``), the run cache, and the state database's content dumped
   as SQL. Allowed: the agent's own config file (it is the place for them) and the inventory the
   operator wrote (the input). Checked too: the config file, the state database and its WAL/SHM have
   no group/other permissions.
"""

import argparse
import base64
import getpass
import grp
import json
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, quote_plus

import yaml

from tests.bench import common, results
from tests.emulators.harness import REPO_ROOT, RunningEmulator
from tests.agent import support  # noqa: E402 - after common, which puts the collection on sys.path

COMPANY, PUBLIC_KEY, CLIENT_ID = "signl4demo", "demopublic", "00000000-0000-4000-8000-000000000001"
# Secrets of this run: "/", "+", "=", "@" and a quote change under URL-encoding and JSON-escaping. The
# agent's path tokens may only hold URL-safe characters (the agent refuses others), "~" and "." included.
SECRETS = {
    "manage private key": "Pr1v/K3y+Zq9=Ab@c\"d",
    "API member private key": "MemB3r/Pr1v+K3y=Zz7",
    "SIGNL4 API key": "S4-ap1/K3y+Val=44@x",
    "SIGNL4 team secret": "teamSecret-7f3a9c2e41d0",
    "webhook token": "hookTok~en.aa11bb22_cc33",
    "callback token": "cbTok~en.ee55ff66_aa77",
}
MEMBER_PUBLIC_KEY = "signl4public"
OLIVIA = support.OLIVIA
SITE = os.path.join("playbooks", "site.yml")


def forms(name, secret):
    """``{form name: text}`` of every way ``secret`` could be written."""
    found = {"raw": secret, "url": quote(secret, safe=""), "url-path": quote(secret), "url-plus": quote_plus(secret),
             "base64": base64.b64encode(secret.encode()).decode(),
             "base64-url": base64.urlsafe_b64encode(secret.encode()).decode(),
             "json": json.dumps(secret)[1:-1], "json-ascii-slash": json.dumps(secret)[1:-1].replace("/", "\\/"),
             "json-twice": json.dumps(json.dumps(secret)[1:-1])[1:-1], "first 12 characters": secret[:12]}
    if name == "manage private key":
        for label, pair in (("basic pair", "%s+%s:%s" % (COMPANY, PUBLIC_KEY, secret)),):
            encoded = base64.b64encode(pair.encode()).decode()
            found.update({label: pair, label + " base64": encoded, "Basic header": "Basic " + encoded})
    if name == "API member private key":
        pair = "%s+%s:%s" % (COMPANY, MEMBER_PUBLIC_KEY, secret)
        found.update({"basic pair": pair, "basic pair base64": base64.b64encode(pair.encode()).decode()})
    return dict((form, text) for form, text in found.items() if len(text) >= 8)


def patterns():
    """One compiled regex over every form of every secret (bytes), and the (secret, form) of each text."""
    owners = {}
    for name, secret in SECRETS.items():
        for form, text in forms(name, secret).items():
            owners.setdefault(text.encode(), (name, form))
    ordered = sorted(owners, key=len, reverse=True)
    return re.compile(b"|".join(re.escape(text) for text in ordered)), owners


class Scan:
    def __init__(self):
        self.regex, self.owners = patterns()
        self.rows = []  # (source, size, hits, allowed)

    def text(self, source, data, allowed=False):
        raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
        hits = sorted(set("%s (%s)" % self.owners[match.group(0)] for match in self.regex.finditer(raw)))
        self.rows.append((source, len(raw), hits, allowed))
        return hits

    def tree(self, label, root, allowed_paths=()):
        count = size = 0
        for path in sorted(Path(root).rglob("*")):
            if path.is_symlink() or not path.is_file():
                continue
            data = path.read_bytes()
            count += 1
            size += len(data)
            hits = sorted(set("%s (%s)" % self.owners[m.group(0)] for m in self.regex.finditer(data)))
            allowed = str(path) in allowed_paths
            if hits or allowed:
                self.rows.append(("%s/%s" % (label, path.relative_to(root)), len(data), hits, allowed))
        self.rows.append(("%s/** (%d files)" % (label, count), size, [], False))
        return count

    def leaks(self):
        return [(source, hits) for source, unused, hits, allowed in self.rows if hits and not allowed]


# ----- the run ---------------------------------------------------------------------------------

def emulators():
    manage = RunningEmulator("tests.emulators.manage", ["--company-id", COMPANY, "--public-key", PUBLIC_KEY,
                                                        "--private-key", SECRETS["manage private key"],
                                                        "--client-id", CLIENT_ID])
    signl4 = RunningEmulator("tests.emulators.signl4", ["--api-key", SECRETS["SIGNL4 API key"],
                                                        "--team-secret", SECRETS["SIGNL4 team secret"]])
    manage.connection = dict(cw_url=manage.url, cw_company_id=COMPANY, cw_public_key=PUBLIC_KEY,
                             cw_private_key=SECRETS["manage private key"], cw_client_id=CLIENT_ID)
    return manage, signl4


def inventory(sandbox, manage, signl4, port):
    """site.yml's inventory as tests/demo.py lays it out: one Manage tenant, one agent host (this machine)."""
    local = dict(ansible_connection="local", ansible_python_interpreter=sys.executable)
    agent_url = "http://127.0.0.1:%d" % port
    tenant = dict(local, integration_cw_url=manage.url, integration_cw_company_id=COMPANY,
                  integration_cw_public_key=PUBLIC_KEY, integration_cw_private_key=SECRETS["manage private key"],
                  integration_cw_client_id=CLIENT_ID, integration_signl4_api_url=signl4.url + "/api",
                  integration_signl4_api_key=SECRETS["SIGNL4 API key"], integration_signl4_team="Service Desk",
                  integration_signl4_sync_mode="agent", integration_agent_url=agent_url,
                  integration_agent_webhook_token=SECRETS["webhook token"],
                  integration_agent_callback_token=SECRETS["callback token"],
                  integration_api_member_location="Tampa Office", integration_api_member_business_unit="Services",
                  integration_api_member_public_key=MEMBER_PUBLIC_KEY,
                  integration_api_member_private_key=SECRETS["API member private key"])
    agent = dict(local, ansible_become=False, sync_agent_service_manager="none", sync_agent_create_user=False,
                 sync_agent_user=getpass.getuser(), sync_agent_group=grp.getgrgid(os.getgid()).gr_name,
                 sync_agent_install_dir=str(sandbox / "opt"), sync_agent_config_dir=str(sandbox / "etc"),
                 sync_agent_state_dir=str(sandbox / "state"), sync_agent_unit_dir=str(sandbox / "systemd"),
                 sync_agent_python=sys.executable, sync_agent_zipapp_src=str(sandbox / "controller" / "signl4-agent.pyz"),
                 sync_agent_manage_url=manage.url, sync_agent_manage_company_id=COMPANY,
                 sync_agent_manage_public_key=PUBLIC_KEY, sync_agent_manage_private_key=SECRETS["manage private key"],
                 sync_agent_manage_client_id=CLIENT_ID, sync_agent_manage_timeout=5,
                 sync_agent_signl4_api_url=signl4.url + "/api", sync_agent_signl4_api_key=SECRETS["SIGNL4 API key"],
                 sync_agent_signl4_team_secret=SECRETS["SIGNL4 team secret"], sync_agent_signl4_acting_user=support.ACTING_USER,
                 sync_agent_signl4_timeout=5, sync_agent_webhook_token=SECRETS["webhook token"],
                 sync_agent_callback_token=SECRETS["callback token"], sync_agent_listen_port=port,
                 sync_agent_poll_interval=2, sync_agent_owner_assignment="never", sync_agent_log_level="DEBUG")
    path = sandbox / "inventory" / "hosts.yml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump({"all": {"children": {"manage_tenants": {"hosts": {"tenant": tenant}},
                                                         "agent_hosts": {"hosts": {"agent": agent}}}}}))
    return str(path)


def play(sandbox, inventory_path, args):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO_ROOT, "build", "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0", HOME=str(sandbox / "home"),
               SIGNL4_CONNECTWISE_RUN_CACHE=str(sandbox / "run-cache"), PYTHONPATH=REPO_ROOT,
               ANSIBLE_LOG_PATH=str(sandbox / "home" / "ansible.log"))
    for name in ("ANSIBLE_LOCAL_TEMP", "ANSIBLE_REMOTE_TEMP", "ANSIBLE_CONFIG"):
        env.pop(name, None)
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory_path, SITE] + args
    started = time.monotonic()
    result = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False)
    return result, time.monotonic() - started


class InstalledAgent:
    def __init__(self, sandbox, port):
        opt = sandbox / "opt"
        self.command = [str(opt / "venv" / "bin" / "python"), str(opt / "signl4-agent.pyz")]
        self.config = str(sandbox / "etc" / "agent.yml")
        self.sandbox = sandbox
        self.url = "http://127.0.0.1:%d" % port
        self.log_path = sandbox / "agent.log"
        self.log = open(self.log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen(self.command + ["run", "--config", self.config], cwd=str(sandbox),
                                     stdout=self.log, stderr=self.log)

    def cli(self, command):
        """``check-config`` / ``status`` / ``once``: their stdout and stderr (DEBUG, as configured)."""
        return subprocess.run(self.command + [command, "--config", self.config], cwd=str(self.sandbox),
                              capture_output=True, text=True, timeout=120, check=False)

    def healthy(self):
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:  # noqa: S310 - loopback
                return response.status == 200
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def real_work(manage, signl4, agent):
    """Ticket -> Signl (callback), acknowledged + annotated in SIGNL4 -> ticket, resolved in Manage -> closed."""
    steps = {}
    with support.manage_client(manage) as cw:
        ticket = support.new_ticket(cw, summary="Secrets scan: disk full on FS02")
        steps["Signl raised"] = bool(support.wait_for(lambda: support.alerts(signl4, ticket["id"]), timeout=60))
        support.act(signl4, "acknowledge", ticket["id"], user=OLIVIA)
        support.act(signl4, "annotate", ticket["id"], user=OLIVIA, text="On my way")
        path = "/service/tickets/%d" % ticket["id"]
        steps["ticket acknowledged"] = bool(support.wait_for(
            lambda: cw.get(path)["status"]["name"] == "In Progress", timeout=60))
        steps["note written"] = bool(support.wait_for(lambda: cw.list(path + "/notes"), timeout=60))
        support.set_status(cw, ticket["id"], "Closed (resolved)")
        steps["Signl closed"] = bool(support.wait_for(
            lambda: (support.alerts(signl4, ticket["id"]) or [{}])[0].get("status", {}).get("statusCode") == 4, timeout=60))
    return steps


def private(path):
    """Whether ``path`` has no group/other permission bits (None: it does not exist)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0, oct(stat.S_IMODE(os.stat(path).st_mode))
    except FileNotFoundError:
        return None, "absent"


def permissions(sandbox):
    state = sandbox / "state" / "state.db"
    return dict((name, private(path)) for name, path in (
        ("etc/agent.yml", sandbox / "etc" / "agent.yml"), ("state/state.db", state),
        ("state/state.db-wal", Path(str(state) + "-wal")), ("state/state.db-shm", Path(str(state) + "-shm"))))


def dump_state(path):
    with sqlite3.connect("file:%s?mode=ro" % path, uri=True) as db:
        return "\n".join(db.iterdump())


def run(sandbox, quick, progress=print):
    """Everything above; returns the scan, the permissions, the steps of the work and the timings."""
    manage, signl4 = emulators()
    agent = None
    scan, timings, steps, perms = Scan(), {}, {}, {}
    try:
        port = support.free_port()
        (sandbox / "home").mkdir()
        inventory_path = inventory(sandbox, manage, signl4, port)
        runs = [("site.yml -vvvv --diff", ["-vvvv", "--diff"])]
        if not quick:
            runs.append(("site.yml --check --diff -vvvv", ["--check", "--diff", "-vvvv"]))
        for label, args in runs:
            result, timings[label] = play(sandbox, inventory_path, args)
            lines = result.stdout.count("\n")
            progress("%s: exit %d, %.0f s, %d lines" % (label, result.returncode, timings[label], lines))
            steps["%s exit 0" % label] = result.returncode == 0
            scan.text("%s stdout" % label, result.stdout)
            scan.text("%s stderr" % label, result.stderr)
        agent = InstalledAgent(sandbox, port)
        steps["agent healthy"] = bool(support.wait_for(agent.healthy, timeout=60))
        started = time.monotonic()
        steps.update(real_work(manage, signl4, agent))
        timings["agent work"] = time.monotonic() - started
        perms = permissions(sandbox)  # while the agent runs: the WAL and SHM exist now
        steps["agent exit 0"] = agent.stop() == 0
        for command in ("check-config", "once", "status"):
            result = agent.cli(command)
            steps["agent %s exit 0" % command] = result.returncode == 0
            scan.text("agent %s stdout" % command, result.stdout)
            scan.text("agent %s stderr (DEBUG)" % command, result.stderr)
        perms.update(("%s after stop" % name, value) for name, value in permissions(sandbox).items()
                     if name.endswith("state.db"))
    finally:
        if agent is not None and agent.proc.poll() is None:
            agent.stop()
        manage.stop()
        signl4.stop()
    scan.text("agent log (DEBUG)", agent.log_path.read_bytes() if agent else b"")
    if (sandbox / "state" / "state.db").exists():
        scan.text("state database content (SQL dump)", dump_state(sandbox / "state" / "state.db"))
    allowed = {str(sandbox / "etc" / "agent.yml"), str(sandbox / "inventory" / "hosts.yml")}
    for label in ("opt", "etc", "state", "systemd", "controller", "home", "run-cache", "inventory"):
        if (sandbox / label).exists():
            scan.tree(label, sandbox / label, allowed)
    return scan, perms, steps, timings


def markdown(cond, scan, perms, steps, timings, failures):
    intro = ["Script: `tests/bench/secrets_scan.py` (`make chaos`)", "",
             "site.yml (agent mode) runs against both emulators at `-vvvv --diff` (and `--check --diff -vvvv`) with "
             "a HOME and a run cache of its own; the installed agent runs at DEBUG: ticket -> Signl (callback), "
             "acknowledge + annotate in SIGNL4, resolve in Manage. Then every secret (%s) is searched raw, URL-encoded, "
             "base64 (also the Basic pair and header) and JSON-escaped in all output, the agent's log, every file the "
             "run wrote (install dir with its virtualenv, config, state with WAL/SHM, unit, `~/.ansible`, run cache) "
             "and the state database's content. Allowed: the agent's config file and the operator's inventory."
             % ", ".join(SECRETS)]
    files = [(source, size, "allowed: %d form(s)" % len(hits) if allowed else ", ".join(hits) or "0")
             for source, size, hits, allowed in scan.rows]
    modes = [(name, mode, {True: "yes", False: "NO", None: "(absent)"}[ok]) for name, (ok, mode) in perms.items()]
    lines = ["### What ran", "", *results.table(("step", "ok"), [(name, "yes" if ok else "NO") for name, ok in steps.items()]),
             "", "timings: " + ", ".join("%s %.1f s" % item for item in timings.items()), "",
             "### Files scanned and hits", "", *results.table(("source", "bytes", "hits"), files),
             "", "### Permissions", "", *results.table(("file", "mode", "no group/other access"), modes),
             "", "**Result: %s**" % ("PASS: 0 hits outside the agent's config" if not failures else "FAIL: " + "; ".join(failures[:8]))]
    return results.section("Secrets: site.yml and the agent at full verbosity (chaos suite part)", intro, cond, lines)


def failures_of(scan, perms, steps):
    failures = ["%s: %s" % (source, ", ".join(hits)) for source, hits in scan.leaks()]
    failures += ["%s is %s" % (name, mode) for name, (ok, mode) in perms.items() if ok is False]
    failures += ["step failed: %s" % name for name, ok in steps.items() if not ok]
    if not any(allowed and hits for unused, unused2, hits, allowed in scan.rows):
        failures.append("the agent's config holds no secret: the scan looked in the wrong place")
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one site.yml run (no --check run)")
    parser.add_argument("--keep", action="store_true", help="keep the sandbox (its path is printed)")
    args = parser.parse_args(argv)
    cond = results.start(args.quick)
    with common.scratch_dir("signl4-secrets-", args.keep, "sandbox") as sandbox:
        scan, perms, steps, timings = run(sandbox, args.quick)
    failures = failures_of(scan, perms, steps)
    text = markdown(results.end(cond), scan, perms, steps, timings, failures)
    print(text)
    results.write_section("secrets", text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
