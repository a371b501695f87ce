#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cw_workflow_rule
short_description: Manage ConnectWise Manage workflow rules with their events and actions
version_added: 0.1.0
description:
  - Creates, updates and deletes a workflow rule in C(/system/workflows), together with its events
    (C(/system/workflows/{id}/events)), their actions (C(.../events/{id}/actions)) and the custom-field
    values those actions set (C(/system/workflows/userdefinedfields/...)).
  - The rule is found by its O(name). Table type, board, location, business unit, notify types, statuses,
    priorities, members and custom fields are given by name and resolved before anything is written; an
    unknown name fails the task and lists the known ones.
  - Events are matched by O(events[].name). An action is matched within its event by its notify type plus
    its recipient when it has one (O(events[].actions[].member) or O(events[].actions[].email)), so an event
    holds at most one action per notify type and recipient. Changing an action's other options updates it in
    place. Custom-field values are matched by caption within their action. Re-ordering alone is no change.
  - Event conditions are passed to Manage exactly as written; the module never rewrites them, and compares them
    exactly too (a condition that differs only in letter case or surrounding spaces is a change).
  - A condition that would be written is first checked against Manage's conditions syntax, in check mode too. One
    Manage cannot parse fails the task before anything is written, naming the place as Manage does, for example
    C(Expected ')' but found 'end of condition' at position 107).
  - After writing a condition the module asks Manage to test the event (C(GET .../events/{id}/test), the Test
    button of the UI, one ticket at most). When Manage refuses the condition there (C(ApiFindCondition)), the
    event's previous condition is restored (an event the task created is deleted again, a rule it created too) and
    the task fails with Manage's message.
  - A new rule is created inactive, then its events, then their actions, and only then activated when
    O(activate=true), because Manage activates a rule only once it has an event.
  - With C(--diff), the diff nests the changes per event and action, for example
    C(events.<event name>.actions.<action key>).
  - The SIGNL4 connector needs the three rules of the EXAMPLES. They may stay inactive; the sync evaluates
    their events through the API.
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.cw
  - signl4.connectwise.cw.action_group
  - signl4.connectwise.attributes
notes:
  - Manage does not publish the format of event conditions. The collection reads them as the C(conditions) query
    language of Manage's developer guide with custom fields written by caption, for example
    C(Signl4Retrieved_c = False AND status/name = "New") (a value may hold parentheses, such as the status
    name New (not responded), which this markup cannot show). The syntax check refuses only what is broken in any
    reading of that language (an unterminated string or date, unbalanced parentheses, an empty part, C(AND), C(OR)
    or an operator without a condition or operand on each side, C(in) without a list); Manage's test after the write
    catches the rest. A condition Manage already holds is never refused.
  - Notify type names are read from Manage (C(/system/workflows/{id}/notifyTypes)). The names this module knows
    requirements for are C(Update Status), C(Update Priority), C(Add Note), C(Update Custom Field), C(Send Email),
    C(Assign Resource) and C(Create Activity); see O(events[].actions[].notify_type).
  - Manage can remove an action's custom-field values only all at once, so removing one value re-creates the
    others.
  - A rule that does not exist yet has no notify types of its own, so its actions' notify types are checked against
    those of another rule of the same table type, or when there is none against Manage's list of all notify types
    (C(/system/workflows/notifyTypes)). One that does not apply to the table type is then refused by Manage when the
    action is written; a rule the task created is deleted again, so no half-built rule is left behind.
  - Event frequencies, C(max_executions), Checkbox and Number values of O(events[].actions[].custom_fields) and
    custom fields of another table type are checked before anything is written.
  - Names (the rule's, events', notify types', custom fields') are matched ignoring case and surrounding spaces.
  - Runs on one controller that ensure the same rule take turns (a lock file under the temporary directory), so
    parallel runs create it once. See the collection README, section Architecture.
