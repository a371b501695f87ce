"""Helpers of the agent tests: a provisioned Manage (the seed's custom fields and workflow rules,
written by the collection's own code), agent configs, tickets, SIGNL4 subscriptions, requests to the agent
(HTTP, raw sockets, slow senders; the security lab uses them too)."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import yaml

from tests.emulators.harness import REPO_ROOT

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import ManageClient
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import Signl4Client

SEED_RULES = os.path.join(REPO_ROOT, "tests", "integration", "data", "seed_workflow_rules.yml")
WEBHOOK_TOKEN = "hook-token-0123456789abcdef"
CALLBACK_TOKEN = "callback-token-0123456789abcdef"
WEBHOOK_PATH = "/signl4/" + WEBHOOK_TOKEN  # the receiver's path for SIGNL4's outbound webhooks
ACTING_USER = "rene@example.com"
OLIVIA = "olivia.oncall@example.com"
UNSET = object()  # a section key's override that removes the key from the config: the agent's default applies


def agent_env():
    """This process's environment for ``python -m signl4_agent``: the agent and the collection importable."""
    return dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(REPO_ROOT, "agent"),
                                                        os.path.join(REPO_ROOT, "build", "collections")]))


def cli(*args, timeout=120):
    """``python -m signl4_agent <args>`` run to its end: the finished process (stdout and stderr as text)."""
    return subprocess.run([sys.executable, "-m", "signl4_agent"] + list(args), cwd=REPO_ROOT, env=agent_env(),
                          capture_output=True, text=True, timeout=timeout, check=False)


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


def offline_config(**sections):
    """A minimal agent config (as parsed YAML) naming a cloud Manage, for ``config.validate`` alone (nothing is
    requested); ``sections`` replace top-level keys."""
    return dict({"manage": dict(url="https://na.myconnectwise.net", company_id="c", public_key="p", private_key="k",
                                client_id="i"),
                 "signl4": dict(api_key="api-key-0001", team_secret="team-hook-0001", acting_user="ops@example.com"),
                 "listen": dict(webhook_token="0123456789abcdef0123"), "state": dict(path="/tmp/state.db")}, **sections)


def write_config(tmp_path, raw, name="agent.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def new_ticket(client, summary="Disk full on FS02", board="Service Desk", status="New (not responded)",
               priority="Priority 2 - Quick Response", company="Fabrikam"):
    return client.create("/service/tickets", {"summary": summary, "company": {"identifier": company},
                                              "board": {"name": board}, "status": {"name": status},
                                              "priority": {"name": priority}, "contactName": "Megan Bowen"})


def cycled_ticket(agent, client, **fields):
    """A new ticket (``new_ticket`` with ``fields``) and then one cycle of ``agent``: the cycle that raises its Signl
    when the trigger selects it."""
    ticket = new_ticket(client, **fields)
    agent.cycle()
    return ticket


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


def act_and_settle(agent, signl4, action, external_id, **fields):
    """``act`` in SIGNL4, then ``settle``: the agent has taken SIGNL4's notifications of what was done."""
    act(signl4, action, external_id, **fields)
    settle(agent, signl4)


def recent():
    """A cut-off an hour ago (``filters.entered_after``): the seed's tickets are older, the test's newer."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))


def http(method, url, body=None, headers=None, timeout=10.0):
    """``(status, body bytes)`` of one request; ``body`` bytes as they are, anything else as JSON."""
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method,
                                     headers=dict({"Content-Type": "application/json"}, **(headers or {})))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def post(url, body, headers=None):
    """``(status, JSON body)`` of a POST of ``body`` (bytes, or JSON-encoded); an error's body as bytes."""
    status, answer = http("POST", url, body, headers)
    return status, json.loads(answer or b"null") if status < 300 else answer


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
        self.config_path, self.port = config_path, port
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

    def request(self, method, path, body=None, headers=None, timeout=10.0):
        """``(status, body bytes)`` of one request to the agent's endpoints (see ``http``)."""
        return http(method, self.url + path, body, headers, timeout)

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


class SlowSenders:
    """``count`` connections to ``port``, each a request that never ends: its start, then one more header
    line every ``every`` seconds. One the agent closes (a deadline) is opened again and counted."""

    def __init__(self, port, count, path, every=2.0):
        self.port, self.every, self.path = port, every, path
        self.socks = [None] * count
        self.closed_by_agent = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)

    def _connect(self, index):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.sendall(b"POST %s HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\n" % self.path.encode())
        self.socks[index] = sock

    def _trickle(self):
        sent = 0
        while not self.stop.wait(self.every / len(self.socks)):
            index = sent % len(self.socks)
            sent += 1
            try:
                self.socks[index].sendall(b"X-Trickle-%d: x\r\n" % sent)
            except OSError:
                self.closed_by_agent += 1
                self.socks[index].close()
                try:
                    self._connect(index)
                except OSError:
                    pass

    def __enter__(self):
        for index in range(len(self.socks)):
            self._connect(index)
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop.set()
        self.thread.join(10)
        for sock in self.socks:
            if sock is not None:
                sock.close()


# A request framed by both Content-Length and Transfer-Encoding (a smuggling attempt, RFC 9112 6.1), after its
# request line's target: the agent answers 400 and closes the connection, serving nothing sent behind it.
SMUGGLING_FRAMINGS = [b"HTTP/1.1\r\nHost: agent\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                      b"HTTP/1.1\r\nHost: agent\r\nTransfer-Encoding: chunked\r\nContent-Length: %d\r\n\r\n0\r\n\r\n",
                      b"HTTP/1.1\r\nHost: agent\r\nContent-Length: %d\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                      b"HTTP/1.1\r\nHost: agent\r\nContent-Length: %d\r\nTransfer-Encoding:\r\n\r\n0\r\n\r\n",
                      b"HTTP/1.0\r\nHost: agent\r\nConnection: keep-alive\r\nContent-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"]


def exchange(port, data, timeout=10.0):
    """Send ``data`` on a new connection; ``(everything answered, whether the agent closed the connection)``."""
    parts = []
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        while True:
            try:
                piece = sock.recv(65536)
            except ConnectionResetError:
                return b"".join(parts), True
            except socket.timeout:
                return b"".join(parts), False
            if not piece:
                return b"".join(parts), True
            parts.append(piece)
