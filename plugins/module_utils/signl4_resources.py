# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SIGNL4 objects as the engine sees them: outbound webhook subscriptions and connector app
instances; how each is found, validated and written, and which of their keys are secret.

Secrets in connector configs: SIGNL4's v2 spec declares an instance's ``config`` as free-form
and does not say that secrets are redacted when read, so secret entries are compared by value
in memory and only ever shown as ``********``. Should SIGNL4 hide them on read, the
``update_secrets: on_create`` switch writes them on creation and whenever something else
changes, but never reports a change because of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.engine import Resource, Rules
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.validation import require_http_url

# Config entries whose names contain one of these are masked even when not declared secret.
SECRET_NAME_HINTS = ("secret", "password", "private", "token", "apikey", "api_key")
# An instance's own inbound webhook URL carries that app's event secret.
INSTANCE_SECRET_KEYS = ("webhookUrl",)


def looks_secret(key):
    lowered = str(key).lower().replace("-", "").replace(" ", "")
    return any(hint in lowered for hint in SECRET_NAME_HINTS)


class ConfigEntries:
    """Engine rule for a free-form dict compared entry by entry.

    Only the given entries count, unless ``purge`` (then unlisted entries are removed).
    ``blind_keys`` are written with the rest but never make a difference on their own.
    """

    def __init__(self, purge=False, blind_keys=()):
        self.purge = purge
        self.blind_keys = set(blind_keys)

    def differs(self, desired, current):
        current = current or {}
        for key, value in desired.items():
            if key not in self.blind_keys and (key not in current or current[key] != value):
                return True
        return bool(self.purge and set(current) - set(desired))

    def merged(self, desired, current):
        result = {} if self.purge else dict(current or {})
        result.update(desired)
        return result


def _team_id(client, team):
    return client.resolve_team(team)["id"] if team else None


# ----- outbound webhooks ---------------------------------------------------------------

class Webhooks:
    """Outbound webhook subscriptions (``/v2/webhooks``), addressed by name."""

    # The receiver's URL usually carries its token; it is compared, never shown.
    SECRET_KEYS = ("extUrl",)
    BASE_KEYS = ("name", "extUrl", "description", "teamId")  # WebhookBaseInfo: what PUT replaces

    def __init__(self, client):
        self.client = client

    def resource(self, name):
        return WebhookResource(self.client, name)

    def desired(self, params):
        """The API-shaped subscription; the team name resolved (fails on an unknown team, before any write)."""
        if params.get("url") is not None:
            require_http_url(params["url"], "url")
        return dict(name=params["name"], extUrl=params.get("url"), description=params.get("description"),
                    teamId=_team_id(self.client, params.get("team")), enabled=params.get("enabled"))

    def matching(self, name=None, team=None):
        team_id = _team_id(self.client, team)
        return [w for w in self.client.webhooks(team_id)
                if (name is None or w.get("name") == name) and (team_id is None or w.get("teamId") == team_id)]


class WebhookResource(Resource):

    def __init__(self, client, name):
        self.client = client
        self.name = name

    def find(self):
        matches = [w for w in self.client.webhooks() if w.get("name") == self.name]
        if len(matches) > 1:
            raise InputError("%d outbound webhooks are named %r; rename or remove the extra ones in SIGNL4"
                             % (len(matches), self.name))
        return matches[0] if matches else None

    def validate(self, desired, current):
        if current is None and not desired.get("extUrl"):
            raise InputError("url is required to create the outbound webhook %r" % self.name)

    @staticmethod
    def _base(webhook):
        return dict((key, webhook.get(key)) for key in Webhooks.BASE_KEYS if webhook.get(key) is not None)

    def create(self, desired):
        webhook_id = self.client.create_webhook(self._base(desired))
        if desired.get("enabled") is False:  # SIGNL4 creates subscriptions enabled
            self.client.disable_webhook(webhook_id)
        return self.client.webhook(webhook_id)

    def update(self, current, changes, after):
        if any(key in changes for key in Webhooks.BASE_KEYS):
            self.client.update_webhook(current["id"], self._base(after))
        if "enabled" in changes:
            (self.client.enable_webhook if after["enabled"] else self.client.disable_webhook)(current["id"])
        return self.client.webhook(current["id"])

    def delete(self, current):
        self.client.delete_webhook(current["id"])


# ----- connector app instances ------------------------------------------------------------

class Connectors:
    """Connector app instances (``/v2/scripts/instances``): one app of the catalogue, installed for a team."""

    def __init__(self, client):
        self.client = client

    def resource(self, team, app, display_name=None):
        """Resolves the team and the app by name first: unknown names fail before anything is written."""
        team_id = _team_id(self.client, team)
        app_id = self.client.resolve_app(app)["scriptId"]
        return ConnectorResource(self.client, team_id, app_id, display_name)

    @staticmethod
    def desired(params, resource):
        config = None
        if params.get("config") is not None or params.get("secret_config") is not None:
            config = dict(params.get("config") or {})
            config.update(params.get("secret_config") or {})
        return dict(scriptId=resource.app_id, teamId=resource.team_id, customScriptName=params.get("display_name"),
                    customScriptDescription=params.get("description"), enabled=params.get("enabled"), config=config)

    @staticmethod
    def rules(params):
        blind = list(params.get("secret_config") or {}) if params.get("update_secrets") == "on_create" else ()
        return Rules(config=ConfigEntries(purge=params.get("purge_config"), blind_keys=blind))

    def instances(self, team=None, app=None):
        """Installed apps with their config, optionally of one team and one app."""
        team_id = _team_id(self.client, team)
        app_id = self.client.resolve_app(app)["scriptId"] if app else None
        return [self.client.script_instance(i["instanceId"]) for i in self.client.script_instances([team_id] if team_id else None)
                if app_id is None or i.get("scriptId") == app_id]


def secret_keys(instances, declared=()):
    """The keys to mask in connector output and diff: declared, named like a secret, or the instance's webhook URL."""
    keys = set(declared) | set(INSTANCE_SECRET_KEYS)
    for instance in instances:
        keys.update(key for key in ((instance or {}).get("config") or {}) if looks_secret(key))
    return sorted(keys)


class ConnectorResource(Resource):
    # ScriptInstanceUpdateInfo without ``enabled``: that goes through /enable and /disable.
    UPDATE_KEYS = ("config", "teamId", "customScriptName", "customScriptDescription")

    def __init__(self, client, team_id, app_id, display_name=None):
        self.client = client
        self.team_id = team_id
        self.app_id = app_id
        self.display_name = display_name

    def find(self):
        matches = [i for i in self.client.script_instances([self.team_id]) if i.get("scriptId") == self.app_id]
        if len(matches) > 1 and self.display_name:
            matches = [i for i in matches if i.get("customScriptName") == self.display_name] or matches
        if len(matches) > 1:
            raise InputError("the team has %d instances of this app; set display_name to pick one" % len(matches))
        return self.client.script_instance(matches[0]["instanceId"]) if matches else None

    def create(self, desired):
        return self.client.create_script_instance(desired)

    def update(self, current, changes, after):
        instance_id = current["instanceId"]
        if any(key in changes for key in self.UPDATE_KEYS):
            self.client.update_script_instance(instance_id, dict(
                (key, after.get(key)) for key in self.UPDATE_KEYS if after.get(key) is not None))
        if "enabled" in changes:
            (self.client.enable_script_instance if after["enabled"] else self.client.disable_script_instance)(instance_id)
        return self.client.script_instance(instance_id)

    def delete(self, current):
        self.client.delete_script_instance(current["instanceId"])
