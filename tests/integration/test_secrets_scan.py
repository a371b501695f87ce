"""Secrets, pytest-sized: ``tests/bench/secrets_scan.py``'s quick run (site.yml at -vvvv --diff in agent
mode, the installed agent at DEBUG doing real work, every secret searched in every form in all output,
logs, files and the state database; about 20-40 s), and the state files' modes."""

import os
import stat
import subprocess
import sys

import pytest
import yaml

from tests.agent import support
from tests.bench import secrets_scan
from tests.emulators.harness import REPO_ROOT

pytestmark = pytest.mark.slow  # runs ansible-playbook and installs the agent into a sandbox


def test_no_secret_outside_the_agent_config(tmp_path):
    scan, perms, steps, unused = secrets_scan.run(tmp_path, quick=True, progress=lambda line: None)
    assert all(steps.values()), steps
    assert secrets_scan.failures_of(scan, perms, steps) == []
    scanned = [source for source, unused, unused2, unused3 in scan.rows]
    for source in ("site.yml -vvvv --diff stdout", "agent log (DEBUG)", "state database content (SQL dump)"):
        assert source in scanned
    assert any(source.startswith("opt/** (") for source in scanned)


def test_the_scan_sees_every_form():
    scan = secrets_scan.Scan()
    for name, secret in secrets_scan.SECRETS.items():
        for form, text in secrets_scan.forms(name, secret).items():
            assert scan.text("probe", "x%sy" % text), (name, form)  # embedded anywhere
    assert scan.leaks() and not secrets_scan.Scan().leaks()


def test_state_files_are_private_whatever_the_umask(tmp_path):
    """The state database, its WAL and SHM were created 0644 under the usual umask 022."""
    state = tmp_path / "state" / "state.db"
    state.parent.mkdir()
    state.write_bytes(b"")
    os.chmod(state, 0o644)  # left by an earlier version
    raw = {"manage": dict(url="http://127.0.0.1:9", company_id="c", public_key="p", private_key="k",
                          client_id="00000000-0000-4000-8000-000000000001"),
           "signl4": dict(api_url="http://127.0.0.1:9/api", api_key="a", team_secret="t", acting_user="u@example.com"),
           "listen": dict(webhook_token="0123456789abcdef0123"), "state": dict(path=str(state))}
    config = tmp_path / "agent.yml"
    config.write_text(yaml.safe_dump(raw))
    os.chmod(config, 0o644)
    env = support.agent_env()
    code = "import os, sys, runpy; os.umask(0o022); sys.argv = ['signl4_agent', 'status', '--config', %r]; " \
           "runpy.run_module('signl4_agent', run_name='__main__')" % str(config)
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    for path in (state, str(state) + "-wal", str(state) + "-shm"):
        if os.path.exists(path):
            assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0, (path, oct(os.stat(path).st_mode))
    assert "open to other users (mode 0o644)" in result.stderr
