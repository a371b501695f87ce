"""`make demo`: the whole story against the two emulators, printed step by step.

1. site.yml provisions both sides in agent mode (Manage: custom fields, workflow rules, security role,
   API member, the callback to the agent; SIGNL4: the outbound webhook to the agent) and installs the sync
   agent (roles/sync_agent) into a sandbox, then lists the manual steps; the administrator does them. The
   tenant's two routes (integration_routes) become the agent's: Fabrikam's tickets page the Service Desk
   team, AdventureWorks' the Network Operations team; ticket notes travel to SIGNL4 (notes.to_signl4).
2. The agent starts, as the role leaves it to the caller without systemd: the installed virtualenv + zipapp.
3. Two tickets are created in Manage; each one's Signl appears in SIGNL4, in the team its route names.
4. Olivia acknowledges the Service Desk Signl in SIGNL4 and annotates it; the ticket's status, owner and a
   note with her annotation follow.
5. The service manager adds a Discussion note to the ticket in Manage; it becomes an annotation of the Signl.
6. The agent is stopped; a workflow condition is edited behind Ansible's back; `--check --diff` shows
   exactly that edit and writes nothing.
7. A run puts it back; a last full site.yml run reports changed=0 for every host.

Exits non-zero as soon as a step does not do what it says; the agent and the emulators are stopped
whatever happens.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

from tests.emulators.harness import REPO_ROOT, RunningEmulator
from tests.emulators.signl4.seed import DEFAULT_API_KEY, DEFAULT_TEAM_SECRET, SECOND_TEAM_SECRET

sys.path.insert(0, os.path.join(REPO_ROOT, "build", "collections"))
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import ManageClient  # noqa: E402
from tests.agent.support import free_port  # noqa: E402 - needs the path above

CONNECTION = {"company_id": "signl4demo", "public_key": "demopublic", "private_key": "demoprivate",
              "client_id": "00000000-0000-4000-8000-000000000001"}
MANAGE_ARGS = ["--company-id", "signl4demo", "--public-key", "demopublic", "--private-key", "demoprivate",
               "--client-id", CONNECTION["client_id"]]
SITE = "playbooks/site.yml"
TRIGGER = "SIGNL4 - Trigger Signls"
WEBHOOK_TOKEN = "demo-webhook-token-0123456789"
CALLBACK_TOKEN = "demo-callback-token-0123456789"
ACTING_USER = "rene@example.com"        # the SIGNL4 user the agent acts as
OLIVIA = "olivia.oncall@example.com"    # the on-call engineer in SIGNL4
OLIVIAS_MEMBER = "asmith"               # her Manage member (the agent matches owners by office e-mail)
SECRETS = ("demoprivate", DEFAULT_API_KEY, DEFAULT_TEAM_SECRET, SECOND_TEAM_SECRET, WEBHOOK_TOKEN, CALLBACK_TOKEN)
# The tenant's routes (integration_routes): `team` names the SIGNL4 team (for provisioning); the sync_agent role
# gives the rest to the agent of the tenant, the one with the tenant's webhook token. Both on the trigger's board.
ROUTES = [dict(name="adventureworks", team="Network Operations", company="AdventureWorks", team_secret=SECOND_TEAM_SECRET,
               service="ConnectWise"),
          dict(name="service-desk", team="Service Desk", board="Service Desk", team_secret=DEFAULT_TEAM_SECRET,
               service="ConnectWise")]
TICKETS = [dict(summary="Disk full on FS02", company="Fabrikam", contact="Megan Bowen", team="Service Desk"),
           dict(summary="Core switch unreachable in St. Petersburg", company="AdventureWorks", contact="Alex Wilber",
                team="Network Operations")]


class StepFailed(Exception):
    pass


def show(title, text=""):
    print("\n=== %s\n%s" % (title, text.rstrip()), flush=True)


def expect(condition, what):
    if not condition:
        raise StepFailed(what)


def wait_for(predicate, what, timeout=20.0):
    """Poll until the asynchronous sync has happened (correctness, not timing: the timeout only ends a hang)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise StepFailed(what)


def task_block(output, name):
    """One task's output, from its TASK line to the next."""
    start = output.find("TASK [signl4.connectwise.integration : %s]" % name)
    return output[start:output.find("\nTASK [", start + 1)] if start >= 0 else ""


