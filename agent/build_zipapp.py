"""Build the agent's zipapp: ``python agent/build_zipapp.py OUTPUT`` (``make agent``).

The archive holds ``signl4_agent`` and the collection's ``plugins/module_utils`` laid out as
``ansible_collections/signl4/connectwise/plugins/module_utils``, so the agent imports the one copy
of the clients; ``python signl4-agent.pyz run --config FILE`` runs it in a venv holding
``agent/requirements.txt``.
"""

import os
import shutil
import sys
import tempfile
import zipapp

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PACKAGE_PATH = ("ansible_collections", "signl4", "connectwise", "plugins")
MAIN = "import sys\n\nfrom signl4_agent.__main__ import main\n\nsys.exit(main())\n"
# Every entry gets this time and a fixed mode: the same sources make the same bytes, so the
# sync_agent role, which builds the zipapp on each run, copies (and restarts the agent) only on a change.
FIXED_MTIME = 315619200  # 1980-01-02, the first day every zip time zone can hold


def _copy(source, target):
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _normalise(staging):
    for folder, folders, files in os.walk(staging):
        for name in folders + files:
            path = os.path.join(folder, name)
            os.chmod(path, 0o755 if name in folders else 0o644)
            os.utime(path, (FIXED_MTIME, FIXED_MTIME))


def build(output):
    with tempfile.TemporaryDirectory() as staging:
        _copy(os.path.join(HERE, "signl4_agent"), os.path.join(staging, "signl4_agent"))
        package = os.path.join(staging, *PACKAGE_PATH)
        _copy(os.path.join(REPO, "plugins", "module_utils"), os.path.join(package, "module_utils"))
        for depth in range(1, len(PACKAGE_PATH) + 2):
            init = os.path.join(staging, *(PACKAGE_PATH + ("module_utils",))[:depth], "__init__.py")
            if not os.path.exists(init):
                open(init, "w").close()
        with open(os.path.join(staging, "__main__.py"), "w") as handle:
            handle.write(MAIN)
        _normalise(staging)
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        zipapp.create_archive(staging, output, interpreter="/usr/bin/env python3", compressed=True)
    return output


if __name__ == "__main__":
    print(build(sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build", "signl4-agent.pyz")))
