"""Helpers of the agent tests: a provisioned Manage (the seed's custom fields and workflow rules,
written by the collection's own code), agent configs, tickets, SIGNL4 subscriptions."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import yaml

from tests.emulators.harness import REPO_ROOT

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import ManageClient
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import Signl4Client

SEED_RULES = os.path.join(REPO_ROOT, "tests", "integration", "data", "seed_workflow_rules.yml")
WEBHOOK_TOKEN = "hook-token-0123456789abcdef"
CALLBACK_TOKEN = "callback-token-0123456789abcdef"
ACTING_USER = "rene@example.com"
OLIVIA = "olivia.oncall@example.com"
UNSET = object()  # a section key's override that removes the key from the config: the agent's default applies


def agent_env():
    """This process's environment for ``python -m signl4_agent``: the agent and the collection importable."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(REPO_ROOT, "agent"),
                                                        os.path.join(REPO_ROOT, "build", "collections")]))


def manage_client(manage):
    c = manage.connection
    return ManageClient(c["cw_url"], c["cw_company_id"], c["cw_public_key"], c["cw_private_key"], c["cw_client_id"])


def signl4_client(signl4):
    return Signl4Client(signl4.url + "/api", "demo-signl4-api-key", "demoteamsecret")


def _one(client, path, name, field="name"):
    return client.list(path, conditions='%s = "%s"' % (field, name))[0]


def _create_rule(client, rule):
    """One seed rule written straight through the REST API (rule, events, actions, action values)."""
    table = _one(client, "/system/workflows/tableTypes", rule["table_type"])
    board = _one(client, "/service/boards", rule["board"])
    created = client.create("/system/workflows", {"name": rule["name"], "tableType": {"id": table["id"]},
                                                  "board": {"id": board["id"]}})
    for event in rule["events"]:
        made = client.create("/system/workflows/%d/events" % created["id"],
                             {"name": event["name"], "eventCondition": event["condition"], "executionTime": "Once"})
        for action in event.get("actions") or []:
            body = {"notifyType": {"id": _one(client, "/system/workflows/notifyTypes", action["notify_type"])["id"]}}
            if action.get("board_status"):
                status = _one(client, "/service/boards/%d/statuses" % board["id"], action["board_status"])
                body["boardStatus"] = {"id": status["id"], "name": status["name"]}
            written = client.create("/system/workflows/%d/events/%d/actions" % (created["id"], made["id"]), body)
            for value in action.get("custom_fields") or []:
                client.create("/system/workflows/userdefinedfields/events/%d" % made["id"],
                              {"actionId": written["id"], "caption": value["caption"], "value": value["value"]})


