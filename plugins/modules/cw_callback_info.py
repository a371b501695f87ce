#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cw_callback_info
short_description: Read ConnectWise Manage callbacks (webhooks)
version_added: 0.1.0
description:
  - Lists callback entries from C(/system/callbacks), all of them or those of one type and level.
  - Each C(url) is masked, because callback URLs usually carry the receiver's token.
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.cw
  - signl4.connectwise.cw.action_group
  - signl4.connectwise.attributes.info_module
options:
  type:
    description: Only callbacks watching this kind of record, for example C(Ticket) (case is ignored).
    type: str
  level:
    description: Only callbacks at this level, for example C(Owner) or C(Board) (case is ignored).
    type: str
"""

EXAMPLES = r"""
- name: Read the ticket callbacks
  signl4.connectwise.cw_callback_info:
    type: Ticket
  register: cw_callbacks

- name: Show what they are for
  ansible.builtin.debug:
    msg: "{{ cw_callbacks.callbacks | map(attribute='description') | list }}"
"""

RETURN = r"""
callbacks:
  description: The matching callbacks, ordered by id, as Manage returns them, with C(url) masked.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 7
      url: "********"
      type: Ticket
      level: Board
      objectId: 1
      description: SIGNL4 sync agent
"""

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_callbacks import CALLBACKS_SECRET_KEYS, matching_callbacks
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import mask
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_module import ManageModule

# ``api_key``: the API field an option filters on (module_utils/option_spec.py).
ARGUMENT_SPEC = dict(
    type=dict(type="str", api_key="type"),
    level=dict(type="str", api_key="level"),
)


def run(module):
    found = matching_callbacks(module.client, module.params["type"], module.params["level"])
    return {"changed": False, "callbacks": mask(found, CALLBACKS_SECRET_KEYS)}


def main():
    ManageModule(ARGUMENT_SPEC).execute(run)


if __name__ == "__main__":
    main()