def recap(output):
    """``{host: {"ok": n, "changed": n, ...}}`` from the PLAY RECAP."""
    hosts = {}
    for line in output.split("PLAY RECAP", 1)[-1].splitlines():
        match = re.match(r"^(\S+)\s*:\s*(ok=.*)$", line)
        if match:
            hosts[match.group(1)] = {k: int(v) for k, v in (p.split("=") for p in match.group(2).split())}
    return hosts


def inventory(sandbox, manage, signl4, agent_url, agent_port):
    """site.yml's inventory: one Manage tenant (the API calls run here) and one agent host (this machine,
    everything under the sandbox, no systemd: the demo starts the agent itself)."""
    import getpass
    import grp
    local = dict(ansible_connection="local", ansible_python_interpreter=sys.executable)
    tenant = dict(local, integration_cw_url=manage.url, integration_cw_company_id=CONNECTION["company_id"],
                  integration_cw_public_key=CONNECTION["public_key"], integration_cw_private_key=CONNECTION["private_key"],
                  integration_cw_client_id=CONNECTION["client_id"], integration_signl4_api_url=signl4.url + "/api",
                  integration_signl4_api_key=DEFAULT_API_KEY, integration_signl4_team="Service Desk",
                  integration_signl4_sync_mode="agent", integration_agent_url=agent_url,
                  integration_agent_webhook_token=WEBHOOK_TOKEN, integration_agent_callback_token=CALLBACK_TOKEN,
                  integration_api_member_location="Tampa Office", integration_api_member_business_unit="Services",
                  # the key an administrator made in Manage for the API member "signl4" (the emulator does not check it)
                  integration_api_member_public_key="signl4public", integration_api_member_private_key="signl4private",
                  integration_routes=ROUTES)
    agent = dict(local, ansible_become=False, sync_agent_service_manager="none", sync_agent_create_user=False,
                 sync_agent_user=getpass.getuser(), sync_agent_group=grp.getgrgid(os.getgid()).gr_name,
                 sync_agent_install_dir=os.path.join(sandbox, "opt"), sync_agent_config_dir=os.path.join(sandbox, "etc"),
                 sync_agent_state_dir=os.path.join(sandbox, "state"), sync_agent_unit_dir=os.path.join(sandbox, "systemd"),
                 sync_agent_python=sys.executable, sync_agent_zipapp_src=os.path.join(sandbox, "signl4-agent.pyz"),
                 # the emulator knows one API key; a real agent logs in as the API member "signl4"
                 sync_agent_manage_url=manage.url, sync_agent_manage_company_id=CONNECTION["company_id"],
                 sync_agent_manage_public_key=CONNECTION["public_key"],
                 sync_agent_manage_private_key=CONNECTION["private_key"],
                 sync_agent_manage_client_id=CONNECTION["client_id"], sync_agent_signl4_api_url=signl4.url + "/api",
                 sync_agent_signl4_api_key=DEFAULT_API_KEY, sync_agent_signl4_team_secret=DEFAULT_TEAM_SECRET,
                 sync_agent_signl4_acting_user=ACTING_USER, sync_agent_webhook_token=WEBHOOK_TOKEN,
                 sync_agent_callback_token=CALLBACK_TOKEN, sync_agent_listen_port=agent_port,
                 sync_agent_poll_interval=2, sync_agent_owner_assignment="acknowledge",
                 sync_agent_notes_to_signl4_enabled=True)
    path = os.path.join(sandbox, "hosts.yml")
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"all": {"children": {"manage_tenants": {"hosts": {"tenant": tenant}},
                                             "agent_hosts": {"hosts": {"agent": agent}}}}}, handle)
    return path


