"""``make test``'s housekeeping: a timing line per stage, the fast suite with the agent's fast tests, and
Ansible's and molecule's state inside the checkout (``build/``), not in ``~/.ansible``."""

import os
import subprocess

from tests.emulators.harness import REPO_ROOT

TIMER = os.path.join(REPO_ROOT, "hack", "stage-timer.sh")
BUILD = os.path.join(REPO_ROOT, "build")


def make_dry_run(*args):
    result = subprocess.run(["make", "--no-print-directory", "-n"] + list(args), cwd=REPO_ROOT, capture_output=True,
                            text=True, check=False, env=dict(os.environ, MAKEFLAGS=""))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_each_stage_prints_its_time_and_the_first_failure_stops_the_run(tmp_path):
    fake_make = tmp_path / "make"
    fake_make.write_text('#!/bin/sh\necho "ran $2"\n[ "$2" != broken ]\n')
    fake_make.chmod(0o755)
    result = subprocess.run([TIMER, "first", "broken", "never"], capture_output=True, text=True, check=False,
                            env=dict(os.environ, MAKE=str(fake_make)))
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert lines[0] == "ran first" and lines[2] == "ran broken"
    assert lines[1].startswith("== first: ") and lines[1].endswith(" s")
    assert lines[3].startswith("== broken: ") and lines[3].endswith(" s, FAILED (exit 1)")
    assert "ran never" not in result.stdout
    passing = subprocess.run([TIMER, "first", "second"], capture_output=True, text=True, check=False,
                             env=dict(os.environ, MAKE=str(fake_make)))
    assert passing.returncode == 0 and passing.stdout.splitlines()[-1].startswith("== all stages (first second): ")


def test_make_test_runs_every_stage_through_the_timer():
    assert "hack/stage-timer.sh complexity pytest ha test-core216 demo molecule sanity lint docs changelog" in \
        make_dry_run("test")


def test_the_fast_suite_includes_the_agents_fast_tests():
    command = make_dry_run("pytest-fast")
    assert '-m "not slow"' in command and "tests/agent" in command


def test_ansible_and_molecule_keep_their_state_under_build():
    assert "MOLECULE_EPHEMERAL_DIRECTORY=%s/" % BUILD in make_dry_run("molecule")
    shown = subprocess.run(["make", "--no-print-directory", "-s", "--eval",
                            "show-env:\n\t@echo $$ANSIBLE_HOME $$ANSIBLE_REMOTE_TEMP", "show-env"],
                           cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert len(shown) == 2 and all(path.startswith(BUILD + os.sep) for path in shown), shown
