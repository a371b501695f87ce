"""Reads shared by the tasks of one Ansible run (``SharedLookups.run_read``): the custom field tasks
of a run compare against one read of their pod's fields; another run reads again; a task that must
write reads again first and starts over when the read changed, so its diff and write come from what
Manage holds then. ``run_identity`` tells the run by the process that runs the play."""

import os

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils.run_cache import run_identity
from tests.support.modules import outside_client, recap, run_playbook
from tests.emulators.harness import REPO_ROOT

PLAYBOOK = os.path.join(REPO_ROOT, "tests", "integration", "playbooks", "cw_custom_fields_one_run.yml")
FIELDS = "/system/userDefinedFields"


def play(manage, tmp_path, help_c="RunC_c help", edit_url="", diff=False):
    env = {"TEST_CW_URL": manage.url, "TEST_HELP_C": help_c, "TEST_EDIT_URL": edit_url,
           "SIGNL4_CONNECTWISE_RUN_CACHE": str(tmp_path / "run-cache")}
    manage.clear_requests()
    played = run_playbook(PLAYBOOK, env, args=["--diff"] if diff else [])
    assert played.returncode == 0, played.stdout[-3000:]
    return played


def field_named(manage, caption):
    with outside_client(manage) as client:
        found = [r for r in client.list(FIELDS) if r["caption"] == caption]
        return found[0], client.transport.base_url


def field_calls(manage):
    return [(r["method"], r["path"].split("/apis/3.0", 1)[-1]) for r in manage.requests() if FIELDS.lower() in r["path"].lower()]


@pytest.fixture
def provisioned(manage, tmp_path):
    assert recap(play(manage, tmp_path).stdout)["changed"] == 2  # the loop task and the last one
    return manage


def test_the_custom_field_tasks_of_a_run_read_their_pod_once_and_each_run_reads_again(provisioned, tmp_path):
    for _run in range(2):  # the second run does not see the first one's read
        played = play(provisioned, tmp_path)
        assert recap(played.stdout)["changed"] == 0
        assert field_calls(provisioned) == [("GET", FIELDS)]
        assert provisioned.requests()[0]["query"]["conditions"] == ["podId = 10"]


def test_a_task_that_must_write_reads_again_and_starts_over_on_what_changed(provisioned, tmp_path):
    target, api = field_named(provisioned, "RunC_c")
    played = play(provisioned, tmp_path, help_c="wanted", edit_url="%s%s/%d" % (api, FIELDS, target["id"]), diff=True)
    # The run's read (taken before the edit), the read before the write (the edit is seen: start over),
    # the read the new start takes from the run's cache checked again, then the write.
    assert field_calls(provisioned) == [("GET", FIELDS), ("PATCH", "%s/%d" % (FIELDS, target["id"])),
                                        ("GET", FIELDS), ("GET", FIELDS), ("PATCH", "%s/%d" % (FIELDS, target["id"]))]
    assert "edited outside" in played.stdout.split("TASK [The last field", 1)[1]  # the diff's before: what Manage held
    assert field_named(provisioned, "RunC_c")[0]["helpText"] == "wanted"


# ----- which run a task belongs to -------------------------------------------------------------

def fake_proc(tmp_path, processes):
    """``processes``: ``{pid: (parent, start, argv)}`` written as /proc/<pid>/stat and cmdline."""
    for pid, (parent, start, argv) in processes.items():
        folder = tmp_path / str(pid)
        folder.mkdir()
        rest = ["S", str(parent)] + ["0"] * 17 + [str(start)] + ["0"] * 5
        (folder / "stat").write_text("%d (%s) %s\n" % (pid, "a (b) c", " ".join(rest)))
        (folder / "cmdline").write_bytes(b"\0".join(arg.encode() for arg in argv) + b"\0")
    return str(tmp_path)


PLAYBOOK_TREE = {
    50: (40, 111, ["/bin/sh", "-c", "python AnsiballZ_cw_custom_field.py"]),
    40: (30, 222, ["/venv/bin/python3.11", "/venv/bin/ansible-playbook", "site.yml"]),  # the task's worker
    30: (20, 333, ["/venv/bin/python3.11", "/venv/bin/ansible-playbook", "site.yml"]),  # the run
    20: (1, 444, ["-bash"]),
}


def test_the_run_is_the_process_that_forked_the_tasks_worker(tmp_path):
    assert run_identity(fake_proc(tmp_path, PLAYBOOK_TREE), pid=50) == "30:333"


def test_without_an_ansible_ancestor_there_is_no_run(tmp_path):
    tree = {50: (40, 1, ["/bin/sh", "-c", "x"]), 40: (30, 2, ["sshd: admin@notty"]), 30: (1, 3, ["/usr/sbin/sshd"])}
    assert run_identity(fake_proc(tmp_path, tree), pid=50) is None
    assert run_identity(str(tmp_path / "no-proc"), pid=50) is None


def test_this_test_process_belongs_to_no_run():
    assert run_identity() is None  # pytest is no ansible process: in-process module runs share no reads
