"""A seeded generator of module argument sets, and the oracle every generated run is judged by.

Cases come from two sources: values derived from each module's ``ARGUMENT_SPEC`` (every option,
nested list-of-dict options included: empty and whitespace strings, padded names, huge and
negative numbers, unconvertible types, malformed lists and dicts) and the hostile inputs the
issue lists (``team: ""``, ``events: ["x"]``, frequency 0, ``max_executions`` beyond int32, a
Checkbox value ``"yes"``, bad URLs, timeouts of -1/inf/nan, ...). Each case carries what it
expects: ``valid`` (must succeed, and a second run changes nothing), ``invalid`` (must fail,
naming the option where the issue asks for that, with no write reaching the emulator) or
``either``.

Whatever it expects, every run must hold the invariants of :func:`violations`: no exception
escapes, a failure has a clear one-line message without exception text, a failed run wrote
nothing, check mode writes nothing, no secret appears in any form, no object the case did not
name changed, and no two objects share a name.
"""

import base64
import copy
import json
import random
import re
from urllib.parse import quote, quote_plus, unquote, unquote_plus

VALID, INVALID, EITHER = "valid", "invalid", "either"
EXCEPTION_TEXT = ("Traceback", "Error(", "Exception(", "object has no attribute", "NoneType", "not subscriptable",
                  "unhashable", "Max retries exceeded", "HTTPConnectionPool", "HTTPSConnectionPool", "urllib3",
                  " object at 0x", "MODULE FAILURE", "KeyError", "IndexError")
# A failure after writes that the module reports by design: Manage's API cannot set a role's levels.
WRITES_THEN_FAILS_BY_DESIGN = (
    "differs from the declared permissions",
    # Manage lists a rule's notify types only once the rule exists (there is no list per table type):
    # with no other rule of that table type to ask, a new rule is created inactive, checked and deleted
    # again, leaving nothing behind (cw_workflow_rule NOTES).
    "unknown notify type for table type",
)
# Inputs only Manage can check, because what they name cannot be listed over REST: a refused write
# changes nothing and the failure carries Manage's own message (cw_custom_field's pod_id).
REFUSED_BY_THE_API_BY_DESIGN = ("podId: The pod",)


class Case:
    def __init__(self, module, args, expect, why, must_name=(), setup=False, check_mode=False):
        self.module = module
        self.args = args  # module options; connection options are merged in by the runner
        self.expect = expect
        self.why = why  # which mutation(s) made this case: the key failures are grouped by
        self.must_name = tuple(must_name)  # a failure message must contain one of these
        self.setup = setup  # create the module's base object first (exercises the update paths)
        self.check_mode = check_mode
        self.transport_may_fail = False  # a tiny timeout may end a run midway, after writes: no input error

    def describe(self):
        args = json.dumps(self.args, default=str, sort_keys=True)
        return "%s %s%s%s: %s" % (self.module, self.why, " [after setup]" if self.setup else "",
                                  " [check]" if self.check_mode else "", args[:600])


# ----- what each module is given when nothing is wrong ---------------------------------------

WEBHOOK_TOKEN = "Fz+T0k/en=42"
CALLBACK_TOKEN = "Cb+T0k/en=77"
WEBHOOK_URL = "https://agent.example.com/hook?x=1&token=" + WEBHOOK_TOKEN
CALLBACK_URL = "https://agent.example.com/cw/callback?token=" + CALLBACK_TOKEN + "&recordId="

