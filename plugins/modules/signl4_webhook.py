#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: signl4_webhook
short_description: Manage SIGNL4 outbound webhook subscriptions
version_added: 0.1.0
description:
  - Creates, updates and deletes an outbound webhook in C(/v2/webhooks). SIGNL4 then POSTs a JSON
    notification to its URL for every alert event (created, acknowledged, closed, annotated, ...).
  - The subscription is found by its O(name), ignoring case and surrounding spaces. Only the options you give
    are compared.
  - The URL usually carries the receiver's secret token, so it is compared but never shown in the
    output or the diff.
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.signl4
  - signl4.connectwise.signl4.action_group
  - signl4.connectwise.attributes
options:
  name:
    description:
      - The subscription's name. It identifies the subscription and must be unique.
    type: str
    required: true
  url:
    description:
      - The absolute http(s) URL SIGNL4 posts to, for example the bundled sync agent's receiver with its token,
        C(https://agent.example.com/signl4/<token>).
      - Required when the subscription has to be created. It is never logged or shown.
      - SIGNL4 refuses a team's own inbound webhook here (it would loop).
    type: str
  team:
    description:
      - Name or id of the team whose events are sent. When the subscription is created without it,
        SIGNL4 sends the events of every team.
      - Omit to leave the team as it is.
    type: str
  description:
    description:
      - A free text description.
    type: str
  enabled:
    description:
      - Whether SIGNL4 delivers to the subscription. SIGNL4 creates subscriptions enabled; one created with
        O(enabled=false) is disabled right after it is created, and deleted again should that fail.
    type: bool
  state:
    description:
      - Whether the subscription should exist.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Deliver the Service Desk team's alert events to the sync agent
  signl4.connectwise.signl4_webhook:
    name: ConnectWise sync agent
    # the bundled sync agent's receiver: /signl4/<token> (its listen.webhook_token)
    url: "https://agent.example.com/signl4/{{ vault_agent_webhook_token }}"
    team: Service Desk
    description: Acknowledge, close and annotate ConnectWise tickets
    signl4_api_key: "{{ vault_signl4_api_key }}"

- name: Pause deliveries, connection options from module_defaults
  signl4.connectwise.signl4_webhook:
    name: ConnectWise sync agent
    enabled: false
  module_defaults:
    group/signl4.connectwise.signl4:
      signl4_api_key: "{{ vault_signl4_api_key }}"

- name: Remove the subscription
  signl4.connectwise.signl4_webhook:
    name: ConnectWise sync agent
    state: absent
"""

RETURN = r"""
webhook:
  description:
    - The subscription as SIGNL4 holds it after the task (in check mode, as it would be), with C(extUrl) masked.
    - Null when the subscription does not exist.
  returned: always
  type: dict
  sample:
    id: 3c611701-575b-454a-9eea-47d8abfec732
    name: ConnectWise sync agent
    extUrl: "********"
    teamId: 5b0b1a5e-0000-4000-8000-00000000a001
    description: Acknowledge, close and annotate ConnectWise tickets
    enabled: true
    subId: 0acf8014-0000-4000-8000-000000000001
diff:
  description: The keys that differ, before and after, in the API's field names (C(extUrl) masked).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import run_kind
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import TEAMS
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_module import Signl4Module
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_webhooks import Webhooks

# What each option is to the API (module_utils/option_spec.py): ``api_key``, a ``reference`` by name, or ``control``.
ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True, api_key="name"),
    url=dict(type="str", no_log=True, api_key="extUrl"),
    team=dict(type="str", api_key="teamId", reference=dict(path=TEAMS, what="team", keys="id")),
    description=dict(type="str", api_key="description"),
    enabled=dict(type="bool", api_key="enabled"),
    state=dict(type="str", choices=["present", "absent"], default="present", control=True),
)


def main():
    run_kind(Signl4Module, Webhooks, ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
