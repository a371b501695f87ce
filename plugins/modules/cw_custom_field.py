#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: cw_custom_field
short_description: Manage ConnectWise Manage custom fields (user defined fields)
version_added: 0.1.0
description:
  - Creates, updates and deletes a custom field in C(/system/userDefinedFields).
  - The field is found by its O(caption), within O(pod_id) when it is given (Manage keeps captions unique per
    pod; O(screen_id) is a setting, not part of the match).
  - Only the options you give are compared; an update sends a PATCH with just the keys that differ.
author:
  - signl4.connectwise maintainers (@signl4)
extends_documentation_fragment:
  - signl4.connectwise.cw
  - signl4.connectwise.cw.action_group
  - signl4.connectwise.attributes
options:
  caption:
    description:
      - The field's caption, at most 25 characters. It identifies the field.
    type: str
    required: true
  pod_id:
    description:
      - The id of the pod (the screen area) the field is placed on.
      - Used with O(caption) to find the field; required when the field has to be created.
      - Manage's pods cannot be listed over REST, so Manage itself refuses an unknown pod (with its own message);
        nothing is created then.
    type: int
  screen_id:
    description:
      - The screen id (at most 25 characters).
    type: str
  field_type:
    description:
      - The kind of value the field holds. Required when the field has to be created.
    type: str
    choices: [TextArea, Button, Currency, Date, Hyperlink, IPAddress, Checkbox, Number, Percent, PhoneNumber, Text, Password]
  entry_type:
    description:
      - How a value is entered. C(List) and C(Option) entries need O(options).
    type: str
    choices: [Date, EntryField, List, Option]
  sequence_number:
    description:
      - The field's position on its screen, from 1 to 500. Required when the field has to be created.
    type: int
  help_text:
    description:
      - Help text shown with the field, at most 1000 characters.
    type: str
  required:
    description:
      - Whether a value is required. A field cannot be both required and read-only.
    type: bool
  display_on_screen:
    description:
      - Whether the field is shown in the Manage UI. The SIGNL4 integration's fields are hidden.
    type: bool
  read_only:
    description:
      - Whether the field is read-only in the UI (values can still be written through the API).
    type: bool
  list_view:
    description:
      - Whether the field is included in list views.
    type: bool
  number_decimals:
    description:
      - Decimals shown, for O(field_type=Number) and O(field_type=Percent) only (0 to 5).
    type: int
  button_url:
    description:
      - The URL a O(field_type=Button) field opens.
    type: str
  options:
    description:
      - The choices of a C(List) or C(Option) entry, matched by O(options[].value).
      - Omit to leave the choices as they are.
    type: list
    elements: dict
    suboptions:
      value:
        description: The option's text; it identifies the option.
        type: str
        required: true
      default:
        description: Whether this option is the default.
        type: bool
      inactive:
        description: Whether this option is inactive.
        type: bool
      sort_order:
        description: The option's position in the list.
        type: int
  purge_options:
    description:
      - Remove the choices not listed in O(options). Has no effect when O(options) is omitted.
    type: bool
    default: true
  business_units:
    description:
      - Names of the business units (departments) the field applies to. Omit to leave them as they are.
    type: list
    elements: str
  locations:
    description:
      - Names of the locations the field applies to. Omit to leave them as they are.
    type: list
    elements: str
  state:
    description:
      - Whether the field should exist.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: The hidden field that records whether SIGNL4 has retrieved a ticket
  signl4.connectwise.cw_custom_field:
    caption: Signl4Retrieved_c
    pod_id: 10
    field_type: Checkbox
    entry_type: EntryField
    sequence_number: 1
    display_on_screen: false
    help_text: Set by the SIGNL4 sync once a Signl was raised for the ticket.

- name: A list field with its choices, connection options from module_defaults
  signl4.connectwise.cw_custom_field:
    caption: Signl4Status_c
    pod_id: 10
    field_type: Text
    entry_type: List
    sequence_number: 2
    display_on_screen: false
    options:
      - value: acknowledged
      - value: closed
  module_defaults:
    group/signl4.connectwise.cw:
      cw_url: https://na.myconnectwise.net
      cw_company_id: contoso
      cw_public_key: "{{ vault_cw_public_key }}"
      cw_private_key: "{{ vault_cw_private_key }}"
      cw_client_id: "{{ cw_client_id }}"

- name: Remove a field
  signl4.connectwise.cw_custom_field:
    caption: Signl4User_c
    pod_id: 10
    state: absent
"""

RETURN = r"""
custom_field:
  description:
    - The field as Manage holds it after the task (in check mode, as it would be).
    - Null when the field does not exist.
  returned: always
  type: dict
  sample:
    id: 17
    caption: Signl4Retrieved_c
    podId: 10
    fieldTypeIdentifier: Checkbox
    entryTypeIdentifier: EntryField
    sequenceNumber: 1
    displayOnScreenFlag: false
diff:
  description: The keys that differ, before and after, in the API's field names.
  returned: when diff mode is on
  type: dict
"""

from ansible_collections.signl4.connectwise.plugins.module_utils import cw_paths
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_custom_fields import CustomFields
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_module import ManageModule
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import run_kind

FIELD_TYPES = ["TextArea", "Button", "Currency", "Date", "Hyperlink", "IPAddress", "Checkbox", "Number", "Percent",
               "PhoneNumber", "Text", "Password"]

# What each option is to the API (module_utils/option_spec.py): ``api_key``, a ``reference`` by name, or ``control``.
ARGUMENT_SPEC = dict(
    caption=dict(type="str", required=True, api_key="caption"),
    pod_id=dict(type="int", api_key="podId"),
    screen_id=dict(type="str", api_key="screenId"),
    field_type=dict(type="str", choices=FIELD_TYPES, api_key="fieldTypeIdentifier"),
    entry_type=dict(type="str", choices=["Date", "EntryField", "List", "Option"], api_key="entryTypeIdentifier"),
    sequence_number=dict(type="int", api_key="sequenceNumber"),
    help_text=dict(type="str", api_key="helpText"),
    required=dict(type="bool", api_key="requiredFlag"),
    display_on_screen=dict(type="bool", api_key="displayOnScreenFlag"),
    read_only=dict(type="bool", api_key="readOnlyFlag"),
    list_view=dict(type="bool", api_key="listViewFlag"),
    number_decimals=dict(type="int", api_key="numberDecimals"),
    button_url=dict(type="str", api_key="buttonUrl"),
    options=dict(type="list", elements="dict", api_key="options", options=dict(
        value=dict(type="str", required=True, api_key="optionValue"),
        default=dict(type="bool", api_key="defaultFlag"),
        inactive=dict(type="bool", api_key="inactiveFlag"),
        sort_order=dict(type="int", api_key="sortOrder"),
    )),
    purge_options=dict(type="bool", default=True, control=True),
    business_units=dict(type="list", elements="str", api_key="businessUnitIds",
                        reference=dict(path=cw_paths.DEPARTMENTS, what="business unit", keys="id")),
    locations=dict(type="list", elements="str", api_key="locationIds",
                   reference=dict(path=cw_paths.LOCATIONS, what="location", keys="id")),
    state=dict(type="str", choices=["present", "absent"], default="present", control=True),
)


def main():
    run_kind(ManageModule, CustomFields, ARGUMENT_SPEC)


if __name__ == "__main__":
    main()
