# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module base: check mode always supported, ``requests`` checked once, and every typed
error turned into ``fail_json`` in one place, with the API's own message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.signl4.connectwise.plugins.module_utils.arguments import (
    CW_CONNECTION_SPEC,
    SIGNL4_CONNECTION_SPEC,
    with_connection,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import ManageClient
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import mask
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import ApiError, InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import Signl4Client
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import HAS_REQUESTS, REQUESTS_IMPORT_ERROR


class ApiModule(AnsibleModule):
    """``ApiModule(spec, connection_spec).execute(run)``: ``run(module)`` returns the result dict."""

    def __init__(self, argument_spec, connection_spec, **kwargs):
        kwargs.setdefault("supports_check_mode", True)
        super(ApiModule, self).__init__(argument_spec=with_connection(argument_spec, connection_spec), **kwargs)
        if not HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib("requests"), exception=str(REQUESTS_IMPORT_ERROR))

    def execute(self, run):
        try:
            result = run(self)
        except InputError as exc:
            self.fail_json(msg=str(exc))
        except ApiError as exc:
            self.fail_json(msg=str(exc), api_error=exc.to_dict())
        self.exit_json(**result)

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


class ManageModule(ApiModule):
    """A module of the ``cw`` group: the Manage connection options and a lazily built client."""

    def __init__(self, argument_spec, **kwargs):
        super(ManageModule, self).__init__(argument_spec, CW_CONNECTION_SPEC, **kwargs)
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = ManageClient.from_params(self.params, log=self.debug)
        return self._client


class Signl4Module(ApiModule):
    """A module of the ``signl4`` group: the SIGNL4 connection options and a lazily built client."""

    def __init__(self, argument_spec, **kwargs):
        super(Signl4Module, self).__init__(argument_spec, SIGNL4_CONNECTION_SPEC, **kwargs)
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = Signl4Client.from_params(self.params, log=self.debug)
        return self._client
