"""Every client-side module_utils file imports without Ansible installed (the sync agent imports
them), and a cw_* module does not ship the SIGNL4 client (nor a signl4_* module the Manage one).

A subprocess installs a meta-path finder that refuses ``ansible`` and ``ansible.*`` (but not
``ansible_collections``), then imports each file. New module_utils files are covered by default:
only the Ansible-side module bases below may import Ansible."""

import ast
import json
import os
import subprocess
import sys

from tests.emulators.harness import REPO_ROOT

MODULE_UTILS = os.path.join(REPO_ROOT, "plugins", "module_utils")
PACKAGE = "ansible_collections.signl4.connectwise.plugins.module_utils"
# The module bases: they build on AnsibleModule by design and are never imported by the agent.
ANSIBLE_SIDE = {"module", "cw_module", "signl4_module"}

BLOCKER = r"""
import importlib, importlib.abc, json, sys
class NoAnsible(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "ansible" or name.startswith("ansible."):
            raise ImportError("ansible is not installed (blocked by the test): " + name)
        return None
sys.meta_path.insert(0, NoAnsible())
sys.path.insert(0, sys.argv[1])
failed = {}
for name in json.loads(sys.argv[2]):
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed[name] = "%s: %s" % (type(exc).__name__, exc)
print(json.dumps({"failed": failed, "ansible_loaded": sorted(m for m in sys.modules if m == "ansible" or m.startswith("ansible."))}))
"""


def client_side_modules():
    names = sorted(f[:-3] for f in os.listdir(MODULE_UTILS) if f.endswith(".py") and f != "__init__.py")
    return ["%s.%s" % (PACKAGE, name) for name in names if name not in ANSIBLE_SIDE]


def test_client_side_module_utils_import_without_ansible():
    modules = client_side_modules()
    assert len(modules) >= 10  # the listing found the files
    collections = os.path.join(REPO_ROOT, "build", "collections")
    result = subprocess.run([sys.executable, "-c", BLOCKER, collections, json.dumps(modules)],
                            capture_output=True, text=True, timeout=60, check=True)
    outcome = json.loads(result.stdout)
    assert outcome == {"failed": {}, "ansible_loaded": []}


def test_the_blocker_does_block_ansible():
    # The check above is only worth something if the finder really refuses Ansible.
    collections = os.path.join(REPO_ROOT, "build", "collections")
    result = subprocess.run([sys.executable, "-c", BLOCKER, collections, json.dumps([PACKAGE + ".cw_module"])],
                            capture_output=True, text=True, timeout=60, check=True)
    assert "ansible is not installed" in json.loads(result.stdout)["failed"][PACKAGE + ".cw_module"]


def _imports(path):
    """The module_utils files ``path`` imports: ``from PACKAGE.name import ...`` and ``from PACKAGE import name``."""
    with open(path) as handle:
        tree = ast.parse(handle.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == PACKAGE:
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE + "."):
            found.add(node.module.rsplit(".", 1)[-1])
    return found


def _closure(name):
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(_imports(os.path.join(MODULE_UTILS, current + ".py")))
    return seen


def test_each_module_ships_only_its_own_client():
    modules_dir = os.path.join(REPO_ROOT, "plugins", "modules")
    for filename in sorted(os.listdir(modules_dir)):
        shipped = set()
        for name in _imports(os.path.join(modules_dir, filename)):
            shipped |= _closure(name)
        other = "signl4_client" if filename.startswith("cw_") else "cw_client"
        assert other not in shipped, "%s ships %s" % (filename, other)
