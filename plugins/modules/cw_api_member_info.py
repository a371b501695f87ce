#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cw_api_member_info
short_description: Read ConnectWise Manage API members
version_added: 0.1.0
description:
  - Lists API members from C(/system/apiMembers), all of them or those matching the filters.
  - API keys are not readable through the REST API and are not returned.
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.cw
  - signl4.connectwise.cw.action_group
  - signl4.connectwise.attributes.info_module
options:
  identifier:
    description: Only the member with this identifier.
    type: str
  inactive:
    description: Only inactive (V(true)) or active (V(false)) members.
    type: bool
"""

EXAMPLES = r"""
- name: Read the SIGNL4 API member
  signl4.connectwise.cw_api_member_info:
    identifier: signl4
  register: cw_members

- name: Show its default board
  ansible.builtin.debug:
    msg: "{{ cw_members.api_members[0].serviceDefaultBoard.name }}"
"""

RETURN = r"""
api_members:
  description: The matching API members, ordered by id, as Manage returns them.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 4
      identifier: signl4
      name: Derdack SIGNL4
      inactiveFlag: false
      securityRole: {id: 3, name: SIGNL4}
"""

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import equals_all
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_module import ManageModule
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_paths import API_MEMBERS
from ansible_collections.signl4.connectwise.plugins.module_utils.option_spec import payload

# ``api_key``: the API field an option filters on (module_utils/option_spec.py).
ARGUMENT_SPEC = dict(
    identifier=dict(type="str", api_key="identifier"),
    inactive=dict(type="bool", api_key="inactiveFlag"),
)


def run(module):
    members = module.client.list(API_MEMBERS, conditions=equals_all(payload(ARGUMENT_SPEC, module.params)))
    return {"changed": False, "api_members": members}


def main():
    ManageModule(ARGUMENT_SPEC).execute(run)


if __name__ == "__main__":
    main()
