# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage's REST paths below ``/v4_6_release/apis/3.0``: one constant per collection, named after
its path, and a function for each path that holds ids. Every kind, module and the sync agent take
their paths from here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

API_MEMBERS = "/system/apiMembers"
BOARDS = "/service/boards"
CALLBACKS = "/system/callbacks"
COMPANIES = "/company/companies"
DEPARTMENTS = "/system/departments"  # business units
LOCATIONS = "/system/locations"
MEMBERS = "/system/members"
PRIORITIES = "/service/priorities"
SECURITY_ROLES = "/system/securityroles"
USER_DEFINED_FIELDS = "/system/userDefinedFields"  # custom fields
WORKFLOWS = "/system/workflows"
WORKFLOW_NOTIFY_TYPES = WORKFLOWS + "/notifyTypes"  # of every table type
WORKFLOW_TABLE_TYPES = WORKFLOWS + "/tableTypes"
WORKFLOW_USER_DEFINED_FIELDS = WORKFLOWS + "/userdefinedfields"  # the custom-field values actions set


def board_statuses(board_id):
    return f"{BOARDS}/{board_id}/statuses"


def security_role_settings(role_id):
    return f"/system/securityRoles/{role_id}/settings"  # the spec's spelling


def workflow(rule_id):
    return f"{WORKFLOWS}/{rule_id}"


def workflow_notify_types(rule_id):
    """The notify types that apply to the rule's table type."""
    return f"{workflow(rule_id)}/notifyTypes"


def workflow_events(rule_id):
    return f"{workflow(rule_id)}/events"


def workflow_event(rule_id, event_id):
    return f"{workflow_events(rule_id)}/{event_id}"


def workflow_actions(rule_id, event_id):
    return f"{workflow_event(rule_id, event_id)}/actions"


def workflow_action_values(event_id, action_id):
    """The custom-field values one action sets (read; Manage deletes them all at once per action)."""
    return f"{WORKFLOW_USER_DEFINED_FIELDS}/events/{event_id}/actions/{action_id}"


def workflow_event_values(event_id):
    """Where a value an action of the event sets is created."""
    return f"{WORKFLOW_USER_DEFINED_FIELDS}/events/{event_id}"


def workflow_action_all_values(action_id):
    """DELETE clears every value the action sets."""
    return f"{WORKFLOW_USER_DEFINED_FIELDS}/actions/{action_id}"


def workflow_value(value_id):
    return f"{WORKFLOW_USER_DEFINED_FIELDS}/{value_id}"
