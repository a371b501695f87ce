# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module base of the ``signl4_*`` modules: the SIGNL4 connection options (documented by
the doc fragment ``signl4.connectwise.signl4``, option for option) and a lazily built client."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

from ansible_collections.signl4.connectwise.plugins.module_utils.module import ApiModule
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import DEFAULT_API_URL, Signl4Client

SIGNL4_CONNECTION_SPEC = dict(
    signl4_api_url=dict(type="str", default=DEFAULT_API_URL, fallback=(env_fallback, ["SIGNL4_API_URL"])),
    signl4_api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["SIGNL4_API_KEY"])),
    signl4_team_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["SIGNL4_TEAM_SECRET"])),
    signl4_validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["SIGNL4_VALIDATE_CERTS"])),
    signl4_timeout=dict(type="float", default=30.0),
)


class Signl4Module(ApiModule):
    """A module of the ``signl4`` group: the SIGNL4 connection options and a lazily built client."""

    def __init__(self, spec, **kwargs):
        self._client = None
        super().__init__(spec, SIGNL4_CONNECTION_SPEC, **kwargs)
        self.warn_if_certificates_unchecked("signl4_validate_certs", "SIGNL4")

    @property
    def client(self):
        if self._client is None:
            self._client = Signl4Client.from_params(self.params, log=self.debug)
        return self._client
