# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one ``MASK`` and the masking of secrets in every form they can take in a text.

A secret can come back from an API, a proxy or an exception text raw, URL-encoded (with or
without ``/`` kept, ``+`` for spaces, lower-case hex, encoded twice), JSON-escaped, as Python's
``repr`` shows it, inside a base64 ``Basic`` authorization string, or cut short (a truncated URL
that ends inside a webhook token).
:class:`Redactor` replaces all of these; URL path segments that always hold a secret (the team
secret after ``/webhook/``) are masked whole, whatever their text, also where the whole URL was
percent-encoded (``%2Fwebhook%2F<secret>``). A secret that is itself a URL (a receiver's URL with its
token) is masked as a whole in every form, and so are its parts that may be the secret: the
password, and each path segment and query value of at least ``PARTIAL_MIN`` characters, as they are
written in the URL and decoded.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import re
from urllib.parse import quote, quote_plus, unquote, urlsplit

MASK = "********"
# A cut-short secret is masked from this many characters on; shorter pieces are too common to mask.
PARTIAL_MIN = 8
# Where a percent-encoded secret segment ends: an encoded or a plain delimiter, or what ends a URL in a text.
_ENCODED_SEGMENT_END = r"(?:%2F|%3F|%23|%26|%20|[/?#&\s\"'<>])"


def _b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def secret_forms(secret, partial=True):
    """Every spelling of ``secret`` an error text may carry (longest first); with ``partial``, its
    beginnings and ends from ``PARTIAL_MIN`` characters on too."""
    encoded = quote(secret, safe="")
    forms = {secret, encoded, quote(secret), quote_plus(secret), quote(encoded, safe=""), json.dumps(secret)[1:-1],
             repr(secret)[1:-1], _b64(secret)}
    for form in list(forms):
        forms.add(re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), form))
    if partial and len(secret) > PARTIAL_MIN:
        forms.update(secret[:n] for n in range(PARTIAL_MIN, len(secret)))
        forms.update(secret[-n:] for n in range(PARTIAL_MIN, len(secret)))
    return sorted((f for f in forms if f), key=len, reverse=True)


def url_secret_parts(value):
    """The parts of ``value``, when it is an absolute URL, that may be what makes it secret: the
    password and each path segment and query value of at least ``PARTIAL_MIN`` characters, as
    written and decoded. ``[]`` for anything that is not a URL."""
    if "://" not in value:
        return []
    try:
        parts = urlsplit(value.strip())
        password = parts.password
    except ValueError:
        return []
    if not parts.scheme or not parts.netloc:
        return []
    found = [password] if password else []
    found.extend(parts.path.split("/"))
    found.extend(piece.partition("=")[2] for piece in re.split("[&;]", parts.query))
    found.append(parts.fragment)
    found.extend([unquote(part) for part in found])
    return sorted(set(part for part in found if len(part) >= PARTIAL_MIN))


def _forms_of(secret):
    """The forms of one secret; a URL's without its beginnings and ends (``https://a`` is no secret),
    its secret parts' with theirs."""
    parts = url_secret_parts(secret)
    if not parts:
        return secret_forms(secret)
    forms = set(secret_forms(secret, partial=False))
    for part in parts:
        forms.update(secret_forms(part))
    return forms


class Redactor:
    """Masks ``secrets`` (and ``basic_auth``, the ``user:password`` string sent base64-encoded)
    in texts and in JSON-like values. ``segment_after`` lists URL path prefixes (``/webhook/``)
    whose next segment is a secret whatever it reads."""

    def __init__(self, secrets=(), basic_auth=None, segment_after=()):
        forms = set()
        for secret in secrets:
            if secret:
                forms.update(_forms_of(str(secret)))
        if basic_auth:
            forms.update((_b64(basic_auth), basic_auth))
        ordered = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(f) for f in ordered)) if ordered else None
        self._segments = [re.compile("(%s)[^/?#\\s\"'<>]+" % re.escape(prefix)) for prefix in segment_after]
        # The same segments in a URL that was percent-encoded as a whole (``%2Fwebhook%2F<secret>``).
        self._segments.extend(re.compile("(%s)(?:(?!%s).)+" % (re.escape(quote(prefix, safe="")), _ENCODED_SEGMENT_END),
                                         re.IGNORECASE) for prefix in segment_after)

    def text(self, value):
        text = "" if value is None else str(value)
        for segment in self._segments:
            text = segment.sub(lambda m: m.group(1) + MASK, text)
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return text

    def value(self, obj):
        """A copy of a JSON-like value with every string masked (keys included); numbers,
        booleans and ``None`` are kept."""
        if isinstance(obj, dict):
            return dict((self.text(k), self.value(v)) for k, v in obj.items())
        if isinstance(obj, (list, tuple)):
            return [self.value(item) for item in obj]
        if obj is None or isinstance(obj, (bool, int, float)):
            return obj
        return self.text(obj)