def provision(manage):
    """The three custom fields and the seed's three workflow rules, as the integration role makes them."""
    with manage_client(manage) as client:
        for sequence, (caption, kind) in enumerate((("Signl4Retrieved_c", "Checkbox"), ("Signl4Status_c", "Text"),
                                                    ("Signl4User_c", "Text")), start=11):
            client.create("/system/userDefinedFields", dict(podId=10, caption=caption, fieldTypeIdentifier=kind,
                                                            entryTypeIdentifier="EntryField", sequenceNumber=sequence))
        with open(SEED_RULES, encoding="utf-8") as handle:
            for rule in yaml.safe_load(handle):
                _create_rule(client, rule)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def config(tmp_path, manage_emulator, signl4_emulator, port=0, **overrides):
    """A complete agent config (as parsed YAML) for the two emulators; ``overrides`` replace sections' keys
    (``UNSET`` removes one)."""
    raw = {
        "manage": dict(url=manage_emulator.url, company_id="signl4demo", public_key="demopublic", private_key="demoprivate",
                       client_id="00000000-0000-4000-8000-000000000001", timeout=5),
        "signl4": dict(api_url=signl4_emulator.url + "/api", api_key="demo-signl4-api-key", team_secret="demoteamsecret",
                       acting_user=ACTING_USER, timeout=5),
        "listen": dict(host="127.0.0.1", port=port, webhook_token=WEBHOOK_TOKEN, callback_token=CALLBACK_TOKEN),
        "state": dict(path=str(tmp_path / "state.db")),
        # The suite's tickets are often made before the agent starts: no first-start cut-off here
        # (tests/agent/test_first_start.py tests it).
        "filters": dict(entered_after="2000-01-01T00:00:00Z"),
        "poll_interval": 1,
        "details": ["company", "contact", "priority", "board"],
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {name: item for name, item in dict(raw[key], **value).items() if item is not UNSET}
        else:
            raw[key] = value
    return raw


def write_config(tmp_path, raw, name="agent.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def new_ticket(client, summary="Disk full on FS02", board="Service Desk", status="New (not responded)",
               priority="Priority 2 - Quick Response", company="Fabrikam"):
    return client.create("/service/tickets", {"summary": summary, "company": {"identifier": company},
                                              "board": {"name": board}, "status": {"name": status},
                                              "priority": {"name": priority}, "contactName": "Megan Bowen"})


def member_with_email(client, identifier, email):
    """The Manage member ``identifier``, its office email changed to ``email`` (whom SIGNL4's users map to)."""
    member = client.list("/system/members", conditions='identifier = "%s"' % identifier)[0]
    client.patch("/system/members/%d" % member["id"], [{"op": "replace", "path": "officeEmail", "value": email}])
    return member


def set_status(client, ticket_id, status):
    return client.patch("/service/tickets/%d" % ticket_id, [{"op": "replace", "path": "status", "value": {"name": status}}])


def custom(ticket, caption):
    for field in ticket.get("customFields") or []:
        if field.get("caption") == caption:
            return field.get("value")
    return None


def subscribe(signl4, url):
    """An outbound webhook subscription of SIGNL4 that delivers to ``url``."""
    with signl4_client(signl4) as client:
        return client.create_webhook({"name": "agent", "extUrl": url})


def alerts(signl4, external_id=None):
    state = signl4.control("GET", "/state")
    return [a for a in state["alerts"] if external_id is None or a.get("externalId") == str(external_id)]


def act(signl4, action, external_id, user=OLIVIA, text=None):
    body = dict(action=action, external_id=str(external_id), user=user)
    if text is not None:
        body["text"] = text
    return signl4.control("POST", "/act", body)


def settle(agent, signl4):
    """SIGNL4 delivers what it queued (the agent's receiver records it), then what the deliveries recorded runs."""
    from signl4_agent import intents  # here: suites without agent/ on their path import this module too

    signl4.control("POST", "/outbound/drain", {"timeout": 10})
    intents.run_pending(agent.ctx)


def recent():
    """A cut-off an hour ago (``filters.entered_after``): the seed's tickets are older, the test's newer."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))


def post(url, body, headers=None):
    """``(status, JSON body)`` of a POST of ``body`` (bytes, or JSON-encoded); an error's body as bytes."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers=dict({"Content-Type": "application/json"}, **(headers or {})))
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_for(predicate, timeout=15.0, interval=0.05):
    """Poll ``predicate`` until true (a correctness wait for asynchronous work, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


class AgentProcess:
    """``python -m signl4_agent run`` as a real process."""

    def __init__(self, config_path, port):
        self.port = port
        # the log goes to a file: a pipe nobody reads would block the agent once it is full
        self.log_path = "%s.%d.log" % (config_path, time.time_ns())
        self.log = open(self.log_path, "w+", encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, "-m", "signl4_agent", "run", "--config", config_path],
                                     cwd=REPO_ROOT, env=agent_env(), stdout=self.log, stderr=self.log, text=True)
        self.url = "http://127.0.0.1:%d" % port

    def get(self, path):
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:  # noqa: S310 - loopback
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:
            return None, b""

    def request(self, method, path, body=None):
        """``(status, body)`` of one request to the agent's endpoints."""
        request = urllib.request.Request(self.url + path, data=body, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def wait_ready(self, timeout=20):
        return wait_for(lambda: self.get("/healthz")[0] == 200 or self.proc.poll() is not None, timeout) and \
            self.proc.poll() is None

    def stop(self, sig=None):
        if self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        output = self.output()
        self.log.close()
        return self.proc.returncode, output

    def output(self):
        self.log.flush()
        with open(self.log_path, encoding="utf-8") as handle:
            return handle.read()
