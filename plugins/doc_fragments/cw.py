# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Connection options of every ConnectWise Manage module (``arguments.CW_CONNECTION_SPEC``)."""

    DOCUMENTATION = r"""
options:
  cw_url:
    description:
      - The Manage site, for example C(na.myconnectwise.net), C(https://cw.example.com) or C(http://127.0.0.1:8080).
      - On cloud sites the REST API is reached on the C(api-) host, which the modules derive from the codebase.
      - If not set, the value of the E(CW_URL) environment variable is used.
    type: str
  cw_company_id:
    description:
      - The company identifier used to log in to Manage.
      - If not set, the value of the E(CW_COMPANY_ID) environment variable is used.
    type: str
  cw_public_key:
    description:
      - The public half of the API member's API key.
      - If not set, the value of the E(CW_PUBLIC_KEY) environment variable is used.
    type: str
  cw_private_key:
    description:
      - The private half of the API member's API key. It is never logged or shown.
      - If not set, the value of the E(CW_PRIVATE_KEY) environment variable is used.
    type: str
  cw_client_id:
    description:
      - The integration's clientId GUID from the ConnectWise developer portal, sent with every request.
      - If not set, the value of the E(CW_CLIENT_ID) environment variable is used.
    type: str
  cw_codebase:
    description:
      - The codebase path such as C(v4_6_release/) or C(v2025_1/).
      - When not given it is discovered from C(/login/companyinfo/{company}).
      - If not set, the value of the E(CW_CODEBASE) environment variable is used.
    type: str
  cw_api_version:
    description:
      - The API model version sent in the C(Accept) header.
      - If not set, the value of the E(CW_API_VERSION) environment variable is used.
    type: str
    default: "2019.1"
  cw_validate_certs:
    description:
      - Whether to verify the server's TLS certificate. Turn it off only for a lab server.
      - If not set, the value of the E(CW_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  cw_timeout:
    description:
      - Seconds to wait for each HTTP response.
    type: float
    default: 30.0
requirements:
  - requests (on the host that runs the module, normally the controller)
notes:
  - Rate limiting (HTTP 429) is retried as C(Retry-After) says; server errors and connection errors of
    idempotent requests are retried with a bounded, jittered exponential backoff.
"""

    ACTION_GROUP = r"""
attributes:
  action_group:
    description: Use C(group/signl4.connectwise.cw) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - signl4.connectwise.cw
"""
