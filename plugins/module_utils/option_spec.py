# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs that say what each option is to the API, as theforeman.foreman's do.

An entry of a module's ``ARGUMENT_SPEC`` holds one of these keys, which AnsibleModule does not know:

- ``api_key``: the API field the option's value goes to (``list_view`` -> ``listViewFlag``). An option
  with ``options`` becomes a nested object (a list of them for a list); options that share an
  ``api_key`` and hold dicts are merged (a connector's ``config`` and ``secret_config``). The kind's
  resource puts what identifies the object in the API's shape itself (``Resource.identity``).
- ``reference`` (next to ``api_key``): the option names a record the API refers to, e.g.
  ``dict(path=cw_paths.BOARDS, what="board", keys=("id", "name"))``. :func:`payload` puts the
  reference by name (``{"name": "Service Desk"}``) under ``api_key``; :func:`resolve` completes it.
  ``field`` is the record's field the name is in (default ``name``); ``keys`` a tuple gives a reference
  object with those keys of the record, a string gives that key's value alone (the ids of
  ``businessUnitIds``). Without ``path`` the collection depends on the object (a board's statuses)
  and the kind names it. ``assume_created``: in check mode, a name the module's ``assume_created``
  option lists may not exist yet (an earlier task of the run creates it).
- ``control``: the option steers the module and is sent nowhere (``state``, ``purge_*``).

:func:`argument_spec` strips these keys for AnsibleModule. An option and its API field sit side by
side, so a mapping cannot name an option that does not exist, and ``tests/unit/test_option_specs.py``
fails for an option of any module that has none of them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

from ansible_collections.signl4.connectwise.plugins.module_utils.engine import name_in, same_name
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError, UnknownNameError

EXTRA_KEYS = ("api_key", "reference", "control")


def argument_spec(spec):
    """AnsibleModule's argument spec: ``spec`` without the extra keys, at every depth."""
    result = {}
    for option, entry in spec.items():
        entry = {key: value for key, value in entry.items() if key not in EXTRA_KEYS}
        if "options" in entry:
            entry["options"] = argument_spec(entry["options"])
        result[option] = entry
    return result


def payload(spec, params):
    """The API-shaped object of ``params``: ``{api_key: value}`` for every option of ``spec`` that has
    an ``api_key``; ``None`` means not given (the engine never compares it). References are by name
    until :func:`resolve` completes them."""
    params = params or {}
    built = {}
    for option, entry in spec.items():
        if "api_key" not in entry:
            continue
        key, value = entry["api_key"], _api_value(entry, params.get(option))
        if isinstance(built.get(key), dict) and isinstance(value, dict):
            value = {**built[key], **value}
        elif value is None and key in built:
            continue
        built[key] = value
    return built


def _api_value(entry, value):
    if value is None:
        return None
    if "options" in entry:
        return [payload(entry["options"], item) for item in value] if isinstance(value, list) else payload(entry["options"], value)
    if "reference" in entry:
        field = entry["reference"].get("field", "name")
        return [{field: str(item).strip()} for item in value] if isinstance(value, list) else {field: str(value).strip()}
    return value


def pick(record, keys):
    """The reference object ``{id, name, ...}`` of a record (the given keys it has)."""
    return {key: record[key] for key in keys if record.get(key) is not None}


def named(current_reference, name, field="name"):
    """Whether a reference the API returned carries ``name`` (and an id). Manage returns the name inside
    its references (boards, locations, departments, statuses, notify types...), so such a reference is
    what a lookup by that name would give: comparing by it needs no lookup."""
    return isinstance(current_reference, dict) and current_reference.get("id") is not None and \
        current_reference.get(field) is not None and same_name(current_reference[field]) == same_name(name)


def resolve(client, spec, desired, current=None, lookups=None, assumed=None):
    """Complete the references of ``desired`` (:func:`payload` of ``spec``, its top level) in place and
    return it. A reference the ``current`` object holds under the same name is taken from it; any other
    name is looked up (``client.resolve``, cached per task), so a lookup happens only for what will be
    written, and an unknown name fails naming the known ones, before any write.

    ``lookups`` gives, per option, where a reference without a declared ``path`` is looked up: ``(path,
    what)`` or a function returning it, called only when a lookup is needed. ``assumed`` (check mode
    only) lists the names an earlier task of the run would create; they stay references by name."""
    current = current or {}
    for option, entry in spec.items():
        declared, value = entry.get("reference"), desired.get(entry.get("api_key"))
        if declared is None or value is None:
            continue
        look_up = functools.partial(_reference, client, declared, (lookups or {}).get(option), assumed)
        if isinstance(value, list):
            desired[entry["api_key"]] = [look_up(item, None) for item in value]
        else:
            desired[entry["api_key"]] = look_up(value, current.get(entry["api_key"]))
    return desired


def _reference(client, declared, where, assumed, by_name, current):
    field, keys = declared.get("field", "name"), declared.get("keys", ("id", "name"))
    name = by_name[field]
    if not isinstance(keys, str) and named(current, name, field):
        return pick(current, keys)
    where = where() if callable(where) else where
    path, what = where or (declared["path"], declared["what"])
    try:
        record = client.resolve(path, name, field=field, what=what)
    except UnknownNameError:
        if not (declared.get("assume_created") and assumed is not None and name_in(assumed, name)):
            raise
        return dict(by_name)  # an earlier task of this check run would create it
    return record.get(keys) if isinstance(keys, str) else pick(record, keys)


def prefetch(client, spec, params):
    """Zero-argument lookups of the names no current object can save, because the API keeps only an
    id there (``keys`` a string: a webhook's ``teamId``, ``businessUnitIds``). Made while the object is
    read, they cost no round trip of their own; a lookup that fails is left to :func:`resolve`, which
    reports it."""
    reads = []
    for option, entry in spec.items():
        declared, value = entry.get("reference"), (params or {}).get(option)
        if declared is None or value is None or not isinstance(declared.get("keys"), str) or "path" not in declared:
            continue
        for name in value if isinstance(value, list) else [value]:
            reads.append(functools.partial(_quietly, client.resolve, declared["path"], str(name).strip(),
                                           field=declared.get("field", "name"), what=declared["what"]))
    return reads


def _quietly(read, *args, **kwargs):
    try:
        return read(*args, **kwargs)
    except InputError:
        return None


def _blank(value):
    return isinstance(value, str) and not value.strip()


def require_non_empty(spec, params, where=""):
    """Fail when a required string option, at any depth, is empty or blank: AnsibleModule
    accepts ``""`` for a required option, and an empty name (an empty Jinja default, say) must
    never match or widen to other objects."""
    for option, entry in spec.items():
        value = (params or {}).get(option)
        if entry.get("required") and entry.get("type", "str") == "str" and _blank(value):
            raise InputError(f"{where}{option} must not be empty")
        if "options" in entry and value:
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                label = f"{where}{option}[{index}]." if isinstance(value, list) else f"{where}{option}."
                require_non_empty(entry["options"], item, label)
