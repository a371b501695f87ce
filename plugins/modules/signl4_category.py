#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: signl4_category
short_description: Manage the categories of a SIGNL4 team
version_added: 0.1.0
description:
  - Creates, updates and deletes a category ("service & system") of a SIGNL4 team in C(/v2/categories/{teamId}).
    An alert raised with C(X-S4-Service) set to a category's name is filed under that category.
  - The category is found by its O(name) within the O(team), ignoring case and surrounding spaces. Only the options
    you give are compared.
  - >-
    SIGNL4's samples send keywords as C([{"value": ...}]) and keyword matching as C("Any"); both are read, and the
    category is shown and written with keywords as strings and keyword matching as C(0) (any) or C(1) (all), as
    SIGNL4's API specification declares them.
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.signl4
  - signl4.connectwise.signl4.action_group
  - signl4.connectwise.attributes
options:
  name:
    description:
      - The category's name, unique within the team. It identifies the category.
      - It is what the C(X-S4-Service) field of an inbound event (the sync agent's route category) names.
    type: str
    required: true
  team:
    description:
      - Name or id of the team the category belongs to. An unknown team fails before anything is written.
    type: str
    required: true
  color:
    description:
      - The category's color, a hex color C(#RRGGBB) such as C(#1F6FB2), compared ignoring case.
      - When the category is created without it, it takes the color of the team's default category.
    type: str
  image:
    description:
      - The category's image, one of the names SIGNL4 lists at C(GET /v2/categories/images) (such as C(water.svg)),
        compared ignoring case and a trailing C(.svg). It is written as SIGNL4 lists it; an unknown name fails
        before anything is written, naming the known ones. Should SIGNL4 list no images, it is written as given.
      - The list is read only when the image has to be written.
      - When the category is created without it, it takes the image of the team's default category.
    type: str
  keywords:
    description:
      - Words that tie an alert to the category (SIGNL4 looks for them in the alert's text) and that
        C(X-S4-Filtering) checks. Order and repetition do not matter.
      - With O(purge_keywords=true) (the default) the category holds exactly these; with O(purge_keywords=false)
        at least these, and keywords added in SIGNL4 stay.
      - Omit to leave the keywords as they are. A category created without them has none.
    type: list
    elements: str
  purge_keywords:
    description:
      - Whether keywords of the category that O(keywords) does not list are removed. Only used when O(keywords)
        is given.
    type: bool
    default: true
  keyword_matching:
    description:
      - Whether any one of the O(keywords) ties an alert to the category, or all of them must occur.
      - A category created without it uses V(any).
    type: str
    choices: [any, all]
  state:
    description:
      - Whether the category should exist. SIGNL4 cannot delete a team's default category; asking to fails before
        anything is written.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Only the options above are managed. What else a category holds in SIGNL4 (excluded keywords, augmentations,
    enrichments, its order and options) is read and written back unchanged.
"""

EXAMPLES = r"""
- name: A category for network tickets in the Network Operations team
  signl4.connectwise.signl4_category:
    name: Network
    team: Network Operations
    color: "#1F6FB2"
    image: network.svg
    keywords: [switch, router, firewall]
    keyword_matching: any
    signl4_api_key: "{{ vault_signl4_api_key }}"

- name: Make sure a keyword is there, keep the ones added in SIGNL4
  signl4.connectwise.signl4_category:
    name: Network
    team: Network Operations
    keywords: [vpn]
    purge_keywords: false
  module_defaults:
    group/signl4.connectwise.signl4:
      signl4_api_key: "{{ vault_signl4_api_key }}"

- name: Remove the category
  signl4.connectwise.signl4_category:
    name: Network
    team: Network Operations
    state: absent
"""

RETURN = r"""
category:
  description:
    - The category as SIGNL4 holds it after the task (in check mode, as it would be), keywords as strings and
      keyword matching as C(0) (any) or C(1) (all).
    - Null when the category does not exist.
  returned: always
  type: dict
  sample:
    id: 6f1c2b9e-0000-4000-8000-0000000000c7
    teamId: 5b0b1a5e-0000-4000-8000-00000000a002
    name: Network
    color: "#1F6FB2"
    imageName: network.svg
    keywordMatching: 0
    keywords: [switch, router, firewall]
    isDefault: false
    order: 2
diff:
  description: The keys that differ, before and after, in the API's field names (all of them on create and delete).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import run_kind
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_categories import Categories
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import TEAMS
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_module import Signl4Module

# What each option is to the API (module_utils/option_spec.py): ``api_key``, a ``reference`` by name, or ``control``.
ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True, api_key="name"),
    team=dict(type="str", required=True, api_key="teamId", reference=dict(path=TEAMS, what="team", keys="id")),
    color=dict(type="str", api_key="color"),
    image=dict(type="str", api_key="imageName"),
    keywords=dict(type="list", elements="str", no_log=False, api_key="keywords"),
    purge_keywords=dict(type="bool", default=True, no_log=False, control=True),
    keyword_matching=dict(type="str", choices=["any", "all"], no_log=False, api_key="keywordMatching"),
    state=dict(type="str", choices=["present", "absent"], default="present", control=True),
)


def main():
    run_kind(Signl4Module, Categories, ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