RULE_NAME = "SIGNL4 - Fuzz rule"
BASE = {
    "cw_workflow_rule": dict(name=RULE_NAME, table_type="Service Ticket", board="Service Desk", events=[
        dict(name="Emergency", condition='priority/name = "Priority 1 - Emergency Response"',
             execution_time="MultipleTimes", frequency_unit="Minutes", frequency=30, max_executions=4, actions=[
                 dict(notify_type="Update Custom Field", custom_fields=[
                     dict(caption="Customer VIP", value="True"), dict(caption="Escalation Level", value="2")]),
                 dict(notify_type="Send Email", member="jdoe", subject="Emergency not responded"),
                 dict(notify_type="Update Status", board_status="In Progress")]),
        dict(name="Closed", condition="closedFlag = True", actions=[dict(notify_type="Add Note", note="Closed.")]),
    ]),
    "cw_workflow_rule_info": dict(name=RULE_NAME),
    "cw_custom_field": dict(caption="Signl4Fuzz_c", pod_id=10, field_type="Text", entry_type="List", sequence_number=21,
                            help_text="fuzz", options=[dict(value="A", default=True), dict(value="B")],
                            business_units=["Services"], locations=["Tampa Office"]),
    "cw_custom_field_info": dict(caption="Signl4Fuzz_c", pod_id=10),
    "cw_api_member": dict(identifier="signl4fuzz", name="SIGNL4 Fuzz", role="Admin", location="Tampa Office",
                          business_unit="Services", default_board="Service Desk", email="fuzz@contoso-msp.com"),
    "cw_api_member_info": dict(identifier="signl4fuzz", inactive=False),
    "cw_callback": dict(url=CALLBACK_URL, type="Ticket", level="Board", object="Service Desk", description="fuzz"),
    "cw_callback_info": dict(type="Ticket", level="Board"),
    "cw_security_role": dict(name="SIGNL4 Fuzz"),
    "cw_security_role_info": dict(name="SIGNL4 Fuzz", include_permissions=False),
    "signl4_webhook": dict(name="Fuzz hook", url=WEBHOOK_URL, team="Service Desk", description="fuzz"),
    "signl4_webhook_info": dict(name="Fuzz hook", team="Service Desk"),
    "signl4_connector": dict(team="Service Desk", display_name="CW fuzz", enabled=True,
                             config={"companyId": "contoso"}, secret_config={"privateApiKey": "Conn+Pr1v/key=5"}),
    "signl4_connector_info": dict(team="Service Desk", secret_keys=["privateApiKey"]),
}
# Other valid arguments, applied to a fresh emulator or over the base object: switches that take a
# write of their own (a deferred activation, a disable), so check mode and idempotence cover them.
VARIANTS = {
    "cw_workflow_rule": [dict(activate=True, batch_schedule="AnyTime"), dict(purge_events=False, events=[dict(
        name="Added", condition="closedFlag = False", actions=[dict(notify_type="Add Note", note="x", audit_notes=True)])])],
    "cw_custom_field": [dict(help_text="changed", display_on_screen=False, purge_options=False)],
    "cw_api_member": [dict(role="Technician", notes="rotated")],
    "cw_callback": [dict(inactive=True, self_suppressed=True)],
    "signl4_webhook": [dict(enabled=False), dict(enabled=True, description="back on")],
    "signl4_connector": [dict(enabled=False, purge_config=True), dict(update_secrets="on_create")],
}
# Objects that exist before every block and that no case names: they must never change.
DECOYS = {
    "cw_workflow_rule": [dict(name="Decoy rule", table_type="Service Ticket", events=[
        dict(name="Decoy event", condition="closedFlag = True")])],
    "cw_custom_field": [dict(caption="Decoy_c", pod_id=10, field_type="Text", sequence_number=30)],
    "cw_api_member": [dict(identifier="decoyapi", name="Decoy", role="Technician", location="Remote",
                           business_unit="Services")],
    "cw_callback": [dict(url="https://decoy.example.com/cb?recordId=", type="Ticket", level="Board", object="Service Desk")],
    "cw_security_role": [dict(name="Decoy role")],
    "signl4_webhook": [dict(name="Decoy hook", url="https://decoy.example.com/hook", team="Network Operations")],
    "signl4_connector": [dict(team="Network Operations", display_name="Decoy", enabled=True, config={"k": "v"})],
}
# Options that name an object to look up: an empty or blank value names nothing and must be refused,
# never dropped from a filter (that would widen the lookup to objects the user did not name).
LOOKUP_OPTIONS = ("team", "board", "location", "business_unit", "role", "default_board", "table_type", "notify_type",
                  "member", "priority", "board_status", "caption", "object", "business_units", "locations")


# The options that say which object a case is about; with ``state: absent`` the others are not used,
# so a bad value in them may be ignored.
IDENTITY = {"cw_workflow_rule": ("name",), "cw_custom_field": ("caption", "pod_id"),
            "cw_api_member": ("identifier",), "cw_callback": ("url", "type", "level", "object", "board"),
            "cw_security_role": ("name",), "signl4_webhook": ("name",),
            "signl4_connector": ("team", "app", "display_name")}


