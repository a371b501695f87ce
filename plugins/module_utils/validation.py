# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checks shared by the Manage and SIGNL4 objects; each raises ``InputError`` before any write."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError

from urllib.parse import urlsplit


def require_length(value, limit, what):
    if value is not None and len(value) > limit:
        raise InputError("%s must be at most %d characters, got %d: %r" % (what, limit, len(value), value))


def require_http_url(url, what):
    """Fail unless ``url`` is an absolute http(s) URL. The URL itself is not echoed: it may hold a token."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise InputError("%s is not an absolute http:// or https:// URL (value not shown, it may hold a token)" % what)
