# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Manage's administration objects as the engine sees them.

- Security roles are created and deleted over REST, but their permission levels can only be read
  (``/system/securityRoles/{id}/settings`` has no write method in any spec version), so a declared
  permission matrix is *verified*: the differences come back as data and as the UI steps that fix them.
- API members have no DELETE: ``absent`` means deactivated (``inactiveFlag``). API keys have no REST
  endpoint either; they are made in the UI and used as connection options.
- Callbacks are matched by url + type + level + object. The url usually carries the receiver's token:
  it is compared in memory, never put in a query string, and masked in every result.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import all_of, condition
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_resources import (
    BOARDS,
    BUSINESS_UNITS,
    LOCATIONS,
    ManageResource,
    map_options,
    reference,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import (
    CASE_INSENSITIVE,
    REFERENCE,
    Outcome,
    Rules,
    ensure,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.validation import require_http_url, require_length

SECURITY_ROLES = "/system/securityroles"  # the spec's spelling for roles ...
ROLE_SETTINGS = "/system/securityRoles/%d/settings"  # ... and for their settings
API_MEMBERS = "/system/apiMembers"
CALLBACKS = "/system/callbacks"
LEVELS = ["None", "My", "All"]
# (module option, SecurityRoleSetting field, the column's label in the UI)
LEVEL_KEYS = (("add_level", "addLevel", "Add Level"), ("edit_level", "editLevel", "Edit Level"),
              ("delete_level", "deleteLevel", "Delete Level"), ("inquire_level", "inquireLevel", "Inquire Level"))


# ----- security roles --------------------------------------------------------------------

def _function_key(module, function):
    return (module or "").casefold(), (function or "").casefold()


def _setting_key(setting):
    return _function_key(setting.get("moduleName"), setting.get("moduleFunctionName"))


class SecurityRoles:
    """Security roles (``/system/securityroles``) and the permission matrix of each."""

    path = SECURITY_ROLES
    # The role's only writable key is its name, which is also how it is found (Manage matches names
    # case-insensitively); roles have no PUT or PATCH.
    RULES = Rules(name=CASE_INSENSITIVE)

    def __init__(self, client):
        self.client = client

    def resource(self, name, permissions=None):
        require_length(name, 30, "name")
        return SecurityRoleResource(self.client, name, permissions)

    def settings(self, role):
        return self.client.list(ROLE_SETTINGS % role["id"], order_by="sortOrder asc")

    def permissions(self, role):
        """The role's matrix in the shape of the module's ``permissions`` option."""
        matrix = []
        for setting in self.settings(role):
            entry = dict(module=setting.get("moduleName"), function=setting.get("moduleFunctionName"))
            entry.update((option, setting.get(field) or "None") for option, field, _label in LEVEL_KEYS)
            matrix.append(entry)
        return matrix


class SecurityRoleResource(ManageResource):
    """A role found by name. ``validate`` reads the settings the declared matrix is checked against."""

    def __init__(self, client, name, permissions):
        super(SecurityRoleResource, self).__init__(client, SECURITY_ROLES, condition("name", "=", name), "security role")
        self.name = name
        self.permissions = permissions  # None: not declared, nothing to verify (even with purge)
        self.settings = []

    def validate(self, desired, current):
        if self.permissions is None:
            return
        if current is not None:
            self.settings = SecurityRoles(self.client).settings(current)
        else:
            # A role still to be created gets every function at None; any role shows the catalogue.
            template = next(self.client.iterate(SECURITY_ROLES, page_size=1), None)
            none = dict((field, "None") for _option, field, _label in LEVEL_KEYS)
            self.settings = [dict(s, **none) for s in SecurityRoles(self.client).settings(template)] if template else []
        self._check_functions()

    def _check_functions(self):
        known = dict((_setting_key(s), s) for s in self.settings)
        seen = set()
        for entry in self.permissions:
            key = _function_key(entry["module"], entry["function"])
            if key in seen:
                raise InputError("permissions lists %s > %s more than once" % (entry["module"], entry["function"]))
            seen.add(key)
            if known and key not in known:
                in_module = sorted(s.get("moduleFunctionName") for s in self.settings if _setting_key(s)[0] == key[0])
                if not in_module:
                    raise InputError("unknown module %r in permissions; known: %s" % (
                        entry["module"], ", ".join(sorted(set(s.get("moduleName") for s in self.settings)))))
                raise InputError("unknown function %r in module %r; known: %s" % (
                    entry["function"], entry["module"], ", ".join(in_module)))

    def create(self, desired):
        role = super(SecurityRoleResource, self).create(desired)
        if self.permissions is not None:
            self.settings = SecurityRoles(self.client).settings(role)  # what Manage gave the new role
        return role

    def drift(self, purge=False):
        """Each level that differs from the declaration, in the role's screen order, with the UI step that
        fixes it. With ``purge``, functions the matrix does not list must be None on every level."""
        if self.permissions is None:
            return []
        declared = dict((_function_key(e["module"], e["function"]), e) for e in self.permissions)
        drift = []
        for setting in self.settings:
            entry = declared.get(_setting_key(setting))
            if entry is None and not purge:
                continue
            for option, field, label in LEVEL_KEYS:
                expected = entry.get(option) if entry else "None"
                actual = setting.get(field) or "None"
                if expected is not None and expected != actual:
                    module, function = setting.get("moduleName"), setting.get("moduleFunctionName")
                    drift.append(dict(module=module, function=function, level=label, expected=expected, actual=actual,
                                      step="System > Security Roles > %s > %s > %s: set %s to %s (now %s)"
                                      % (self.name, module, function, label, expected, actual)))
        return drift


# ----- API members -----------------------------------------------------------------------

class ApiMembers:
    """API members (``/system/apiMembers``), found by identifier; never deleted."""

    path = API_MEMBERS
    RULES = Rules(securityRole=REFERENCE, defaultLocation=REFERENCE, defaultDepartment=REFERENCE,
                  serviceDefaultBoard=REFERENCE)
    # What creating one needs (the UI insists on these; the SIGNL4 guide lists them): option -> API key.
    REQUIRED_ON_CREATE = (("name", "name"), ("role", "securityRole"), ("location", "defaultLocation"),
                          ("business_unit", "defaultDepartment"))

    def __init__(self, client):
        self.client = client

    def ensure(self, params, check_mode):
        """``present``: created or updated, and active. ``absent``: deactivated if it exists."""
        require_length(params["identifier"], 15, "identifier")
        resource = ApiMemberResource(self.client, API_MEMBERS, condition("identifier", "=", params["identifier"]),
                                     "API member")
        if params["state"] == "absent":
            if resource.find() is None:
                return Outcome(False, None, {}, {}, "none")
            return ensure(resource, {"inactiveFlag": True}, "present", self.RULES, check_mode)
        return ensure(resource, self.desired(params), "present", self.RULES, check_mode)

    def desired(self, params):
        """The API-shaped member; names resolved to references (fails on unknown names, before any write)."""
        require_length(params.get("name"), 30, "name")
        require_length(params.get("email"), 250, "email")
        return dict(identifier=params["identifier"], name=params.get("name"), emailAddress=params.get("email"),
                    notes=params.get("notes"), inactiveFlag=False,
                    securityRole=self._reference(SECURITY_ROLES, params.get("role"), "security role"),
                    defaultLocation=self._reference(LOCATIONS, params.get("location"), "location"),
                    defaultDepartment=self._reference(BUSINESS_UNITS, params.get("business_unit"), "business unit"),
                    serviceDefaultBoard=self._reference(BOARDS, params.get("default_board"), "board"))

    def _reference(self, path, name, what):
        return None if name is None else reference(self.client.resolve(path, name, what=what), "id", "name")


class ApiMemberResource(ManageResource):
    """Finds once per run: ``ApiMembers.ensure`` looks before deciding whether there is anything to deactivate."""

    _current = _UNREAD = object()

    def find(self):
        if self._current is self._UNREAD:
            self._current = super(ApiMemberResource, self).find()
        return self._current

    def validate(self, desired, current):
        if current is None:
            missing = [option for option, key in ApiMembers.REQUIRED_ON_CREATE if desired.get(key) is None]
            if missing:
                raise InputError("creating API member %r needs %s" % (desired.get("identifier"), ", ".join(missing)))


# ----- callbacks ------------------------------------------------------------------------

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


class Callbacks:
    """Callback entries (``/system/callbacks``)."""

    path = CALLBACKS
    SECRET_KEYS = ("url",)
    SCALARS = dict(description="description", inactive="inactiveFlag", payload_version="payloadVersion",
                   self_suppressed="isSelfSuppressedFlag")
    RULES = Rules(type=CASE_INSENSITIVE, level=CASE_INSENSITIVE)

    def __init__(self, client):
        self.client = client

    def resource(self, params):
        """Checks url, type, level and object, resolving the object's name, before anything is written."""
        require_http_url(params["url"], "url")
        kind, level = params["type"], self.level(params["type"], params["level"])
        object_id = self.object_id(kind, level, params.get("object"), params.get("board"))
        return CallbackResource(self.client, params["url"], kind, level, object_id)

    @staticmethod
    def level(kind, level):
        levels = CALLBACK_LEVELS[kind]
        canonical = dict((name.lower(), name) for name in levels)
        if level.lower() not in canonical:
            raise InputError("level %r does not exist for type %s; choose one of %s" % (level, kind, ", ".join(levels)))
        return canonical[level.lower()]

    def object_id(self, kind, level, name, board):
        if level == "Owner":
            if name is not None:
                raise InputError("object does not apply to level Owner (it covers every %s)" % kind.lower())
            return 1  # Manage's objectId for the Owner level
        if name is None:
            raise InputError("level %s of type %s needs object: the %s it watches" % (level, kind, level))
        if kind == "Ticket" and level == "Status":
            if board is None:
                raise InputError("level Status needs board: the board the status %r belongs to" % name)
            board_id = self.client.resolve(BOARDS, board, what="board")["id"]
            return self.client.resolve("%s/%d/statuses" % (BOARDS, board_id), name, what="%s status" % board)["id"]
        if level in OBJECTS_BY_NAME:
            path, field, what = OBJECTS_BY_NAME[level]
            return self.client.resolve(path, name, field=field, what=what)["id"]
        if not name.isdigit():
            raise InputError("object for level %s of type %s is the record's id (digits), got %r" % (level, kind, name))
        return int(name)

    def desired(self, params, resource):
        require_length(params.get("description"), 100, "description")
        desired = dict(url=resource.url, type=resource.kind, level=resource.level, objectId=resource.object_id)
        desired.update(map_options(params, self.SCALARS))
        return desired

    def matching(self, kind=None, level=None):
        conditions = [condition(field, "=", value) for field, value in (("type", kind), ("level", level)) if value]
        return self.client.list(CALLBACKS, conditions=all_of(*conditions) or None)


class CallbackResource(ManageResource):
    """The callback with this url among those of the type, level and object (queried without the url)."""

    def __init__(self, client, url, kind, level, object_id):
        conditions = all_of(condition("type", "=", kind), condition("level", "=", level), condition("objectId", "=", object_id))
        super(CallbackResource, self).__init__(client, CALLBACKS, conditions, "callback")
        self.url, self.kind, self.level, self.object_id = url, kind, level, object_id

    def find(self):
        matches = [c for c in self.client.find(self.path, self.find_conditions) if c.get("url") == self.url]
        if len(matches) > 1:
            raise InputError("%d callbacks share this url, type, level and object; remove the extra ones" % len(matches))
        return matches[0] if matches else None
