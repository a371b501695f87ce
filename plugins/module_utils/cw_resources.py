# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage objects as the engine sees them: how each is found, written and validated, and how
module options map to its API fields. Modules stay a spec plus a few lines."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import all_of, condition, patch_operations
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import (
    UNORDERED,
    KeyedList,
    Resource,
    Rules,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.validation import require_length

# Manage's own names for the lookups that modules accept by name.
BUSINESS_UNITS = "/system/departments"
LOCATIONS = "/system/locations"
BOARDS = "/service/boards"
PRIORITIES = "/service/priorities"
MEMBERS = "/system/members"


def reference(record, *keys):
    """The Manage reference object ``{id, name, ...}`` for a looked-up record (given keys only)."""
    return dict((key, record[key]) for key in keys if record.get(key) is not None)


class ManageResource(Resource):
    """A record of a Manage collection found by a condition; updated with a minimal PATCH."""

    def __init__(self, client, path, find_conditions, what):
        self.client = client
        self.path = path
        self.find_conditions = find_conditions
        self.what = what

    def find(self):
        matches = self.client.find(self.path, self.find_conditions)
        if len(matches) > 1:
            raise InputError("%d %s records match %s; narrow the match" % (len(matches), self.what, self.find_conditions))
        return matches[0] if matches else None

    def item_path(self, current):
        return "%s/%s" % (self.path, current["id"])

    def create(self, desired):
        return self.client.create(self.path, desired)

    def update(self, current, changes, after):
        return self.client.patch(self.item_path(current), patch_operations(changes))

    def delete(self, current):
        self.client.delete(self.item_path(current))


def map_options(params, mapping):
    """``{api_key: params[option]}`` for a ``{option: api_key}`` mapping (``None`` = not given)."""
    return dict((api_key, params.get(option)) for option, api_key in mapping.items())


class UserDefinedFields:
    """Custom fields (``/system/userDefinedFields``)."""

    path = "/system/userDefinedFields"
    SCALARS = dict(caption="caption", pod_id="podId", screen_id="screenId", field_type="fieldTypeIdentifier",
                   entry_type="entryTypeIdentifier", sequence_number="sequenceNumber", help_text="helpText",
                   required="requiredFlag", display_on_screen="displayOnScreenFlag", read_only="readOnlyFlag",
                   list_view="listViewFlag", number_decimals="numberDecimals", button_url="buttonUrl")
    OPTION_KEYS = dict(value="optionValue", default="defaultFlag", inactive="inactiveFlag", sort_order="sortOrder")

    def __init__(self, client):
        self.client = client

    def resource(self, caption, pod_id=None, screen_id=None):
        require_length(caption, 25, "caption")
        conditions = [condition("caption", "=", caption)]
        if pod_id is not None:
            conditions.append(condition("podId", "=", pod_id))
        if screen_id:
            conditions.append(condition("screenId", "=", screen_id))
        return UserDefinedFieldResource(self.client, self.path, all_of(*conditions), "custom field")

    @staticmethod
    def rules(purge_options=True):
        return Rules(options=KeyedList("optionValue", purge=purge_options), businessUnitIds=UNORDERED,
                     locationIds=UNORDERED)

    def desired(self, params):
        """The API-shaped field for the module's options; names resolved to ids (fails on unknown names)."""
        desired = map_options(params, self.SCALARS)
        if params.get("options") is not None:
            desired["options"] = [map_options(option, self.OPTION_KEYS) for option in params["options"]]
        if params.get("business_units") is not None:
            desired["businessUnitIds"] = [self.client.resolve(BUSINESS_UNITS, name, what="business unit")["id"]
                                          for name in params["business_units"]]
        if params.get("locations") is not None:
            desired["locationIds"] = [self.client.resolve(LOCATIONS, name, what="location")["id"]
                                      for name in params["locations"]]
        return desired


class UserDefinedFieldResource(ManageResource):

    def validate(self, desired, current):
        field = dict(current or {})
        field.update(desired)
        if current is None:
            missing = [key for key in ("podId", "fieldTypeIdentifier", "sequenceNumber") if field.get(key) is None]
            if missing:
                raise InputError("creating custom field %r needs %s" % (field.get("caption"), ", ".join(
                    dict(podId="pod_id", fieldTypeIdentifier="field_type", sequenceNumber="sequence_number")[k]
                    for k in missing)))
        require_length(field.get("screenId"), 25, "screen_id")
        require_length(field.get("helpText"), 1000, "help_text")
        require_length(field.get("buttonUrl"), 1000, "button_url")
        if field.get("sequenceNumber") is not None and not 1 <= field["sequenceNumber"] <= 500:
            raise InputError("sequence_number must be between 1 and 500, got %s" % field["sequenceNumber"])
        if field.get("requiredFlag") and field.get("readOnlyFlag"):
            raise InputError("a custom field cannot be both required and read_only")
        if desired.get("numberDecimals") is not None:
            if field.get("fieldTypeIdentifier") not in ("Number", "Percent"):
                raise InputError("number_decimals applies only to field_type Number or Percent")
            if not 0 <= desired["numberDecimals"] <= 5:
                raise InputError("number_decimals must be between 0 and 5")
        if desired.get("buttonUrl") and field.get("fieldTypeIdentifier") != "Button":
            raise InputError("button_url applies only to field_type Button")
        self._validate_options(desired, current, field)

    @staticmethod
    def _validate_options(desired, current, field):
        entry = field.get("entryTypeIdentifier")
        options = desired.get("options")
        if entry in ("List", "Option"):
            existing = (current or {}).get("options") or []
            if not options and not (options is None and existing):
                raise InputError("entry_type %s needs at least one entry in options" % entry)
        elif options:
            raise InputError("options apply only to entry_type List or Option, not %s" % (entry or "EntryField"))
        values = [o.get("optionValue") for o in options or []]
        duplicates = sorted(set(v for v in values if values.count(v) > 1))
        if duplicates:
            raise InputError("duplicate option values: %s" % ", ".join(duplicates))