options:
  name:
    description:
      - The rule's name (at most 100 characters). It identifies the rule.
    type: str
    required: true
  table_type:
    description:
      - The name of the table the rule works on, for example C(Service Ticket).
      - Required when the rule has to be created. Manage cannot change the table type of an existing rule.
    type: str
  board:
    description:
      - The name of the board the rule applies to. Statuses in O(events[].actions[].board_status) are
        resolved on this board.
    type: str
  location:
    description:
      - The name of the location the rule applies to.
    type: str
  business_unit:
    description:
      - The name of the business unit (department) the rule applies to.
    type: str
  activate:
    description:
      - Whether the rule runs on its batch schedule. An active rule needs O(batch_schedule) and at least one event.
      - Omit to leave the rule as it is.
    type: bool
  batch_interval:
    description:
      - How often the active rule runs, in O(batch_frequency_unit).
    type: int
  batch_frequency_unit:
    description:
      - The unit of O(batch_interval). Manage defaults to C(Minutes).
    type: str
    choices: [Minutes, Hours, Days]
  batch_schedule:
    description:
      - When the active rule may run. Required for O(activate=true).
    type: str
    choices: [AnyTime, MyCompanyOfficeHours, SlaHours]
  events:
    description:
      - The rule's events, matched by name. Omit to leave the events as they are.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - The event's name; it identifies the event within the rule.
        type: str
        required: true
      condition:
        description:
          - The event's condition, passed to Manage exactly as written and compared exactly (case and spaces
            included).
          - Checked for syntax before it is written, and tested by Manage after it is written; see the description.
        type: str
        required: true
      execution_time:
        description:
          - How often the event fires for one record. Manage defaults to C(Once).
          - C(MultipleTimes) needs O(events[].frequency_unit), O(events[].frequency) and O(events[].max_executions);
            C(Continuously) needs the first two. C(Once) takes none of them.
        type: str
        choices: [Once, MultipleTimes, Continuously]
      frequency_unit:
        description:
          - The unit of O(events[].frequency).
        type: str
        choices: [Minutes, Hours, Days, Months]
      frequency:
        description:
          - How often the event fires again, in O(events[].frequency_unit).
        type: int
      max_executions:
        description:
          - How often at most the event fires for one record (C(MultipleTimes) only).
        type: int
      actions:
        description:
          - The event's actions, matched by notify type plus recipient. Omit to leave the actions as they are.
        type: list
        elements: dict
        suboptions:
          notify_type:
            description:
              - The name of the action's notify type, as Manage lists it for the rule's table type.
              - C(Update Status) needs O(events[].actions[].board_status); C(Update Priority) needs
                O(events[].actions[].priority); C(Add Note) needs O(events[].actions[].note); C(Update Custom Field)
                needs O(events[].actions[].custom_fields); C(Send Email) needs O(events[].actions[].subject) and
                O(events[].actions[].member) or O(events[].actions[].email); C(Assign Resource) needs a subject and
                a member; C(Create Activity) needs a subject.
            type: str
            required: true
          board_status:
            description:
              - The name of a status on the rule's O(board), for C(Update Status).
            type: str
          member:
            description:
              - The identifier of the member the action is for (recipient or resource).
            type: str
          email:
            description:
              - The e-mail address the action sends to (at most 250 characters).
            type: str
          priority:
            description:
              - The name of the priority to set, for C(Update Priority).
            type: str
          subject:
            description:
              - The subject of an e-mail or activity (at most 100 characters).
            type: str
          note:
            description:
              - The note text, for C(Add Note) (or the body of an e-mail).
            type: str
          detail_notes:
            description:
              - Whether the note is a detail (discussion) note.
            type: bool
          internal_notes:
            description:
              - Whether the note is internal.
            type: bool
          audit_notes:
            description:
              - Whether the note goes to the audit trail.
            type: bool
          update_owner:
            description:
              - Whether the action also updates the ticket's owner.
            type: bool
          custom_fields:
            description:
              - The custom-field values the action sets, matched by caption. When given, this is the complete
                list for the action. Omit to leave the values as they are.
            type: list
            elements: dict
            suboptions:
              caption:
                description:
                  - The custom field's caption.
                type: str
                required: true
              value:
                description:
                  - The value, as text (a Checkbox takes C("True") or C("False")).
                type: str
                required: true
              overwrite:
                description:
                  - Whether the action overwrites a value the record already has.
                type: bool
  purge_events:
    description:
      - Remove the events not listed in O(events). Has no effect when O(events) is omitted.
    type: bool
    default: true
  purge_actions:
    description:
      - Remove the actions not listed in an event's O(events[].actions). Has no effect on an event whose actions
        are omitted.
    type: bool
    default: true
  assume_created:
    description:
      - In check mode only, custom field captions that an earlier task of the same run would create (in check mode
        it creates nothing). An action's value for one of them that does not exist yet is shown in the diff by its
        caption, and the task reports changed instead of failing on an unknown custom field. Any other unknown
        name still fails.
      - Ignored outside check mode, where the custom fields must exist.
    type: list
    elements: str
    default: []
  state:
    description:
      - Whether the rule should exist. Removing a rule removes its events and actions.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
