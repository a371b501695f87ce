# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checks shared by the Manage and SIGNL4 objects; each raises ``InputError`` before any write."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import check_http_url


def require_length(value, limit, what):
    if value is not None and len(value) > limit:
        raise InputError("%s must be at most %d characters, got %d: %r" % (what, limit, len(value), value))


def require_http_url(url, what):
    """Fail unless ``url`` is an absolute http(s) URL with a host and a valid port (the same rule as
    the connection URLs). The URL itself is not echoed: it may hold a token."""
    try:
        check_http_url(url, what)
        valid = not any(c.isspace() for c in url)
    except InputError:
        valid = False
    if not valid:
        raise InputError("%s is not an absolute http:// or https:// URL with a host and a valid port "
                         "(value not shown, it may hold a token)" % what)
