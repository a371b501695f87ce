"""Fuzzing every module's arguments against both emulators (generator and oracle: tests/support/fuzz.py).

Each module gets a reproducible list of cases (``FUZZ_SEED``, ``FUZZ_SCALE`` to run more or fewer),
run in-process in blocks: every block starts from a reset emulator holding a few decoy objects
that no case names. Every case is judged by ``fuzz.violations``; a module's test fails with a
summary of every broken invariant, grouped by kind, with a few example cases each. Set
``FUZZ_REPORT=path`` to also get every violation as JSON.

The emulators run with secrets that change when URL-encoded, so a leaked secret is caught in
every form.
"""

import base64
import importlib
import json
import os
import re
from collections import Counter, OrderedDict

import pytest
import requests

from tests.conftest import manage_connection, manage_emulator
from tests.emulators.harness import RunningEmulator
from tests.support import fuzz
from tests.support.fault_proxy import FaultProxy
from tests.support.modules import run_module
from tests.support.waits import record_retry_waits

SEED = int(os.environ.get("FUZZ_SEED", "20261130"))
SCALE = float(os.environ.get("FUZZ_SCALE", "1"))
PRIVATE_KEY = "Pr1v+ate/Key=9&z"
API_KEY = "S4+api/Key=7x"
TEAM_SECRET = "fuzzteamsecret77"
CLIENT_ID = "00000000-0000-4000-8000-000000000001"
CONNECTOR_SECRET = fuzz.BASE["signl4_connector"]["secret_config"]["privateApiKey"]
SECRET_FORMS = fuzz.secret_forms([PRIVATE_KEY, API_KEY, TEAM_SECRET, fuzz.WEBHOOK_TOKEN, fuzz.CALLBACK_TOKEN,
                                  CONNECTOR_SECRET], basic_auth=[("signl4demo+demopublic", PRIVATE_KEY)])
# Cases per module (times FUZZ_SCALE): ~2,500 in all.
COUNTS = OrderedDict([
    ("cw_workflow_rule", 330), ("cw_custom_field", 250), ("cw_api_member", 220), ("cw_callback", 220),
    ("cw_security_role", 180), ("signl4_webhook", 300), ("signl4_connector", 300),
    ("cw_workflow_rule_info", 100), ("cw_custom_field_info", 100), ("cw_api_member_info", 100),
    ("cw_callback_info", 100), ("cw_security_role_info", 100), ("signl4_webhook_info", 100),
    ("signl4_connector_info", 100),
])
BLOCK = 12
RUN_CACHE = "SIGNL4_CONNECTWISE_RUN_CACHE"  # where the Manage client shares the codebase between the tasks of a run
TEAMS = {"service desk": "5b0b1a5e-0000-4000-8000-00000000a001", "network operations": "5b0b1a5e-0000-4000-8000-00000000a002"}
# Where each writing module's objects live, and which of their fields make an object "named" by a case.
MANAGE_COLLECTIONS = {
    "cw_workflow_rule": ("/system/workflows", ("name",)),
    "cw_custom_field": ("/system/userDefinedFields", ("caption", "podId")),
    "cw_api_member": ("/system/apiMembers", ("identifier",)),
    "cw_callback": ("/system/callbacks", ("url", "type", "level", "objectId")),
    "cw_security_role": ("/system/securityroles", ("name",)),
}
CASE_KEY = {"cw_workflow_rule": "name", "cw_custom_field": "caption", "cw_api_member": "identifier",
            "cw_callback": "url", "cw_security_role": "name", "signl4_webhook": "name", "signl4_connector": "team"}


@pytest.fixture(scope="module")
def fuzz_manage():
    with manage_emulator("--private-key", PRIVATE_KEY) as server:  # the last --private-key is the one it takes
        server.connection = manage_connection(server.url, PRIVATE_KEY)
        yield server


