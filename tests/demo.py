"""`make demo`: the provisioning story against the two emulators, printed step by step.

1. `--check --diff` on a never-provisioned Manage and SIGNL4: what would be created, nothing written.
2. The first run creates everything the APIs allow and ends with the manual steps, one per line.
3. The administrator does them (the Manage emulator's stand-in for the UI); the next run is changed=0.
4. A workflow condition is edited behind Ansible's back; `--check --diff` shows exactly that.
5. A normal run puts it back; the run after that is changed=0 again.

Exits non-zero as soon as a step does not do what it says.
"""

import os
import re
import sys

import yaml

from tests.emulators.harness import REPO_ROOT, RunningEmulator
from tests.emulators.signl4.seed import DEFAULT_API_KEY
from tests.support.modules import recap, run_playbook

CONNECTION = {"CW_COMPANY_ID": "signl4demo", "CW_PUBLIC_KEY": "demopublic", "CW_PRIVATE_KEY": "demoprivate",
              "CW_CLIENT_ID": "00000000-0000-4000-8000-000000000001"}
MANAGE_ARGS = ["--company-id", "signl4demo", "--public-key", "demopublic", "--private-key", "demoprivate",
               "--client-id", CONNECTION["CW_CLIENT_ID"]]
# The key an administrator made in Manage for the API member "signl4" (the emulator does not check it).
MEMBER_KEYS = {"DEMO_MEMBER_PUBLIC_KEY": "signl4public", "DEMO_MEMBER_PRIVATE_KEY": "signl4private"}
PLAYBOOK = "playbooks/demo.yml"
TRIGGER = "SIGNL4 - Trigger Signls"

sys.path.insert(0, os.path.join(REPO_ROOT, "build", "collections"))
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import ManageClient  # noqa: E402


class StepFailed(Exception):
    pass


def show(title, text=""):
    print("\n=== %s\n%s" % (title, text.rstrip()), flush=True)


def expect(condition, what):
    if not condition:
        raise StepFailed(what)


def lines(output, pattern):
    return "\n".join(line for line in output.splitlines() if re.search(pattern, line))


def task_block(output, name):
    """One task's output, from its TASK line to the next."""
    start = output.find("TASK [signl4.connectwise.integration : %s]" % name)
    return output[start:output.find("\nTASK [", start + 1)] if start >= 0 else ""


class Demo:
    def __init__(self, manage, signl4):
        self.manage, self.signl4 = manage, signl4
        self.env = dict(CONNECTION, CW_URL=manage.url, SIGNL4_API_URL=signl4.url + "/api", SIGNL4_API_KEY=DEFAULT_API_KEY,
                        **MEMBER_KEYS)
        self.client = ManageClient(manage.url, CONNECTION["CW_COMPANY_ID"], CONNECTION["CW_PUBLIC_KEY"],
                                   CONNECTION["CW_PRIVATE_KEY"], CONNECTION["CW_CLIENT_ID"])

    def play(self, title, check=False):
        for emulator in (self.manage, self.signl4):
            emulator.clear_requests()
        result = run_playbook(PLAYBOOK, extra_env=self.env, check=check)
        command = "ansible-playbook %s%s" % (PLAYBOOK, " --check --diff" if check else "")
        expect(result.returncode == 0, "%s failed:\n%s\n%s" % (command, result.stdout[-3000:], result.stderr[-2000:]))
        result.counts = recap(result.stdout)
        result.writes = len(self.manage.writes()) + len(self.signl4.writes())
        show("%s: %s" % (title, command), "PLAY RECAP: ok=%(ok)d changed=%(changed)d failed=%(failed)d" % result.counts
             + "; write requests the emulators received: %d" % result.writes)
        return result

    def check_new_system(self):
        result = self.play("1. What would it do on a never-provisioned system?", check=True)
        show("   it reports what it would create (a task that needs an object created earlier says so)",
             lines(result.stdout, r"^changed: |Would create"))
        expect(result.writes == 0, "check mode wrote to an emulator")

    def first_run(self):
        result = self.play("2. The first run creates everything the APIs allow")
        steps = task_block(result.stdout, "Pending manual steps (none left means the integration is converged)")
        show("   the steps left for the Manage UI, one per line", steps)
        expect(result.counts["changed"] > 0 and "1. System > Security Roles" in result.stdout, "no pending steps listed")

    def administrator_clicks(self):
        with open(os.path.join(REPO_ROOT, "tests", "integration", "data", "seed_security_role.yml")) as handle:
            permissions = yaml.safe_load(handle)["permissions"]
        role = self.client.find("/system/securityRoles", 'name = "SIGNL4"')[0]
        self.manage.control("POST", "/securityRoles/%d/settings" % role["id"], [
            dict(module=p["module"], function=p["function"], add=p["add_level"], edit=p["edit_level"],
                 delete=p["delete_level"], inquire=p["inquire_level"]) for p in permissions])
        show("3. The administrator sets the SIGNL4 role's levels in Manage (the emulator's UI control)")
        result = self.play("   ...and the next run has nothing to do")
        expect(result.counts["changed"] == 0 and result.writes == 0, "the re-run changed something")
        expect('"Nothing pending."' in result.stdout, "steps still pending")

    def edit_behind_ansibles_back(self):
        rule = self.client.find("/system/workflows", 'name = "%s"' % TRIGGER)[0]
        event = self.client.find("/system/workflows/%d/events" % rule["id"], 'name = "New ticket"')[0]
        edited = 'Signl4Retrieved_c = False AND status/name = "New"'
        self.client.patch("/system/workflows/%d/events/%d" % (rule["id"], event["id"]),
                          [{"op": "replace", "path": "eventCondition", "value": edited}])
        show("4. Someone edits the trigger condition in Manage", "was: %s\nnow: %s" % (event["eventCondition"], edited))
        result = self.play("   --check --diff catches it", check=True)
        diff = task_block(result.stdout, "Workflow rules")
        show("   the diff", diff)
        expect(result.counts["changed"] == 1 and result.writes == 0 and '"eventCondition"' in diff
               and "changed: [localhost] => (item=%s)" % TRIGGER in diff, "the edit was not shown")

    def repair(self):
        result = self.play("5. A normal run puts it back")
        expect(result.counts["changed"] == 1, "the run did not repair the condition")
        result = self.play("   ...and the next one is changed=0 again")
        expect(result.counts["changed"] == 0 and result.writes == 0, "not idempotent after the repair")


def main():
    manage = RunningEmulator("tests.emulators.manage", MANAGE_ARGS)
    signl4 = RunningEmulator("tests.emulators.signl4", [])
    try:
        show("The emulators", "ConnectWise Manage: %s\nSIGNL4:             %s" % (manage.url, signl4.url))
        demo = Demo(manage, signl4)
        for step in (demo.check_new_system, demo.first_run, demo.administrator_clicks, demo.edit_behind_ansibles_back,
                     demo.repair):
            step()
        show("Done", "every step did what it said")
        return 0
    except StepFailed as failure:
        show("FAILED", str(failure))
        return 1
    finally:
        manage.stop()
        signl4.stop()


if __name__ == "__main__":
    sys.exit(main())
