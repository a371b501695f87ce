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
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_objects import (
    BOARDS,
    LOCATIONS,
    SECURITY_ROLES,
    ManageResource,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import CASE_INSENSITIVE, Rules
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import ObjectKind
from ansible_collections.signl4.connectwise.plugins.module_utils.validation import require_http_url, require_length

CALLBACKS = "/system/callbacks"
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
    "Company": ("/company/companies", "identifier", "company"),
    "Location": (LOCATIONS, "name", "location"),
    "Member": ("/system/members", "identifier", "member"),
    "SecurityRole": (SECURITY_ROLES, "name", "security role"),
}


def callback_level(kind, level):
    """The level's canonical spelling for the type; unknown levels fail listing the known ones."""
    levels = CALLBACK_LEVELS[kind]
    canonical = dict((name.lower(), name) for name in levels)
    if level.strip().lower() not in canonical:
        raise InputError("level %r does not exist for type %s; choose one of %s" % (level, kind, ", ".join(levels)))
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
        return "%s/%s/%s" % (params["type"], params["level"], params.get("object"))

    def resource(self, params):
        """Checks url, type, level and object, resolving the object's name, before anything is written.
        A name lookup and the read of the callbacks of that type and level go out together; the
        callbacks are then narrowed to the object's id in memory."""
        require_http_url(params["url"], "url")
        kind, level = params["type"], callback_level(params["type"], params["level"])
        resolve = functools.partial(self.object_id, kind, level, params.get("object"), params.get("board"))
        if not looked_up_by_name(kind, level):
            return CallbackResource(self.client, params["url"], kind, level, resolve())
        object_id, listed = self.client.concurrently(resolve, functools.partial(matching_callbacks, self.client, kind, level))
        return CallbackResource(self.client, params["url"], kind, level, object_id, listed)

    def rules(self, params):
        return Rules(type=CASE_INSENSITIVE, level=CASE_INSENSITIVE)

    def object_id(self, kind, level, name, board):
        if level == "Owner":
            if name is not None:
                raise InputError("object does not apply to level Owner (it covers every %s)" % kind.lower())
            return OWNER_OBJECT_ID
        if name is None or not name.strip():
            raise InputError("level %s of type %s needs object: the %s it watches" % (level, kind, level))
        if kind == "Ticket" and level == "Status":
            return self._ticket_status(name, board)
        if level in OBJECTS_BY_NAME:
            path, field, what = OBJECTS_BY_NAME[level]
            return self.client.resolve(path, name.strip(), field=field, what=what)["id"]
        if not name.strip().isdigit():
            raise InputError("object for level %s of type %s is the record's id (digits), got %r" % (level, kind, name))
        return int(name)

    def _ticket_status(self, name, board):
        if board is None or not board.strip():
            raise InputError("level Status needs board: the board the status %r belongs to" % name)
        board_id = self.client.resolve(BOARDS, board.strip(), what="board")["id"]
        return self.client.resolve("%s/%d/statuses" % (BOARDS, board_id), name.strip(), what="%s status" % board)["id"]

    def desired(self, params, resource):
        require_length(params.get("description"), 100, "description")
        desired = super(Callbacks, self).desired(params, resource)
        desired.update(level=resource.level, objectId=resource.object_id)
        return desired


class CallbackResource(ManageResource):
    """The callback with this url among those of the type, level and object (queried without the url)."""

    def __init__(self, client, url, kind, level, object_id, listed=None):
        conditions = all_of(condition("type", "=", kind), condition("level", "=", level), condition("objectId", "=", object_id))
        super(CallbackResource, self).__init__(client, CALLBACKS, conditions, "callback")
        self.url, self.kind, self.level, self.object_id = url, kind, level, object_id
        self._listed = listed  # the callbacks of this type and level, read with the lookup; used once

    def matches(self):
        listed, self._listed = self._listed, None
        if listed is None:
            listed = self.client.find(self.path, self.find_conditions)
        else:
            listed = [c for c in listed if c.get("objectId") == self.object_id]
        return [c for c in listed if c.get("url") == self.url]

    def find(self):
        matches = self.matches()
        if len(matches) > 1:
            raise InputError("%d callbacks share this url, type, level and object; remove the extra ones" % len(matches))
        return matches[0] if matches else None