# The three rules the SIGNL4 connector uses (tests/integration/data/seed_workflow_rules.yml holds the same
# arguments as data). Their conditions need the custom fields Signl4Retrieved_c and Signl4Status_c
# (signl4.connectwise.cw_custom_field); the connection comes from module_defaults.
- name: Which tickets raise a Signl (the first event selects them; the other two are reserved)
  signl4.connectwise.cw_workflow_rule:
    name: SIGNL4 - Trigger Signls
    table_type: Service Ticket
    board: Service Desk
    activate: false
    events:
      - name: New ticket
        condition: >-
          Signl4Retrieved_c = False AND status/name = "New (not responded)"
          AND dateEntered > [2025-01-01T00:00:00Z]
        execution_time: Once
      - name: Re-entry after acknowledge (reserved)
        condition: >-
          Signl4Retrieved_c = True AND Signl4Status_c = "Acknowledged"
          AND status/name = "New (not responded)"
        execution_time: Once
      - name: Re-entry after close (reserved)
        condition: >-
          Signl4Retrieved_c = True AND Signl4Status_c = "Resolved"
          AND status/name = "New (not responded)"
        execution_time: Once

- name: When a ticket change acknowledges or closes its Signl
  signl4.connectwise.cw_workflow_rule:
    name: SIGNL4 - Update Signls
    table_type: Service Ticket
    board: Service Desk
    activate: false
    events:
      - name: Acknowledge Signl
        condition: >-
          Signl4Retrieved_c = True AND Signl4Status_c not contains "Acknowledged"
          AND Signl4Status_c not contains "Resolved" AND status/name = "In Progress"
        execution_time: Once
        actions:
          - notify_type: Update Custom Field
            custom_fields:
              - caption: Signl4Status_c
                value: Acknowledged
      - name: Close Signl
        condition: >-
          Signl4Retrieved_c = True AND Signl4Status_c not contains "Resolved"
          AND status/name = "Closed (resolved)"
        execution_time: Once
        actions:
          - notify_type: Update Custom Field
            custom_fields:
              - caption: Signl4Status_c
                value: Resolved

- name: How a ticket changes when its Signl is acknowledged or closed in SIGNL4
  signl4.connectwise.cw_workflow_rule:
    name: SIGNL4 - Update CW Tickets
    table_type: Service Ticket
    board: Service Desk
    activate: false
    events:
      - name: Signl acknowledged
        condition: Signl4Retrieved_c = True AND Signl4Status_c = "Acknowledged"
        execution_time: Once
        actions:
          - notify_type: Update Status
            board_status: In Progress
      - name: Signl closed
        condition: Signl4Retrieved_c = True AND Signl4Status_c = "Resolved"
        execution_time: Once
        actions:
          - notify_type: Update Status
            board_status: Closed (resolved)

- name: An active rule with a note and an e-mail, keeping events and actions added in the UI
  signl4.connectwise.cw_workflow_rule:
    name: Escalate emergencies
    table_type: Service Ticket
    board: Service Desk
    activate: true
    batch_interval: 15
    batch_frequency_unit: Minutes
    batch_schedule: AnyTime
    purge_events: false
    purge_actions: false
    events:
      - name: Emergency still new
        condition: priority/name = "Priority 1 - Emergency Response" AND status/name = "New (not responded)"
        execution_time: MultipleTimes
        frequency_unit: Minutes
        frequency: 30
        max_executions: 4
        actions:
          - notify_type: Add Note
            note: Escalated by workflow.
            internal_notes: true
          - notify_type: Send Email
            member: jdoe
            subject: Emergency ticket not responded

- name: Remove a rule with its events and actions
  signl4.connectwise.cw_workflow_rule:
    name: Escalate emergencies
    state: absent
"""

RETURN = r"""
workflow_rule:
  description:
    - The rule as Manage holds it after the task (in check mode, as it would be), with C(events), each event
      with C(actions), each action with the C(customFields) values it sets.
    - Nested lists the task does not declare are not read (an omitted list changes nothing), so an event
      whose O(events[].actions) are not given has no C(actions) here, and an action whose
      O(events[].actions[].custom_fields) are not given has no C(customFields). They are read when purged.
      M(signl4.connectwise.cw_workflow_rule_info) returns every level.
    - Null when the rule does not exist.
  returned: always
  type: dict
  sample:
    id: 3
    name: SIGNL4 - Update CW Tickets
    tableType: {id: 1, identifier: ServiceTicket, name: Service Ticket}
    board: {id: 1, name: Service Desk}
    activateFlag: false
    events:
      - id: 6
        name: Signl acknowledged
        eventCondition: Signl4Retrieved_c = True AND Signl4Status_c = "Acknowledged"
        executionTime: Once
        actions:
          - id: 5
            notifyType: {id: 5, identifier: UpdateStatus, name: Update Status}
            boardStatus: {id: 4, name: In Progress}
            customFields: []
