#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cw_api_member
short_description: Manage the ConnectWise Manage API member an integration logs in as
version_added: 0.1.0
description:
  - Creates and updates an API member in C(/system/apiMembers), found by its O(identifier).
  - Manage cannot delete members, so O(state=absent) deactivates the member (C(inactiveFlag)) and
    O(state=present) makes it active again.
  - The member's location, business unit and default board decide which service tickets the integration
    sees; its security role decides what it may do (see P(signl4.connectwise.cw_security_role#module)).
  - Only the options you give are compared; an update sends a PATCH with just the keys that differ.
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.cw
  - signl4.connectwise.cw.action_group
  - signl4.connectwise.attributes
notes:
  - API keys cannot be created through the REST API. Once the member exists, an administrator adds one in
    Manage under I(System > Members > API Members), opens the member, goes to the I(API Keys) tab, clicks
    I(+), enters a description (for example C(SIGNL4)) and saves. The private key is shown only then.
  - The public and private key are then used as this collection's O(cw_public_key) and O(cw_private_key)
    (or E(CW_PUBLIC_KEY) and E(CW_PRIVATE_KEY)), and in the SIGNL4 connector app's configuration
    (C(publicApiKey) in O(signl4.connectwise.signl4_connector#module:config), C(privateApiKey) in
    O(signl4.connectwise.signl4_connector#module:secret_config)). Keep the private key in a vault.
options:
  identifier:
    description:
      - The member ID the integration logs in with, at most 15 characters. It identifies the member.
    type: str
    required: true
  name:
    description:
      - The member name shown in Manage, at most 30 characters. Required when the member has to be created.
    type: str
  role:
    description:
      - The name of the member's security role. Required when the member has to be created.
    type: str
  location:
    description:
      - The name of the member's default location. Required when the member has to be created.
    type: str
  business_unit:
    description:
      - The name of the member's default business unit (department). Required when the member has to be created.
    type: str
  default_board:
    description:
      - The name of the member's default service board.
    type: str
  email:
    description:
      - The member's e-mail address, at most 250 characters.
    type: str
  notes:
    description:
      - Free-text notes on the member.
    type: str
  assume_created:
    description:
      - In check mode only, security role names that an earlier task of the same run would create (in check mode it
        creates nothing). A O(role) among them that does not exist yet is shown in the diff by its name, and the task
        reports changed instead of failing on an unknown name. Any other unknown name still fails.
      - Ignored outside check mode, where the role must exist.
    type: list
    elements: str
    default: []
  state:
    description:
      - V(present) creates or updates the member and makes it active; V(absent) deactivates it if it exists.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: The API member SIGNL4 uses, with the least-privilege role
  signl4.connectwise.cw_api_member:
    identifier: signl4
    name: Derdack SIGNL4
    role: SIGNL4
    location: Tampa Office
    business_unit: Services
    default_board: Service Desk
    email: signl4@contoso-msp.com

- name: The same in a check-mode run that would create the role SIGNL4 first
  signl4.connectwise.cw_api_member:
    identifier: signl4
    name: Derdack SIGNL4
    role: SIGNL4
    location: Tampa Office
    business_unit: Services
    assume_created: [SIGNL4]

- name: Take the member out of use (Manage cannot delete it)
  signl4.connectwise.cw_api_member:
    identifier: signl4
    state: absent
"""

RETURN = r"""
api_member:
  description:
    - The member as Manage holds it after the task (in check mode, as it would be). Null when it does not exist.
  returned: always
  type: dict
  sample:
    id: 4
    identifier: signl4
    name: Derdack SIGNL4
    inactiveFlag: false
    securityRole: {id: 3, name: SIGNL4}
    defaultLocation: {id: 1, name: Tampa Office}
    defaultDepartment: {id: 1, identifier: SVC, name: Services}
    serviceDefaultBoard: {id: 1, name: Service Desk}
diff:
  description: The keys that differ, before and after, in the API's field names.
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.signl4.connectwise.plugins.module_utils import cw_paths
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_api_members import ApiMembers
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_module import ManageModule
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import run_kind

# What each option is to the API (module_utils/option_spec.py): ``api_key``, a ``reference`` by name, or ``control``.
ARGUMENT_SPEC = dict(
    identifier=dict(type="str", required=True, api_key="identifier"),
    name=dict(type="str", api_key="name"),
    role=dict(type="str", api_key="securityRole",
              reference=dict(path=cw_paths.SECURITY_ROLES, what="security role", assume_created=True)),
    location=dict(type="str", api_key="defaultLocation", reference=dict(path=cw_paths.LOCATIONS, what="location")),
    business_unit=dict(type="str", api_key="defaultDepartment",
                       reference=dict(path=cw_paths.DEPARTMENTS, what="business unit")),
    default_board=dict(type="str", api_key="serviceDefaultBoard", reference=dict(path=cw_paths.BOARDS, what="board")),
    email=dict(type="str", api_key="emailAddress"),
    notes=dict(type="str", api_key="notes"),
    assume_created=dict(type="list", elements="str", default=[], control=True),
    state=dict(type="str", choices=["present", "absent"], default="present", control=True),
)


def main():
    run_kind(ManageModule, ApiMembers, ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
