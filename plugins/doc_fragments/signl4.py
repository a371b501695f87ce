# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Connection options of every SIGNL4 module (``signl4_module.SIGNL4_CONNECTION_SPEC``)."""

    DOCUMENTATION = r"""
options:
  signl4_api_url:
    description:
      - The base URL of the SIGNL4 REST API; the REST v2 paths are below it (C(/v2/...)).
      - The inbound webhook is reached on the same origin, at C(/webhook/{team secret}) next to C(/api).
      - It must be an absolute C(http://) or C(https://) URL with a host; a port must be between 1 and 65535.
      - If not set, the value of the E(SIGNL4_API_URL) environment variable is used.
    type: str
    default: https://connect.signl4.com/api
  signl4_api_key:
    description:
      - The SIGNL4 API key (portal Integrations -> API Keys), sent in the C(X-S4-Api-Key) header.
        Modules that write need a read/write key that is not limited to another team.
      - It is never logged or shown.
      - If not set, the value of the E(SIGNL4_API_KEY) environment variable is used.
    type: str
  signl4_team_secret:
    description:
      - The team secret of the team's inbound webhook, used to send events. It is never logged or shown,
        also not in URLs, which carry it in their path.
      - If not set, the value of the E(SIGNL4_TEAM_SECRET) environment variable is used.
    type: str
  signl4_validate_certs:
    description:
      - Whether to verify the server's TLS certificate. Turn it off only for a lab server.
      - When it is V(false), each task warns in its result that the certificate is not checked.
      - If not set, the value of the E(SIGNL4_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  signl4_timeout:
    description:
      - Seconds to wait for a connection and for each HTTP response; a positive, finite number, at most 3600.
      - Each request, its retries and their waits included, ends within twice this time (60 seconds by default).
    type: float
    default: 30.0
notes:
  - "HTTP is spoken with the Python standard library: no package to install. Certificates are checked against the
    bundle named by E(REQUESTS_CA_BUNDLE) or E(CURL_CA_BUNDLE) when set, else the system's store. A proxy is taken from
    E(https_proxy), E(http_proxy) or E(all_proxy) (an C(http://) proxy, with user and password if needed), and
    E(no_proxy) lists the hosts reached directly. Redirects are not followed: a redirect fails with where it points."
  - "An answer's body is read up to 16 MiB, as sent and once decoded from gzip or deflate (chunked or not). A larger
    answer fails the task with an error that names the bound, after at most 16 MiB were read; it is not retried, and
    after a create (POST) the error says the write may have been applied."
  - SIGNL4 throttles per subscription and reports the window in C(X-RateLimit-*) headers. A request waits for the
    window to reset when the previous answer said none are left; HTTP 429 is retried after C(Retry-After) or at
    C(X-RateLimit-Reset) (at most 120 seconds per wait).
  - "Server errors (5xx), read timeouts and dropped connections are retried for reads and other idempotent requests,
    with a bounded, jittered exponential backoff, at most 5 times. A refused connection or a connect timeout is retried
    for every request, since nothing was sent. TLS errors and host names that do not resolve fail at once."
  - "A POST that may have been applied (server error or read timeout after sending) is never repeated: the module
    reads again and decides from what it finds."
  - "Every request ends within its deadline, twice O(signl4_timeout): a retry whose wait would pass it is not made."
  - "Parallel runs on one controller take turns on an object: a task holds a lock on the controller while it reads,
    decides and writes. The lock files live in a directory only the user may use, E(SIGNL4_CONNECTWISE_LOCK_DIR),
    else C(signl4.connectwise-locks-<uid>) under E(XDG_RUNTIME_DIR) (when it is the user's own) or the temporary
    directory. A directory that is a symbolic link, is not owned by the user or is open to others fails the task,
    naming it and what is wrong. A lock is waited for at most 120 seconds (E(SIGNL4_CONNECTWISE_LOCK_TIMEOUT) sets
    another number of seconds), then the task fails naming the object."
"""

    ACTION_GROUP = r"""
attributes:
  action_group:
    description: Use C(group/signl4.connectwise.signl4) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - signl4.connectwise.signl4
"""