def relax_for_absent(case, path):
    """A value only a create or update would use cannot make a removal invalid."""
    if case.args.get("state") == "absent" and case.expect == INVALID and path and path[0] not in IDENTITY.get(case.module, ()):
        case.expect = EITHER
        case.must_name = ()
    return case


# ----- values derived from an option's spec ---------------------------------------------------

def _str_values(name, spec, base, lookups=LOOKUP_OPTIONS):
    required, choices = spec.get("required", False), spec.get("choices")
    if choices:
        return [("not-a-choice", INVALID, ()), (str(choices[0]).swapcase(), INVALID, ())]
    blank = INVALID if required or name in lookups else EITHER
    named = (name,) if required else ()  # "unknown board ''" is clear enough for an optional lookup
    values = [("", blank, named), ("   ", blank, ()), ("x" * 300, EITHER, ()), ("ünï©ødé ✓ 名", EITHER, ()),
              ('q"u\'o AND (1=1) OR name like "*"', EITHER, ()), ("line\nbreak", EITHER, ()), (12, EITHER, ())]
    if isinstance(base, str):
        values += [("  %s  " % base, EITHER, ()), (base.upper(), EITHER, ())]
    if required:
        values.append((None, INVALID, (name,)))
    return values


def _list_values(name, spec):
    if spec.get("elements") == "dict":
        suboptions = spec.get("options") or {}
        needs = any(sub.get("required") for sub in suboptions.values())
        return [(["x"], INVALID, ()), ([1], INVALID, ()), ("not-a-list", INVALID, ()), ([{}], INVALID if needs else EITHER, ()),
                ([{"bogus_key": 1}], INVALID, ()), ([[1, 2]], INVALID, ()), ([], EITHER, ())]
    blank = INVALID if name in LOOKUP_OPTIONS else EITHER
    return [([""], blank, ()), (["  "], blank, ()), ([1], EITHER, ()), ({"a": 1}, INVALID, ()), ([None], EITHER, ())]


# Lookups a module ignores with its base arguments (a callback's board matters for level Status only).
IGNORED_LOOKUPS = {"cw_callback": ("board",)}


def values_for(name, spec, base, info=False):
    """``[(value, expect, names)]`` worth trying for one option. An ``_info`` module's filters only
    narrow what is listed, except a team, which is looked up first and must not drop out."""
    kind = spec.get("type", "str")
    if kind == "str":
        return _str_values(name, spec, base, ("team",) if info else LOOKUP_OPTIONS)
    if kind == "int":
        return [(0, EITHER, ()), (-1, EITHER, ()), (2 ** 31, EITHER, ()), (2 ** 63, EITHER, ()), ("abc", INVALID, ()),
                (1.5, INVALID, ()), ("7", EITHER, ()), ([], INVALID, ())]
    if kind == "bool":
        return [("yes", EITHER, ()), ("maybe", INVALID, ()), (2, INVALID, ()), ({}, INVALID, ())]
    if kind == "float":
        return [(-1, EITHER, ()), ("abc", INVALID, ())]
    if kind == "list":
        return _list_values(name, spec)
    if kind == "dict":
        return [("not-a-dict", INVALID, ()), ({"": ""}, EITHER, ()), ({"k": {"nested": [1, None]}}, EITHER, ()),
                ({"k" * 200: "v"}, EITHER, ())]
    return []


def option_paths(spec, args, prefix=()):
    """``(path, name, option spec, current value)`` for every option of ``spec``; options of a
    list of dicts are reached through its first element when ``args`` has one."""
    for name, option in spec.items():
        value = (args or {}).get(name)
        yield prefix + (name,), name, option, value
        if option.get("options") and isinstance(value, list) and value and isinstance(value[0], dict):
            yield from option_paths(option["options"], value[0], prefix + (name, 0))


def set_path(args, path, value):
    args = copy.deepcopy(args)
    target = args
    for step in path[:-1]:
        target = target[step]
    if value is _DROP:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return args


_DROP = object()


# ----- the hostile inputs the issue names --------------------------------------------------------

