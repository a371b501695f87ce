#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cw_security_role
short_description: Create ConnectWise Manage security roles and verify their permission levels
version_added: 0.1.0
description:
  - Creates or deletes a security role in C(/system/securityroles), found by its O(name).
  - Verifies the role's permission matrix against O(permissions). Manage's REST API can read a role's
    permission levels but cannot change them, so this module never tries to. When a level differs, the task
    does not report ok. It fails (or, with O(on_matrix_drift=warn), warns and reports changed; with
    O(on_matrix_drift=report), reports changed), and lists
    each difference as the step to make in the Manage UI, such as the following.
  - "System > Security Roles > SIGNL4 > Service Desk > Close Service Tickets: set Inquire Level to All (now None)"
  - A role created by this module starts with every function at C(None), so a new role with a declared
    matrix is created and then reported with its differences until an administrator has set the levels.
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.cw
  - signl4.connectwise.cw.action_group
  - signl4.connectwise.attributes
notes:
  - The I(Allow Access) customizations of a function (such as those of C(Table Setup)) are not exposed by
    the REST API and are not verified.
  - Deleting a role that members still use fails with Manage's own message.
options:
  name:
    description:
      - The role's name (Role ID in the UI), at most 30 characters. It identifies the role; case is ignored.
    type: str
    required: true
  permissions:
    description:
      - The levels the role must have, per module function, matched by O(permissions[].module) and
        O(permissions[].function) (case is ignored). A level that is not given is not verified.
      - Omit to verify nothing.
    type: list
    elements: dict
    suboptions:
      module:
        description: The module as the Security Modules screen names it, for example C(Service Desk) or C(System).
        type: str
        required: true
      function:
        description: The function within the module, for example C(Close Service Tickets).
        type: str
        required: true
      add_level:
        description: The Add Level.
        type: str
        choices: [None, My, All]
      edit_level:
        description: The Edit Level.
        type: str
        choices: [None, My, All]
      delete_level:
        description: The Delete Level.
        type: str
        choices: [None, My, All]
      inquire_level:
        description: The Inquire Level.
        type: str
        choices: [None, My, All]
  purge_permissions:
    description:
      - Also require every function not listed in O(permissions) to be C(None) on all four levels
        (least privilege). When false, only the listed functions are verified.
      - Has no effect when O(permissions) is omitted.
    type: bool
    default: false
  on_matrix_drift:
    description:
      - What a difference between the role's levels and O(permissions) does to the task.
      - V(fail) fails it. V(warn) warns with the same steps and reports the task as changed.
      - V(report) reports the task as changed without a warning; the steps are only in RV(drift), for a play that
        lists them itself (the role P(signl4.connectwise.integration#role) does, at the end of the play).
    type: str
    choices: [fail, warn, report]
    default: fail
  state:
    description:
      - Whether the role should exist. O(permissions) is ignored when deleting.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: The least-privilege role for the SIGNL4 API member (SIGNL4's published matrix)
  signl4.connectwise.cw_security_role:
    name: SIGNL4
    purge_permissions: true
    permissions:
      - {module: Service Desk, function: Close Service Tickets, add_level: None, edit_level: All, delete_level: None, inquire_level: All}
      - {module: Service Desk, function: Resource Scheduling, add_level: All, edit_level: All, delete_level: All, inquire_level: All}
      - {module: Service Desk, function: Service Ticket - Dependencies, add_level: None, edit_level: All, delete_level: All, inquire_level: All}
      - {module: Service Desk, function: Service Tickets, add_level: None, edit_level: All, delete_level: None, inquire_level: All}
      - {module: Service Desk, function: Ticket Templates, add_level: None, edit_level: All, delete_level: None, inquire_level: All}
      - {module: System, function: API Reports, add_level: None, edit_level: None, delete_level: None, inquire_level: All}
      - {module: System, function: Member Maintenance, add_level: None, edit_level: None, delete_level: None, inquire_level: All}
      - {module: System, function: My Account, add_level: None, edit_level: None, delete_level: None, inquire_level: All}
      # Also allow access to General / Custom Fields, General / Workflow_Rules and Service / Service Board in the UI.
      - {module: System, function: Table Setup, add_level: All, edit_level: All, delete_level: All, inquire_level: All}

- name: Report the steps still to do in the UI without failing the play
  signl4.connectwise.cw_security_role:
    name: SIGNL4
    on_matrix_drift: warn
    permissions:
      - {module: Service Desk, function: Service Tickets, edit_level: All, inquire_level: All}
  register: signl4_role

- name: Show them
  ansible.builtin.debug:
    msg: "{{ signl4_role.drift | map(attribute='step') | list }}"

- name: Remove a role nobody uses any more
  signl4.connectwise.cw_security_role:
    name: Old Integration
    state: absent
"""

RETURN = r"""
security_role:
  description:
    - The role as Manage holds it after the task (in check mode, as it would be). Null when it does not exist.
  returned: always
  type: dict
  sample: {id: 3, name: SIGNL4, adminFlag: false, inactiveFlag: false}
drift:
  description:
    - Every level that differs from O(permissions), in the role's screen order, with the UI step that fixes it.
      Empty when the role matches. Also returned when the task fails because of it.
  returned: when O(state=present)
  type: list
  elements: dict
  sample:
    - module: Service Desk
      function: Close Service Tickets
      level: Inquire Level
      expected: All
      actual: None
      step: "System > Security Roles > SIGNL4 > Service Desk > Close Service Tickets: set Inquire Level to All (now None)"
diff:
  description:
    - The role's keys that differ, before and after, and the differing levels under C(permissions), keyed
      C(<module> > <function>).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_module import ManageModule
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_security_roles import LEVELS, SecurityRoles
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import run_kind

# What each option is to the API (module_utils/option_spec.py): ``api_key`` or ``control``. The role's only
# writable key is its name; the permission levels are verified, never written (module_utils/cw_security_roles.py).
ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True, api_key="name"),
    permissions=dict(type="list", elements="dict", control=True, options=dict(
        module=dict(type="str", required=True),
        function=dict(type="str", required=True),
        add_level=dict(type="str", choices=LEVELS),
        edit_level=dict(type="str", choices=LEVELS),
        delete_level=dict(type="str", choices=LEVELS),
        inquire_level=dict(type="str", choices=LEVELS),
    )),
    purge_permissions=dict(type="bool", default=False, control=True),
    on_matrix_drift=dict(type="str", choices=["fail", "warn", "report"], default="fail", control=True),
    state=dict(type="str", choices=["present", "absent"], default="present", control=True),
)


def main():
    run_kind(ManageModule, SecurityRoles, ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
