# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning a workflow rule: the module's options checked (:mod:`cw_workflow_checks`), put in Manage's
shapes (the spec's ``payload``, references resolved by :func:`option_spec.resolve`) and every event and
action matched with what exists, before anything is written. Bad input never leaves half a rule.
Event conditions are passed through exactly as written."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import condition, load_children
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_paths import (
    CUSTOM_FIELDS,
    WORKFLOW_NOTIFY_TYPES,
    WORKFLOW_TABLE_TYPES,
    WORKFLOWS,
    board_statuses,
    workflow_action_values,
    workflow_actions,
    workflow_notify_types,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_workflow_checks import (
    check_custom_value,
    check_rule_options,
    check_written_conditions,
    unique,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_workflow_read import action_key, event_key
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import name_in, pair_by_key, same_name
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError, UnknownNameError
from ansible_collections.signl4.connectwise.plugins.module_utils.option_spec import payload, resolve

# Who an action notifies (NotificationRecipientReference), by the API key that holds the recipient.
RECIPIENTS = (("specificMemberTo", "Specific Member"), ("emailRecipient", "Email Address"))


def plan_children(desired, current, key, purge, what):
    """:func:`pair_by_key` plus what each pair needs: ``ensure`` a listed child, ``delete`` an
    unlisted one when purging a given list, ``keep`` it otherwise (as amazon.aws's purge_tags)."""
    return [(label, want, have, "ensure" if want is not None else "delete" if desired is not None and purge else "keep")
            for label, want, have in pair_by_key(desired, current, key, same_name, what)]


def actions_needing_values(plan):
    """``(event, action)`` of the current actions whose custom-field values are compared (the desired
    action lists them) or go with a deleted action or event (its diff shows them)."""
    for _name, _want, event, verb, actions in plan:
        if verb == "delete":
            for action in event.get("actions", []):
                yield event, action
        for _key, want, have, action_verb in actions or []:
            if have is not None and (action_verb == "delete" or (want or {}).get("customFields") is not None):
                yield event, have


# ----- the plan ----------------------------------------------------------------------------

class RulePlan:
    """``fields`` (the rule's own desired fields), ``events`` (``[(name, desired, current, verb, action
    plan)]``, each action plan ``[(key, desired, current, verb)]``) and ``activate_last``. ``spec`` is
    the module's argument spec; its references are resolved where a lookup is needed."""

    def __init__(self, client, spec, params, current, check_mode=False):
        self.client, self.spec, self.params = client, spec, params
        self.current = current or {}
        self.assumed = params["assume_created"] if check_mode else None
        check_rule_options(params)
        desired = payload(spec, params)
        events = desired.pop("events")
        self.fields = self._rule_fields(desired)
        self.board = self.fields.get("board") or self.current.get("board")
        self.table = self.fields.get("tableType") or self.current.get("tableType") or {}
        self._notify_types = self._table_names = None  # read once one is needed
        self.notify_type_names = set()  # looked up before the rule's own notify types were known
        events = None if events is None else [self._event(event) for event in events]
        self.events = self._pair_events(events)
        self.activate_last = self._activation(events)

    # ----- the rule itself --------------------------------------------------------------
    def _rule_fields(self, desired):
        fields = resolve(self.client, self.spec, desired, self.current)
        table, current_table = fields["tableType"], self.current.get("tableType") or {}
        if table is None and not self.current:
            raise InputError(f"creating workflow rule {self.params['name']!r} needs table_type")
        if table is not None and self.current and current_table.get("id") != table.get("id"):
            raise InputError(f"workflow rule {self.params['name']!r} is for table type {current_table.get('name')!r}; "
                             "Manage cannot change a rule's table type (remove the rule and create it again)")
        return fields

    @property
    def notify_types(self):
        """The rule's own notify types; for a new rule those of another rule of its table type, else
        Manage's list of all notify types (which cannot tell which apply to the table type)."""
        if self._notify_types is None:
            self._notify_types = WORKFLOW_NOTIFY_TYPES
            if self.current:
                self._notify_types = workflow_notify_types(self.current["id"])
            elif self.params["events"] and self.table.get("id") is not None:
                sibling = next(self.client.iterate(WORKFLOWS, conditions=condition("tableType/id", "=", self.table["id"]),
                                                   fields=["id"], page_size=1), None)
                if sibling:
                    self._notify_types = workflow_notify_types(sibling["id"])
        return self._notify_types

    def recheck_notify_types(self, rule_id):
        """Once a new rule exists, its own notify types are known: an action's notify type checked only
        against the list of all of them is checked again, before any event or action is written."""
        if not self.notify_type_names or self.notify_types != WORKFLOW_NOTIFY_TYPES:
            return
        for name in self.notify_type_names:
            self.client.resolve(workflow_notify_types(rule_id), name,
                                what=f"notify type for table type {self.table.get('name')}")

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
        if activate_last:
            self.fields["activateFlag"] = None  # after the events; deactivating goes first, with the other fields
        return activate_last

    def _event_count_after(self, events):
        current = {same_name(event_key(event)) for event in self.current.get("events", [])}
        if events is None:
            return len(current)
        desired = {same_name(event["name"]) for event in events}
        return len(desired) + (0 if self.params["purge_events"] else len(current - desired))

    # ----- events and actions -----------------------------------------------------------
    @staticmethod
    def _event(event):
        event["name"] = event["name"].strip()
        for action in event["actions"] or []:
            for key, recipient in RECIPIENTS:
                if action.get(key) is not None:
                    action["notifyWho"] = {"name": recipient}
        if event["actions"]:
            unique([action_key(action) for action in event["actions"]], f"actions in event {event['name']!r}")
        return event

    def _pair_events(self, events):
        """Pairs decided before any write. Nested lists are read only where they are compared or purged."""
        pairs = plan_children(events, self.current.get("events"), event_key, self.params["purge_events"], "event names")
        rule_id = self.current.get("id")
        load_children(self.client, [(have, workflow_actions(rule_id, have["id"]), "actions") for _n, want, have, verb in pairs
                                    if have is not None and (verb == "delete" or (want or {}).get("actions") is not None)])
        plan = []
        for name, desired, current, verb in pairs:
            actions = None
            if verb == "ensure":
                actions = plan_children(desired["actions"], (current or {}).get("actions"), action_key,
                                        self.params["purge_actions"], f"actions in event {name!r}")
            plan.append((name, desired, current, verb, actions))
        load_children(self.client, [(action, workflow_action_values(event["id"], action["id"]), "customFields")
                                    for event, action in actions_needing_values(plan)])
        check_written_conditions(plan)
        for name, _desired, _current, _verb, actions in plan:
            for _key, want, have, _verb in actions or []:
                if want is not None:
                    self._resolve_action(name, want, have or {})
        return plan

    def _resolve_action(self, event_name, action, current):
        """Complete the references of a desired action (a reference the current action already carries
        by that name is taken from it) and the custom-field values it sets."""
        def notify_types():
            self.notify_type_names.add(action["notifyType"]["name"])
            return self.notify_types, "notify type"

        def statuses():
            if not self.board:
                raise InputError(f"event {event_name!r}: board_status {action['boardStatus']['name']!r} needs the rule's board")
            return board_statuses(self.board["id"]), f"{self.board.get('name')!r} status"

        spec = self.spec["events"]["options"]["actions"]["options"]
        resolve(self.client, spec, action, current, lookups={"notify_type": notify_types, "board_status": statuses})
        if action.get("customFields") is not None:
            have = {same_name(value.get("caption")): value for value in current.get("customFields") or []}
            action["customFields"] = [self._custom_value(value, have.get(same_name(value["caption"])))
                                      for value in action["customFields"]]

    def _custom_value(self, value, current):
        """The value an action sets. One the action already sets as asked needs no lookup: nothing is
        written. Any other is looked up and checked against its field before any write."""
        caption = value["caption"].strip()
        if current is not None and current.get("userDefinedFieldId") is not None and \
                not any(value[key] is not None and value[key] != current.get(key) for key in value if key != "caption"):
            return dict(value, caption=current["caption"], userDefinedFieldId=current["userDefinedFieldId"])
        try:
            field = self.client.resolve(CUSTOM_FIELDS, caption, field="caption", what="custom field")
        except UnknownNameError:
            if self.assumed is None or not name_in(self.assumed, caption):
                raise
            return dict(value, caption=caption)  # an earlier task of this check run would create it
        check_custom_value(field, value["value"], self.table.get("name"), self.table_names())
        return dict(value, caption=field["caption"], userDefinedFieldId=field["id"])

    def table_names(self):
        if self._table_names is None:
            self._table_names = {same_name(t.get("name")) for t in self.client.list(WORKFLOW_TABLE_TYPES, fields=["id", "name"])}
        return self._table_names
