# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connector app instances (``/v2/scripts/instances``) as an object kind: one app of the
catalogue, installed for a team.

Secrets in connector configs: SIGNL4's v2 spec declares an instance's ``config`` as free-form
and does not say that secrets are redacted when read, so secret entries are compared by value
in memory and only ever shown as ``********``. Should SIGNL4 hide them on read, the
``update_secrets: on_create`` switch writes them on creation and whenever something else
changes, but never reports a change because of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

from ansible_collections.signl4.connectwise.plugins.module_utils.engine import Resource, Rules, same_name
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError, UnexpectedResponseError
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import ObjectKind
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_objects import (
    ConfigEntries,
    looks_secret,
    team_id,
)

# An instance's own inbound webhook URL carries that app's event secret.
INSTANCE_SECRET_KEYS = ("webhookUrl",)
# ScriptInstanceUpdateInfo without ``enabled``: that goes through /enable and /disable.
UPDATE_KEYS = ("config", "teamId", "customScriptName", "customScriptDescription")


def secret_keys(instances, declared=()):
    """The keys to mask in connector output and diff: declared, named like a secret, or the instance's webhook URL."""
    keys = set(declared) | set(INSTANCE_SECRET_KEYS)
    for instance in instances:
        keys.update(key for key in ((instance or {}).get("config") or {}) if looks_secret(key))
    return sorted(keys)


def checked_instances(listed):
    """SIGNL4's instance list, each entry checked to be an instance with an id."""
    if any(not isinstance(i, dict) or not i.get("instanceId") for i in listed):
        raise UnexpectedResponseError("SIGNL4 listed an app instance without an instanceId", api="SIGNL4")
    return listed


def connector_instances(client, team=None, app=None):
    """Installed apps with their config, optionally of one team and one app (empty names fail)."""
    wanted_team = team_id(client, team)
    app_id = None if app is None else client.resolve_app(app.strip())["scriptId"]
    listed = checked_instances(client.script_instances([wanted_team] if wanted_team else None))
    return [client.script_instance(i["instanceId"]) for i in listed if app_id is None or i.get("scriptId") == app_id]


class Connectors(ObjectKind):
    result_key = "connector"

    def identity(self, params):
        return f"{params['team']}/{params['app']}/{params.get('display_name')}"

    def resource(self, params):
        return ConnectorResource(self.client, params["team"].strip(), params["app"].strip(), params.get("display_name"))

    def rules(self, params):
        blind = list(params.get("secret_config") or {}) if params.get("update_secrets") == "on_create" else ()
        return Rules(config=ConfigEntries(purge=params.get("purge_config"), blind_keys=blind))

    def hidden_keys(self, outcome, params):
        return secret_keys([outcome.object, outcome.before, outcome.after], params["secret_config"] or ())


class ConnectorResource(Resource):
    """The team's instance of the app: the team is resolved while the installed apps are read. The app is
    recognised by the name or id its instances carry; the catalogue is read only when no instance of the
    team has it (then an unknown app fails there, before anything is written)."""

    def __init__(self, client, team, app, display_name=None):
        self.client = client
        self.team, self.app, self.display_name = team, app, display_name
        self.team_id = self.app_id = None

    @property
    def identity(self):
        return {"scriptId": self.app_id, "teamId": self.team_id}

    def find(self):
        self.team_id, listed = self.client.concurrently(functools.partial(team_id, self.client, self.team),
                                                        self.client.script_instances)
        listed = [i for i in checked_instances(listed) if i.get("teamId") == self.team_id]
        installed = [i for i in listed if i.get("scriptId") == self.app
                     or (i.get("scriptName") and same_name(i["scriptName"]) == same_name(self.app))]
        self.app_id = installed[0]["scriptId"] if installed else self.client.resolve_app(self.app)["scriptId"]
        matches = self.of_app(listed)
        if len(matches) > 1:
            raise InputError(f"the team has {len(matches)} instances of this app; set display_name to pick one")
        return self.client.script_instance(matches[0]["instanceId"]) if matches else None

    def matches(self):
        return self.of_app(checked_instances(self.client.script_instances([self.team_id])))

    def of_app(self, listed):
        found = [i for i in listed if i.get("scriptId") == self.app_id]
        if len(found) > 1 and self.display_name:
            named = [i for i in found if same_name(i.get("customScriptName")) == same_name(self.display_name)]
            found = named or found
        return found

    def create(self, desired):
        return self.client.create_script_instance(desired)

    def update(self, current, changes, after):
        instance_id = current["instanceId"]
        if any(key in changes for key in UPDATE_KEYS):
            self.client.update_script_instance(instance_id, {
                key: after.get(key) for key in UPDATE_KEYS if after.get(key) is not None})
        if "enabled" in changes:
            (self.client.enable_script_instance if after["enabled"] else self.client.disable_script_instance)(instance_id)
        return self.client.script_instance(instance_id)

    def delete(self, current):
        self.client.delete_script_instance(current["instanceId"])
