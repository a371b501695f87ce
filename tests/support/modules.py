"""Run a collection module in-process, the way Ansible would, and get its result dict.

The module still talks real HTTP to an emulator; only Ansible's process boundary is skipped,
which keeps a suite of hundreds of module runs fast. Playbook-level behaviour (``-vvv``,
``module_defaults`` groups, the demo) is covered by tests that run ``ansible-playbook``.
"""

import importlib
import os
import subprocess
import sys
from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import ManageClient
from tests.emulators.harness import REPO_ROOT


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


def _exit_json(self, **result):
    result.setdefault("changed", False)
    raise ModuleExit(result)


def _fail_json(self, msg, **result):
    result.update(failed=True, msg=msg)
    raise ModuleExit(result)


def run_module(name, args, check_mode=False, diff=True):
    """Run ``signl4.connectwise.<name>`` with ``args``; returns the result (``failed`` set on failure,
    ``warnings`` holding the warnings this run emitted)."""
    # Warnings are caught at AnsibleModule.warn: in-process runs share ansible-core's de-duplicating
    # registry, which a controller-side import in the same process also bypasses for stderr.
    warnings = []
    module = importlib.import_module("ansible_collections.signl4.connectwise.plugins.modules." + name)
    full_args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with patch_module_args(full_args), \
            mock.patch.object(basic.AnsibleModule, "exit_json", _exit_json), \
            mock.patch.object(basic.AnsibleModule, "fail_json", _fail_json), \
            mock.patch.object(basic.AnsibleModule, "warn", lambda self, warning: warnings.append(warning)):
        try:
            module.main()
        except ModuleExit as done:
            done.result.setdefault("warnings", warnings)
            return done.result
    raise AssertionError("module %s returned without exit_json/fail_json" % name)


def run_playbook(playbook, extra_env=None, args=(), check=False):
    """Run ``ansible-playbook`` for real; returns the CompletedProcess (stdout+stderr text)."""
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO_ROOT, "build", "collections"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "PYTHONPATH": REPO_ROOT,
    })
    env.update(extra_env or {})
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), playbook] + list(args)
    if check:
        command += ["--check", "--diff"]
    return subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)


def recap(output, host="localhost"):
    """``{"ok": n, "changed": n, "failed": n, ...}`` of the PLAY RECAP line of ``host``."""
    for line in output.splitlines():
        if line.startswith(host) and "ok=" in line:
            return {k: int(v) for k, v in (part.split("=") for part in line.split(":", 1)[1].split())}
    raise AssertionError("no PLAY RECAP in output:\n" + output[-3000:])


def outside_client(manage, **options):
    """A Manage client of someone else (an edit in the UI, say): no run cache unless ``options`` give one, so
    its writes do not reach a run's shared lookups and reads. The emulator's journal sees its requests."""
    connection = manage.connection
    return ManageClient(connection["cw_url"], connection["cw_company_id"], connection["cw_public_key"],
                        connection["cw_private_key"], connection["cw_client_id"], **options)
