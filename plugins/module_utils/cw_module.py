# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module base of the ``cw_*`` modules: the Manage connection options (documented by the
doc fragment ``signl4.connectwise.cw``, option for option) and a lazily built Manage client
that shares the discovered codebase with the other tasks of the run (``run_cache``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import DEFAULT_API_VERSION, ManageClient
from ansible_collections.signl4.connectwise.plugins.module_utils.module import ApiModule
from ansible_collections.signl4.connectwise.plugins.module_utils.run_cache import RunCache

CW_CONNECTION_SPEC = dict(
    cw_url=dict(type="str", fallback=(env_fallback, ["CW_URL"])),
    cw_company_id=dict(type="str", fallback=(env_fallback, ["CW_COMPANY_ID"])),
    cw_public_key=dict(type="str", fallback=(env_fallback, ["CW_PUBLIC_KEY"])),
    cw_private_key=dict(type="str", no_log=True, fallback=(env_fallback, ["CW_PRIVATE_KEY"])),
    cw_client_id=dict(type="str", fallback=(env_fallback, ["CW_CLIENT_ID"])),
    cw_codebase=dict(type="str", fallback=(env_fallback, ["CW_CODEBASE"])),
    cw_api_version=dict(type="str", default=DEFAULT_API_VERSION, fallback=(env_fallback, ["CW_API_VERSION"])),
    cw_validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["CW_VALIDATE_CERTS"])),
    cw_timeout=dict(type="float", default=30.0),
)


class ManageModule(ApiModule):
    """A module of the ``cw`` group: the Manage connection options and a lazily built client."""

    def __init__(self, spec, **kwargs):
        self._client = None
        super().__init__(spec, CW_CONNECTION_SPEC, **kwargs)
        self.warn_if_certificates_unchecked("cw_validate_certs", "ConnectWise Manage")

    @property
    def client(self):
        if self._client is None:
            self._client = ManageClient.from_params(self.params, log=self.debug, run_cache=RunCache.default(warn=self.warn))
        return self._client
