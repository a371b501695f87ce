# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every Manage object kind shares: the lookup paths modules accept names for, the
reference builder, and :class:`ManageResource`, a record found by a condition and updated with
a minimal PATCH."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import patch_operations
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import Resource, same_name
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError

# Manage's own names for the lookups that modules accept by name.
BUSINESS_UNITS = "/system/departments"
LOCATIONS = "/system/locations"
BOARDS = "/service/boards"
PRIORITIES = "/service/priorities"
MEMBERS = "/system/members"
SECURITY_ROLES = "/system/securityroles"


def reference(record, *keys):
    """The Manage reference object ``{id, name, ...}`` for a looked-up record (given keys only)."""
    return dict((key, record[key]) for key in keys if record.get(key) is not None)


def named(current_reference, name, field="name"):
    """Whether a reference Manage returned carries ``name`` (and an id). Manage returns the name
    inside its references (boards, locations, departments, statuses, notify types...), so the
    reference itself is what a lookup by that name would give: comparing by it needs no lookup,
    and a lookup is left for a reference that will be written."""
    return bool(current_reference) and current_reference.get("id") is not None and \
        current_reference.get(field) is not None and same_name(current_reference[field]) == same_name(name)


def resolve_reference(client, path, name, what, keys=("id", "name"), field="name", current=None):
    """The reference for the record named ``name`` (``None`` when not given): ``current`` (the
    object's reference as read) when it carries that name, else looked up; an unknown name fails
    with the known ones, before any write."""
    if name is None:
        return None
    if named(current, name, field):
        return reference(current, *keys)
    return reference(client.resolve(path, name, field=field, what=what), *keys)


class ManageResource(Resource):
    """A record of a Manage collection found by a condition; updated with a minimal PATCH.

    With ``name_field``, the records the condition returns are also matched in memory by the
    collection's one name rule (:func:`engine.same_name`)."""

    def __init__(self, client, path, find_conditions, what, name_field=None, name=None):
        self.client = client
        self.path = path
        self.find_conditions = find_conditions
        self.what = what
        self.name_field = name_field
        self.name = name

    def matches(self):
        found = self.client.find(self.path, self.find_conditions)
        if self.name_field:
            found = [record for record in found if same_name(record.get(self.name_field)) == same_name(self.name)]
        return found

    def find(self):
        return self.only(self.matches())

    def only(self, matches):
        """The one record of ``matches`` (or ``None``); more than one is an error naming them."""
        if len(matches) > 1:
            raise InputError("%d %s records match %s; remove the extra ones"
                             % (len(matches), self.what, self.find_conditions))
        return matches[0] if matches else None

    def item_path(self, current):
        return "%s/%s" % (self.path, current["id"])

    def create(self, desired):
        return self.client.create(self.path, desired)

    def update(self, current, changes, after):
        return self.client.patch(self.item_path(current), patch_operations(changes))

    def delete(self, current):
        self.client.delete(self.item_path(current))
