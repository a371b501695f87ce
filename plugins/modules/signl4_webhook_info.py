#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: signl4_webhook_info
short_description: Read SIGNL4 outbound webhook subscriptions
version_added: 0.1.0
description:
  - Lists the outbound webhooks of C(/v2/webhooks), all of them or those matching the filters.
  - URLs are masked; they usually carry the receiver's secret token.
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.signl4
  - signl4.connectwise.signl4.action_group
  - signl4.connectwise.attributes.info_module
options:
  name:
    description: Only the subscription with this name.
    type: str
  team:
    description: Only the subscriptions of this team (name or id).
    type: str
"""

EXAMPLES = r"""
- name: Read the subscriptions of a team
  signl4.connectwise.signl4_webhook_info:
    team: Service Desk
  register: signl4_webhooks

- name: Show their names
  ansible.builtin.debug:
    msg: "{{ signl4_webhooks.webhooks | map(attribute='name') | list }}"
"""

RETURN = r"""
webhooks:
  description: The matching subscriptions as SIGNL4 returns them, with C(extUrl) masked. Empty when there are none.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 3c611701-575b-454a-9eea-47d8abfec732
      name: ConnectWise sync agent
      extUrl: "********"
      teamId: 5b0b1a5e-0000-4000-8000-00000000a001
      enabled: true
      subId: 0acf8014-0000-4000-8000-000000000001
"""

from ansible_collections.signl4.connectwise.plugins.module_utils.engine import mask
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_module import Signl4Module
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_webhooks import WEBHOOK_SECRET_KEYS, matching_webhooks

# ``api_key``: the API field an option filters on (module_utils/option_spec.py).
ARGUMENT_SPEC = dict(
    name=dict(type="str", api_key="name"),
    team=dict(type="str", api_key="teamId"),
)


def run(module):
    found = matching_webhooks(module.client, module.params["name"], module.params["team"])
    return {"changed": False, "webhooks": mask(found, WEBHOOK_SECRET_KEYS)}


def main():
    Signl4Module(ARGUMENT_SPEC).execute(run)


if __name__ == "__main__":
    main()
