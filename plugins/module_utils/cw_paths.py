# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ConnectWise Manage API paths (below ``/<codebase>apis/3.0``), one constant (or one function of record
ids) per path, shared by the modules and the sync agent. Ids are put in as given: a caller passes ids it
has checked (the agent checks every id it read from Manage before it goes into a path)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

API_MEMBERS = "/system/apiMembers"
BOARDS = "/service/boards"
CALLBACKS = "/system/callbacks"
CALLBACK_KEY = "/system/callbackkey/index.rails"  # where the signing key of a callback is read (its key_url)
COMPANIES = "/company/companies"
CUSTOM_FIELDS = "/system/userDefinedFields"
DEPARTMENTS = "/system/departments"  # business units
LOCATIONS = "/system/locations"
MEMBERS = "/system/members"
PRIORITIES = "/service/priorities"
SECURITY_ROLES = "/system/securityroles"
TICKETS = "/service/tickets"
WORKFLOWS = "/system/workflows"
WORKFLOW_ACTION_VALUES = WORKFLOWS + "/userdefinedfields"  # the custom-field values workflow actions set
WORKFLOW_NOTIFY_TYPES = WORKFLOWS + "/notifyTypes"  # of every table type
WORKFLOW_TABLE_TYPES = WORKFLOWS + "/tableTypes"


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


def workflow_event_test(rule_id, event_id):
    """The tickets a workflow event's condition selects now (Manage's own parse of the condition)."""
    return f"{workflow_event(rule_id, event_id)}/test"


def workflow_actions(rule_id, event_id):
    return f"{workflow_event(rule_id, event_id)}/actions"


def workflow_action_values(event_id, action_id):
    """The custom-field values an "Update Custom Field" action sets (Manage deletes them only all at once)."""
    return f"{WORKFLOW_ACTION_VALUES}/events/{event_id}/actions/{action_id}"


def workflow_event_values(event_id):
    """Where a value an action of the event sets is created."""
    return f"{WORKFLOW_ACTION_VALUES}/events/{event_id}"


def workflow_action_all_values(action_id):
    """DELETE clears every value the action sets."""
    return f"{WORKFLOW_ACTION_VALUES}/actions/{action_id}"


def workflow_action_value(value_id):
    return f"{WORKFLOW_ACTION_VALUES}/{value_id}"


def ticket(ticket_id):
    return f"{TICKETS}/{ticket_id}"


def ticket_notes(ticket_id):
    return f"{ticket(ticket_id)}/notes"


def ticket_tasks(ticket_id):
    return f"{ticket(ticket_id)}/tasks"


def ticket_configurations(ticket_id):
    return f"{ticket(ticket_id)}/configurations"