def _rule_case(path, value, expect=INVALID, names=()):
    return ("cw_workflow_rule", path, value, expect, names)


def _manage_frequency_cases():
    event = ("events", 0)
    return [_rule_case(event + ("frequency",), 0), _rule_case(event + ("frequency",), -1),
            _rule_case(event + ("max_executions",), 2 ** 31), _rule_case(event + ("max_executions",), -5),
            _rule_case(event + ("frequency",), 2 ** 31)]


def _manage_value_cases():
    value = ("events", 0, "actions", 0, "custom_fields")
    return [_rule_case(value + (0, "value"), "yes"),
            _rule_case(value, [dict(caption="Escalation Level", value="abc")]),
            _rule_case(value, [dict(caption="Customer VIP", value="")]),
            _rule_case(value, [dict(caption="Preferred Contact", value="Email")]),  # a field of another pod
            _rule_case(("events",), ["x"]), _rule_case(("events", 0, "actions"), [1]),
            _rule_case(("events", 0, "actions"), ["x"]), _rule_case(("name",), "", names=("name",)),
            _rule_case(("table_type",), "", names=("table_type",)),
            _rule_case(("events", 0, "condition"), ""), _rule_case(("events", 0, "name"), "")]


def named_cases():
    """``[(module, path, value, expect, names)]``; a path of ``()`` replaces the whole args."""
    other_table = dict(name=RULE_NAME, table_type="Company", events=[dict(
        name="Company event", condition="closedFlag = True", actions=[dict(notify_type="Add Note", note="x")])])
    cases = _manage_frequency_cases() + _manage_value_cases() + [
        ("cw_workflow_rule", (), other_table, INVALID, ()),  # Add Note is a notify type of service tickets only
        ("cw_custom_field", ("options",), ["a"], INVALID, ()),
        ("cw_custom_field", ("caption",), "", INVALID, ("caption",)),
        ("signl4_connector", ("team",), "", INVALID, ("team",)),
        ("signl4_connector", ("team",), " ", INVALID, ()),
        ("signl4_connector", ("team",), "Night Shift", INVALID, ()),
        ("signl4_connector_info", ("team",), "", INVALID, ("team",)),
        ("signl4_webhook", ("team",), "", INVALID, ("team",)),
        ("signl4_webhook", ("name",), "", INVALID, ("name",)),
        ("signl4_webhook_info", ("team",), "", INVALID, ("team",)),
        ("cw_callback", ("url",), "", INVALID, ("url",)),
    ]
    for url in ("http://[::1", "http://h:99999", "agent.example.com/no-scheme", "ftp://agent.example.com/x"):
        cases.append(("signl4_webhook", ("url",), url, INVALID, ("url",)))
        cases.append(("cw_callback", ("url",), url, INVALID, ("url",)))
    return cases


def connection_cases(system, url, port):
    """``[(option, value, expect, names)]`` for the connection options of ``system``."""
    if system == "cw":
        option_url, option_timeout = "cw_url", "cw_timeout"
        required = ("cw_company_id", "cw_public_key", "cw_private_key", "cw_client_id")
    else:
        option_url, option_timeout = "signl4_api_url", "signl4_timeout"
        required = ("signl4_api_key",)
    bad_urls = ["http://[::1", "http://h:99999", "127.0.0.1:%d" % port if system == "cw" else "127.0.0.1:%d/api" % port,
                "", "http://", "ftp://127.0.0.1:%d" % port, "http://127.0.0.1:%d:%d" % (port, port)]
    cases = [(option_url, value, INVALID, (option_url, option_url.upper()) + ((value,) if value else ()))
             for value in bad_urls]
    for value in (-1, "inf", "-inf", "nan", "abc"):
        cases.append((option_timeout, value, INVALID, (option_timeout,)))
    for value in (0, 1e300, 0.001):  # no answer in the issue: whatever happens must be clear
        cases.append((option_timeout, value, EITHER, ()))
    for option in required:
        for value in ("", None):
            cases.append((option, value, INVALID, (option, option.upper())))
    return cases


# ----- the generator ---------------------------------------------------------------------------

