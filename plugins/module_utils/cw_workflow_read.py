# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reading workflow rules: a rule (``/system/workflows``) owns events (``.../{rule}/events``), an event
owns actions (``.../events/{event}/actions``) and an action owns the custom-field values it sets
(``/system/workflows/userdefinedfields/...``). Every level is its own endpoint; the lists of one level
are read concurrently, and a nested list nobody compares is not read.

Identity: a rule by name; an event by name within its rule (:func:`event_key`); an action by
:func:`action_key` within its event; a custom-field value by caption within its action."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import condition, load_children
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_paths import (
    WORKFLOWS,
    workflow_action_values,
    workflow_actions,
    workflow_events,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import same_name
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError


def event_key(event):
    return event.get("name") or ""


def action_key(action):
    """An action's identity within its event: ``Update Status``, or ``Send Email: jdoe`` for an
    action with a recipient (member identifier or e-mail address). Manage's actions have no name."""
    notify_type = (action.get("notifyType") or {}).get("name") or ""
    recipient = (action.get("specificMemberTo") or {}).get("identifier") or action.get("emailRecipient")
    return f"{notify_type}: {recipient}" if recipient else notify_type


def without_info(obj):
    """``obj`` without Manage's ``_info`` blocks (hrefs and timestamps), for a readable diff."""
    if isinstance(obj, dict):
        return {key: without_info(value) for key, value in obj.items() if key != "_info"}
    if isinstance(obj, list):
        return [without_info(value) for value in obj]
    return obj


def rules_named(client, name=None):
    """The rules named ``name`` by the collection's name rule (all without a name)."""
    rules = client.list(WORKFLOWS, conditions=condition("name", "=", name.strip()) if name is not None else None)
    if name is not None:
        rules = [rule for rule in rules if same_name(rule.get("name")) == same_name(name)]
    return rules


def find_rule(client, name):
    """The rule named ``name`` with its ``events`` (or ``None``). Their actions and the actions'
    values are read by the plan (``cw_workflow_plan``), only where they are compared or purged."""
    rules = [dict(rule) for rule in rules_named(client, name)]
    if len(rules) > 1:
        raise InputError(f"{len(rules)} workflow rules are named {name!r}; rename or remove the extra ones")
    load_children(client, [(rule, workflow_events(rule["id"]), "events") for rule in rules])
    return rules[0] if rules else None


def read_rules(client, name=None, include_actions=True):
    """The rules (all, or those named ``name``), each with ``events``, each event with
    ``actions`` (unless not ``include_actions``), each action with ``customFields``: Manage's records,
    nested. Each level's lists are read concurrently."""
    rules = [dict(rule) for rule in rules_named(client, name)]
    load_children(client, [(rule, workflow_events(rule["id"]), "events") for rule in rules])
    if not include_actions:
        return rules
    events = [(rule, event) for rule in rules for event in rule["events"]]
    load_children(client, [(event, workflow_actions(rule["id"], event["id"]), "actions") for rule, event in events])
    load_children(client, [(action, workflow_action_values(event["id"], action["id"]), "customFields")
                           for _rule, event in events for action in event["actions"]])
    return rules
