#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: signl4_connector
short_description: Manage a SIGNL4 connector app instance, such as the ConnectWise Manage app
version_added: 0.1.0
description:
  - Installs, configures, enables or disables and removes an app of SIGNL4's catalogue for a team
    (C(/v2/scripts/instances)), by default the C(ConnectWise Manage) connector app.
  - The instance is found by O(team) and O(app); when the team has several instances of the app,
    O(display_name) picks one.
  - The app's C(config) is compared key by key. SIGNL4 does not publish the configuration keys of its
    apps, so this module is generic; the keys are whatever the app expects.
  - Secret entries (API keys, private keys, passwords) go in O(secret_config). They are compared by value
    without being shown and appear as C(********) in the output and the diff, like every config entry whose
    name contains C(secret), C(password), C(private), C(token) or C(apikey), and the instance's C(webhookUrl).
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.signl4
  - signl4.connectwise.signl4.action_group
  - signl4.connectwise.attributes
options:
  team:
    description:
      - Name or id of the team the app is installed for. It must not be empty, and an unknown team is an error.
    type: str
    required: true
  app:
    description:
      - Name or C(scriptId) of the app in SIGNL4's catalogue (C(/v2/scripts/inventory)).
    type: str
    default: ConnectWise Manage
  display_name:
    description:
      - The instance's display name (C(customScriptName)). SIGNL4 uses the app's name when it is not set.
      - Also picks the instance when the team has several instances of O(app).
    type: str
  description:
    description:
      - The instance's description (C(customScriptDescription)).
    type: str
  enabled:
    description:
      - Whether the app runs. SIGNL4 creates instances disabled.
    type: bool
  config:
    description:
      - Configuration entries that are not secret, compared key by key with the instance's C(config).
      - Entries not listed are left as they are, unless O(purge_config=true). Omit to leave the configuration alone.
    type: dict
  secret_config:
    description:
      - Configuration entries that hold secrets, such as the ConnectWise private API key.
      - They are written and compared like O(config) (see O(update_secrets)) but never logged or shown.
    type: dict
  purge_config:
    description:
      - Remove the configuration entries that are in neither O(config) nor O(secret_config).
        Has no effect when both are omitted.
    type: bool
    default: false
  update_secrets:
    description:
      - C(always) compares O(secret_config) with what SIGNL4 returns and writes it when it differs.
      - C(on_create) writes O(secret_config) when the instance is created and with any other change, but a
        difference in a secret alone is not a change. Use it if SIGNL4 does not return secrets in plain text.
    type: str
    choices: [always, on_create]
    default: always
  state:
    description:
      - Whether the instance should exist.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: The ConnectWise Manage app for the Service Desk team
  signl4.connectwise.signl4_connector:
    team: Service Desk
    display_name: ConnectWise Manage
    enabled: true
    config:
      instanceUri: https://na.myconnectwise.net
      companyId: contoso
      apiMemberId: signl4
      publicApiKey: "{{ cw_public_key }}"
      workflowTriggerSignls: SIGNL4 - Trigger Signls
      workflowUpdateSignls: SIGNL4 - Update Signls
      workflowUpdateTickets: SIGNL4 - Update CW Tickets
    secret_config:
      privateApiKey: "{{ vault_cw_private_key }}"
  module_defaults:
    group/signl4.connectwise.signl4:
      signl4_api_key: "{{ vault_signl4_api_key }}"

- name: Stop the app without touching its configuration
  signl4.connectwise.signl4_connector:
    team: Service Desk
    enabled: false

- name: Remove another app from a team
  signl4.connectwise.signl4_connector:
    team: Network Operations
    app: Jira Service Management
    state: absent
"""

RETURN = r"""
connector:
  description:
    - The instance as SIGNL4 holds it after the task (in check mode, as it would be), with its C(config).
      Secret entries and C(webhookUrl) are masked.
    - Null when the instance does not exist.
  returned: always
  type: dict
  sample:
    instanceId: c9b9cfc6-9753-4ba1-a5e2-d684cbf0f8b0
    scriptId: c0ecc7e0-0000-4000-8000-0000000000c1
    scriptName: ConnectWise Manage
    teamId: 5b0b1a5e-0000-4000-8000-00000000a001
    customScriptName: ConnectWise Manage
    enabled: true
    config:
      instanceUri: https://na.myconnectwise.net
      privateApiKey: "********"
    webhookUrl: "********"
    runtimeInformation:
      runtimeStatus: 2
      runtimeStatusMessage: Running
diff:
  description: The keys that differ, before and after, in the API's field names (secrets masked).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import run_kind
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_connectors import Connectors
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_module import Signl4Module

# What each option is to the API (module_utils/option_spec.py): ``api_key`` or ``control``. Team and app
# identify the instance (resolved to ids by the kind); config and secret_config are merged into ``config``.
ARGUMENT_SPEC = dict(
    team=dict(type="str", required=True, api_key="teamId"),
    app=dict(type="str", default="ConnectWise Manage", api_key="scriptId"),
    display_name=dict(type="str", api_key="customScriptName"),
    description=dict(type="str", api_key="customScriptDescription"),
    enabled=dict(type="bool", api_key="enabled"),
    config=dict(type="dict", api_key="config"),
    secret_config=dict(type="dict", no_log=True, api_key="config"),
    purge_config=dict(type="bool", default=False, control=True),
    update_secrets=dict(type="str", choices=["always", "on_create"], default="always", no_log=False, control=True),
    state=dict(type="str", choices=["present", "absent"], default="present", control=True),
)


def main():
    run_kind(Signl4Module, Connectors, ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
