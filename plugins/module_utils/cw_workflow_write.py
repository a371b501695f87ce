# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing a planned workflow rule's children (``cw_workflow_plan``) once the rule itself is ensured:
each event, then each event's actions with the custom-field values they set, folded into one nested
diff: ``events: {<event name>: {..., actions: {<action key>: {...}}}}``.

Order of writes: the rule (inactive while it is new), its events, their actions, and only then
``activateFlag: true``, because Manage activates a rule only once it has an event. A condition just
written is tested by Manage (``GET .../events/{id}/test``); one Manage refuses there is taken back.
Should Manage refuse a later write of a rule this task created, the new rule is deleted again."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import patch_operations
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_objects import ManageResource
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_paths import (
    WORKFLOWS,
    workflow,
    workflow_action_all_values,
    workflow_action_value,
    workflow_actions,
    workflow_event,
    workflow_event_test,
    workflow_event_values,
    workflow_events,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_workflow_read import action_key, event_key
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import (
    CASE_INSENSITIVE,
    REFERENCE,
    KeyedList,
    Reference,
    Rules,
    ensure,
    object_id,
    same_name,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import (
    ApiError,
    InputError,
    OutcomeUnknownError,
    ValidationError,
)

# The code of Manage's answer to a condition it cannot use ("Expected ')' ... at position 107").
CONDITION_REFUSED = "ApiFindCondition"


class RecipientReference(Reference):
    """A NotificationRecipientReference: equal when the names are (ids differ per instance). An
    action read without one (a Manage that does not report it) is not compared on it: the
    recipient itself (``specificMemberTo`` / ``emailRecipient``) still is."""

    def differs(self, desired, current):
        return current is not None and same_name((desired or {}).get("name")) != same_name(current.get("name"))


RULE_RULES = Rules(name=CASE_INSENSITIVE, tableType=REFERENCE, board=REFERENCE, location=REFERENCE, department=REFERENCE)
EVENT_RULES = Rules(name=CASE_INSENSITIVE)
ACTION_RULES = Rules(notifyType=REFERENCE, boardStatus=REFERENCE, specificMemberTo=REFERENCE,
                     notifyWho=RecipientReference(), servicePriority=REFERENCE,
                     customFields=KeyedList("caption", normalize_key=same_name))


class ChildResource(ManageResource):
    """A rule's event or action: read with the rule, written under the rule's lock (no race to resolve)."""

    def matches(self):
        return None


class EventResource(ChildResource):
    """A workflow event, found again by name after a create whose outcome is unknown."""

    def __init__(self, client, rule_id):
        super().__init__(client, workflow_events(rule_id), None, "workflow event")

    def reread(self, desired):
        return [event for event in self.client.list(self.path) if same_name(event_key(event)) == same_name(event_key(desired))]


class ActionResource(ChildResource):
    """A workflow action and the custom-field values it sets. The values have endpoints of their
    own, and Manage deletes them only all at once per action."""

    def __init__(self, client, rule_id, event_id):
        super().__init__(client, workflow_actions(rule_id, event_id), None, "workflow action")
        self.event_id = event_id

    def create(self, desired):
        try:
            action = self.client.create(self.path, {k: v for k, v in desired.items() if k != "customFields"})
        except OutcomeUnknownError:
            # The POST may have been applied: find the action by its key instead of posting it again.
            found = self.reread(desired)
            if not found:
                raise
            action = min(found, key=object_id)
        action["customFields"] = [self._add_value(action["id"], value) for value in desired.get("customFields", [])]
        return action

    def reread(self, desired):
        return [action for action in self.client.list(self.path) if same_name(action_key(action)) == same_name(action_key(desired))]

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
        existing = {value["id"]: value for value in current.get("customFields") or []}
        if set(existing) - {value.get("id") for value in wanted}:
            # One value has to go: clear them all, then add the wanted ones back.
            self.client.delete(workflow_action_all_values(current["id"]))
            return [self._add_value(current["id"], value) for value in wanted]
        return [self._write_value(current["id"], value, existing.get(value.get("id"))) for value in wanted]

    def _write_value(self, action_id, value, old):
        if old is None:
            return self._add_value(action_id, value)
        changes = {key: value.get(key) for key in ("value", "overwriteFlag") if value.get(key) != old.get(key)}
        return self.client.patch(workflow_action_value(old["id"]), patch_operations(changes)) if changes else old

    def _add_value(self, action_id, value):
        body = {key: value[key] for key in ("userDefinedFieldId", "caption", "value", "overwriteFlag")
                if value.get(key) is not None}
        body["actionId"] = action_id
        return self.client.create(workflow_event_values(self.event_id), body)


def with_event_name(outcome, event_name):
    """An action's outcome whose diff also carries its event's name (``event``, the same on both sides): a
    diff shown with three lines of context, as Ansible shows it, then still says which event a change is in."""
    if outcome.changed:
        if outcome.action != "create":
            outcome.before = dict(outcome.before, event=event_name)
        if outcome.action != "delete":
            outcome.after = dict(outcome.after, event=event_name)
    return outcome


class ChildWriter:
    """Ensures the events and actions of a plan below the rule of ``outcome`` (check mode on the same path)."""

    def __init__(self, client, check_mode):
        self.client = client
        self.check_mode = check_mode

    def ensure(self, plan, outcome):
        """The children, then the activation; a rule this task created goes again if a later write fails."""
        if outcome.action != "create" or self.check_mode:
            return self._children(plan, outcome)
        try:
            plan.recheck_notify_types(outcome.object["id"])
            return self._children(plan, outcome)
        except (ApiError, InputError):
            # Never leave half a rule: one this task created goes again with what it holds.
            self.client.delete(workflow(outcome.object["id"]))
            raise

    def _children(self, plan, outcome):
        rule_id = outcome.object.get("id")
        children, events = [], []
        for name, want, have, verb, actions in plan.events:
            if verb == "keep":
                events.append(have)
                continue
            child = self._event(rule_id, want, have, actions)
            children.append((name, child))
            outcome.warnings.extend(child.warnings)
            if child.object is not None:
                events.append(child.object)
        outcome.add_children("events", children)
        if plan.activate_last:
            activation = ManageResource(self.client, WORKFLOWS, None, "workflow rule")
            outcome.absorb(ensure(activation, outcome.object, {"activateFlag": True}, rules=RULE_RULES,
                                  check_mode=self.check_mode))
        outcome.object = dict(outcome.object, events=events)
        return outcome

    def _event(self, rule_id, desired, current, actions):
        resource = EventResource(self.client, rule_id)
        if desired is None:
            return ensure(resource, current, {}, "absent", check_mode=self.check_mode)
        fields = {key: value for key, value in desired.items() if key != "actions"}
        outcome = ensure(resource, current, fields, rules=EVENT_RULES, check_mode=self.check_mode)
        if not self.check_mode and "eventCondition" in outcome.after:
            self._test_condition(rule_id, current, outcome)
        event_id = outcome.object.get("id")
        children, kept = [], []
        for key, want, have, verb in actions:
            if verb == "keep":
                kept.append(have)
                continue
            child = ensure(ActionResource(self.client, rule_id, event_id), have, want or {},
                           "present" if want is not None else "absent", ACTION_RULES, self.check_mode)
            children.append((key, with_event_name(child, desired["name"])))
            if child.object is not None:
                kept.append(child.object)
        outcome.add_children("actions", children)
        if current is None or "actions" in current:  # actions not read (none declared) are not reported either
            outcome.object = dict(outcome.object, actions=kept)
        return outcome

    def _test_condition(self, rule_id, current, outcome):
        """Manage's own parse of a condition just written: ``GET .../test`` (the UI's Test button, one
        ticket at most). A condition Manage refuses there is taken back before anything else is written
        (the event's previous condition restored, an event this task created deleted) and fails the
        task with Manage's message. Any other failure of the test leaves the condition and warns."""
        path = workflow_event(rule_id, outcome.object["id"])
        name = outcome.object.get("name")
        try:
            self.client.request("GET", workflow_event_test(rule_id, outcome.object["id"]), params={"pageSize": 1})
        except ApiError as err:
            if err.code != CONDITION_REFUSED:
                outcome.warnings.append(f"event {name!r}: Manage could not test the condition just written: {err}")
                return
            if current is None:
                self.client.delete(path)
                undone = "the event this task created was deleted again"
            else:
                self.client.patch(path, patch_operations({"eventCondition": current.get("eventCondition")}))
                undone = "its previous condition was restored"
            raise ValidationError(f"event {name!r}: Manage refused the condition written ({err.message}); {undone}",
                                  status=err.status, code=err.code, errors=err.errors, method=err.method, url=err.url,
                                  api=err.api)
