# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module base of both systems: check mode always supported,
secrets kept out of every failure, and every typed error turned into ``fail_json`` in one place,
with the API's own message.

Each system has its own module base (``cw_module.ManageModule``, ``signl4_module.Signl4Module``)
so that a module ships only its own client.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.validation import check_type_dict

from ansible_collections.signl4.connectwise.plugins.module_utils.engine import mask
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import ApiError, CancelledError, InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.option_spec import argument_spec as ansible_spec
from ansible_collections.signl4.connectwise.plugins.module_utils.redaction import Redactor


def with_connection(spec, connection_spec):
    """A module's own options (without the keys only :mod:`option_spec` reads) plus the connection
    options of its system."""
    return {**connection_spec, **ansible_spec(spec)}


def no_log_values(spec, params):
    """Every value given to a ``no_log`` option at any depth of ``spec``, skipping (instead of
    failing on) values of the wrong type.

    ansible-core stops collecting no_log values at the first list-of-dicts option whose items
    are not dicts (``events: ["x"]``) and then prints the invocation with the secrets in clear
    at ``-vvv`` (ansible/ansible#81672, open; see also #81631). Collecting them here first, from
    the raw parameters, keeps them masked whatever else is wrong with the input."""
    found = set()
    if not isinstance(params, dict):
        return found
    for name, option in spec.items():
        value = params.get(name)
        if value is None:
            continue
        if option.get("no_log") and not isinstance(value, bool):
            found.update(_leaf_texts(value))
        suboptions = option.get("options")
        if suboptions:
            for item in value if isinstance(value, list) else [value]:
                found.update(no_log_values(suboptions, item))
    return found


def _leaf_texts(value):
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:  # a dict or list given as JSON text: its values are secrets too, as ansible-core parses it
            return {value} | _leaf_texts(json.loads(value))
        except ValueError:
            pass
    if isinstance(value, dict):
        return {text for item in value.values() for text in _leaf_texts(item)}
    if isinstance(value, (list, tuple)):
        return {text for item in value for text in _leaf_texts(item)}
    text = str(value)
    return {text} if text else set()


def malformed_items(spec, params, prefix=""):
    """``[(where, value)]`` for each item of a dict or list-of-dicts option (at any depth) that is
    no dictionary, e.g. ``("events[0].actions[1]", 1)``, so the failure names the option
    (ansible-core says only "dictionary requested, could not parse JSON or key=value")."""
    found = []
    if not isinstance(params, dict):
        return found
    for name, option in spec.items():
        value, suboptions = params.get(name), option.get("options")
        if value is None or not suboptions or (option.get("type") == "list" and not isinstance(value, list)):
            continue  # nothing to look into; a wrong top-level type is reported by ansible-core by name
        items = ([("%s%s[%d]" % (prefix, name, index), item) for index, item in enumerate(value)]
                 if isinstance(value, list) else [(prefix + name, value)])
        for where, item in items:
            if isinstance(item, dict):
                found.extend(malformed_items(suboptions, item, where + "."))
            elif not _parses_as_dict(item):
                found.append((where, item))
    return found


def _parses_as_dict(value):
    if not isinstance(value, str):
        return False
    try:
        check_type_dict(value)  # ansible-core accepts JSON or key=value text for a dict
    except TypeError:
        return False
    return True


class ApiModule(AnsibleModule):
    """``ApiModule(spec, connection_spec).execute(run)``: ``run(module)`` returns the result dict.
    ``spec`` is a module's ``ARGUMENT_SPEC`` (:mod:`option_spec`)."""

    def __init__(self, spec, connection_spec, **kwargs):
        kwargs.setdefault("supports_check_mode", True)
        super().__init__(argument_spec=with_connection(spec, connection_spec), **kwargs)

    def _load_params(self):
        # Runs inside AnsibleModule.__init__ before the arguments are validated, so the secrets
        # are masked even when validation fails (see no_log_values), and an item of a list-of-dicts
        # option that is no dictionary fails naming its path (see malformed_items).
        super()._load_params()
        self.no_log_values.update(no_log_values(self.argument_spec, self.params))
        malformed = malformed_items(self.argument_spec, self.params)
        if malformed:
            where, value = malformed[0]
            self.fail_json(msg="%s must be a dictionary of options, got %s %.100r" % (where, type(value).__name__, value))

    def warn_if_certificates_unchecked(self, option, api):
        """A warning in the task's result when ``option`` (``cw_validate_certs``) turns TLS checks off."""
        if self.params.get(option) is False:
            self.warn("%s is false: the TLS certificate of %s is not checked, so anyone on the network path can read "
                      "the credentials and change what this task reads and writes; turn it off only for a lab server"
                      % (option, api))

    def execute(self, run):
        try:
            result = run(self)
        except (InputError, CancelledError) as exc:
            self.fail_json(msg=self.redact(str(exc)))
        except ApiError as exc:
            self.fail_json(msg=self.redact(str(exc)), api_error=Redactor(self.no_log_values).value(exc.to_dict()))
        finally:
            self.close_client()
        self.exit_json(**result)

    def redact(self, text):
        """``text`` with every ``no_log`` value masked in every form: ansible-core masks a value only as
        given, and an API may echo it encoded (a receiver URL percent-encoded as a whole, with its token)."""
        return Redactor(self.no_log_values).text(text)

    def close_client(self):
        """Close the client a subclass built, if any."""
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()

    def outcome_result(self, outcome, key, view=None, secret_keys=()):
        """The standard result of one ensure: ``changed``, ``diff`` and the object under ``key``
        (passed through ``view`` to present it, then masked)."""
        obj = outcome.object
        if obj is not None and view is not None:
            obj = view(obj)
        result = {"changed": outcome.changed, key: mask(obj, secret_keys)}
        if self._diff:
            result["diff"] = outcome.diff(secret_keys)
        return result
