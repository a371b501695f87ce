# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the SIGNL4 object kinds share: team lookups that never widen their scope, secret-looking
keys, and the engine rule for a free-form config dict."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Config entries whose names contain one of these are masked even when not declared secret.
SECRET_NAME_HINTS = ("secret", "password", "private", "token", "apikey", "api_key")


def team_id(client, team):
    """The id of the team named ``team``; ``None`` only when no team was given. An empty or
    unknown name fails (``Signl4Client.resolve_team``): it must never drop the team filter."""
    return None if team is None else client.resolve_team(team.strip())["id"]


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
