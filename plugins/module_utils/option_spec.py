# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs that carry the API key of each option, as theforeman.foreman's do.

An entry of a module's ``ARGUMENT_SPEC`` may hold one key AnsibleModule does not know:

- ``api_key``: the API field the option's value is copied to unchanged (``list_view`` ->
  ``listViewFlag``). An option without it is handled in code: a name the kind resolves to an id
  or a reference, or a control option (``state``, ``purge_*``).

:func:`argument_spec` strips that key to build AnsibleModule's spec; :func:`payload` builds the
API-shaped dict from the same spec, so an option and its API key sit side by side and a mapping
can no longer name an option that does not exist (the option *is* the spec's key).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError

EXTRA_KEYS = ("api_key",)


def argument_spec(spec):
    """AnsibleModule's argument spec: ``spec`` without the extra keys, at every depth."""
    result = {}
    for option, entry in spec.items():
        entry = dict((key, value) for key, value in entry.items() if key not in EXTRA_KEYS)
        if "options" in entry:
            entry["options"] = argument_spec(entry["options"])
        result[option] = entry
    return result


def payload(spec, params):
    """``{api_key: value}`` for every option of ``spec`` that carries an ``api_key``; ``None``
    means not given (the engine never compares it)."""
    params = params or {}
    return dict((entry["api_key"], params.get(option)) for option, entry in spec.items() if "api_key" in entry)


def suboptions(spec, *path):
    """The spec of a list-of-dicts option, e.g. ``suboptions(SPEC, "events", "actions")``."""
    for option in path:
        spec = spec[option]["options"]
    return spec


def _blank(value):
    return isinstance(value, str) and not value.strip()


def require_non_empty(spec, params, where=""):
    """Fail when a required string option, at any depth, is empty or blank: AnsibleModule
    accepts ``""`` for a required option, and an empty name (an empty Jinja default, say) must
    never match or widen to other objects."""
    for option, entry in spec.items():
        value = (params or {}).get(option)
        if entry.get("required") and entry.get("type", "str") == "str" and _blank(value):
            raise InputError("%s%s must not be empty" % (where, option))
        if "options" in entry and value:
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                label = "%s%s[%d]." % (where, option, index) if isinstance(value, list) else "%s%s." % (where, option)
                require_non_empty(entry["options"], item, label)
