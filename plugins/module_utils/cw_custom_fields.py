# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Custom fields (``/system/userDefinedFields``) as an object kind: found by caption (plus pod
and screen when given), validated by a table of rules before any write."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import all_of, condition
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_objects import (
    BUSINESS_UNITS,
    LOCATIONS,
    ManageResource,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import (
    CASE_INSENSITIVE,
    UNORDERED,
    KeyedList,
    Rules,
    same_name,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import ObjectKind
from ansible_collections.signl4.connectwise.plugins.module_utils.option_spec import payload, suboptions
from ansible_collections.signl4.connectwise.plugins.module_utils.validation import require_length

CUSTOM_FIELDS = "/system/userDefinedFields"
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
    """Custom fields. Options map to API keys through the module's spec; business units and
    locations are given by name and resolved to ids."""

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
                                   name_field="caption", name=caption, pod_id=params.get("pod_id"))

    def rules(self, params):
        return Rules(caption=CASE_INSENSITIVE, options=KeyedList("optionValue", purge=params["purge_options"]),
                     businessUnitIds=UNORDERED, locationIds=UNORDERED)

    def desired(self, params, resource):
        """The API-shaped field; names resolved to ids (fails on unknown names, before any write)."""
        desired = payload(self.spec, params)
        desired["caption"] = params["caption"].strip()
        if params.get("options") is not None:
            option_spec = suboptions(self.spec, "options")
            desired["options"] = [payload(option_spec, option) for option in params["options"]]
        if params.get("business_units") is not None:
            desired["businessUnitIds"] = [self.client.resolve(BUSINESS_UNITS, name, what="business unit")["id"]
                                          for name in params["business_units"]]
        if params.get("locations") is not None:
            desired["locationIds"] = [self.client.resolve(LOCATIONS, name, what="location")["id"]
                                      for name in params["locations"]]
        return desired


class CustomFieldResource(ManageResource):

    def __init__(self, client, path, find_conditions, what, name_field=None, name=None, pod_id=None):
        ManageResource.__init__(self, client, path, find_conditions, what, name_field=name_field, name=name)
        self.pod_id = pod_id

    def find(self):
        """The field, from the list of its pod's fields that serves every custom field task of the run
        (:meth:`SharedLookups.run_read`: read again before a write, never seen by another run); without
        a known run, by its own query. A re-read after a create (:meth:`matches`) is always fresh."""
        shared = self.client.shared_lookups
        if shared is None or shared.run is None:
            return ManageResource.find(self)
        scope = condition("podId", "=", self.pod_id) if self.pod_id is not None else None
        fields = shared.run_read(CUSTOM_FIELDS, "fields of pod %s" % self.pod_id,
                                 lambda: self.client.list(CUSTOM_FIELDS, conditions=scope))
        return self.only([field for field in fields if same_name(field.get("caption")) == same_name(self.name)])

    def validate(self, desired, current):
        field = dict(current or {})
        field.update(desired)
        if current is None:
            missing = [option for key, option in REQUIRED_ON_CREATE if field.get(key) is None]
            if missing:
                raise InputError("creating custom field %r needs %s" % (field.get("caption"), ", ".join(missing)))
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
            raise InputError("entry_type %s needs at least one entry in options" % entry)
    elif options:
        raise InputError("options apply only to entry_type List or Option, not %s" % (entry or "EntryField"))
    for option in options or []:
        if option.get("sortOrder") is not None and not 0 <= option["sortOrder"] <= INT32_MAX:
            raise InputError("options.sort_order must be between 0 and %d, got %d" % (INT32_MAX, option["sortOrder"]))
    values = [option.get("optionValue") for option in options or []]
    duplicates = sorted(set(value for value in values if values.count(value) > 1))
    if duplicates:
        raise InputError("duplicate option values: %s" % ", ".join(duplicates))
