# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Outbound webhook subscriptions (``/v2/webhooks``) as an object kind, found by name (the
collection's one name rule: case ignored, surrounding spaces stripped)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.engine import (
    CASE_INSENSITIVE,
    Resource,
    Rules,
    object_id,
    same_name,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import ApiError, InputError, OutcomeUnknownError
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import ObjectKind
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_objects import team_id
from ansible_collections.signl4.connectwise.plugins.module_utils.validation import require_http_url

# The receiver's URL usually carries its token; it is compared, never shown.
WEBHOOK_SECRET_KEYS = ("extUrl",)
BASE_KEYS = ("name", "extUrl", "description", "teamId")  # WebhookBaseInfo: what POST and PUT take


def matching_webhooks(client, name=None, team=None):
    """Subscriptions, optionally by name and of one team (an empty team name fails, never widens)."""
    wanted_team = team_id(client, team)
    return [w for w in client.webhooks(wanted_team)
            if (name is None or same_name(w.get("name")) == same_name(name))
            and (wanted_team is None or w.get("teamId") == wanted_team)]


class Webhooks(ObjectKind):
    result_key = "webhook"
    secret_keys = WEBHOOK_SECRET_KEYS

    def resource(self, params):
        return WebhookResource(self.client, params["name"].strip())

    def rules(self, params):
        return Rules(name=CASE_INSENSITIVE)


class WebhookResource(Resource):

    def __init__(self, client, name):
        self.client = client
        self.name = name
        self.identity = {"name": name}

    def matches(self):
        return matching_webhooks(self.client, self.name)

    def find(self):
        matches = self.matches()
        if len(matches) > 1:
            raise InputError("%d outbound webhooks are named %r; rename or remove the extra ones in SIGNL4"
                             % (len(matches), self.name))
        return matches[0] if matches else None

    def validate(self, desired, current):
        if desired.get("extUrl") is not None:
            require_http_url(desired["extUrl"], "url")
        if current is None and not desired.get("extUrl"):
            raise InputError(f"url is required to create the outbound webhook {self.name!r}")

    @staticmethod
    def _base(webhook):
        return {key: webhook.get(key) for key in BASE_KEYS if webhook.get(key) is not None}

    def create(self, desired):
        """SIGNL4 creates subscriptions enabled and its create takes no ``enabled``. One that must
        be off is disabled straight away, and deleted again if that fails, so no subscription is
        left delivering alerts that should be off (also when the create's outcome was unknown and
        the subscription is found on a re-read)."""
        webhook_id = self._create(desired)
        if desired.get("enabled") is False:
            try:
                self.client.disable_webhook(webhook_id)
            except ApiError:
                self.client.delete_webhook(webhook_id)
                raise
        return self.client.webhook(webhook_id)

    def _create(self, desired):
        try:
            return self.client.create_webhook(self._base(desired))
        except OutcomeUnknownError:
            found = self.matches()
            if not found:
                raise
            return min(found, key=object_id)["id"]

    def update(self, current, changes, after):
        if any(key in changes for key in BASE_KEYS):
            self.client.update_webhook(current["id"], self._base(after))
        if "enabled" in changes:
            (self.client.enable_webhook if after["enabled"] else self.client.disable_webhook)(current["id"])
        return self.client.webhook(current["id"])

    def delete(self, current):
        self.client.delete_webhook(current["id"])