@pytest.fixture(scope="module")
def fuzz_signl4():
    server = RunningEmulator("tests.emulators.signl4", ["--api-key", API_KEY, "--team-secret", TEAM_SECRET])
    server.connection = dict(signl4_api_url=server.url + "/api", signl4_api_key=API_KEY, signl4_team_secret=TEAM_SECRET)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith(("CW_", "SIGNL4_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv(RUN_CACHE, str(tmp_path / "run-cache"))  # restored after the test, whatever sets it
    # Retries still happen; only their waits are skipped, so a case costs its requests, not its backoff.
    record_retry_waits(monkeypatch)


def normalized(value):
    return str(value).strip().casefold() if value is not None else None


# ----- the emulator's state as the oracle sees it ----------------------------------------------

class World:
    """One emulator and one module: run cases, read the journal, snapshot the module's objects."""

    def __init__(self, module, emulator, cache_dir):
        self.module = module
        self.emulator = emulator
        self.cache_dir = cache_dir
        self.run_caches = 0
        self.system = "signl4" if module.startswith("signl4") else "cw"
        self.writer = module.replace("_info", "")
        self.session = requests.Session()
        if self.system == "cw":
            self.session.auth = ("signl4demo+demopublic", PRIVATE_KEY)
            self.session.headers["clientId"] = CLIENT_ID

    def run(self, args, check_mode=False):
        try:
            return {"result": run_module(self.module, dict(self.emulator.connection, **args), check_mode=check_mode)}
        except Exception as exc:  # an exception escaping the module is what the oracle reports
            return {"exception": "%s: %s" % (type(exc).__name__, str(exc)[:300])}

    def run_as(self, module, args):
        return run_module(module, dict(self.emulator.connection, **args))

    def writes(self):
        return ["%s %s -> %s" % (r["method"], re.sub(r"^/v\d+_\d+/apis/3\.0|^/api", "", r["path"]), r["status"])
                for r in self.emulator.writes()]

    def snapshot(self):
        """``{id: record}`` of the objects the writing module manages."""
        if self.writer in MANAGE_COLLECTIONS:
            path, _keys = MANAGE_COLLECTIONS[self.writer]
            url = "%s/v2025_1/apis/3.0%s" % (self.emulator.url, path)
            records = self.session.get(url, params={"pageSize": 1000}, timeout=10).json()
            return dict((r["id"], r) for r in records)
        state = self.emulator.control("GET", "/state")
        if self.writer == "signl4_webhook":
            return dict((w["id"], w) for w in state["webhooks"])
        return dict((i["instanceId"], dict((k, v) for k, v in i.items() if k != "secret")) for i in state["instances"])

    def named(self, record, case):
        wanted = normalized(case.args.get(CASE_KEY[self.writer]))
        if self.writer == "signl4_connector":
            return record.get("teamId") == TEAMS.get(wanted)
        if self.writer == "cw_callback":  # URLs are case-sensitive
            return str(record.get("url")).strip() == str(case.args.get("url")).strip()
        return normalized(record.get(CASE_KEY[self.writer])) == wanted  # the record's field is named as the option

    def unique_key(self, record):
        if self.writer == "cw_callback":
            return tuple(str(record.get(key)).strip() for key in MANAGE_COLLECTIONS[self.writer][1])
        if self.writer in MANAGE_COLLECTIONS:
            return tuple(normalized(record.get(key)) for key in MANAGE_COLLECTIONS[self.writer][1])
        if self.writer == "signl4_webhook":
            return (normalized(record.get("name")),)
        return (record.get("teamId"), record.get("scriptId"))

    def judge_state(self, before, case):
        """Objects the case did not name that changed, appeared or vanished; objects sharing a key."""
        after = self.snapshot()
        others = []
        for record_id in set(before) | set(after):
            old, new = before.get(record_id), after.get(record_id)
            if old == new or any(r is not None and self.named(r, case) for r in (old, new)):
                continue
            others.append("%s: %s -> %s" % (record_id, _label(old), _label(new)))
        counts_before, keys = Counter(self.unique_key(record) for record in before.values()), {}
        for record in after.values():
            keys.setdefault(self.unique_key(record), []).append(record)
        duplicates = ["%d objects share %s" % (len(v), k) for k, v in keys.items()
                      if len(v) > 1 and len(v) > counts_before.get(k, 0)]
        return after, others, duplicates


def _label(record):
    if record is None:
        return "none"
    keys = ("name", "caption", "identifier", "teamId", "enabled", "inactiveFlag", "activateFlag")
    return json.dumps(dict((k, record.get(k)) for k in keys if k in record))[:200]


def no_log_values(args, connection):
    values = [connection.get(k) for k in ("cw_private_key", "signl4_api_key", "signl4_team_secret")]
    values += [args.get(k) for k in ("cw_private_key", "signl4_api_key", "signl4_team_secret", "url")]
    secret_config = args.get("secret_config")
    if isinstance(secret_config, dict):
        values += list(secret_config.values())
    return values


# ----- the run ---------------------------------------------------------------------------------

def setup_block(world):
    # A fresh run cache with every reset: the reset happens behind the clients' backs, and the cases
    # of a block share it, as the tasks of one run do.
    world.run_caches += 1
    os.environ[RUN_CACHE] = os.path.join(world.cache_dir, "run-cache-%d" % world.run_caches)
    world.emulator.reset()
    for decoy in fuzz.DECOYS.get(world.writer, []):
        made = world.run_as(world.writer, decoy)
        assert "failed" not in made, "decoy %s could not be created: %s" % (decoy, made.get("msg"))
    world.emulator.clear_requests()


def run_case(world, case, before):
    """Run one case; returns (outcome for the oracle, the snapshot after it)."""
    outcome = {"secret_forms": SECRET_FORMS}
    if case.setup:
        base = dict(fuzz.BASE[world.module])
        made = world.run(base)
        if made.get("exception") or made["result"].get("failed"):
            return dict(outcome, result={}, writes=[], shown={},
                        exception=None if not made.get("exception") else made["exception"],
                        setup_failed=(made.get("result") or {}).get("msg")), before
        before = world.snapshot() if world.writes() else before
        world.emulator.clear_requests()
    ran = world.run(case.args, check_mode=case.check_mode)
    if ran.get("exception"):
        outcome["exception"] = ran["exception"]
        world.emulator.clear_requests()
        return outcome, (world.snapshot() if world.writer in CASE_KEY else before)
    outcome["result"] = ran["result"]
    outcome["writes"] = world.writes()
    outcome["shown"] = fuzz.as_ansible_shows(ran["result"], no_log_values(case.args, world.emulator.connection))
    if case.expect == fuzz.VALID and not ran["result"].get("failed") and not case.check_mode:
        world.emulator.clear_requests()
        again = world.run(case.args)
        outcome["rerun"] = {"result": again.get("result") or {"failed": True, "msg": again.get("exception")},
                            "writes": world.writes()}
    world.emulator.clear_requests()
    after = before
    if world.writer in CASE_KEY and (outcome["writes"] or outcome.get("rerun", {}).get("writes")):
        after, outcome["others_changed"], outcome["duplicates"] = world.judge_state(before, case)
    return outcome, after


def fuzz_module(module, emulator, cache_dir):
    world = World(module, emulator, cache_dir)
    spec = importlib.import_module("ansible_collections.signl4.connectwise.plugins.modules." + module).ARGUMENT_SPEC
    port = int(emulator.url.rsplit(":", 1)[1])
    cases = fuzz.Generator(SEED + len(module), {module: spec}, emulator.url, port).cases(module, int(COUNTS[module] * SCALE))
    found, stats = [], Counter()
    before = {}
    fresh = 0
    for case in cases:
        if fresh == 0:
            setup_block(world)
            before = world.snapshot() if world.writer in CASE_KEY else {}
        fresh = (fresh + 1) % BLOCK
        outcome, before = run_case(world, case, before)
        stats.update(tally(case, outcome))
        if outcome.get("setup_failed"):
            found.append((case, "valid input refused", "setup with the base arguments failed: %s" % outcome["setup_failed"]))
            fresh = 0
            continue
        if module.endswith("_info") and outcome.get("writes"):
            found.append((case, "info module wrote", outcome["writes"][:4]))
        broken = fuzz.violations(case, outcome)
        found.extend((case, kind, detail) for kind, detail in broken)
        if broken:
            fresh = 0  # a broken case may have left state that would fail the next ones for the same reason
    return cases, found, stats


def tally(case, outcome):
    """What a case was and what it did, for the report: expected, ran, failed, wrote, re-ran."""
    result = outcome.get("result") or {}
    ran = "exception" if outcome.get("exception") else "failed" if result.get("failed") else "succeeded"
    return [case.expect, ran] + [name for name, flag in (("wrote", outcome.get("writes")), ("re-ran", "rerun" in outcome),
                                                         ("after setup", case.setup), ("check mode", case.check_mode)) if flag]


def summary(module, cases, found):
    groups = OrderedDict()
    for case, kind, detail in found:
        groups.setdefault(kind, []).append((case, detail))
    lines = ["%s: %d of %d cases broke an invariant" % (module, len(set(id(c) for c, _k, _d in found)), len(cases))]
    for kind, items in groups.items():
        whys = OrderedDict()
        for case, detail in items:
            whys.setdefault(re.sub(r"=.*", "", case.why), []).append((case, detail))
        lines.append("  %s: %d case(s), inputs: %s" % (kind, len(items), ", ".join(sorted(whys))[:500]))
        for case, detail in items[:3]:
            lines.append("    - %s\n      -> %s" % (case.describe()[:400], str(detail)[:400]))
    return "\n".join(lines)


def report(module, found, stats):
    path = os.environ.get("FUZZ_REPORT")
    if not path:
        return
    entries = [dict(module=module, kind="stats", stats=stats)]
    entries += [dict(module=module, kind=kind, why=case.why, expect=case.expect, setup=case.setup,
                     check_mode=case.check_mode, args=case.args, detail=str(detail)[:1000]) for case, kind, detail in found]
    with open(path, "a") as handle:
        for entry in entries:
            handle.write(json.dumps(entry, default=str) + "\n")


@pytest.mark.slow  # seconds per module, ~2,500 cases in all: the full suite (make test) runs it
@pytest.mark.parametrize("module", list(COUNTS))
def test_fuzzed_arguments_never_break_an_invariant(module, request, tmp_path):
    emulator = request.getfixturevalue("fuzz_signl4" if module.startswith("signl4") else "fuzz_manage")
    cases, found, stats = fuzz_module(module, emulator, str(tmp_path))
    report(module, found, stats)
    assert not found, summary(module, cases, found) + "\n  (cases: %s)" % dict(stats)


# ----- the oracle and the generator, checked on their own ---------------------------------------

def fabricated(**overrides):
    outcome = dict(result={"changed": False}, writes=[], shown={}, secret_forms=SECRET_FORMS)
    outcome.update(overrides)
    return outcome


def kinds(case, outcome):
    return sorted(kind for kind, _detail in fuzz.violations(case, outcome))


def test_the_oracle_reports_each_broken_invariant():
    invalid = fuzz.Case("signl4_webhook", {"name": ""}, fuzz.INVALID, "named name", must_name=("name",), check_mode=True)
    assert kinds(invalid, fabricated(result={"changed": True}, writes=["POST /v2/webhooks"], others_changed=["x"],
                                     duplicates=["y"])) == [
        "acted on an object the case did not name", "check mode wrote", "duplicate objects", "invalid input accepted"]
    failed = {"failed": True, "msg": "SIGNL4 error: ValueError('x')\nTraceback (most recent call last)"}
    assert kinds(invalid, fabricated(result=failed, writes=["POST /v2/webhooks"])) == [
        "check mode wrote", "failed after writing", "failure does not name the option", "unclear failure message"]
    refused = {"failed": True, "msg": "name must not be empty"}
    assert kinds(invalid, fabricated(result=refused, writes=["POST /v2/webhooks -> 400"])) == [
        "check mode wrote", "invalid write sent (refused by the API)"]
    assert kinds(invalid, fabricated(exception="ValueError: Invalid IPv6 URL")) == ["unhandled exception"]
    valid = fuzz.Case("signl4_webhook", {"name": "a"}, fuzz.VALID, "base arguments")
    assert kinds(valid, fabricated(result={"failed": True, "msg": "refused"})) == ["valid input refused"]
    assert kinds(valid, fabricated(rerun={"result": {"changed": True}, "writes": ["PUT /v2/webhooks/1"]})) == [
        "second run not idempotent"]
    assert kinds(valid, fabricated()) == []


@pytest.mark.parametrize("shown", [PRIVATE_KEY, "x%sx" % PRIVATE_KEY.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D").replace("&", "%26"),
                                   "Basic " + base64.b64encode(("signl4demo+demopublic:" + PRIVATE_KEY).encode()).decode(),
                                   "https://agent.example.com/hook?token=" + fuzz.WEBHOOK_TOKEN.replace("/", "%2F")])
def test_the_oracle_finds_a_secret_in_any_form(shown):
    case = fuzz.Case("signl4_webhook", {}, fuzz.EITHER, "x")
    assert kinds(case, fabricated(result={"failed": True, "msg": "m"}, shown={"msg": shown})) == ["secret in output"]


def test_ansible_masking_is_applied_before_the_secret_check():
    """Ansible masks exact no_log values itself; the oracle looks only for what would still show."""
    shown = fuzz.as_ansible_shows({"msg": "key %s" % PRIVATE_KEY}, [PRIVATE_KEY])
    assert PRIVATE_KEY not in json.dumps(shown)


def test_the_generator_is_reproducible_and_holds_every_named_input():
    spec = importlib.import_module("ansible_collections.signl4.connectwise.plugins.modules.cw_workflow_rule").ARGUMENT_SPEC
    first = fuzz.Generator(7, {"cw_workflow_rule": spec}, "http://127.0.0.1:1", 1).cases("cw_workflow_rule", 200)
    second = fuzz.Generator(7, {"cw_workflow_rule": spec}, "http://127.0.0.1:1", 1).cases("cw_workflow_rule", 200)
    assert [c.describe() for c in first] == [c.describe() for c in second]
    whys = set(c.why for c in first)
    assert {'named events.0.frequency=0', 'named events=["x"]', 'named events.0.max_executions=2147483648',
            'named events.0.actions.0.custom_fields.0.value="yes"', 'connection cw_url="http://[::1"',
            'connection cw_timeout="nan"'} <= whys
    assert {c.expect for c in first} == {fuzz.VALID, fuzz.INVALID, fuzz.EITHER}


# ----- answers that are not what the API promises ----------------------------------------------

# (name, body, content type): HTTP 200 with a body that is not JSON, or JSON of another shape.
ODD_BODIES = [
    ("html", b"<html><body>502 Bad Gateway</body></html>", "text/html"),
    ("empty", b"", "application/json"),
    ("null", b"null", "application/json"),
    ("string", b'"ok"', "application/json"),
    ("number", b"42", "application/json"),
    ("object", b'{"id": 1, "name": "x", "message": "not a list"}', "application/json"),
    ("scalars", b'[1, "a", null, true]', "application/json"),
    ("empty objects", b"[{}, {}]", "application/json"),
    ("truncated", b'[{"id": 1, "na', "application/json"),
    ("deep", b"[" * 100000 + b"]" * 100000, "application/json"),
    ("binary", bytes(range(256)) * 4, "application/octet-stream"),
]
GET_POSITIONS = (1, 2, 3)  # which GET of the run gets the odd answer: discovery, a lookup, the find


@pytest.mark.parametrize("module", list(COUNTS))
def test_odd_answers_to_reads_end_in_a_clear_message(module, request, tmp_path):
    """Every module, every odd body, on each of its first reads: success or a clear one-line failure,
    never an exception, never a secret."""
    emulator = request.getfixturevalue("fuzz_signl4" if module.startswith("signl4") else "fuzz_manage")
    proxy = FaultProxy(emulator.url)
    url_option, url = ("signl4_api_url", proxy.url + "/api") if module.startswith("signl4") else ("cw_url", proxy.url)
    args = dict(fuzz.BASE[module], **{url_option: url})
    found = []
    try:
        for number, (name, body, content_type, position) in enumerate([b + (p,) for b in ODD_BODIES for p in GET_POSITIONS]):
            os.environ[RUN_CACHE] = str(tmp_path / ("run-cache-%d" % number))
            emulator.reset()
            proxy.clear()
            rule = proxy.add_rule("GET", ".", "replace_body", count=1, skip=position - 1, body=body, content_type=content_type)
            ran = World(module, emulator, str(tmp_path)).run(args)
            where = "%s body on GET #%d" % (name, position)
            if ran.get("exception"):
                found.append("%s: %s" % (where, ran["exception"]))
                continue
            result = ran["result"]
            if rule.hits and result.get("failed") and not fuzz.message_is_clear(result["msg"]):
                found.append("%s: unclear message %s" % (where, result["msg"][:300]))
            shown = json.dumps(fuzz.as_ansible_shows(result, no_log_values(args, emulator.connection)), default=str)
            if any(form in shown for form in SECRET_FORMS):
                found.append("%s: a secret in the output" % where)
    finally:
        proxy.stop()
    assert not found, "%s: %d of %d odd answers broke the module:\n  %s" % (
        module, len(found), len(ODD_BODIES) * len(GET_POSITIONS), "\n  ".join(found[:25]))