class Demo:
    def __init__(self, manage, signl4, sandbox):
        self.manage, self.signl4, self.sandbox = manage, signl4, sandbox
        self.port = free_port()
        self.agent_url = "http://127.0.0.1:%d" % self.port
        self.inventory = inventory(sandbox, manage, signl4, self.agent_url, self.port)
        self.client = ManageClient(manage.url, CONNECTION["company_id"], CONNECTION["public_key"],
                                   CONNECTION["private_key"], CONNECTION["client_id"])
        self.agent = None
        self.ticket = None

    def play(self, title, check=False, limit=None):
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO_ROOT, "build", "collections"),
                   ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0", PYTHONPATH=REPO_ROOT)
        args = ["-i", self.inventory, SITE] + (["--limit", limit] if limit else []) + (["--check", "--diff"] if check else [])
        command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook")] + args
        for emulator in (self.manage, self.signl4):
            emulator.clear_requests()
        result = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)
        shown = "ansible-playbook -i <sandbox>/hosts.yml " + " ".join(args[2:])
        expect(result.returncode == 0, "%s failed:\n%s\n%s" % (shown, result.stdout[-3000:], result.stderr[-2000:]))
        expect(not any(secret in result.stdout + result.stderr for secret in SECRETS), "a secret was printed")
        result.recap = recap(result.stdout)
        result.writes = len(self.manage.writes()) + len(self.signl4.writes())
        show("%s: %s" % (title, shown), "\n".join("PLAY RECAP %-7s ok=%d changed=%d failed=%d" % (
            host, counts["ok"], counts["changed"], counts["failed"]) for host, counts in result.recap.items())
            + "\nwrite requests the emulators received: %d" % result.writes)
        return result

    def provision(self):
        result = self.play("1. site.yml provisions both sides in agent mode and installs the sync agent")
        expect(result.recap["tenant"]["changed"] > 0 and result.recap["agent"]["changed"] > 0, "nothing was provisioned")
        hooks = [h["name"] + " -> " + h["extUrl"].replace(WEBHOOK_TOKEN, "<token>")
                 for h in self.signl4.control("GET", "/state").get("webhooks", [])]
        callbacks = [c["url"].replace(CALLBACK_TOKEN, "<token>") for c in self.client.list("/system/callbacks")]
        show("   SIGNL4's outbound webhook and Manage's callback point at the agent",
             "webhook:  %s\ncallback: %s" % (hooks, callbacks))
        expect(callbacks == ["%s/manage/<token>/callback?recordId=" % self.agent_url], "no callback to the agent")
        steps = task_block(result.stdout, "Pending manual steps (none left means the integration is converged)")
        show("   the steps left for the Manage UI, one per line", steps)
        expect("1. System > Security Roles" in result.stdout, "no pending steps listed")
        with open(os.path.join(REPO_ROOT, "tests", "integration", "data", "seed_security_role.yml")) as handle:
            permissions = yaml.safe_load(handle)["permissions"]
        role = self.client.find("/system/securityRoles", 'name = "SIGNL4"')[0]
        self.manage.control("POST", "/securityRoles/%d/settings" % role["id"], [
            dict(module=p["module"], function=p["function"], add=p["add_level"], edit=p["edit_level"],
                 delete=p["delete_level"], inquire=p["inquire_level"]) for p in permissions])
        member = self.client.find("/system/members", 'identifier = "%s"' % OLIVIAS_MEMBER)[0]
        self.client.patch("/system/members/%d" % member["id"], [{"op": "replace", "path": "officeEmail", "value": OLIVIA}])
        show("   the administrator does them in Manage (the emulator's UI control), and gives Olivia's member",
             "   (%s) her SIGNL4 e-mail, %s, so she can become the owner of tickets" % (OLIVIAS_MEMBER, OLIVIA))
        self.show_agent_settings()

    def show_agent_settings(self):
        """What the role wrote into the agent's file for the new features (the file holds secrets: only names)."""
        with open(os.path.join(self.sandbox, "etc", "agent.yml"), encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
        routes = config.get("routes") or []
        expect([route["name"] for route in routes] == [route["name"] for route in ROUTES]
               and not any("team" in route for route in routes), "the agent did not get the tenant's routes: %s"
               % [sorted(route) for route in routes])
        expect(config.get("notes", {}).get("to_signl4", {}).get("enabled") is True, "notes.to_signl4 is not on")
        teams = {route["name"]: route["team"] for route in ROUTES}
        show("   the agent's routes, from the tenant's integration_routes (the team secrets are in the file, not here)",
             "\n".join("%-15s %-32s -> team %s" % (route["name"], ", ".join(
                 "%s=%s" % (key, route[key]) for key in ("board", "company", "priority", "type", "status") if key in route),
                 teams[route["name"]]) for route in routes)
             + "\nno route matches -> the default route (signl4.team_secret)\nnotes.to_signl4: %s"
             % config["notes"]["to_signl4"])

    def start_agent(self):
        opt = os.path.join(self.sandbox, "opt")
        command = [os.path.join(opt, "venv", "bin", "python"), os.path.join(opt, "signl4-agent.pyz"), "run",
                   "--config", os.path.join(self.sandbox, "etc", "agent.yml")]
        self.log = open(os.path.join(self.sandbox, "agent.log"), "w+", encoding="utf-8")
        self.agent = subprocess.Popen(command, cwd=self.sandbox, stdout=self.log, stderr=self.log)
        wait_for(lambda: self.healthz() == 200 or self.agent.poll() is not None, "the agent did not answer /healthz")
        expect(self.agent.poll() is None, "the agent exited:\n" + self.agent_log())
        show("2. The agent runs (no systemd here, so the demo starts what the role installed)",
             "%s\nGET %s/healthz -> 200" % (" ".join(command).replace(self.sandbox, "<sandbox>"), self.agent_url))

    def healthz(self):
        try:
            with urllib.request.urlopen(self.agent_url + "/healthz", timeout=2) as response:  # noqa: S310 - loopback
                return response.status
        except OSError:
            return None

    def agent_log(self):
        self.log.flush()
        with open(self.log.name, encoding="utf-8") as handle:
            return handle.read()[-3000:]

    def alert(self, ticket=None):
        ticket = ticket or self.ticket
        alerts = [a for a in self.signl4.control("GET", "/state")["alerts"] if a.get("externalId") == str(ticket["id"])]
        return alerts[0] if alerts else None

    def tickets_raise_signls_in_their_routes_teams(self):
        tickets = [self.client.create("/service/tickets", {
            "summary": spec["summary"], "company": {"identifier": spec["company"]}, "board": {"name": "Service Desk"},
            "status": {"name": "New (not responded)"}, "priority": {"name": "Priority 2 - Quick Response"},
            "contactName": spec["contact"]}) for spec in TICKETS]
        self.ticket = tickets[0]
        show("3. Two new tickets in Manage", "\n".join("#%d %s (%s, %s, %s)" % (
            ticket["id"], ticket["summary"], ticket["company"]["identifier"], ticket["board"]["name"],
            ticket["status"]["name"]) for ticket in tickets))
        team_names = {team["id"]: team["name"] for team in self.signl4.control("GET", "/state")["teams"]}
        lines = []
        for ticket, spec in zip(tickets, TICKETS):
            alert = wait_for(lambda ticket=ticket: self.alert(ticket), "no Signl appeared in SIGNL4 for #%d:\n%s"
                             % (ticket["id"], self.agent_log()))
            team = team_names.get(alert.get("teamId"))
            expect(team == spec["team"], "the Signl of #%d went to team %s, not %s" % (ticket["id"], team, spec["team"]))
            lines.append("#%d -> alert %s in team %s (status code %s: new)" % (
                ticket["id"], alert["id"], team, (alert.get("status") or {}).get("statusCode")))
        show("   ...and their Signls in SIGNL4, each in its route's team (Manage's callback woke the agent)",
             "\n".join(lines))

    def acknowledge_in_signl4(self):
        for action, extra in (("acknowledge", {}), ("annotate", {"text": "On my way to the data centre"})):
            self.signl4.control("POST", "/act", dict(action=action, external_id=str(self.ticket["id"]), user=OLIVIA, **extra))
        show("4. Olivia acknowledges the Service Desk Signl in the SIGNL4 app and annotates it "
             "(the emulator's act-as-user control)")
        path = "/service/tickets/%d" % self.ticket["id"]

        def synced():
            ticket = self.client.get(path)
            notes = self.client.list(path + "/notes")
            return (ticket, notes) if ticket["status"]["name"] == "In Progress" and ticket.get("owner") and notes else None
        ticket, notes = wait_for(synced, "the ticket did not follow:\n" + self.agent_log())
        expect(ticket["owner"]["identifier"] == OLIVIAS_MEMBER, "the owner is %s" % ticket["owner"])
        expect("On my way to the data centre" in notes[0]["text"], "the annotation is not the ticket's note")
        show("   the ticket in Manage now: the annotation became a note", "status: %s\nowner:  %s\nnote:   %s" % (
            ticket["status"]["name"], ticket["owner"]["identifier"], notes[0]["text"]))

    def note_travels_to_signl4(self):
        text = "Customer confirms the share is back after the cleanup"
        note = self.client.create("/service/tickets/%d/notes" % self.ticket["id"], {
            "text": text, "detailDescriptionFlag": True, "internalAnalysisFlag": False, "resolutionFlag": False,
            "member": {"identifier": "jdoe"}})
        show("5. John Doe, the service manager, adds a Discussion note to ticket #%d in Manage" % self.ticket["id"],
             "note %d: %s" % (note["id"], text))
        marker = "[CW note %d]" % note["id"]

        def annotated():
            alert = self.alert()
            return [a for a in alert.get("annotations") or [] if marker in a.get("text", "")] if alert else None
        annotations = wait_for(annotated, "the note did not become an annotation of the Signl:\n" + self.agent_log())
        expect(len(annotations) == 1 and annotations[0]["text"].startswith("John Doe (ConnectWise): " + text),
               "not one annotation with the note's author and text: %s" % annotations)
        show("   ...and an annotation of its Signl in SIGNL4, what the on-call app shows", annotations[0]["text"])

    def edit_behind_ansibles_back(self):
        self.stop_agent()
        show("   (the agent is stopped now, so the emulators' journals show only what Ansible sends)")
        rule = self.client.find("/system/workflows", 'name = "%s"' % TRIGGER)[0]
        event = self.client.find("/system/workflows/%d/events" % rule["id"], 'name = "New ticket"')[0]
        # the status only: the cut-off the first run wrote (the moment the rule was created) stays
        edited = event["eventCondition"].replace('"New (not responded)"', '"New"')
        self.client.patch("/system/workflows/%d/events/%d" % (rule["id"], event["id"]),
                          [{"op": "replace", "path": "eventCondition", "value": edited}])
        show("6. Someone edits the trigger condition in Manage", "was: %s\nnow: %s" % (event["eventCondition"], edited))
        result = self.play("   --check --diff catches it", check=True, limit="manage_tenants")
        diff = task_block(result.stdout, "Workflow rules")
        show("   the diff", diff)
        expect(result.recap["tenant"]["changed"] == 1 and result.writes == 0 and '"eventCondition"' in diff
               and "changed: [tenant -> localhost] => (item=%s)" % TRIGGER in diff, "the edit was not shown")

    def repair(self):
        result = self.play("7. A run puts it back", limit="manage_tenants")
        expect(result.recap["tenant"]["changed"] == 1, "the run did not repair the condition")
        result = self.play("   ...and the whole site.yml has nothing left to do")
        expect(all(counts["changed"] == 0 for counts in result.recap.values()) and len(result.recap) == 2
               and result.writes == 0, "not converged")
        expect('"Nothing pending."' in result.stdout, "steps still pending")

    def stop_agent(self):
        if self.agent is None or self.log.closed:
            return
        if self.agent.poll() is None:
            self.agent.terminate()
            try:
                self.agent.wait(20)
            except subprocess.TimeoutExpired:
                self.agent.kill()
                self.agent.wait()
        self.log.close()


def main():
    sandbox = tempfile.mkdtemp(prefix="signl4-demo-")
    manage = RunningEmulator("tests.emulators.manage", MANAGE_ARGS)
    signl4 = RunningEmulator("tests.emulators.signl4", [])
    demo = None
    try:
        show("The emulators", "ConnectWise Manage: %s\nSIGNL4:             %s\nsandbox for the agent host: %s"
             % (manage.url, signl4.url, sandbox))
        demo = Demo(manage, signl4, sandbox)
        for step in (demo.provision, demo.start_agent, demo.tickets_raise_signls_in_their_routes_teams,
                     demo.acknowledge_in_signl4, demo.note_travels_to_signl4, demo.edit_behind_ansibles_back, demo.repair):
            step()
        show("Done", "every step did what it said")
        return 0
    except StepFailed as failure:
        show("FAILED", str(failure))
        return 1
    finally:
        if demo is not None:
            demo.stop_agent()
        manage.stop()
        signl4.stop()
        shutil.rmtree(sandbox, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
