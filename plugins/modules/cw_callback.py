#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cw_callback
short_description: Manage ConnectWise Manage callbacks (webhooks)
version_added: 0.1.0
description:
  - Creates, updates and deletes a callback entry in C(/system/callbacks). Manage then posts to O(url)
    whenever a record the callback watches is saved.
  - The callback is identified by O(url), O(type), O(level) and the level's O(object). Changing any of
    those means another callback; remove the old one with O(state=absent).
  - The URL usually carries the receiver's token, so it is compared but never shown. It is masked in the
    result and in the diff, and it is not sent in query strings (callbacks are looked up by type and level).
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.cw
  - signl4.connectwise.cw.action_group
  - signl4.connectwise.attributes
options:
  url:
    description:
      - The absolute http(s) URL Manage posts to. Manage appends the record id, so it usually ends in
        C(recordId=).
    type: str
    required: true
  type:
    description:
      - The kind of record the callback watches.
    type: str
    required: true
    choices: [Activity, Agreement, Company, Configuration, Contact, Expense, Invoice, Member, Opportunity,
              ProductCatalog, Project, PurchaseOrder, Schedule, Ticket, Time]
  level:
    description:
      - Which records of O(type) are watched. V(Owner) watches all of them; the other levels watch the records
        of one O(object). The levels each type offers are those of Manage's callback documentation, for
        example V(Owner), V(Board), V(Status), V(Ticket) for tickets and V(Owner), V(Location),
        V(SecurityRole), V(Member) for members. Case is ignored.
    type: str
    default: Owner
  object:
    description:
      - The object of O(level), required for every level but V(Owner). It is given by name for V(Board),
        V(Status) (with O(board)), V(Location) and V(SecurityRole), by identifier for V(Company) and
        V(Member), and by the record's id for the other levels (for example one ticket).
    type: str
  board:
    description:
      - The board that the status named by O(object) belongs to, for O(level=Status) on tickets.
    type: str
  description:
    description:
      - A description of the callback, at most 100 characters.
    type: str
  inactive:
    description:
      - Whether the callback is switched off.
    type: bool
  payload_version:
    description:
      - The version of the payload Manage sends, for example C(3.0.0).
    type: str
  self_suppressed:
    description:
      - Whether changes made by the member whose API keys created the callback are not reported back to it,
        so that an integration does not hear its own writes.
    type: bool
  state:
    description:
      - Whether the callback should exist.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Tell the sync agent about every change on the Service Desk board
  signl4.connectwise.cw_callback:
    url: "https://sync.example.com/manage/callback?token={{ vault_callback_token }}&recordId="
    type: Ticket
    level: Board
    object: Service Desk
    description: SIGNL4 sync agent
    self_suppressed: true

- name: Watch tickets entering the status that raises a Signl
  signl4.connectwise.cw_callback:
    url: "https://sync.example.com/manage/callback?token={{ vault_callback_token }}&recordId="
    type: Ticket
    level: Status
    board: Service Desk
    object: New (not responded)

- name: Remove a callback
  signl4.connectwise.cw_callback:
    url: "https://old.example.com/hook?recordId="
    type: Ticket
    state: absent
"""

RETURN = r"""
callback:
  description:
    - The callback as Manage holds it after the task (in check mode, as it would be), with C(url) masked.
    - Null when the callback does not exist.
  returned: always
  type: dict
  sample:
    id: 7
    url: "********"
    type: Ticket
    level: Board
    objectId: 1
    description: SIGNL4 sync agent
    inactiveFlag: false
    isSelfSuppressedFlag: true
    memberId: 250
diff:
  description: The keys that differ, before and after, in the API's field names (C(url) masked).
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_callbacks import CALLBACK_LEVELS, Callbacks
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_module import ManageModule
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import run_kind

# What each option is to the API (module_utils/option_spec.py): ``api_key`` or ``control``. Type, level and
# object identify the callback: the kind spells the level as Manage does and resolves the object by level.
ARGUMENT_SPEC = dict(
    url=dict(type="str", required=True, no_log=True, api_key="url"),
    type=dict(type="str", required=True, choices=sorted(CALLBACK_LEVELS), api_key="type"),
    level=dict(type="str", default="Owner", api_key="level"),
    object=dict(type="str", api_key="objectId"),
    board=dict(type="str", control=True),  # the board whose status a level Status object names
    description=dict(type="str", api_key="description"),
    inactive=dict(type="bool", api_key="inactiveFlag"),
    payload_version=dict(type="str", api_key="payloadVersion"),
    self_suppressed=dict(type="bool", api_key="isSelfSuppressedFlag"),
    state=dict(type="str", choices=["present", "absent"], default="present", control=True),
)


def main():
    run_kind(ManageModule, Callbacks, ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