class Generator:
    """``Generator(seed, specs).cases(module, count)``: a reproducible list of :class:`Case`."""

    def __init__(self, seed, specs, connection_url, connection_port):
        self.random = random.Random(seed)
        self.specs = specs  # module name -> ARGUMENT_SPEC
        self.url = connection_url
        self.port = connection_port
        self.named = named_cases()

    def cases(self, module, count):
        """Every named input and every connection input of ``module`` once, then random ones up to ``count``."""
        makers = [(3, self._valid), (6, self._from_spec), (2, self._named), (2, self._connection), (1, self._double)]
        weighted = [maker for weight, maker in makers for _copy in range(weight)]
        produced = [self._named_case(module, case) for case in self.named if case[0] == module]
        system = "signl4" if module.startswith("signl4") else "cw"
        produced += [self._connection_case(module, case) for case in connection_cases(system, self.url, self.port)]
        while len(produced) < count:
            case = self.random.choice(weighted)(module)
            if case is not None:
                case.setup = case.setup or (self._writes(module) and self.random.random() < 0.4)
                case.check_mode = case.check_mode or self.random.random() < 0.2
                produced.append(case)
        return produced

    @staticmethod
    def _writes(module):
        return not module.endswith("_info")

    def _base(self, module):
        args = copy.deepcopy(BASE[module])
        if VARIANTS.get(module) and self.random.random() < 0.3:
            args.update(copy.deepcopy(self.random.choice(VARIANTS[module])))
        elif self._writes(module) and self.random.random() < 0.2:
            args["state"] = "absent"
        return args

    def _valid(self, module):
        return Case(module, self._base(module), VALID, "base arguments")

    def _mutation(self, module, args):
        paths = list(option_paths(self.specs[module], args))
        path, name, spec, value = self.random.choice(paths)
        choices = values_for(name, spec, value, info=not self._writes(module))
        if name in IGNORED_LOOKUPS.get(module, ()):
            choices = [(new, EITHER, ()) for new, _expect, _names in choices]
        if not choices:
            return None
        new, expect, names = self.random.choice(choices)
        names = names if len(path) == 1 else ()  # a nested option may be named by its context ("custom field name")
        return path, new, expect, names, "%s=%s" % (".".join(str(p) for p in path), json.dumps(new, default=str)[:40])

    def _from_spec(self, module):
        args = self._base(module)
        mutation = self._mutation(module, args)
        if mutation is None:
            return None
        path, value, expect, names, why = mutation
        return relax_for_absent(Case(module, set_path(args, path, value), expect, why, names), path)

    def _double(self, module):
        """Two mutations at once: invalid if either is, else either."""
        args, whys, expects, paths = self._base(module), [], [], []
        for _second in range(2):
            mutation = self._mutation(module, args)
            if mutation is None:
                return None
            path, value, expect, _names, why = mutation
            if any(path[:len(seen)] == seen or seen[:len(path)] == path for seen in paths):
                return None  # the second value would replace or reach into the first one
            paths.append(path)
            try:
                args = set_path(args, path, value)
            except (KeyError, IndexError, TypeError):
                return None  # the first mutation removed the second one's parent
            whys.append(why)
            expects.append(expect if relax_for_absent(Case(module, args, expect, why), path).expect == expect else EITHER)
        expect = INVALID if INVALID in expects else EITHER
        return Case(module, args, expect, " + ".join(whys))  # which option a failure names is open

    def _named(self, module):
        mine = [case for case in self.named if case[0] == module]
        if not mine:
            return self._from_spec(module)
        return self._named_case(module, self.random.choice(mine))

    def _named_case(self, module, named):
        _module, path, value, expect, names = named
        args = copy.deepcopy(value) if path == () else set_path(self._base(module), path, value)
        if path and "state" in args and args["state"] == "absent" and module != "signl4_connector":
            args.pop("state")  # the named inputs are about creating; the connector's team matters for both
        return Case(module, args, expect, "named %s=%s" % (".".join(str(p) for p in path) or "args",
                                                           json.dumps(value, default=str)[:40]), names)

    def _connection(self, module):
        system = "signl4" if module.startswith("signl4") else "cw"
        return self._connection_case(module, self.random.choice(connection_cases(system, self.url, self.port)))

    def _connection_case(self, module, connection):
        option, value, expect, names = connection
        args = self._base(module)
        args[option] = value
        case = Case(module, args, expect, "connection %s=%s" % (option, json.dumps(value)), names)
        case.transport_may_fail = option.endswith("_timeout") and expect == EITHER
        return case


