# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Workflow rules as the engine sees them.

A rule (``/system/workflows``) owns events (``.../{rule}/events``), an event owns actions
(``.../events/{event}/actions``) and an action owns the custom-field values it sets
(``/system/workflows/userdefinedfields/...``). Every level is its own endpoint, so a run ensures
the rule, then each event, then each event's actions, and folds the outcomes into one nested
diff: ``events: {<event name>: {..., actions: {<action key>: {...}}}}``.

Identity: a rule by name; an event by name within its rule; an action by :func:`action_key` within
its event (its notify type, plus its recipient when it has one); a custom-field value by caption
within its action. Event conditions are passed through exactly as written.

Order of writes: the rule (inactive while it is new), its events, their actions, and only then
``activateFlag: true``, because Manage activates a rule only once it has an event. Every name is
resolved and every match decided before the first write, so bad input never leaves half a rule.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import condition, patch_operations
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_resources import (
    BOARDS,
    BUSINESS_UNITS,
    LOCATIONS,
    MEMBERS,
    PRIORITIES,
    ManageResource,
    UserDefinedFields,
    map_options,
    reference,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import (
    REFERENCE,
    KeyedList,
    Rules,
    ensure,
    pair_by_key,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.validation import require_length

RULES_PATH = "/system/workflows"
TABLE_TYPES = RULES_PATH + "/tableTypes"
ALL_NOTIFY_TYPES = RULES_PATH + "/notifyTypes"
ACTION_VALUES = RULES_PATH + "/userdefinedfields"
CUSTOM_FIELDS = UserDefinedFields.path

RULE_OPTIONS = dict(batch_interval="batchInterval", batch_frequency_unit="batchFrequencyUnit",
                    batch_schedule="batchSchedule")
EVENT_OPTIONS = dict(name="name", condition="eventCondition", execution_time="executionTime",
                     frequency_unit="frequencyUnit", frequency="frequencyOfExecution",
                     max_executions="maxNumberOfExecution")
ACTION_OPTIONS = dict(subject="subject", email="emailRecipient", note="notes", detail_notes="detailNotesFlag",
                      internal_notes="internalNotesFlag", audit_notes="auditNotesFlag", update_owner="updateOwnerFlag")
VALUE_OPTIONS = dict(value="value", overwrite="overwriteFlag")

# The frequency options each execution time takes (the spec's WorkflowEvent descriptions).
FREQUENCY_OPTIONS = {"Once": (), "MultipleTimes": ("frequency_unit", "frequency", "max_executions"),
                     "Continuously": ("frequency_unit", "frequency")}
# What an action of a notify type cannot do without (option names; a tuple means one of them).
# ``subject`` is the spec's rule (WorkflowAction.subject); the others follow from what the action does.
ACTION_TARGETS = {"update status": ("board_status",), "update priority": ("priority",), "add note": ("note",),
                  "update custom field": ("custom_fields",), "send email": ("subject", ("member", "email")),
                  "assign resource": ("subject", "member"), "create activity": ("subject",)}

RULE_RULES = Rules(tableType=REFERENCE, board=REFERENCE, location=REFERENCE, department=REFERENCE)
EVENT_RULES = Rules()


def _lower(value):
    return (value or "").lower()


ACTION_RULES = Rules(notifyType=REFERENCE, boardStatus=REFERENCE, specificMemberTo=REFERENCE,
                     servicePriority=REFERENCE, customFields=KeyedList("caption", normalize_key=_lower))


def event_key(event):
    return event.get("name") or ""


def action_key(action):
    """An action's identity within its event: ``Update Status``, or ``Send Email: jdoe`` for an
    action with a recipient (member identifier or e-mail address). Manage's actions have no name."""
    notify_type = (action.get("notifyType") or {}).get("name") or ""
    recipient = (action.get("specificMemberTo") or {}).get("identifier") or action.get("emailRecipient")
    return "%s: %s" % (notify_type, recipient) if recipient else notify_type


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


class ActionResource(LoadedResource):
    """A workflow action and the custom-field values it sets. The values have endpoints of their
    own, and Manage deletes them only all at once per action."""

    def __init__(self, client, rule_id, event_id, current):
        LoadedResource.__init__(self, client, actions_path(rule_id, event_id), current, "workflow action")
        self.event_id = event_id

    def create(self, desired):
        action = self.client.create(self.path, dict((k, v) for k, v in desired.items() if k != "customFields"))
        action["customFields"] = [self._add_value(action["id"], value) for value in desired.get("customFields", [])]
        return action

    def update(self, current, changes, after):
        changes = dict(changes)
        values = changes.pop("customFields", None)
        action = self.client.patch(self.item_path(current), patch_operations(changes)) if changes else dict(current)
        action["customFields"] = current.get("customFields", []) if values is None else self._sync_values(current, values)
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

def check_event_options(spec):
    """What can be refused about an event without asking Manage."""
    needed = FREQUENCY_OPTIONS[spec["execution_time"] or "Once"]
    for option in FREQUENCY_OPTIONS["MultipleTimes"]:
        if option in needed and spec[option] is None:
            raise InputError("event %r: execution_time %s needs %s" % (spec["name"], spec["execution_time"], option))
        if option not in needed and spec[option] is not None:
            times = [time for time, options in FREQUENCY_OPTIONS.items() if option in options]
            raise InputError("event %r: %s applies only to execution_time %s" % (spec["name"], option, " or ".join(times)))
    for action in spec["actions"] or []:
        check_action_options(spec["name"], action)


def check_action_options(event_name, spec):
    for need in ACTION_TARGETS.get(_lower(spec["notify_type"]), ()):
        choices = need if isinstance(need, tuple) else (need,)
        if all(spec[option] in (None, "", []) for option in choices):
            raise InputError("event %r: a %r action needs %s" % (event_name, spec["notify_type"], " or ".join(choices)))
    require_length(spec["subject"], 100, "subject")
    require_length(spec["email"], 250, "email")
    _unique([value["caption"] for value in spec["custom_fields"] or []], "custom fields in an action of event %r" % event_name)


class DesiredRule:
    """The module's options checked and resolved to Manage's shapes, and every event and action
    matched with what exists, before anything is written. Unknown names raise ``InputError``
    naming the known ones (``ManageClient.resolve``)."""

    def __init__(self, client, params, current):
        self.client = client
        self.params = params
        self.current = current or {}
        for spec in params["events"] or []:
            check_event_options(spec)
        _unique([spec["name"] for spec in params["events"] or []], "event names")
        self.fields = self._rule_fields()
        self.board = self.fields.get("board") or self.current.get("board")
        # A new rule has no notify types of its own yet; the global list stands in.
        self.notify_types = "%s/%s/notifyTypes" % (RULES_PATH, current["id"]) if current else ALL_NOTIFY_TYPES
        events = None if params["events"] is None else [self._event(spec) for spec in params["events"]]
        self.events = self._pair_events(events)
        self.activate_last = self._activation(events)

    # ----- the rule itself --------------------------------------------------------------
    def _rule_fields(self):
        params, resolve = self.params, self.client.resolve
        fields = map_options(params, RULE_OPTIONS)
        fields["name"] = params["name"]
        if params["table_type"] is not None:
            table = resolve(TABLE_TYPES, params["table_type"], what="workflow table type")
            current_table = self.current.get("tableType") or {}
            if self.current and current_table.get("id") != table["id"]:
                raise InputError("workflow rule %r is for table type %r; Manage cannot change a rule's table type "
                                 "(remove the rule and create it again)" % (params["name"], current_table.get("name")))
            fields["tableType"] = reference(table, "id", "identifier", "name")
        elif not self.current:
            raise InputError("creating workflow rule %r needs table_type" % params["name"])
        if params["board"] is not None:
            fields["board"] = reference(resolve(BOARDS, params["board"], what="board"), "id", "name")
        if params["location"] is not None:
            fields["location"] = reference(resolve(LOCATIONS, params["location"], what="location"), "id", "name")
        if params["business_unit"] is not None:
            unit = resolve(BUSINESS_UNITS, params["business_unit"], what="business unit")
            fields["department"] = reference(unit, "id", "identifier", "name")
        return fields

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
        event = map_options(spec, EVENT_OPTIONS)
        event["actions"] = None if spec["actions"] is None else [self._action(spec["name"], a) for a in spec["actions"]]
        if event["actions"]:
            _unique([action_key(action) for action in event["actions"]], "actions in event %r" % spec["name"])
        return event

    def _action(self, event_name, spec):
        resolve = self.client.resolve
        action = map_options(spec, ACTION_OPTIONS)
        notify_type = resolve(self.notify_types, spec["notify_type"], what="notify type")
        action["notifyType"] = reference(notify_type, "id", "identifier", "name")
        if spec["board_status"] is not None:
            action["boardStatus"] = reference(self._status(event_name, spec["board_status"]), "id", "name")
        if spec["member"] is not None:
            member = resolve(MEMBERS, spec["member"], field="identifier", what="member")
            action["specificMemberTo"] = reference(member, "id", "identifier")
        if spec["priority"] is not None:
            action["servicePriority"] = reference(resolve(PRIORITIES, spec["priority"], what="priority"), "id", "name")
        if spec["custom_fields"] is not None:
            action["customFields"] = [self._custom_value(value) for value in spec["custom_fields"]]
        return action

    def _status(self, event_name, name):
        if not self.board:
            raise InputError("event %r: board_status %r needs the rule's board" % (event_name, name))
        return self.client.resolve("%s/%s/statuses" % (BOARDS, self.board["id"]), name,
                                   what="%r status" % self.board.get("name"))

    def _custom_value(self, spec):
        field = self.client.resolve(CUSTOM_FIELDS, spec["caption"], field="caption", what="custom field")
        value = map_options(spec, VALUE_OPTIONS)
        value.update(caption=field["caption"], userDefinedFieldId=field["id"])
        return value

    def _pair_events(self, events):
        """``[(name, desired, current, verb, action plan)]``, decided before any write."""
        plan = []
        for name, desired, current, verb in plan_children(events, self.current.get("events"), event_key,
                                                          self.params["purge_events"], "event names"):
            actions = None
            if verb == "ensure":
                actions = plan_children(desired["actions"], (current or {}).get("actions"), action_key,
                                        self.params["purge_actions"], "actions in event %r" % name)
            plan.append((name, desired, current, verb, actions))
        return plan


def plan_children(desired, current, key, purge, what):
    """:func:`pair_by_key` plus what each pair needs: ``ensure`` a listed child, ``delete`` an
    unlisted one when purging a given list, ``keep`` it otherwise (as amazon.aws's purge_tags)."""
    return [(label, want, have, "ensure" if want is not None else "delete" if desired is not None and purge else "keep")
            for label, want, have in pair_by_key(desired, current, key, _lower, what)]


# ----- reading and ensuring whole rules ----------------------------------------------------

class WorkflowRules:
    """Workflow rules with their events, actions and custom-field values, read and ensured."""

    path = RULES_PATH

    def __init__(self, client):
        self.client = client

    # ----- reading ----------------------------------------------------------------------
    def list(self, name=None):
        """The rules (all, or those named ``name``), each with ``events``, each event with
        ``actions``, each action with ``customFields``: Manage's records, nested."""
        rules = self.client.list(RULES_PATH, conditions=condition("name", "=", name) if name else None)
        return [self._load(rule) for rule in rules]

    def find(self, name):
        require_length(name, 100, "name")
        rules = self.list(name)
        if len(rules) > 1:
            raise InputError("%d workflow rules are named %r; rename or remove the extra ones" % (len(rules), name))
        return rules[0] if rules else None

    def _load(self, rule):
        events = self.client.list(events_path(rule["id"]))
        return dict(rule, events=[self._load_event(rule["id"], event) for event in events])

    def _load_event(self, rule_id, event):
        actions = self.client.list(actions_path(rule_id, event["id"]))
        return dict(event, actions=[self._load_action(event["id"], action) for action in actions])

    def _load_action(self, event_id, action):
        values = self.client.list("%s/events/%s/actions/%s" % (ACTION_VALUES, event_id, action["id"]))
        return dict(action, customFields=values)

    # ----- ensuring ---------------------------------------------------------------------
    def ensure(self, params, check_mode=False):
        """Bring the rule named ``params["name"]`` to ``params["state"]``; returns an engine
        Outcome whose object is the nested rule and whose diff nests events and actions."""
        current = self.find(params["name"])
        if params["state"] == "absent":
            outcome = ensure(LoadedResource(self.client, RULES_PATH, current, "workflow rule"), {}, "absent",
                             check_mode=check_mode)
        else:
            outcome = self._ensure_present(DesiredRule(self.client, params, current), current, check_mode)
        outcome.before, outcome.after = without_info(outcome.before), without_info(outcome.after)
        return outcome

    def _ensure_present(self, desired, current, check_mode):
        resource = LoadedResource(self.client, RULES_PATH, current, "workflow rule")
        outcome = ensure(resource, desired.fields, rules=RULE_RULES, check_mode=check_mode)
        rule_id = outcome.object.get("id")
        children, events = [], []
        for name, want, have, verb, actions in desired.events:
            if verb == "keep":
                events.append(have)
                continue
            child = self._ensure_event(rule_id, want, have, actions, check_mode)
            children.append((name, child))
            if child.object is not None:
                events.append(child.object)
        outcome.add_children("events", children)
        if desired.activate_last:
            activation = LoadedResource(self.client, RULES_PATH, outcome.object, "workflow rule")
            outcome.absorb(ensure(activation, {"activateFlag": True}, rules=RULE_RULES, check_mode=check_mode))
        outcome.object = dict(outcome.object, events=events)
        return outcome

    def _ensure_event(self, rule_id, desired, current, actions, check_mode):
        resource = LoadedResource(self.client, events_path(rule_id), current, "workflow event")
        if desired is None:
            return ensure(resource, {}, "absent", check_mode=check_mode)
        fields = dict((key, value) for key, value in desired.items() if key != "actions")
        outcome = ensure(resource, fields, rules=EVENT_RULES, check_mode=check_mode)
        event_id = outcome.object.get("id")
        children, kept = [], []
        for key, want, have, verb in actions:
            if verb == "keep":
                kept.append(have)
                continue
            child = ensure(ActionResource(self.client, rule_id, event_id, have), want or {},
                           "present" if want is not None else "absent", ACTION_RULES, check_mode)
            children.append((key, child))
            if child.object is not None:
                kept.append(child.object)
        outcome.add_children("actions", children)
        outcome.object = dict(outcome.object, actions=kept)
        return outcome
