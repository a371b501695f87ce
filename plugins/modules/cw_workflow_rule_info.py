#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cw_workflow_rule_info
short_description: Read ConnectWise Manage workflow rules with their events and actions
version_added: 0.1.0
description:
  - Lists the workflow rules in C(/system/workflows), or those named O(name), each with its events, each event
    with its actions, each action with the custom-field values it sets.
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.cw
  - signl4.connectwise.cw.action_group
  - signl4.connectwise.attributes.info_module
options:
  name:
    description:
      - Only the rules with this name (compared case-insensitively, as Manage compares names).
    type: str
  include_actions:
    description:
      - Whether to read each event's actions (and their custom-field values) too. V(false) reads the rules and their
        events only, one read per rule instead of one per event and action.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Read the rule that selects the tickets for SIGNL4
  signl4.connectwise.cw_workflow_rule_info:
    name: SIGNL4 - Trigger Signls
  register: trigger_rule

- name: Show its first event's condition
  ansible.builtin.debug:
    msg: "{{ trigger_rule.workflow_rules[0].events[0].eventCondition }}"

- name: Read every rule
  signl4.connectwise.cw_workflow_rule_info:
  register: all_rules
"""

RETURN = r"""
workflow_rules:
  description:
    - The matching rules, ordered by id, as Manage returns them, with C(events); each event has C(actions) and each
      action C(customFields) (without O(include_actions), events have no C(actions)).
  returned: always
  type: list
  elements: dict
  sample:
    - id: 1
      name: SIGNL4 - Trigger Signls
      tableType: {id: 1, identifier: ServiceTicket, name: Service Ticket}
      activateFlag: false
      events:
        - id: 1
          name: New ticket
          eventCondition: Signl4Retrieved_c = False AND status/name = "New (not responded)"
          executionTime: Once
          actions: []
"""

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_module import ManageModule
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_workflow_read import read_rules

# ``api_key``: the API field an option filters on; ``control``: what else is read (module_utils/option_spec.py).
ARGUMENT_SPEC = dict(
    name=dict(type="str", api_key="name"),
    include_actions=dict(type="bool", default=True, control=True),
)


def run(module):
    rules = read_rules(module.client, module.params["name"], include_actions=module.params["include_actions"])
    return {"changed": False, "workflow_rules": rules}


def main():
    ManageModule(ARGUMENT_SPEC).execute(run)


if __name__ == "__main__":
    main()
