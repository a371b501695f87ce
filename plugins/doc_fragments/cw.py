# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Connection options of every ConnectWise Manage module (``cw_module.CW_CONNECTION_SPEC``)."""

    DOCUMENTATION = r"""
options:
  cw_url:
    description:
      - The Manage site, for example C(na.myconnectwise.net), C(https://cw.example.com) or C(http://127.0.0.1:8080).
      - A URL without a scheme is taken as C(https://). It must name a host; a port must be between 1 and 65535.
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
      - The codebase path such as C(v4_6_release/) or C(v2025_1/), made of letters, digits, C(_) and C(.) and ending in C(/)
        (added when missing). Any other value fails the task before a request is sent.
      - When not given it is discovered from C(/login/companyinfo/{company}), and discovered again when Manage
        answers that an API path does not exist (as after a cloud upgrade). A discovered codebase of another shape
        fails the task.
      - A discovered codebase is shared with the other tasks of the run for 5 minutes (see the notes).
      - If not set, the value of the E(CW_CODEBASE) environment variable is used.
    type: str
  cw_api_version:
    description:
      - The API model version sent in the C(Accept) header. The default is the version of the API description the
        modules are tested against, and the sync agent's default (its C(manage.api_version)) too.
      - If not set, the value of the E(CW_API_VERSION) environment variable is used.
    type: str
    default: "2025.8"
  cw_validate_certs:
    description:
      - Whether to verify the server's TLS certificate. Turn it off only for a lab server.
      - When it is V(false), each task warns in its result that the certificate is not checked.
      - If not set, the value of the E(CW_VALIDATE_CERTS) environment variable is used.
    type: bool
    default: true
  cw_timeout:
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
  - "Retries: HTTP 429 is retried as C(Retry-After) says (at most 120 seconds per wait). Server errors (5xx), read
    timeouts and dropped connections are retried for reads and other idempotent requests, with a bounded, jittered
    exponential backoff, at most 5 times. A refused connection or a connect timeout is retried for every request,
    since nothing was sent. TLS errors and host names that do not resolve fail at once."
  - "A create (POST) is never repeated when it may have been applied: after a server error or a read timeout the
    module reads the object again and decides from what it finds."
  - "Every request ends within its deadline, twice O(cw_timeout): a retry whose wait would pass it is not made, and
    the last error is reported."
  - "The tasks of a run share the discovered codebase (5 minutes), keyed by site and company, through a file of mode
    0600 in a directory only the user may use: E(SIGNL4_CONNECTWISE_RUN_CACHE), else C(signl4.connectwise-<uid>) under
    E(XDG_RUNTIME_DIR) (when it is the user's own) or the temporary directory. It holds no credential. A stale
    codebase is discovered again, and so is one of another shape than a codebase's. Everything else a task compares or
    looks up by name it reads itself. Set E(SIGNL4_CONNECTWISE_RUN_CACHE) to C(off) to turn the sharing off."
  - "Every read and write of that directory checks that it is a directory (not a symbolic link) owned by the user with
    mode 0700, and that each entry is the user's regular file of mode 0600. When the directory fails the check, for
    example because another user created it first in C(/tmp), the task runs without sharing and warns once, naming
    the directory and what is wrong."
  - "Parallel runs on one controller take turns on an object: a task holds a lock on the controller while it reads,
    decides and writes. The lock files live in a directory only the user may use, E(SIGNL4_CONNECTWISE_LOCK_DIR),
    else C(signl4.connectwise-locks-<uid>) under E(XDG_RUNTIME_DIR) (when it is the user's own) or the temporary
    directory. A directory that is a symbolic link, is not owned by the user or is open to others fails the task,
    naming it and what is wrong. A lock is waited for at most 120 seconds (E(SIGNL4_CONNECTWISE_LOCK_TIMEOUT) sets
    another number of seconds), then the task fails naming the object."
  - "Within one run of C(ansible-playbook) on the controller, one read of a pod's custom fields serves every
    M(signl4.connectwise.cw_custom_field) task of that run (30 seconds at most), and the first workflow rule task's
    read of the rule list tells the later ones their rules' ids. Another run never sees these reads. A task that is
    about to write reads again first and starts over if anything changed, so its diff and its write come from what
    Manage holds then; an edit made in Manage while the run goes on may be reported by the next run only."
"""

    ACTION_GROUP = r"""
attributes:
  action_group:
    description: Use C(group/signl4.connectwise.cw) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - signl4.connectwise.cw
"""
