# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP transport shared by the Manage and SIGNL4 clients: one pooled ``requests.Session``,
timeouts, TLS switch, bounded retries with full-jitter exponential backoff that honour
``Retry-After``, and masking of every secret in URLs and messages.

Each client gives the transport an ``error_parser`` that reads its API's error body, so
the errors raised here carry that API's own code and message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import (
    TransportError,
    error_class_for_status,
)

try:
    import requests

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the modules through missing_required_lib
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

MASK = "********"
RETRY_STATUSES = (429, 500, 502, 503, 504)
# A POST that got a 5xx may have been applied; only answers that say "not processed" are retried.
RETRY_STATUSES_UNSAFE = (429, 503)
IDEMPOTENT_METHODS = ("GET", "HEAD", "PUT", "DELETE", "PATCH")


class RetryPolicy:
    """Bounded exponential backoff with full jitter (as amazon.aws's ``jittered_backoff``).

    ``Retry-After`` wins over the computed delay, capped at ``retry_after_max`` seconds.
    ``sleep`` and ``rng`` are injectable so tests and the agent can observe the waits.
    """

    def __init__(self, max_retries=5, backoff_base=0.5, backoff_max=30.0, retry_after_max=120.0,
                 sleep=None, rng=None):
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self.sleep = sleep or time.sleep
        self.rng = rng or random.random

    def delay(self, attempt, retry_after=None):
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max)
        return self.rng() * min(self.backoff_max, self.backoff_base * (2 ** attempt))


def parse_retry_after(value):
    """Seconds from a ``Retry-After`` header; HTTP dates are treated as 'soon' (1 s)."""
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return 1.0


class Transport:
    """Send requests to one API base URL. Never logs or raises a secret."""

    def __init__(self, base_url, api_name, error_parser, headers=None, auth=None, timeout=30.0,
                 validate_certs=True, retry=None, secrets=(), log=None, retry_after=None, on_response=None):
        if not HAS_REQUESTS:
            raise ImportError("the Python library 'requests' is required: %s" % REQUESTS_IMPORT_ERROR)
        self.base_url = base_url.rstrip("/")
        self.api_name = api_name
        self.error_parser = error_parser
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.secrets = [s for s in secrets if s]
        self.log = log
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self.session.auth = auth
        self.session.verify = validate_certs
        # Hooks for APIs with their own throttling headers: ``retry_after(response)`` gives the
        # seconds to wait before retrying a 429/5xx (None: computed backoff), ``on_response(response)``
        # sees every HTTP answer, errors included.
        self.retry_after = retry_after or (lambda response: parse_retry_after(response.headers.get("Retry-After")))
        self.on_response = on_response

    def close(self):
        """Release the pooled connections; the transport may not be used afterwards."""
        self.session.close()

    def mask(self, text):
        text = "" if text is None else str(text)
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def url(self, path):
        if path.startswith("http://") or path.startswith("https://"):
            return path
        return self.base_url + "/" + path.lstrip("/")

    def request(self, method, path, params=None, json=None, headers=None, retry_unsafe=False):
        """Send one request, retrying what may be retried. Returns the ``requests.Response``
        of a 2xx answer; raises a typed :class:`ApiError` otherwise."""
        method = method.upper()
        url = self.url(path)
        may_retry_5xx = retry_unsafe or method in IDEMPOTENT_METHODS
        retry_statuses = RETRY_STATUSES if may_retry_5xx else RETRY_STATUSES_UNSAFE
        attempt = 0
        while True:
            started = time.time()
            try:
                response = self.session.request(method, url, params=params, json=json, headers=headers,
                                                timeout=self.timeout)
            except requests.exceptions.RequestException as exc:
                retriable = isinstance(exc, requests.exceptions.ConnectTimeout) or (
                    may_retry_5xx and isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)))
                if retriable and attempt < self.retry.max_retries:
                    self._wait(attempt, None, method, url, type(exc).__name__)
                    attempt += 1
                    continue
                raise TransportError(self.mask("%s: %s" % (type(exc).__name__, exc)), method=method,
                                     url=self.mask(url), api=self.api_name)
            self._log("%s %s -> %s (%.0f ms)" % (method, url, response.status_code, 1000 * (time.time() - started)))
            if self.on_response:
                self.on_response(response)
            if response.status_code in retry_statuses and attempt < self.retry.max_retries:
                self._wait(attempt, self.retry_after(response), method, url, "HTTP %s" % response.status_code)
                attempt += 1
                continue
            if response.status_code >= 400:
                raise self._error(response, method, url)
            return response

    def _wait(self, attempt, retry_after, method, url, why):
        delay = self.retry.delay(attempt, retry_after)
        self._log("%s %s: %s, retry %d in %.2f s" % (method, url, why, attempt + 1, delay))
        self.retry.sleep(delay)

    def _log(self, text):
        if self.log:
            self.log(self.mask(text))

    def _error(self, response, method, url):
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        code, message, errors = self.error_parser(response.status_code, body, response.text)
        cls = error_class_for_status(response.status_code)
        # An API may echo a secret back (SIGNL4 names an unknown team secret): mask every text.
        errors = [dict((k, v if v is None or isinstance(v, (bool, int, float)) else self.mask(v)) for k, v in item.items())
                  if isinstance(item, dict) else self.mask(item) for item in errors or []]
        return cls(self.mask(message or response.reason or "HTTP %s" % response.status_code),
                   status=response.status_code, code=code, errors=errors, method=method,
                   url=self.mask(url), api=self.api_name)


class PooledClient:
    """Base of both API clients: a client owns one :class:`Transport` (``self.transport``) and
    is closed with ``close()``, by ``with client:`` or ``contextlib.closing(client)``."""

    transport = None

    def close(self):
        if self.transport is not None:
            self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False
