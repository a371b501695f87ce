# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Workflow rules (``/system/workflows``) as an object kind.

A rule (``/system/workflows``) owns events (``.../{rule}/events``), an event owns actions
(``.../events/{event}/actions``) and an action owns the custom-field values it sets
(``/system/workflows/userdefinedfields/...``). Every level is its own endpoint, so a run ensures
the rule, then each event, then each event's actions, and folds the outcomes into one nested
diff: ``events: {<event name>: {..., actions: {<action key>: {...}}}}``.

Identity: a rule by name; an event by name within its rule; an action by :func:`action_key` within
its event (its notify type, plus its recipient when it has one); a custom-field value by caption
within its action. Event conditions are passed through exactly as written: a condition to be written is
checked for syntax first (:mod:`cw_conditions`) and tested by Manage right after the write
(``GET .../events/{id}/test``); one Manage refuses there is taken back.

Order of writes: the rule (inactive while it is new), its events, their actions, and only then
``activateFlag: true``, because Manage activates a rule only once it has an event. Every name is
resolved, every value checked and every match decided before the first write, so bad input
never leaves half a rule; and should Manage still refuse a later write of a rule this run
created, the new rule is deleted again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import condition, load_children, patch_operations
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_conditions import condition_problem
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_custom_fields import CUSTOM_FIELDS
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_objects import (
    BOARDS,
    BUSINESS_UNITS,
    LOCATIONS,
    MEMBERS,
    PRIORITIES,
    ManageResource,
    named,
    reference,
    resolve_reference,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import (
    CASE_INSENSITIVE,
    REFERENCE,
    KeyedList,
    Rules,
    ensure,
    name_in,
    object_id,
    pair_by_key,
    same_name,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import (
    ApiError,
    InputError,
    NotFoundError,
    OutcomeUnknownError,
    UnknownNameError,
    ValidationError,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import ObjectKind
from ansible_collections.signl4.connectwise.plugins.module_utils.option_spec import payload, suboptions
from ansible_collections.signl4.connectwise.plugins.module_utils.validation import require_length

RULES_PATH = "/system/workflows"
TABLE_TYPES = RULES_PATH + "/tableTypes"
ALL_NOTIFY_TYPES = RULES_PATH + "/notifyTypes"
ACTION_VALUES = RULES_PATH + "/userdefinedfields"
INT32_MAX = 2 ** 31 - 1
# The code of Manage's answer to a condition it cannot use ("Expected ')' ... at position 107").
CONDITION_REFUSED = "ApiFindCondition"
# Integer options and the range Manage accepts (int32 fields; a frequency of 0 never fires).
EVENT_RANGES = (("frequency", 1, INT32_MAX), ("max_executions", 1, INT32_MAX))
RULE_RANGES = (("batch_interval", 0, INT32_MAX),)
# Who an action notifies (NotificationRecipientReference), by the option that names the recipient.
RECIPIENTS = (("member", "Specific Member"), ("email", "Email Address"))
# What a custom-field value must look like, by the field's type.
CHECKBOX_VALUES = ("true", "false")
NUMERIC_FIELD_TYPES = ("Number", "Percent", "Currency")

# The frequency options each execution time takes (the spec's WorkflowEvent descriptions).
FREQUENCY_OPTIONS = {"Once": (), "MultipleTimes": ("frequency_unit", "frequency", "max_executions"),
                     "Continuously": ("frequency_unit", "frequency")}
# What an action of a notify type cannot do without (option names; a tuple means one of them).
# ``subject`` is the spec's rule (WorkflowAction.subject); the others follow from what the action does.
ACTION_TARGETS = {"update status": ("board_status",), "update priority": ("priority",), "add note": ("note",),
                  "update custom field": ("custom_fields",), "send email": ("subject", ("member", "email")),
                  "assign resource": ("subject", "member"), "create activity": ("subject",)}

RULE_RULES = Rules(name=CASE_INSENSITIVE, tableType=REFERENCE, board=REFERENCE, location=REFERENCE, department=REFERENCE)
EVENT_RULES = Rules(name=CASE_INSENSITIVE)


def _lower(value):
    return same_name(value)


class RecipientReference(REFERENCE.__class__):
    """A NotificationRecipientReference: equal when the names are (ids differ per instance). An
    action read without one (a Manage that does not report it) is not compared on it: the
    recipient itself (``specificMemberTo`` / ``emailRecipient``) still is."""

    def differs(self, desired, current):
        return current is not None and same_name((desired or {}).get("name")) != same_name(current.get("name"))


ACTION_RULES = Rules(notifyType=REFERENCE, boardStatus=REFERENCE, specificMemberTo=REFERENCE,
                     notifyWho=RecipientReference(), servicePriority=REFERENCE,
                     customFields=KeyedList("caption", normalize_key=_lower))


def event_key(event):
    return event.get("name") or ""


def action_key(action):
    """An action's identity within its event: ``Update Status``, or ``Send Email: jdoe`` for an
    action with a recipient (member identifier or e-mail address). Manage's actions have no name."""
    notify_type = (action.get("notifyType") or {}).get("name") or ""
    recipient = (action.get("specificMemberTo") or {}).get("identifier") or action.get("emailRecipient")
    return "%s: %s" % (notify_type, recipient) if recipient else notify_type


def with_event_name(outcome, event_name):
    """An action's outcome whose diff also carries its event's name (``event``, the same on both sides): a
    diff shown with three lines of context, as Ansible shows it, then still says which event a change is in."""
    if outcome.changed:
        if outcome.action != "create":
            outcome.before = dict(outcome.before, event=event_name)
        if outcome.action != "delete":
            outcome.after = dict(outcome.after, event=event_name)
    return outcome


def events_path(rule_id):
    return "%s/%s/events" % (RULES_PATH, rule_id)


def actions_path(rule_id, event_id):
    return "%s/%s/actions" % (events_path(rule_id), event_id)


def without_info(obj):
    """``obj`` without Manage's ``_info`` blocks (hrefs and timestamps), for a readable diff."""
    if isinstance(obj, dict):
        return dict((key, without_info(value)) for key, value in obj.items() if key != "_info")
    if isinstance(obj, list):
        return [without_info(value) for value in obj]
    return obj


def _unique(labels, what):
    seen = set()
    for label in labels:
        if _lower(label) in seen:
            raise InputError("duplicate %s: %s" % (what, label))
        seen.add(_lower(label))


# ----- the records the engine writes ------------------------------------------------------

class LoadedResource(ManageResource):
    """A record read beforehand together with its siblings: ``find`` asks Manage nothing."""

    def __init__(self, client, path, current, what):
        ManageResource.__init__(self, client, path, None, what)
        self.current = current

    def find(self):
        return self.current

    def matches(self):
        return None  # a rule's children: written under the rule's lock, no race to resolve


class EventResource(LoadedResource):
    """A workflow event, found again by name after a create whose outcome is unknown."""

    def __init__(self, client, rule_id, current):
        LoadedResource.__init__(self, client, events_path(rule_id), current, "workflow event")

    def reread(self, desired):
        return [event for event in self.client.list(self.path) if _lower(event_key(event)) == _lower(event_key(desired))]


class ActionResource(LoadedResource):
    """A workflow action and the custom-field values it sets. The values have endpoints of their
    own, and Manage deletes them only all at once per action."""

    def __init__(self, client, rule_id, event_id, current):
        LoadedResource.__init__(self, client, actions_path(rule_id, event_id), current, "workflow action")
        self.event_id = event_id

    def create(self, desired):
        try:
            action = self.client.create(self.path, dict((k, v) for k, v in desired.items() if k != "customFields"))
        except OutcomeUnknownError:
            # The POST may have been applied: find the action by its key instead of posting it again.
            found = self.reread(desired)
            if not found:
                raise
            action = min(found, key=object_id)
        action["customFields"] = [self._add_value(action["id"], value) for value in desired.get("customFields", [])]
        return action

    def reread(self, desired):
        return [action for action in self.client.list(self.path) if _lower(action_key(action)) == _lower(action_key(desired))]

    def update(self, current, changes, after):
        changes = dict(changes)
        values = changes.pop("customFields", None)
        action = self.client.patch(self.item_path(current), patch_operations(changes)) if changes else dict(current)
        if values is not None:
            action["customFields"] = self._sync_values(current, values)
        elif "customFields" in current:
            action["customFields"] = current["customFields"]
        return action

    def _sync_values(self, current, wanted):
        existing = dict((value["id"], value) for value in current.get("customFields") or [])
        if set(existing) - set(value.get("id") for value in wanted):
            # One value has to go: clear them all, then add the wanted ones back.
            self.client.delete("%s/actions/%s" % (ACTION_VALUES, current["id"]))
            return [self._add_value(current["id"], value) for value in wanted]
        return [self._write_value(current["id"], value, existing.get(value.get("id"))) for value in wanted]

    def _write_value(self, action_id, value, old):
        if old is None:
            return self._add_value(action_id, value)
        changes = dict((key, value.get(key)) for key in ("value", "overwriteFlag") if value.get(key) != old.get(key))
        return self.client.patch("%s/%s" % (ACTION_VALUES, old["id"]), patch_operations(changes)) if changes else old

    def _add_value(self, action_id, value):
        body = dict((key, value[key]) for key in ("userDefinedFieldId", "caption", "value", "overwriteFlag")
                    if value.get(key) is not None)
        body["actionId"] = action_id
        return self.client.create("%s/events/%s" % (ACTION_VALUES, self.event_id), body)


# ----- the desired rule -------------------------------------------------------------------

def check_range(spec, ranges, what):
    for option, low, high in ranges:
        if spec.get(option) is not None and not low <= spec[option] <= high:
            raise InputError("%s%s must be between %d and %d, got %d" % (what, option, low, high, spec[option]))


def check_event_options(spec):
    """What can be refused about an event without asking Manage."""
    needed = FREQUENCY_OPTIONS[spec["execution_time"] or "Once"]
    for option in FREQUENCY_OPTIONS["MultipleTimes"]:
        if option in needed and spec[option] is None:
            raise InputError("event %r: execution_time %s needs %s" % (spec["name"], spec["execution_time"], option))
        if option not in needed and spec[option] is not None:
            times = [time for time, options in FREQUENCY_OPTIONS.items() if option in options]
            raise InputError("event %r: %s applies only to execution_time %s" % (spec["name"], option, " or ".join(times)))
    check_range(spec, EVENT_RANGES, "event %r: " % spec["name"])
    for action in spec["actions"] or []:
        check_action_options(spec["name"], action)


def check_action_options(event_name, spec):
    for need in ACTION_TARGETS.get(_lower(spec["notify_type"]), ()):
        choices = need if isinstance(need, tuple) else (need,)
        if all(spec[option] in (None, "", []) for option in choices):
            raise InputError("event %r: a %r action needs %s" % (event_name, spec["notify_type"], " or ".join(choices)))
    if spec.get("member") and spec.get("email"):
        raise InputError("event %r: an action notifies either a member or an email address, not both" % event_name)
    require_length(spec["subject"], 100, "subject")
    require_length(spec["email"], 250, "email")
    _unique([value["caption"] for value in spec["custom_fields"] or []], "custom fields in an action of event %r" % event_name)


def check_custom_value(field, value, table_name, table_names):
    """Refuse a value Manage would refuse: a field of another table type's screen, a Checkbox
    value other than true/false, a number field's value that is not a number."""
    where = [field.get(key) for key in ("podDescription", "screenDescription") if field.get(key)]
    others = [name for name in where if same_name(name) in table_names and same_name(name) != same_name(table_name)]
    if others and not any(same_name(name) == same_name(table_name) for name in where):
        raise InputError("custom field %r belongs to %s, not to the rule's table type %s"
                         % (field.get("caption"), others[0], table_name))
    kind = field.get("fieldTypeIdentifier")
    if kind == "Checkbox" and str(value).strip().lower() not in CHECKBOX_VALUES:
        raise InputError("custom field %r is a Checkbox: its value must be true or false, got %r" % (field.get("caption"), value))
    if kind in NUMERIC_FIELD_TYPES and not _is_number(value):
        raise InputError("custom field %r is a %s field: its value must be a number, got %r" % (field.get("caption"), kind, value))


def _is_number(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


class DesiredRule:
    """The module's options checked and resolved to Manage's shapes, and every event and action
    matched with what exists, before anything is written. Unknown names raise ``InputError``
    naming the known ones (``ManageClient.resolve``). ``spec`` is the module's argument spec: its
    ``api_key`` entries map options to API fields at every level."""

    def __init__(self, client, spec, params, current, check_mode=False):
        self.client = client
        self.spec = spec
        self.params = params
        self.current = current or {}
        self.check_mode = check_mode
        for event in params["events"] or []:
            check_event_options(event)
        check_range(params, RULE_RANGES, "")
        _unique([event["name"] for event in params["events"] or []], "event names")
        self.fields = self._rule_fields()
        self.board = self.fields.get("board") or self.current.get("board")
        self.table = self.fields.get("tableType") or self.current.get("tableType") or {}
        self._notify_types = None  # the path notify types are looked up in, once one is needed
        self._table_names = None
        self.notify_type_names = set()
        events = None if params["events"] is None else [self._event(event) for event in params["events"]]
        self.events = self._pair_events(events)
        self.activate_last = self._activation(events)

    # ----- the rule itself --------------------------------------------------------------
    def _rule_fields(self):
        params = self.params
        fields = payload(self.spec, params)
        fields["name"] = params["name"].strip()
        fields["tableType"] = self._table_type()
        fields["board"] = self._reference(BOARDS, params["board"], "board", current=self.current.get("board"))
        fields["location"] = self._reference(LOCATIONS, params["location"], "location",
                                             current=self.current.get("location"))
        fields["department"] = self._reference(BUSINESS_UNITS, params["business_unit"], "business unit",
                                               ("id", "identifier", "name"), current=self.current.get("department"))
        return fields

    def _reference(self, path, name, what, keys=("id", "name"), current=None):
        return resolve_reference(self.client, path, None if name is None else name.strip(), what, keys, current=current)

    def _table_type(self):
        name = self.params["table_type"]
        if name is None:
            if not self.current:
                raise InputError("creating workflow rule %r needs table_type" % self.params["name"])
            return None
        current_table = self.current.get("tableType") or {}
        if named(current_table, name):
            return reference(current_table, "id", "identifier", "name")
        table = self.client.resolve(TABLE_TYPES, name.strip(), what="workflow table type")
        if self.current and current_table.get("id") != table["id"]:
            raise InputError("workflow rule %r is for table type %r; Manage cannot change a rule's table type "
                             "(remove the rule and create it again)" % (self.params["name"], current_table.get("name")))
        return reference(table, "id", "identifier", "name")

    @property
    def notify_types(self):
        if self._notify_types is None:
            self._notify_types = self._notify_types_path()
        return self._notify_types

    def _notify_types_path(self):
        """The rule's own notify types; for a new rule those of another rule of its table type,
        else Manage's list of all notify types (which cannot tell which apply to the table type)."""
        if self.current:
            return "%s/%s/notifyTypes" % (RULES_PATH, self.current["id"])
        if self.params["events"] and self.table.get("id") is not None:
            sibling = next(self.client.iterate(RULES_PATH, conditions=condition("tableType/id", "=", self.table["id"]),
                                               fields=["id"], page_size=1), None)
            if sibling:
                return "%s/%s/notifyTypes" % (RULES_PATH, sibling["id"])
        return ALL_NOTIFY_TYPES

    def _activation(self, events):
        """Whether ``activateFlag: true`` must wait until the events exist; refuse an active rule
        without a batch schedule or without an event (the spec's two rules for activateFlag)."""
        activate, active = self.params["activate"], bool(self.current.get("activateFlag"))
        if activate if activate is not None else active:
            if not (self.fields.get("batchSchedule") or self.current.get("batchSchedule")):
                raise InputError("an active workflow rule needs batch_schedule (Manage requires batchSchedule "
                                 "when activateFlag is true)")
            if not self._event_count_after(events):
                raise InputError("a workflow rule can only be active once it has an event; give events "
                                 "or set activate to false")
        activate_last = bool(activate) and not active
        if not activate_last:
            self.fields["activateFlag"] = activate  # deactivating goes first, with the other fields
        return activate_last

    def _event_count_after(self, events):
        current = set(_lower(event_key(event)) for event in self.current.get("events", []))
        if events is None:
            return len(current)
        desired = set(_lower(event["name"]) for event in events)
        return len(desired) + (0 if self.params["purge_events"] else len(current - desired))

    # ----- events and actions -----------------------------------------------------------
    def _event(self, spec):
        event = payload(suboptions(self.spec, "events"), spec)
        event["name"] = spec["name"].strip()
        event["actions"] = None if spec["actions"] is None else [self._action(spec["name"], a) for a in spec["actions"]]
        if event["actions"]:
            _unique([action_key(action) for action in event["actions"]], "actions in event %r" % spec["name"])
        return event

    def _action(self, event_name, spec):
        """The action with its references by name only (``{"name": ...}``): :meth:`_resolve_action`
        completes them once the action is matched with the current one."""
        action = payload(suboptions(self.spec, "events", "actions"), spec)
        action["notifyType"] = {"name": spec["notify_type"].strip()}
        if spec["member"] is not None:
            action["specificMemberTo"] = {"identifier": spec["member"].strip()}
        for option, recipient in RECIPIENTS:
            if spec[option] is not None:
                action["notifyWho"] = {"name": recipient}
        action["_spec"] = (event_name, spec)
        return action

    def _resolve_action(self, action, current):
        """Complete the references of a desired action. A reference whose name the current action's
        reference already carries is taken from it (Manage returns the name with the id); any other
        is looked up, so a lookup happens only for what will be written."""
        event_name, spec = action.pop("_spec")
        current = current or {}
        if named(current.get("notifyType"), spec["notify_type"]):
            action["notifyType"] = reference(current["notifyType"], "id", "identifier", "name")
        else:
            notify_type = self.client.resolve(self.notify_types, spec["notify_type"].strip(), what="notify type")
            self.notify_type_names.add(spec["notify_type"].strip())
            action["notifyType"] = reference(notify_type, "id", "identifier", "name")
        if spec["board_status"] is not None and not named(current.get("boardStatus"), spec["board_status"]):
            action["boardStatus"] = reference(self._status(event_name, spec["board_status"].strip()), "id", "name")
        elif spec["board_status"] is not None:
            action["boardStatus"] = reference(current["boardStatus"], "id", "name")
        if spec["member"] is not None:
            action["specificMemberTo"] = resolve_reference(self.client, MEMBERS, spec["member"].strip(), "member",
                                                           ("id", "identifier"), "identifier", current.get("specificMemberTo"))
        action["servicePriority"] = self._reference(PRIORITIES, spec["priority"], "priority",
                                                    current=current.get("servicePriority"))
        if spec["custom_fields"] is not None:
            have = dict((_lower(value.get("caption")), value) for value in current.get("customFields") or [])
            action["customFields"] = [self._custom_value(value, have.get(_lower(value["caption"])))
                                      for value in spec["custom_fields"]]

    def recheck_notify_types(self, rule_id):
        """Once a new rule exists, its own notify types are known: an action's notify type checked only
        against the list of all of them is checked again, before any event or action is written."""
        if not self.notify_type_names or self.notify_types != ALL_NOTIFY_TYPES:
            return
        own = "%s/%s/notifyTypes" % (RULES_PATH, rule_id)
        for name in self.notify_type_names:
            self.client.resolve(own, name, what="notify type for table type %s" % self.table.get("name"))

    def _status(self, event_name, name):
        if not self.board:
            raise InputError("event %r: board_status %r needs the rule's board" % (event_name, name))
        return self.client.resolve("%s/%s/statuses" % (BOARDS, self.board["id"]), name,
                                   what="%r status" % self.board.get("name"))

    def _custom_value(self, spec, current):
        """The value an action sets. One the action already sets as asked needs no lookup: nothing is
        written. Any other is looked up and checked against its field before any write."""
        value = payload(suboptions(self.spec, "events", "actions", "custom_fields"), spec)
        if current is not None and current.get("userDefinedFieldId") is not None and \
                not any(value.get(key) is not None and value[key] != current.get(key) for key in value):
            value.update(caption=current["caption"], userDefinedFieldId=current["userDefinedFieldId"])
            return value
        try:
            field = self.client.resolve(CUSTOM_FIELDS, spec["caption"].strip(), field="caption", what="custom field")
        except UnknownNameError:
            if not (self.check_mode and name_in(self.params["assume_created"], spec["caption"])):
                raise
            value.update(caption=spec["caption"].strip())  # an earlier task of this check run would create it
            return value
        check_custom_value(field, spec["value"], self.table.get("name"), self.table_names())
        value.update(caption=field["caption"], userDefinedFieldId=field["id"])
        return value

    def table_names(self):
        if self._table_names is None:
            self._table_names = set(same_name(t.get("name")) for t in self.client.list(TABLE_TYPES, fields=["id", "name"]))
        return self._table_names

    def _pair_events(self, events):
        """``[(name, desired, current, verb, action plan)]``, decided before any write. Nested lists
        are read only where they are compared or purged (see :func:`load_children`)."""
        pairs = plan_children(events, self.current.get("events"), event_key, self.params["purge_events"], "event names")
        rule_id = self.current.get("id")
        load_children(self.client, [(have, actions_path(rule_id, have["id"]), "actions") for _n, want, have, verb in pairs
                                    if have is not None and (verb == "delete" or (want or {}).get("actions") is not None)])
        plan = []
        for name, desired, current, verb in pairs:
            actions = None
            if verb == "ensure":
                actions = plan_children(desired["actions"], (current or {}).get("actions"), action_key,
                                        self.params["purge_actions"], "actions in event %r" % name)
            plan.append((name, desired, current, verb, actions))
        load_children(self.client, [(action, action_values_path(event["id"], action["id"]), "customFields")
                                    for event, action in _actions_needing_values(plan)])
        check_written_conditions(plan)
        for _name, _desired, _current, _verb, actions in plan:
            for _key, want, have, _verb in actions or []:
                if want is not None:
                    self._resolve_action(want, have)
        return plan


def check_written_conditions(plan):
    """Refuse a condition Manage cannot parse (:mod:`cw_conditions`) before any write, in check mode
    too. Only a condition that would be written is checked: one Manage holds already is its own."""
    for name, desired, current, verb, _actions in plan:
        condition_text = (desired or {}).get("eventCondition")
        if verb == "ensure" and (current is None or current.get("eventCondition") != condition_text):
            problem = condition_problem(condition_text)
            if problem:
                raise InputError("event %r: Manage cannot parse the condition: %s" % (name, problem))


def _actions_needing_values(plan):
    """``(event, action)`` of the current actions whose custom-field values are compared (the desired
    action lists them) or go with a deleted action or event (its diff shows them)."""
    for _name, _want, event, verb, actions in plan:
        if verb == "delete":
            for action in event.get("actions", []):
                yield event, action
        for _key, want, have, action_verb in actions or []:
            if have is not None and (action_verb == "delete" or (want and want["_spec"][1]["custom_fields"] is not None)):
                yield event, have


def action_values_path(event_id, action_id):
    return "%s/events/%s/actions/%s" % (ACTION_VALUES, event_id, action_id)


def plan_children(desired, current, key, purge, what):
    """:func:`pair_by_key` plus what each pair needs: ``ensure`` a listed child, ``delete`` an
    unlisted one when purging a given list, ``keep`` it otherwise (as amazon.aws's purge_tags)."""
    return [(label, want, have, "ensure" if want is not None else "delete" if desired is not None and purge else "keep")
            for label, want, have in pair_by_key(desired, current, key, _lower, what)]


# ----- reading and ensuring whole rules ----------------------------------------------------

class RuleResource(LoadedResource):
    """The rule itself: read beforehand with its events; re-read by name after a create."""

    def __init__(self, client, current, name):
        LoadedResource.__init__(self, client, RULES_PATH, current, "workflow rule")
        self.name = name

    def matches(self):
        return [rule for rule in self.client.list(RULES_PATH, conditions=condition("name", "=", self.name))
                if same_name(rule.get("name")) == same_name(self.name)]

    def adopt(self, winner):
        raise InputError("another run created workflow rule %r at the same moment; its copy (id %s) is kept and "
                         "this run's deleted; run again to converge on it" % (self.name, winner.get("id")))


# ----- reading ---------------------------------------------------------------------------

def _rules_named(client, name=None):
    rules = client.list(RULES_PATH, conditions=condition("name", "=", name.strip()) if name is not None else None)
    if name is not None:
        rules = [rule for rule in rules if same_name(rule.get("name")) == same_name(name)]
    return rules


def read_rules(client, name=None, include_actions=True):
    """The rules (all, or those named ``name``), each with ``events``, each event with
    ``actions`` (unless not ``include_actions``), each action with ``customFields``: Manage's records,
    nested. Each level's lists are read concurrently."""
    rules = [dict(rule) for rule in _rules_named(client, name)]
    load_children(client, [(rule, events_path(rule["id"]), "events") for rule in rules])
    if not include_actions:
        return rules
    events = [(rule, event) for rule in rules for event in rule["events"]]
    load_children(client, [(event, actions_path(rule["id"], event["id"]), "actions") for rule, event in events])
    load_children(client, [(action, action_values_path(event["id"], action["id"]), "customFields")
                           for _rule, event in events for action in event["actions"]])
    return rules


def find_rule(client, name):
    """The rule named ``name`` with its ``events`` (or ``None``). Their actions and the actions'
    values are read by :class:`DesiredRule`, only where they are compared or purged.

    With lookups shared by the run's tasks, a rule whose id another task's read hinted at is read
    with its events in one round trip (:func:`_hinted_rule`); without a usable hint the whole rule
    list is read once and hints the rest of the run (:func:`_rules_in_list`)."""
    require_length(name, 100, "name")
    rule = _hinted_rule(client, name)
    if rule is not None:
        return rule
    rules = [dict(rule) for rule in _rules_in_list(client, name)]
    if len(rules) > 1:
        raise InputError("%d workflow rules are named %r; rename or remove the extra ones" % (len(rules), name))
    load_children(client, [(rule, events_path(rule["id"]), "events") for rule in rules])
    return rules[0] if rules else None


# ----- hints shared by the tasks of a run: rule name -> id -----------------------------------

def _hint_key(name):
    return "name=%s" % same_name(name)


def _hint_of(rules):
    """What a name hints at: the id of its one rule; ``{"id": None}`` (no hint) for a name that several share."""
    return {"id": rules[0]["id"]} if len(rules) == 1 else {"id": None, "rules": len(rules)}


def _hint_check(client, name):
    """The load :meth:`SharedLookups.verify` runs before a write: the rules named ``name`` now."""
    return lambda: _hint_of(_rules_named(client, name))


def _rules_in_list(client, name):
    """The rules named ``name``: by a conditions query when nothing is shared, else from one read of
    the whole list, whose every name then hints the run's other tasks at its rule."""
    shared = client.shared_lookups
    if shared is None:
        return _rules_named(client, name)
    generation = shared.generation(RULES_PATH)  # before the read: a write meanwhile hides these hints
    by_name = {same_name(name): []}  # a name no rule has: its stale hint is dropped too
    for rule in client.list(RULES_PATH):
        by_name.setdefault(same_name(rule.get("name")), []).append(rule)
    for key, rules in by_name.items():
        shared.put(RULES_PATH, _hint_key(key), _hint_of(rules), generation=generation)
    return by_name[same_name(name)]


def _hinted_rule(client, name):
    """The rule another task's hint points at, read with its events at the same time, or ``None``
    when there is no hint or it is stale (rule gone or renamed): a stale hint costs a re-read only.
    A hint that holds here is still verified by name before this task's first write."""
    shared = client.shared_lookups
    hint = shared.get(RULES_PATH, _hint_key(name), _hint_check(client, name)) if shared is not None else None
    if hint is None:
        return None
    path = "%s/%s" % (RULES_PATH, hint["id"])
    try:
        rule, events = client.concurrently(functools.partial(client.get, path),
                                           functools.partial(client.list, events_path(hint["id"])))
    except NotFoundError:
        return None
    if same_name(rule.get("name")) != same_name(name):
        return None
    return dict(rule, events=events)


# ----- ensuring ----------------------------------------------------------------------------

class WorkflowRules(ObjectKind):
    """Workflow rules with their events, actions and custom-field values. ``apply`` returns an
    engine Outcome whose object is the nested rule and whose diff nests events and actions."""

    result_key = "workflow_rule"

    def identity(self, params):
        return params["name"]

    def apply(self, params, check_mode):
        current = find_rule(self.client, params["name"].strip())
        if params["state"] == "absent":
            outcome = ensure(LoadedResource(self.client, RULES_PATH, current, "workflow rule"), {}, "absent",
                             check_mode=check_mode)
        else:
            outcome = self._ensure_present(DesiredRule(self.client, self.spec, params, current, check_mode), current,
                                           check_mode)
        outcome.before, outcome.after = without_info(outcome.before), without_info(outcome.after)
        return outcome

    def _ensure_present(self, desired, current, check_mode):
        resource = RuleResource(self.client, current, desired.fields["name"])
        outcome = ensure(resource, desired.fields, rules=RULE_RULES, check_mode=check_mode)
        if outcome.action != "create" or check_mode:
            return self._ensure_children(desired, outcome, check_mode)
        try:
            desired.recheck_notify_types(outcome.object["id"])
            return self._ensure_children(desired, outcome, check_mode)
        except (ApiError, InputError):
            # Never leave half a rule: one this run created goes again with what it holds.
            self.client.delete("%s/%s" % (RULES_PATH, outcome.object["id"]))
            raise

    def _ensure_children(self, desired, outcome, check_mode):
        rule_id = outcome.object.get("id")
        children, events = [], []
        for name, want, have, verb, actions in desired.events:
            if verb == "keep":
                events.append(have)
                continue
            child = self._ensure_event(rule_id, want, have, actions, check_mode)
            children.append((name, child))
            outcome.warnings.extend(child.warnings)
            if child.object is not None:
                events.append(child.object)
        outcome.add_children("events", children)
        if desired.activate_last:
            activation = LoadedResource(self.client, RULES_PATH, outcome.object, "workflow rule")
            outcome.absorb(ensure(activation, {"activateFlag": True}, rules=RULE_RULES, check_mode=check_mode))
        outcome.object = dict(outcome.object, events=events)
        return outcome

    def _test_condition(self, rule_id, current, outcome):
        """Manage's own parse of a condition just written: ``GET .../test`` (the UI's Test button, one
        ticket at most). A condition Manage refuses there is taken back before anything else is written
        (the event's previous condition restored, an event this task created deleted) and fails the
        task with Manage's message. Any other failure of the test leaves the condition and warns."""
        path = "%s/%s" % (events_path(rule_id), outcome.object["id"])
        try:
            self.client.request("GET", path + "/test", params={"pageSize": 1})
        except ApiError as err:
            if err.code != CONDITION_REFUSED:
                outcome.warnings.append("event %r: Manage could not test the condition just written: %s"
                                        % (outcome.object.get("name"), err))
                return
            if current is None:
                self.client.delete(path)
                undone = "the event this task created was deleted again"
            else:
                self.client.patch(path, patch_operations({"eventCondition": current.get("eventCondition")}))
                undone = "its previous condition was restored"
            raise ValidationError("event %r: Manage refused the condition written (%s); %s"
                                  % (outcome.object.get("name"), err.message, undone),
                                  status=err.status, code=err.code, errors=err.errors, method=err.method, url=err.url,
                                  api=err.api)

    def _ensure_event(self, rule_id, desired, current, actions, check_mode):
        resource = EventResource(self.client, rule_id, current)
        if desired is None:
            return ensure(resource, {}, "absent", check_mode=check_mode)
        fields = dict((key, value) for key, value in desired.items() if key != "actions")
        outcome = ensure(resource, fields, rules=EVENT_RULES, check_mode=check_mode)
        if not check_mode and "eventCondition" in outcome.after:
            self._test_condition(rule_id, current, outcome)
        event_id = outcome.object.get("id")
        children, kept = [], []
        for key, want, have, verb in actions:
            if verb == "keep":
                kept.append(have)
                continue
            child = ensure(ActionResource(self.client, rule_id, event_id, have), want or {},
                           "present" if want is not None else "absent", ACTION_RULES, check_mode)
            children.append((key, with_event_name(child, desired["name"])))
            if child.object is not None:
                kept.append(child.object)
        outcome.add_children("actions", children)
        if current is None or "actions" in current:  # actions not read (none declared) are not reported either
            outcome.object = dict(outcome.object, actions=kept)
        return outcome
