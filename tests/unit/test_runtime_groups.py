"""meta/runtime.yml's action groups list exactly the modules of each system."""

import os

import yaml

from tests.emulators.harness import REPO_ROOT


def test_action_groups_equal_the_module_lists():
    with open(os.path.join(REPO_ROOT, "meta", "runtime.yml")) as handle:
        groups = yaml.safe_load(handle)["action_groups"]
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(REPO_ROOT, "plugins", "modules"))
                     if name.endswith(".py") and not name.startswith("_"))
    for prefix, group in (("cw_", "cw"), ("signl4_", "signl4")):
        assert sorted(groups[group] or []) == [m for m in modules if m.startswith(prefix)], group
    assert all(m.startswith(("cw_", "signl4_")) for m in modules)
