# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Security roles (``/system/securityroles``) as an object kind.

Roles are created and deleted over REST, but their permission levels can only be read
(``/system/securityRoles/{id}/settings`` has no write method in any spec version), so a declared
permission matrix is *verified*: each level that differs is returned as data (``drift``) with
the UI step that fixes it, shows in the diff as the levels before and after, and never leaves
the task ``ok``: it fails, or with ``on_matrix_drift: warn`` warns and reports changed (``report``:
changed, the steps only in ``drift``). That is the kind's ``finish``, after the role is ensured.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import condition
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_objects import ManageResource
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_paths import SECURITY_ROLES, security_role_settings
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import CASE_INSENSITIVE, Rules
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import ObjectKind
from ansible_collections.signl4.connectwise.plugins.module_utils.validation import require_length

LEVELS = ["None", "My", "All"]
# (module option, SecurityRoleSetting field, the column's label in the UI)
LEVEL_KEYS = (("add_level", "addLevel", "Add Level"), ("edit_level", "editLevel", "Edit Level"),
              ("delete_level", "deleteLevel", "Delete Level"), ("inquire_level", "inquireLevel", "Inquire Level"))


def _function_key(module, function):
    return (module or "").strip().casefold(), (function or "").strip().casefold()


def _setting_key(setting):
    return _function_key(setting.get("moduleName"), setting.get("moduleFunctionName"))


def role_settings(client, role):
    return client.list(security_role_settings(role["id"]), order_by="sortOrder asc")


def role_permissions(client, role):
    """The role's matrix in the shape of the module's ``permissions`` option."""
    matrix = []
    for setting in role_settings(client, role):
        entry = dict(module=setting.get("moduleName"), function=setting.get("moduleFunctionName"))
        entry.update((option, setting.get(field) or "None") for option, field, _label in LEVEL_KEYS)
        matrix.append(entry)
    return matrix


class SecurityRoles(ObjectKind):
    """Security roles: the name is the only writable key and also how a role is found (roles have
    no PUT or PATCH); the permission matrix is verified, never written."""

    result_key = "security_role"

    def resource(self, params):
        name = params["name"].strip()
        require_length(name, 30, "name")
        return SecurityRoleResource(self.client, name, params.get("permissions"))

    def rules(self, params):
        return Rules(name=CASE_INSENSITIVE)

    def finish(self, params, resource, outcome):
        if params["state"] == "present":
            report_drift(outcome, resource.drift(params["purge_permissions"]), resource.name,
                         params["on_matrix_drift"])


def report_drift(outcome, drift, name, policy):
    """A differing matrix makes the task changed (``warn``, ``report``) or failed (``fail``), never ok; the
    diff shows the differing levels before and after, keyed ``module > function``."""
    outcome.extra["drift"] = drift
    if not drift:
        return
    before, after = {}, {}
    for item in drift:
        function = f"{item['module']} > {item['function']}"
        before.setdefault(function, {})[item["level"]] = item["actual"]
        after.setdefault(function, {})[item["level"]] = item["expected"]
    outcome.before = dict(outcome.before, permissions=before)
    outcome.after = dict(outcome.after, permissions=after)
    message = ("security role %s differs from the declared permissions in %d places; Manage's API cannot change them, "
               "so make these changes in the UI:\n%s" % (name, len(drift), "\n".join(
                   "%d. %s" % (number, item["step"]) for number, item in enumerate(drift, start=1))))
    if policy == "fail":
        outcome.failure = message
        return
    if policy == "warn":
        outcome.warnings.append(message)
    outcome.changed = True  # "report": the caller lists the steps itself (the integration role's pending steps)


class SecurityRoleResource(ManageResource):
    """A role found by name. ``validate`` reads the settings the declared matrix is checked against."""

    def __init__(self, client, name, permissions):
        super().__init__(client, SECURITY_ROLES, condition("name", "=", name), "security role", name_field="name", name=name)
        self.permissions = permissions  # None: not declared, nothing to verify (even with purge)
        self.settings = []

    def validate(self, desired, current):
        if self.permissions is None:
            return
        if current is not None:
            self.settings = role_settings(self.client, current)
        else:
            # A role still to be created gets every function at None; any role shows the catalogue.
            template = next(self.client.iterate(SECURITY_ROLES, page_size=1), None)
            none = {field: "None" for _option, field, _label in LEVEL_KEYS}
            self.settings = [dict(s, **none) for s in role_settings(self.client, template)] if template else []
        self._check_functions()

    def _check_functions(self):
        known = {_setting_key(s): s for s in self.settings}
        seen = set()
        for entry in self.permissions:
            key = _function_key(entry["module"], entry["function"])
            if key in seen:
                raise InputError(f"permissions lists {entry['module']} > {entry['function']} more than once")
            seen.add(key)
            if known and key not in known:
                self._unknown(entry, key)

    def _unknown(self, entry, key):
        in_module = sorted(s.get("moduleFunctionName") for s in self.settings if _setting_key(s)[0] == key[0])
        if not in_module:
            known = ", ".join(sorted({s.get("moduleName") for s in self.settings}))
            raise InputError(f"unknown module {entry['module']!r} in permissions; known: {known}")
        raise InputError(f"unknown function {entry['function']!r} in module {entry['module']!r}; known: {', '.join(in_module)}")

    def create(self, desired):
        role = super().create(desired)
        if self.permissions is not None:
            self.settings = role_settings(self.client, role)  # what Manage gave the new role
        return role

    def drift(self, purge=False):
        """Each level that differs from the declaration, in the role's screen order, with the UI step that
        fixes it. With ``purge``, functions the matrix does not list must be None on every level."""
        if self.permissions is None:
            return []
        declared = {_function_key(e["module"], e["function"]): e for e in self.permissions}
        drift = []
        for setting in self.settings:
            entry = declared.get(_setting_key(setting))
            if entry is not None or purge:
                drift.extend(self._setting_drift(setting, entry))
        return drift

    def _setting_drift(self, setting, entry):
        module, function = setting.get("moduleName"), setting.get("moduleFunctionName")
        for _option, field, label in LEVEL_KEYS:
            expected = entry.get(_option) if entry else "None"
            actual = setting.get(field) or "None"
            if expected is not None and expected != actual:
                yield dict(module=module, function=function, level=label, expected=expected, actual=actual,
                           step=f"System > Security Roles > {self.name} > {module} > {function}: set {label} to {expected} (now {actual})")
