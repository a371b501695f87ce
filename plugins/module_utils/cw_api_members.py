# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""API members (``/system/apiMembers``) as an object kind, found by identifier.

API members have no DELETE: ``absent`` means deactivated (``inactiveFlag``). API keys have no
REST endpoint either; they are made in the UI and used as connection options.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import condition
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_objects import (
    BOARDS,
    BUSINESS_UNITS,
    LOCATIONS,
    SECURITY_ROLES,
    ManageResource,
    resolve_reference,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import REFERENCE, Outcome, Rules, ensure, name_in
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError, UnknownNameError
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import ObjectKind
from ansible_collections.signl4.connectwise.plugins.module_utils.validation import require_length

API_MEMBERS = "/system/apiMembers"
# Options given by name: option -> (API key, lookup path, what it is).
REFERENCES = dict(role=("securityRole", SECURITY_ROLES, "security role"),
                  location=("defaultLocation", LOCATIONS, "location"),
                  business_unit=("defaultDepartment", BUSINESS_UNITS, "business unit"),
                  default_board=("serviceDefaultBoard", BOARDS, "board"))
# What creating one needs (the UI insists on these; the SIGNL4 guide lists them): option -> API key.
REQUIRED_ON_CREATE = (("name", "name"), ("role", "securityRole"), ("location", "defaultLocation"),
                      ("business_unit", "defaultDepartment"))


class ApiMembers(ObjectKind):
    """``present``: created or updated, and active. ``absent``: deactivated if it exists."""

    result_key = "api_member"

    def identity(self, params):
        return params["identifier"]

    def resource(self, params):
        identifier = params["identifier"].strip()
        require_length(identifier, 15, "identifier")
        return ApiMemberResource(self.client, API_MEMBERS, condition("identifier", "=", identifier), "API member",
                                 name_field="identifier", name=identifier)

    def rules(self, params):
        return Rules((key, REFERENCE) for key, _path, _what in REFERENCES.values())

    def desired(self, params, resource, check_mode=False):
        """The API-shaped member; names resolved to references (fails on unknown names, before any write)."""
        require_length(params.get("name"), 30, "name")
        require_length(params.get("email"), 250, "email")
        desired = super(ApiMembers, self).desired(params, resource)
        desired.update(identifier=resource.name, inactiveFlag=False)
        current = resource.find() or {}  # read once per task (ApiMemberResource): references by name need no lookup
        for option, (key, path, what) in REFERENCES.items():
            try:
                desired[key] = resolve_reference(self.client, path, params.get(option), what, current=current.get(key))
            except UnknownNameError:
                if not (check_mode and option == "role" and name_in(params.get("assume_created"), params["role"])):
                    raise
                desired[key] = {"name": params["role"].strip()}  # an earlier task of this check run would create it
        return desired

    def apply(self, params, check_mode):
        resource = self.resource(params)
        if params["state"] == "present":
            return ensure(resource, self.desired(params, resource, check_mode), "present", self.rules(params), check_mode)
        if resource.find() is None:
            return Outcome(False, None, {}, {}, "none")
        return ensure(resource, {"inactiveFlag": True}, "present", self.rules(params), check_mode)


class ApiMemberResource(ManageResource):
    """Finds once per run: ``absent`` looks before deciding whether there is anything to deactivate."""

    _current = _UNREAD = object()

    def find(self):
        if self._current is self._UNREAD:
            self._current = super(ApiMemberResource, self).find()
        return self._current

    def validate(self, desired, current):
        if current is None:
            missing = [option for option, key in REQUIRED_ON_CREATE if desired.get(key) is None]
            if missing:
                raise InputError("creating API member %r needs %s" % (desired.get("identifier"), ", ".join(missing)))
