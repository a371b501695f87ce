#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cw_lookup_info
short_description: Look up ConnectWise Manage boards, locations, business units and security roles by name
version_added: 0.1.0
description:
  - Looks up each name given by the rule the other C(cw_*) modules use for names (case and surrounding spaces
    ignored) and returns the records found and the names that were not, with the names Manage knows.
  - A name that is not found does not fail the task; it is listed in RV(missing). Manage refusing the login or the
    request does fail it, with Manage's message.
  - Use it to check a setup read-only before the first write (the role P(signl4.connectwise.integration#role)
    does). With no name given, it still checks the connection and login with one read.
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.cw
  - signl4.connectwise.cw.action_group
  - signl4.connectwise.attributes.info_module
options:
  boards:
    description: Service board names.
    type: list
    elements: str
    default: []
  locations:
    description: Location names.
    type: list
    elements: str
    default: []
  business_units:
    description: Business unit (department) names.
    type: list
    elements: str
    default: []
  security_roles:
    description: Security role names.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Check the names the API member will get before anything is written
  signl4.connectwise.cw_lookup_info:
    boards: [Service Desk]
    locations: [Tampa Office]
    business_units: [Services]
  register: cw_names

- name: Stop on a typo
  ansible.builtin.fail:
    msg: "{{ cw_names.missing | map(attribute='msg') | join('; ') }}"
  when: cw_names.missing | length > 0
"""

RETURN = r"""
found:
  description: Per option, the records found, in the order of the names given, as Manage returns them.
  returned: always
  type: dict
  sample:
    boards: [{id: 1, name: Service Desk}]
    locations: [{id: 1, name: Tampa Office}]
    business_units: []
    security_roles: []
missing:
  description: Each name that was not found (or is shared by several records, or is empty), with the reason.
  returned: always
  type: list
  elements: dict
  contains:
    option:
      description: The option that named it.
      type: str
      sample: boards
    name:
      description: The name as given.
      type: str
      sample: Servce Desk
    msg:
      description: Why, with the names Manage knows (at most 50).
      type: str
      sample: "unknown board 'Servce Desk'; known: Network Operations, Projects, Service Desk"
"""

from ansible_collections.signl4.connectwise.plugins.module_utils import cw_paths
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_module import ManageModule
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError

# Each option is a list of names of one ``reference`` (module_utils/option_spec.py), looked up one by one.
ARGUMENT_SPEC = dict(
    boards=dict(type="list", elements="str", default=[], reference=dict(path=cw_paths.BOARDS, what="board")),
    locations=dict(type="list", elements="str", default=[], reference=dict(path=cw_paths.LOCATIONS, what="location")),
    business_units=dict(type="list", elements="str", default=[],
                        reference=dict(path=cw_paths.DEPARTMENTS, what="business unit")),
    security_roles=dict(type="list", elements="str", default=[],
                        reference=dict(path=cw_paths.SECURITY_ROLES, what="security role")),
)


def run(module):
    found, missing = {}, []
    for option, entry in ARGUMENT_SPEC.items():
        found[option] = []
        for name in module.params[option]:
            try:
                found[option].append(module.client.resolve(entry["reference"]["path"], name.strip(),
                                                           what=entry["reference"]["what"]))
            except InputError as err:  # unknown, ambiguous or empty: reported, never a wider lookup
                missing.append(dict(option=option, name=name, msg=str(err)))
    if not any(module.params[option] for option in ARGUMENT_SPEC):
        next(module.client.iterate(cw_paths.BOARDS, fields=["id"], page_size=1), None)  # the login, with one read
    return {"changed": False, "found": found, "missing": missing}


def main():
    ManageModule(ARGUMENT_SPEC).execute(run)


if __name__ == "__main__":
    main()
