"""`make demo`: start the Manage emulator, provision the integration's custom fields with the
demo playbook, run it again to show nothing changes, and print what the emulator holds."""

import os
import sys

from tests.emulators.harness import REPO_ROOT, RunningEmulator
from tests.support.modules import recap, run_playbook

CONNECTION = {"CW_COMPANY_ID": "signl4demo", "CW_PUBLIC_KEY": "demopublic", "CW_PRIVATE_KEY": "demoprivate",
              "CW_CLIENT_ID": "00000000-0000-4000-8000-000000000001"}


sys.path.insert(0, os.path.join(REPO_ROOT, "build", "collections"))
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import ManageClient  # noqa: E402


def show(title, text):
    print("\n=== %s\n%s" % (title, text.rstrip()), flush=True)


def main():
    emulator = RunningEmulator("tests.emulators.manage", [])
    try:
        env = dict(CONNECTION, CW_URL=emulator.url)
        show("Manage emulator", "listening on %s" % emulator.url)
        runs = []
        for attempt in ("first run: creates the fields", "second run: nothing to change"):
            result = run_playbook("playbooks/demo.yml", extra_env=env, args=["--diff"])
            show("ansible-playbook playbooks/demo.yml --diff (%s)" % attempt, result.stdout)
            if result.returncode:
                show("stderr", result.stderr)
                return result.returncode
            runs.append(recap(result.stdout))
        client = ManageClient(emulator.url, CONNECTION["CW_COMPANY_ID"], CONNECTION["CW_PUBLIC_KEY"],
                              CONNECTION["CW_PRIVATE_KEY"], CONNECTION["CW_CLIENT_ID"])
        fields = client.list("/system/userDefinedFields", order_by="id asc")
        rows = ["%-4s %-20s %-10s %-11s seq=%s" % (f["id"], f["caption"], f["fieldTypeIdentifier"],
                                                   f.get("entryTypeIdentifier"), f["sequenceNumber"]) for f in fields]
        show("custom fields the emulator holds", "\n".join(rows))
        created = {"Signl4Retrieved_c", "Signl4Status_c", "Signl4User_c"} <= {f["caption"] for f in fields}
        show("summary", "first run: %d changed task(s); second run: %d changed task(s); the three fields %s" % (
            runs[0]["changed"], runs[1]["changed"], "exist" if created else "are MISSING"))
        return 0 if created and runs[0]["changed"] and not runs[1]["changed"] else 1
    finally:
        emulator.stop()


if __name__ == "__main__":
    sys.exit(main())
