# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every Manage object kind shares: :class:`ManageResource`, a record found by a condition and
updated with a minimal PATCH."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import patch_operations
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import Resource, same_name
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError


class ManageResource(Resource):
    """A record of a Manage collection found by a condition; updated with a minimal PATCH.

    With ``name_field``, the records the condition returns are also matched in memory by the
    collection's one name rule (:func:`engine.same_name`), and ``{name_field: name}`` identifies it."""

    def __init__(self, client, path, find_conditions, what, name_field=None, name=None):
        self.client = client
        self.path = path
        self.find_conditions = find_conditions
        self.what = what
        self.name_field = name_field
        self.name = name

    @property
    def identity(self):
        return {self.name_field: self.name} if self.name_field else None

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
            raise InputError(f"{len(matches)} {self.what} records match {self.find_conditions}; remove the extra ones")
        return matches[0] if matches else None

    def item_path(self, current):
        return f"{self.path}/{current['id']}"

    def create(self, desired):
        return self.client.create(self.path, desired)

    def update(self, current, changes, after):
        return self.client.patch(self.item_path(current), patch_operations(changes))

    def delete(self, current):
        self.client.delete(self.item_path(current))
