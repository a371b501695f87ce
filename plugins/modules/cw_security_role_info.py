#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cw_security_role_info
short_description: Read ConnectWise Manage security roles and their permission levels
version_added: 0.1.0
description:
  - Lists security roles from C(/system/securityroles), all of them or the one named, each with its
    permission matrix in the shape of the P(signl4.connectwise.cw_security_role#module) O(signl4.connectwise.cw_security_role#module:permissions) option.
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.cw
  - signl4.connectwise.cw.action_group
  - signl4.connectwise.attributes.info_module
options:
  name:
    description: Only the role with this name (case is ignored).
    type: str
  include_permissions:
    description: Read each role's permission matrix (one request per role).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Read the SIGNL4 role with its matrix
  signl4.connectwise.cw_security_role_info:
    name: SIGNL4
  register: cw_roles

- name: Show what the role may do in the Service Desk module
  ansible.builtin.debug:
    msg: "{{ cw_roles.security_roles[0].permissions | selectattr('module', 'equalto', 'Service Desk') | list }}"
"""

RETURN = r"""
security_roles:
  description: The matching roles, ordered by id, as Manage returns them, plus RV(security_roles[].permissions).
  returned: always
  type: list
  elements: dict
  contains:
    permissions:
      description: One entry per module function, in screen order; a level Manage leaves unset reads C(None).
      returned: when O(include_permissions=true)
      type: list
      elements: dict
      sample:
        - {module: Service Desk, function: Close Service Tickets, add_level: None, edit_level: All, delete_level: None, inquire_level: All}
  sample:
    - id: 3
      name: SIGNL4
      adminFlag: false
      inactiveFlag: false
"""

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import equals_all
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_module import ManageModule
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_paths import SECURITY_ROLES
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_security_roles import role_permissions
from ansible_collections.signl4.connectwise.plugins.module_utils.option_spec import payload

# ``api_key``: the API field an option filters on; ``control``: what else is read (module_utils/option_spec.py).
ARGUMENT_SPEC = dict(
    name=dict(type="str", api_key="name"),
    include_permissions=dict(type="bool", default=True, control=True),
)


def run(module):
    found = module.client.list(SECURITY_ROLES, conditions=equals_all(payload(ARGUMENT_SPEC, module.params)))
    if module.params["include_permissions"]:
        found = [dict(role, permissions=role_permissions(module.client, role)) for role in found]
    return {"changed": False, "security_roles": found}


def main():
    ManageModule(ARGUMENT_SPEC).execute(run)


if __name__ == "__main__":
    main()
