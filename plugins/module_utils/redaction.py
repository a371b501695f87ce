# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one ``MASK`` and the masking of secrets in every form they can take in a text.

A secret can come back from an API, a proxy or an exception text raw, URL-encoded (with or
without ``/`` kept, ``+`` for spaces, lower-case hex), JSON-escaped, inside a base64 ``Basic``
authorization string, or cut short (a truncated URL that ends inside a webhook token).
:class:`Redactor` replaces all of these; URL path segments that always hold a secret (the team
secret after ``/webhook/``) are masked whole, whatever their text.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import re
from urllib.parse import quote, quote_plus

MASK = "********"
# A cut-short secret is masked from this many characters on; shorter pieces are too common to mask.
PARTIAL_MIN = 8


def _b64(text):
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def secret_forms(secret):
    """Every spelling of ``secret`` an error text may carry (longest first)."""
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), json.dumps(secret)[1:-1], _b64(secret)}
    for form in list(forms):
        forms.add(re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), form))
    if len(secret) > PARTIAL_MIN:
        forms.update(secret[:n] for n in range(PARTIAL_MIN, len(secret)))
        forms.update(secret[-n:] for n in range(PARTIAL_MIN, len(secret)))
    return sorted((f for f in forms if f), key=len, reverse=True)


class Redactor:
    """Masks ``secrets`` (and ``basic_auth``, the ``user:password`` string sent base64-encoded)
    in texts and in JSON-like values. ``segment_after`` lists URL path prefixes (``/webhook/``)
    whose next segment is a secret whatever it reads."""

    def __init__(self, secrets=(), basic_auth=None, segment_after=()):
        forms = set()
        for secret in secrets:
            if secret:
                forms.update(secret_forms(str(secret)))
        if basic_auth:
            forms.update((_b64(basic_auth), basic_auth))
        ordered = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(f) for f in ordered)) if ordered else None
        self._segments = [re.compile("(%s)[^/?#\\s\"'<>]+" % re.escape(prefix)) for prefix in segment_after]

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
