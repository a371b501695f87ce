# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""API members (``/system/apiMembers``) as an object kind, found by identifier.

API members have no DELETE: ``absent`` means deactivated (``inactiveFlag``). API keys have no
REST endpoint either; they are made in the UI and used as connection options. The role, location,
business unit and default board are references declared in the module's spec.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import condition
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_objects import ManageResource
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_paths import API_MEMBERS
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import REFERENCE, Rules
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import ObjectKind
from ansible_collections.signl4.connectwise.plugins.module_utils.validation import require_length

# What creating one needs (the UI insists on these; the SIGNL4 guide lists them): option -> API key.
REQUIRED_ON_CREATE = (("name", "name"), ("role", "securityRole"), ("location", "defaultLocation"),
                      ("business_unit", "defaultDepartment"))
REFERENCES = ("securityRole", "defaultLocation", "defaultDepartment", "serviceDefaultBoard")


class ApiMembers(ObjectKind):
    """``present``: created or updated, and active. ``absent``: deactivated if it exists."""

    result_key = "api_member"
    inactive_flag = "inactiveFlag"

    def identity(self, params):
        return params["identifier"]

    def resource(self, params):
        identifier = params["identifier"].strip()
        require_length(identifier, 15, "identifier")
        return ApiMemberResource(self.client, API_MEMBERS, condition("identifier", "=", identifier), "API member",
                                 name_field="identifier", name=identifier)

    def rules(self, params):
        return Rules((key, REFERENCE) for key in REFERENCES)


class ApiMemberResource(ManageResource):

    def validate(self, desired, current):
        require_length(desired.get("name"), 30, "name")
        require_length(desired.get("emailAddress"), 250, "email")
        if current is None:
            missing = [option for option, key in REQUIRED_ON_CREATE if desired.get(key) is None]
            if missing:
                raise InputError(f"creating API member {desired.get('identifier')!r} needs {', '.join(missing)}")
