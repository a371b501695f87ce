#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cw_custom_field_info
short_description: Read ConnectWise Manage custom fields
version_added: 0.1.0
description:
  - Lists custom fields from C(/system/userDefinedFields), all of them or those matching the filters.
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.cw
  - signl4.connectwise.cw.action_group
  - signl4.connectwise.attributes.info_module
options:
  caption:
    description: Only the field with this caption.
    type: str
  pod_id:
    description: Only fields on this pod.
    type: int
  screen_id:
    description: Only fields on this screen.
    type: str
"""

EXAMPLES = r"""
- name: Read the SIGNL4 fields
  signl4.connectwise.cw_custom_field_info:
    pod_id: 10
  register: cw_fields

- name: Show their captions
  ansible.builtin.debug:
    msg: "{{ cw_fields.custom_fields | map(attribute='caption') | list }}"
"""

RETURN = r"""
custom_fields:
  description: The matching fields, ordered by id, as Manage returns them.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 17
      caption: Signl4Retrieved_c
      podId: 10
      fieldTypeIdentifier: Checkbox
"""

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import equals_all
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_module import ManageModule
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_paths import CUSTOM_FIELDS
from ansible_collections.signl4.connectwise.plugins.module_utils.option_spec import payload

# ``api_key``: the API field an option filters on (module_utils/option_spec.py).
ARGUMENT_SPEC = dict(
    caption=dict(type="str", api_key="caption"),
    pod_id=dict(type="int", api_key="podId"),
    screen_id=dict(type="str", api_key="screenId"),
)


def run(module):
    fields = module.client.list(CUSTOM_FIELDS, conditions=equals_all(payload(ARGUMENT_SPEC, module.params)))
    return {"changed": False, "custom_fields": fields}


def main():
    ManageModule(ARGUMENT_SPEC).execute(run)


if __name__ == "__main__":
    main()
