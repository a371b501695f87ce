"""The suite runs from a fresh clone: nothing tracked reads outside the repository.

A user's clone has no sibling folders (the project's reference folder ``shared`` next to the
checkout in particular), so the test clones this checkout's HEAD into an empty directory and runs the
tests that read the vendored specs there, with this checkout's interpreter.
"""

import os
import subprocess
import sys

import pytest

from tests.emulators.harness import REPO_ROOT

# Tests that validate journals against tests/specs (manage_spec / signl4_spec) or start the
# emulators; they crashed with FileNotFoundError when the specs lived outside the repository.
SPEC_DEPENDENT = [
    "tests/integration/emulators",
    "tests/integration/test_signl4_client.py",
]


def _git(*args, cwd=REPO_ROOT):
    return subprocess.run(["git"] + list(args), cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    if not os.path.isdir(os.path.join(REPO_ROOT, ".git")) and not os.path.isfile(os.path.join(REPO_ROOT, ".git")):
        pytest.skip("not a git checkout")
    parent = tmp_path_factory.mktemp("lonely-parent")  # the clone's parent holds nothing else
    target = parent / "signl4.connectwise"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", REPO_ROOT, str(target)], check=True,
                   capture_output=True, text=True)
    assert sorted(os.listdir(parent)) == ["signl4.connectwise"]
    # what ``make pytest`` does before running pytest, minus the venv this interpreter already is
    subprocess.run(["make", "-s", "build/collections/ansible_collections/signl4/connectwise"], cwd=target,
                   check=True, capture_output=True, text=True)
    return target


def test_no_tracked_file_reads_the_shared_folder(clone):
    sibling = os.pardir + "/" + "shared"  # the path this test greps for; nothing here reads it
    hits = subprocess.run(["git", "grep", "-n", "-I", "-F", "-e", sibling, "-e", sibling.replace("/", "\\")],
                          cwd=clone, capture_output=True, text=True, check=False)
    assert hits.returncode == 1, "tracked files reference %s:\n%s" % (sibling, hits.stdout)


def test_the_vendored_specs_are_tracked(clone):
    tracked = _git("ls-files", "tests/specs", cwd=clone).split()
    assert {"tests/specs/manage-2025.8.subset.json", "tests/specs/signl4-v2.subset.json",
            "tests/specs/README.md"} <= set(tracked)


def test_spec_dependent_tests_pass_in_the_clone(clone):
    env = {key: value for key, value in os.environ.items() if key not in ("SPECS_DIR", "PYTHONPATH")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "-x"] + SPEC_DEPENDENT,
        cwd=clone, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
    assert result.returncode == 0, tail
    assert " passed" in tail and "FileNotFoundError" not in result.stdout + result.stderr, tail
