# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by the modules of each system; they match the doc fragments
``signl4.connectwise.cw`` and ``signl4.connectwise.signl4`` option for option."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import env_fallback

CW_CONNECTION_SPEC = dict(
    cw_url=dict(type="str", fallback=(env_fallback, ["CW_URL"])),
    cw_company_id=dict(type="str", fallback=(env_fallback, ["CW_COMPANY_ID"])),
    cw_public_key=dict(type="str", fallback=(env_fallback, ["CW_PUBLIC_KEY"])),
    cw_private_key=dict(type="str", no_log=True, fallback=(env_fallback, ["CW_PRIVATE_KEY"])),
    cw_client_id=dict(type="str", fallback=(env_fallback, ["CW_CLIENT_ID"])),
    cw_codebase=dict(type="str", fallback=(env_fallback, ["CW_CODEBASE"])),
    cw_api_version=dict(type="str", default="2019.1", fallback=(env_fallback, ["CW_API_VERSION"])),
    cw_validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["CW_VALIDATE_CERTS"])),
    cw_timeout=dict(type="float", default=30.0),
)


def with_connection(spec, connection_spec):
    """A module's own options plus the connection options of its system."""
    merged = dict(connection_spec)
    merged.update(spec)
    return merged


SIGNL4_CONNECTION_SPEC = dict(
    signl4_api_url=dict(type="str", default="https://connect.signl4.com/api", fallback=(env_fallback, ["SIGNL4_API_URL"])),
    signl4_api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["SIGNL4_API_KEY"])),
    signl4_team_secret=dict(type="str", no_log=True, fallback=(env_fallback, ["SIGNL4_TEAM_SECRET"])),
    signl4_validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["SIGNL4_VALIDATE_CERTS"])),
    signl4_timeout=dict(type="float", default=30.0),
)
