# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ConnectWise Manage API paths, one constant (or one function of record ids) per path, shared by the
modules and the sync agent. Ids are put in as given: a caller passes ids it has checked (the agent
checks every id it read from Manage before it goes into a path)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

WORKFLOWS = "/system/workflows"
WORKFLOW_ACTION_VALUES = WORKFLOWS + "/userdefinedfields"
TICKETS = "/service/tickets"
PRIORITIES = "/service/priorities"
MEMBERS = "/system/members"
CUSTOM_FIELDS = "/system/userDefinedFields"
CALLBACKS = "/system/callbacks"
CALLBACK_KEY = "/system/callbackkey/index.rails"  # where the signing key of a callback is read (its key_url)


def workflow_events(rule_id):
    return "%s/%s/events" % (WORKFLOWS, rule_id)


def workflow_event_test(rule_id, event_id):
    """The tickets a workflow event's condition selects now."""
    return "%s/%s/test" % (workflow_events(rule_id), event_id)


def workflow_actions(rule_id, event_id):
    return "%s/%s/actions" % (workflow_events(rule_id), event_id)


def workflow_action_values(event_id, action_id):
    """The custom-field values an "Update Custom Field" action sets."""
    return "%s/events/%s/actions/%s" % (WORKFLOW_ACTION_VALUES, event_id, action_id)


def ticket(ticket_id):
    return "%s/%s" % (TICKETS, ticket_id)


def ticket_notes(ticket_id):
    return "%s/notes" % ticket(ticket_id)


def ticket_tasks(ticket_id):
    return "%s/tasks" % ticket(ticket_id)


def ticket_configurations(ticket_id):
    return "%s/configurations" % ticket(ticket_id)
