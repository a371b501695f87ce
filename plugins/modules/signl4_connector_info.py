#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: signl4_connector_info
short_description: Read SIGNL4 connector app instances and their configuration
version_added: 0.1.0
description:
  - Lists the installed apps of C(/v2/scripts/instances) with their C(config), all of them or those
    matching the filters.
  - Config entries named in O(secret_keys), entries whose name contains C(secret), C(password), C(private),
    C(token) or C(apikey), and each instance's C(webhookUrl) are masked.
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.signl4
  - signl4.connectwise.signl4.action_group
  - signl4.connectwise.attributes.info_module
options:
  team:
    description: Only the instances of this team (name or id).
    type: str
  app:
    description: Only the instances of this app of the catalogue (name or C(scriptId)), for example C(ConnectWise Manage).
    type: str
  secret_keys:
    description: More config entries to mask, by name.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Read the ConnectWise Manage app of the Service Desk team
  signl4.connectwise.signl4_connector_info:
    team: Service Desk
    app: ConnectWise Manage
  register: signl4_connectors

- name: Show whether it runs
  ansible.builtin.debug:
    msg: "{{ signl4_connectors.connectors | map(attribute='enabled') | list }}"
"""

RETURN = r"""
connectors:
  description: The matching instances with their configuration, secrets masked. Empty when there are none.
  returned: always
  type: list
  elements: dict
  sample:
    - instanceId: c9b9cfc6-9753-4ba1-a5e2-d684cbf0f8b0
      scriptId: c0ecc7e0-0000-4000-8000-0000000000c1
      scriptName: ConnectWise Manage
      teamId: 5b0b1a5e-0000-4000-8000-00000000a001
      enabled: true
      config:
        instanceUri: https://na.myconnectwise.net
        privateApiKey: "********"
      webhookUrl: "********"
"""

from ansible_collections.signl4.connectwise.plugins.module_utils.engine import mask
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_module import Signl4Module
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_connectors import connector_instances, secret_keys

# ``api_key``: the API field an option filters on; ``control``: how the result is shown (module_utils/option_spec.py).
ARGUMENT_SPEC = dict(
    team=dict(type="str", api_key="teamId"),
    app=dict(type="str", api_key="scriptId"),
    secret_keys=dict(type="list", elements="str", default=[], no_log=False, control=True),
)


def run(module):
    found = connector_instances(module.client, module.params["team"], module.params["app"])
    return {"changed": False, "connectors": mask(found, secret_keys(found, module.params["secret_keys"]))}


def main():
    Signl4Module(ARGUMENT_SPEC).execute(run)


if __name__ == "__main__":
    main()
