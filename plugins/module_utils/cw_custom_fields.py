# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Custom fields (``/system/userDefinedFields``) as an object kind: found by caption (plus pod
and screen when given), validated by a table of rules before any write."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import all_of, condition
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_objects import ManageResource
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_paths import CUSTOM_FIELDS
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import CASE_INSENSITIVE, UNORDERED, KeyedList, Rules
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import ObjectKind
from ansible_collections.signl4.connectwise.plugins.module_utils.validation import require_length

NUMERIC_TYPES = ("Number", "Percent")
LIST_ENTRY_TYPES = ("List", "Option")
# What creating a field needs: API key -> option.
REQUIRED_ON_CREATE = (("podId", "pod_id"), ("fieldTypeIdentifier", "field_type"), ("sequenceNumber", "sequence_number"))
# (API key, limit, option)
MAX_LENGTHS = (("screenId", 25, "screen_id"), ("helpText", 1000, "help_text"), ("buttonUrl", 1000, "button_url"))
INT32_MAX = 2 ** 31 - 1


def _given(key):
    return lambda field, desired: desired.get(key) is not None


# Each rule: (applies to (field, desired), is refused (field, desired), message formatted with the field).
# ``field`` is the field as it would be after the task; ``desired`` holds only what the task sets.
FIELD_RULES = (
    (_given("podId"),
     lambda field, desired: not 1 <= desired["podId"] <= INT32_MAX,
     "pod_id must be a positive 32-bit integer, got {podId}"),
    (lambda field, desired: field.get("sequenceNumber") is not None,
     lambda field, desired: not 1 <= field["sequenceNumber"] <= 500,
     "sequence_number must be between 1 and 500, got {sequenceNumber}"),
    (lambda field, desired: field.get("requiredFlag"),
     lambda field, desired: field.get("readOnlyFlag"),
     "a custom field cannot be both required and read_only"),
    (_given("numberDecimals"),
     lambda field, desired: field.get("fieldTypeIdentifier") not in NUMERIC_TYPES,
     "number_decimals applies only to field_type Number or Percent"),
    (_given("numberDecimals"),
     lambda field, desired: not 0 <= desired["numberDecimals"] <= 5,
     "number_decimals must be between 0 and 5"),
    (lambda field, desired: desired.get("buttonUrl"),
     lambda field, desired: field.get("fieldTypeIdentifier") != "Button",
     "button_url applies only to field_type Button"),
)


class CustomFields(ObjectKind):
    """Custom fields, found by caption within their pod. Every option reaches the API through the
    module's spec (business units and locations are references resolved to ids)."""

    result_key = "custom_field"

    def identity(self, params):
        return params["caption"]

    def resource(self, params):
        caption = params["caption"].strip()
        require_length(caption, 25, "caption")
        conditions = [condition("caption", "=", caption)]
        if params.get("pod_id") is not None:
            conditions.append(condition("podId", "=", params["pod_id"]))
        # Not the screen: Manage keeps captions unique per pod, so a field whose screen differs is the
        # same field with a screen to change, not a second one to create.
        return CustomFieldResource(self.client, CUSTOM_FIELDS, all_of(*conditions), "custom field",
                                   name_field="caption", name=caption)

    def rules(self, params):
        return Rules(caption=CASE_INSENSITIVE, options=KeyedList("optionValue", purge=params["purge_options"]),
                     businessUnitIds=UNORDERED, locationIds=UNORDERED)


class CustomFieldResource(ManageResource):

    def validate(self, desired, current):
        field = dict(current or {})
        field.update(desired)
        if current is None:
            missing = [option for key, option in REQUIRED_ON_CREATE if field.get(key) is None]
            if missing:
                raise InputError(f"creating custom field {field.get('caption')!r} needs {', '.join(missing)}")
        for key, limit, option in MAX_LENGTHS:
            require_length(field.get(key), limit, option)
        for applies, refused, message in FIELD_RULES:
            if applies(field, desired) and refused(field, desired):
                raise InputError(message.format(**field))
        validate_options(desired.get("options"), (current or {}).get("options") or [], field.get("entryTypeIdentifier"))


def validate_options(options, existing, entry):
    """List and Option fields need an option; other entry types take none; values are unique."""
    if entry in LIST_ENTRY_TYPES:
        if not options and not (options is None and existing):
            raise InputError(f"entry_type {entry} needs at least one entry in options")
    elif options:
        raise InputError("options apply only to entry_type List or Option, not %s" % (entry or "EntryField"))
    for option in options or []:
        if option.get("sortOrder") is not None and not 0 <= option["sortOrder"] <= INT32_MAX:
            raise InputError("options.sort_order must be between 0 and %d, got %d" % (INT32_MAX, option["sortOrder"]))
    values = [option.get("optionValue") for option in options or []]
    duplicates = sorted({value for value in values if values.count(value) > 1})
    if duplicates:
        raise InputError(f"duplicate option values: {', '.join(duplicates)}")