diff:
  description:
    - The fields that differ, before and after, in the API's field names; events and actions nest under
      C(events.<event name>) and C(actions.<action key>).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.signl4.connectwise.plugins.module_utils import cw_paths
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_module import ManageModule
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_workflow_rules import WorkflowRules
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import run_kind

# What each option is to the API (module_utils/option_spec.py): ``api_key``, a ``reference`` by name, or ``control``.
CUSTOM_FIELD_VALUE_SPEC = dict(
    # the custom field by caption: looked up with its type, to check the value (module_utils/cw_workflow_plan.py)
    caption=dict(type="str", required=True, api_key="caption"),
    value=dict(type="str", required=True, api_key="value"),
    overwrite=dict(type="bool", api_key="overwriteFlag"),
)
ACTION_SPEC = dict(
    # the notify types that apply to the rule's table type, the statuses of the rule's board
    notify_type=dict(type="str", required=True, api_key="notifyType",
                     reference=dict(what="notify type", keys=("id", "identifier", "name"))),
    board_status=dict(type="str", api_key="boardStatus", reference=dict(what="board status")),
    member=dict(type="str", api_key="specificMemberTo",
                reference=dict(path=cw_paths.MEMBERS, what="member", field="identifier", keys=("id", "identifier"))),
    email=dict(type="str", api_key="emailRecipient"),
    priority=dict(type="str", api_key="servicePriority", reference=dict(path=cw_paths.PRIORITIES, what="priority")),
    subject=dict(type="str", api_key="subject"),
    note=dict(type="str", api_key="notes"),
    detail_notes=dict(type="bool", api_key="detailNotesFlag"),
    internal_notes=dict(type="bool", api_key="internalNotesFlag"),
    audit_notes=dict(type="bool", api_key="auditNotesFlag"),
    update_owner=dict(type="bool", api_key="updateOwnerFlag"),
    custom_fields=dict(type="list", elements="dict", options=CUSTOM_FIELD_VALUE_SPEC, api_key="customFields"),
)
EVENT_SPEC = dict(
    name=dict(type="str", required=True, api_key="name"),
    condition=dict(type="str", required=True, api_key="eventCondition"),
    execution_time=dict(type="str", choices=["Once", "MultipleTimes", "Continuously"], api_key="executionTime"),
    frequency_unit=dict(type="str", choices=["Minutes", "Hours", "Days", "Months"], api_key="frequencyUnit"),
    frequency=dict(type="int", api_key="frequencyOfExecution"),
    max_executions=dict(type="int", api_key="maxNumberOfExecution"),
    actions=dict(type="list", elements="dict", options=ACTION_SPEC, api_key="actions"),
)
ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True, api_key="name"),
    table_type=dict(type="str", api_key="tableType",
                    reference=dict(path=cw_paths.WORKFLOW_TABLE_TYPES, what="workflow table type",
                                   keys=("id", "identifier", "name"))),
    board=dict(type="str", api_key="board", reference=dict(path=cw_paths.BOARDS, what="board")),
    location=dict(type="str", api_key="location", reference=dict(path=cw_paths.LOCATIONS, what="location")),
    business_unit=dict(type="str", api_key="department",
                       reference=dict(path=cw_paths.DEPARTMENTS, what="business unit", keys=("id", "identifier", "name"))),
    activate=dict(type="bool", api_key="activateFlag"),
    batch_interval=dict(type="int", api_key="batchInterval"),
    batch_frequency_unit=dict(type="str", choices=["Minutes", "Hours", "Days"], api_key="batchFrequencyUnit"),
    batch_schedule=dict(type="str", choices=["AnyTime", "MyCompanyOfficeHours", "SlaHours"], api_key="batchSchedule"),
    events=dict(type="list", elements="dict", options=EVENT_SPEC, api_key="events"),  # each event at its own endpoint
    purge_events=dict(type="bool", default=True, control=True),
    purge_actions=dict(type="bool", default=True, control=True),
    assume_created=dict(type="list", elements="str", default=[], control=True),
    state=dict(type="str", choices=["present", "absent"], default="present", control=True),
)


def main():
    run_kind(ManageModule, WorkflowRules, ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