# ----- the oracle -------------------------------------------------------------------------------

def secret_forms(secrets, basic_auth=()):
    """Every form a secret can take in a message: raw, URL-encoded, and Basic auth in base64."""
    forms = set()
    for secret in secrets:
        if secret and len(secret) >= 6:
            forms.update((secret, quote(secret, safe=""), quote_plus(secret), quote(secret)))
    for user, password in basic_auth:
        token = "%s:%s" % (user, password)
        forms.add(base64.b64encode(token.encode("utf-8")).decode("ascii"))
    return forms


def as_ansible_shows(result, no_log_values):
    """What Ansible itself would print: its own masking of exact no_log values applied."""
    from ansible.module_utils.basic import remove_values
    return remove_values(result, set(v for v in no_log_values if isinstance(v, str) and v))


def message_is_clear(msg):
    return isinstance(msg, str) and msg.strip() and "\n" not in msg.strip() and not any(t in msg for t in EXCEPTION_TEXT)


def failure_violations(case, result, writes):
    """What a failed run broke: its message, and any write before it."""
    msg, found = result.get("msg", ""), []
    if not message_is_clear(msg):
        found.append(("unclear failure message", msg[:300]))
    if case.must_name and not any(name in msg or name.replace("_", " ") in msg for name in case.must_name):
        found.append(("failure does not name the option", "wanted one of %s in: %s" % (case.must_name, msg[:200])))
    if writes and not case.transport_may_fail and not any(text in msg for text in WRITES_THEN_FAILS_BY_DESIGN):
        # A write the API applied (2xx) makes a half-built object (or one rolled back); one it refused
        # changed nothing, but the input was not checked before it was sent.
        applied = [w for w in writes if not re.search(r"-> [45]\d\d$", w)]
        if applied or not any(text in msg for text in REFUSED_BY_THE_API_BY_DESIGN):
            kind = "failed after writing" if applied else "invalid write sent (refused by the API)"
            found.append((kind, "%s; writes: %s" % (msg[:200], writes[:6])))
    if case.expect == VALID:
        found.append(("valid input refused", msg[:300]))
    return found


def state_violations(outcome):
    """Secrets in what Ansible would show, objects the case did not name, duplicates."""
    found = []
    shown = json.dumps(outcome["shown"], default=str)
    texts = (shown, unquote(shown), unquote_plus(shown))  # partly encoded forms decode to a raw one
    leaked = sorted(form for form in outcome["secret_forms"] if any(form in text for text in texts))
    if leaked:
        found.append(("secret in output", "%d form(s) of a secret" % len(leaked)))
    if outcome.get("others_changed"):
        found.append(("acted on an object the case did not name", outcome["others_changed"][:4]))
    if outcome.get("duplicates"):
        found.append(("duplicate objects", outcome["duplicates"][:4]))
    return found


def violations(case, outcome):
    """The invariants one run broke, as ``[(kind, detail)]``. ``outcome`` holds ``result`` (or
    ``exception``), ``writes`` (the emulator journal's writes), ``rerun`` for valid cases,
    ``shown`` (the result as Ansible would print it), ``secret_forms``, ``others_changed`` and
    ``duplicates``."""
    if outcome.get("exception"):
        return [("unhandled exception", outcome["exception"])]
    result, writes = outcome["result"], outcome["writes"]
    found = failure_violations(case, result, writes) if result.get("failed") else []
    if case.check_mode and writes:
        found.append(("check mode wrote", writes[:6]))
    if case.expect == INVALID and not result.get("failed"):
        found.append(("invalid input accepted", "changed=%s writes=%s" % (result.get("changed"), writes[:6])))
    rerun = outcome.get("rerun")
    if rerun is not None and (rerun["result"].get("failed") or rerun["result"].get("changed") or rerun["writes"]):
        found.append(("second run not idempotent", "changed=%s writes=%s msg=%s" % (
            rerun["result"].get("changed"), rerun["writes"][:4], rerun["result"].get("msg", "")[:200])))
    return found + state_violations(outcome)
