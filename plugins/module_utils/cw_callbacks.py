# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callbacks (``/system/callbacks``) as an object kind.

A callback is matched by url + type + level + object. The url usually carries the receiver's
token: it is compared in memory, never put in a query string or a lock name, and masked in every
result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import all_of, condition
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_objects import ManageResource
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_paths import (
    BOARDS,
    CALLBACKS,
    COMPANIES,
    LOCATIONS,
    MEMBERS,
    SECURITY_ROLES,
    board_statuses,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import CASE_INSENSITIVE, Rules
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import ObjectKind
from ansible_collections.signl4.connectwise.plugins.module_utils.validation import require_http_url, require_length

CALLBACKS_SECRET_KEYS = ("url",)  # the url usually carries the receiver's token
OWNER_OBJECT_ID = 1  # Manage's objectId for the Owner level
# Types and their levels, from the Manage guide's "Levels and Types" table.
CALLBACK_LEVELS = {
    "Activity": ["Owner", "Status", "Type", "Company", "Activity"],
    "Agreement": ["Owner", "Type", "Company", "Agreement"],
    "Company": ["Owner", "Status", "Type", "Territory", "Company", "IntegratorTag"],
    "Configuration": ["Owner", "Type", "Status", "Configuration"],
    "Contact": ["Owner", "Type", "Territory", "Company", "Contact"],
    "Expense": ["Owner", "ChargeToType", "Type", "Class", "Company", "Expense"],
    "Invoice": ["Owner", "Status", "Company", "Invoice"],
    "Member": ["Owner", "Location", "SecurityRole", "Member"],
    "Opportunity": ["Owner", "StatusId", "Company", "Opportunity"],
    "ProductCatalog": ["Owner"],
    "Project": ["Owner", "Status", "Board", "Project"],
    "PurchaseOrder": ["Owner", "Status", "Vendor", "Company", "PurchaseOrder"],
    "Schedule": ["Owner", "Status", "Type", "Location", "Member", "Schedule"],
    "Ticket": ["Owner", "Board", "Project", "Phase", "Status", "Ticket", "IntegratorTag"],
    "Time": ["Owner", "Company", "Time"],
}
# Levels whose object is given by name: level -> (collection, field the name is in, what it is).
# A ticket status is looked up on the board named by the ``board`` option. Any other level takes the id.
OBJECTS_BY_NAME = {
    "Board": (BOARDS, "name", "board"),
    "Company": (COMPANIES, "identifier", "company"),
    "Location": (LOCATIONS, "name", "location"),
    "Member": (MEMBERS, "identifier", "member"),
    "SecurityRole": (SECURITY_ROLES, "name", "security role"),
}


def callback_level(kind, level):
    """The level's canonical spelling for the type; unknown levels fail listing the known ones."""
    levels = CALLBACK_LEVELS[kind]
    canonical = {name.lower(): name for name in levels}
    if level.strip().lower() not in canonical:
        raise InputError(f"level {level!r} does not exist for type {kind}; choose one of {', '.join(levels)}")
    return canonical[level.strip().lower()]


def looked_up_by_name(kind, level):
    """Whether the object a level watches is named (and needs a lookup) rather than given by id."""
    return level in OBJECTS_BY_NAME or (kind == "Ticket" and level == "Status")


def matching_callbacks(client, kind=None, level=None):
    conditions = [condition(field, "=", value) for field, value in (("type", kind), ("level", level)) if value is not None]
    return client.list(CALLBACKS, conditions=all_of(*conditions) or None)


class Callbacks(ObjectKind):
    """Callback entries; the object a level watches is given by name where Manage has one."""

    result_key = "callback"
    secret_keys = CALLBACKS_SECRET_KEYS

    def identity(self, params):
        return f"{params['type']}/{params['level']}/{params.get('object')}"

    def resource(self, params):
        """Checks url and level before anything is read; the object is resolved when the callback is found."""
        require_http_url(params["url"], "url")
        kind, level = params["type"], callback_level(params["type"], params["level"])
        return CallbackResource(self.client, params["url"], kind, level, params.get("object"), params.get("board"))

    def rules(self, params):
        return Rules(type=CASE_INSENSITIVE, level=CASE_INSENSITIVE)


class CallbackResource(ManageResource):
    """The callback with this url among those of the type, level and object (queried without the url)."""

    def __init__(self, client, url, kind, level, object_name, board):
        super().__init__(client, CALLBACKS, None, "callback")
        self.url, self.kind, self.level, self.object_name, self.board = url, kind, level, object_name, board
        self.object_id = None

    @property
    def identity(self):
        return {"type": self.kind, "level": self.level, "objectId": self.object_id}

    def find(self):
        """The callbacks of this type and level are read while the object's name is looked up, then
        narrowed to the object's id in memory."""
        if looked_up_by_name(self.kind, self.level):
            self.object_id, listed = self.client.concurrently(
                self.object_id_of, functools.partial(matching_callbacks, self.client, self.kind, self.level))
        else:
            self.object_id, listed = self.object_id_of(), matching_callbacks(self.client, self.kind, self.level)
        found = [c for c in listed if c.get("objectId") == self.object_id and c.get("url") == self.url]
        return self.only(found)

    def matches(self):
        found = self.client.find(self.path, all_of(condition("type", "=", self.kind), condition("level", "=", self.level),
                                                   condition("objectId", "=", self.object_id)))
        return [c for c in found if c.get("url") == self.url]

    def only(self, matches):
        if len(matches) > 1:
            raise InputError(f"{len(matches)} callbacks share this url, type, level and object; remove the extra ones")
        return matches[0] if matches else None

    def validate(self, desired, current):
        require_length(desired.get("description"), 100, "description")

    def object_id_of(self):
        kind, level, name = self.kind, self.level, self.object_name
        if level == "Owner":
            if name is not None:
                raise InputError(f"object does not apply to level Owner (it covers every {kind.lower()})")
            return OWNER_OBJECT_ID
        if name is None or not name.strip():
            raise InputError(f"level {level} of type {kind} needs object: the {level} it watches")
        if kind == "Ticket" and level == "Status":
            return self._ticket_status(name)
        if level in OBJECTS_BY_NAME:
            path, field, what = OBJECTS_BY_NAME[level]
            return self.client.resolve(path, name.strip(), field=field, what=what)["id"]
        if not name.strip().isdigit():
            raise InputError(f"object for level {level} of type {kind} is the record's id (digits), got {name!r}")
        return int(name)

    def _ticket_status(self, name):
        board = self.board
        if board is None or not board.strip():
            raise InputError(f"level Status needs board: the board the status {name!r} belongs to")
        board_id = self.client.resolve(BOARDS, board.strip(), what="board")["id"]
        return self.client.resolve(board_statuses(board_id), name.strip(), what=f"{board} status")["id"]
