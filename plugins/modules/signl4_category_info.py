#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: signl4_category_info
short_description: Read the categories of a SIGNL4 team
version_added: 0.1.0
description:
  - Lists the categories ("services & systems") of a team from C(/v2/categories/{teamId}), all of them or the one
    with a name.
  - Keywords are shown as strings and keyword matching as C(0) (any) or C(1) (all), whichever form SIGNL4 sends.
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.signl4
  - signl4.connectwise.signl4.action_group
  - signl4.connectwise.attributes.info_module
options:
  team:
    description: Name or id of the team. An unknown or empty team fails, naming the known teams.
    type: str
    required: true
  name:
    description: Only the category with this name (case and surrounding spaces ignored).
    type: str
"""

EXAMPLES = r"""
- name: Read the categories of a team
  signl4.connectwise.signl4_category_info:
    team: Network Operations
  register: signl4_categories

- name: Show their names and keywords
  ansible.builtin.debug:
    msg: "{{ signl4_categories.categories | items2dict(key_name='name', value_name='keywords') }}"
"""

RETURN = r"""
team:
  description: The team as SIGNL4 names it (O(team) may give its id, or its name in another case).
  returned: always
  type: dict
  contains:
    id:
      description: The team's id.
      type: str
      returned: always
    name:
      description: The team's name.
      type: str
      returned: always
  sample:
    id: 5b0b1a5e-0000-4000-8000-00000000a002
    name: Network Operations
categories:
  description: The matching categories, in SIGNL4's order. Empty when there are none.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 6f1c2b9e-0000-4000-8000-0000000000c7
      teamId: 5b0b1a5e-0000-4000-8000-00000000a002
      name: Network
      color: "#1F6FB2"
      imageName: network.svg
      keywordMatching: 0
      keywords: [switch, router, firewall]
      isDefault: false
      order: 2
"""

from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_categories import matching_categories
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_module import Signl4Module

# ``api_key``: the API field an option filters on (module_utils/option_spec.py).
ARGUMENT_SPEC = dict(
    team=dict(type="str", required=True, api_key="teamId"),
    name=dict(type="str", api_key="name"),
)


def run(module):
    team = module.client.resolve_team(module.params["team"].strip())  # cached: the categories' lookup reuses it
    return {"changed": False, "team": {"id": team.get("id"), "name": team.get("name")},
            "categories": matching_categories(module.client, team["id"], module.params["name"])}


def main():
    Signl4Module(ARGUMENT_SPEC).execute(run)


if __name__ == "__main__":
    main()
