# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP transport shared by the Manage and SIGNL4 clients: one pooled
:class:`~http_session.HttpSession` (standard library only), timeouts, an overall deadline per request, TLS switch, bounded retries with full-jitter
exponential backoff that honour ``Retry-After``, interruptible waits, and masking of every
secret in URLs, messages and logs.

Retry rules (documented in the connection options' notes):

- nothing is retried that cannot succeed: TLS errors, unknown host names and invalid URLs fail at once;
- a refused connection or a connect timeout is retried for every method (nothing was sent);
- 429 is retried for every method (the server did not act on it);
- 5xx, read timeouts and dropped connections are retried for idempotent requests only. For a POST
  they raise :class:`OutcomeUnknownError`: the write may have been applied, the caller re-reads;
- every request, retries and waits included, ends within its deadline (twice the timeout by
  default): a retry whose wait would pass it is not made;
- an answer whose body is larger than the session reads (16 MiB, as sent or decoded) is not retried:
  it raises :class:`TransportError` naming the bound (:class:`OutcomeUnknownError` for a POST).

Thread safety: a :class:`Transport` may be shared by threads (the session's connection pool is
thread-safe; its headers, auth and TLS settings are set once here and never changed).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import random
import threading
import time
from urllib.parse import urlsplit

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import (
    CancelledError,
    InputError,
    OutcomeUnknownError,
    TransportError,
    UnexpectedResponseError,
    error_class_for_status,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.http_session import HttpFailure, HttpSession
from ansible_collections.signl4.connectwise.plugins.module_utils.redaction import Redactor

RETRY_STATUSES = (429, 500, 502, 503, 504)
_JSON_TYPES = {dict: "object", list: "list", str: "string", int: "number", float: "number", bool: "boolean",
               type(None): "null"}
IDEMPOTENT_METHODS = ("GET", "HEAD", "PUT", "DELETE", "PATCH")
DEADLINE_FACTOR = 2.0  # a request's overall deadline, in timeouts


MAX_TIMEOUT = 3600.0


def check_seconds(value, option):
    """A number of seconds above 0 and at most :data:`MAX_TIMEOUT` (sockets refuse larger ones),
    or :class:`InputError` naming ``option``."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if math.isnan(seconds) or not 0 < seconds <= MAX_TIMEOUT:
        raise InputError("%s must be a positive, finite number of seconds up to %d, got %r" % (option, MAX_TIMEOUT, value))
    return seconds


def check_http_url(url, option, default_scheme=None):
    """``urlsplit`` of an absolute http(s) URL with a host, or :class:`InputError` naming ``option``.
    ``default_scheme`` is put in front of a URL given without one (a bare host name)."""
    text = str(url or "").strip()
    if default_scheme and text and "://" not in text:
        text = "%s://%s" % (default_scheme, text)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise InputError("%s is not a valid URL (%s): %r" % (option, exc, url))
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InputError("%s must be an absolute http:// or https:// URL with a host name, got %r" % (option, url))
    return parts


class RetryPolicy:
    """Bounded exponential backoff with full jitter (as amazon.aws's ``jittered_backoff``).

    ``Retry-After`` wins over the computed delay, capped at ``retry_after_max`` seconds.
    Waits end early once the ``cancel`` event is set (from any thread, e.g. a SIGTERM handler):
    the request then raises :class:`CancelledError`. ``sleep``, ``rng`` and ``clock`` are
    injectable so tests and the agent can observe the waits.
    """

    def __init__(self, max_retries=5, backoff_base=0.5, backoff_max=30.0, retry_after_max=120.0,
                 sleep=None, rng=None, clock=None, cancel=None):
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_max = retry_after_max
        self.cancel = cancel or threading.Event()
        self._sleep = sleep
        self.rng = rng or random.random
        self.clock = clock or time.monotonic

    def delay(self, attempt, retry_after=None):
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.retry_after_max)
        return self.rng() * min(self.backoff_max, self.backoff_base * (2 ** attempt))

    def sleep(self, seconds):
        if self.cancel.is_set():
            raise CancelledError("retry wait cancelled: the client is shutting down")
        if self._sleep is not None:
            self._sleep(seconds)
        elif self.cancel.wait(seconds):
            raise CancelledError("retry wait cancelled: the client is shutting down")


def parse_retry_after(value):
    """Seconds from a ``Retry-After`` header; HTTP dates are treated as 'soon' (1 s)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return 1.0
    return seconds if math.isfinite(seconds) else 1.0


_FAILURE_TEXT = {
    "refused": "connection refused by %(origin)s (is the server running and the port right?)",
    "connect_timeout": "no connection to %(origin)s within %(timeout)s s",
    "read_timeout": "%(origin)s did not answer within %(timeout)s s",
    "dns": "the host name of %(origin)s does not resolve",
    "tls": "TLS error talking to %(origin)s (%(detail)s); check the URL's scheme (http/https) and the "
           "certificate, or turn certificate checks off for a lab server",
    "invalid": "invalid request URL (%(detail)s)",
    "lost": "the connection to %(origin)s failed before an answer came (%(detail)s)",
    "too_large": "%(origin)s sent an answer larger than the %(limit)s MiB the client reads (%(detail)s)",
}
_NOT_SENT = ("refused", "connect_timeout")
_NEVER_RETRIED = ("dns", "tls", "invalid")
_NOT_RETRIED_AFTER_SENDING = ("too_large",)  # the same request gets the same answer


class Transport:
    """Send requests to one API base URL. Never logs or raises a secret.

    ``timeout`` bounds each attempt, ``deadline`` (default ``DEADLINE_FACTOR`` x timeout) the
    whole request with its retries; ``options`` names the user-facing options in messages
    (``{"timeout": "cw_timeout", "url": "cw_url"}``)."""

    def __init__(self, base_url, api_name, error_parser, headers=None, auth=None, timeout=30.0,
                 validate_certs=True, retry=None, secrets=(), log=None, retry_after=None, on_response=None,
                 deadline=None, options=None, secret_segments=(), max_body_bytes=None):
        self.options = dict(timeout="timeout", url="url")
        self.options.update(options or {})
        self.base_url = base_url.rstrip("/")
        self.api_name = api_name
        self.error_parser = error_parser
        self.timeout = check_seconds(timeout, self.options["timeout"])
        self.deadline = check_seconds(deadline, "deadline") if deadline is not None else DEADLINE_FACTOR * self.timeout
        self.retry = retry or RetryPolicy()
        self.redactor = Redactor(secrets, basic_auth=":".join(auth) if auth else None, segment_after=secret_segments)
        self.log = log
        self.session = HttpSession(headers=headers, auth=auth, verify=validate_certs, max_body_bytes=max_body_bytes)
        # Hooks for APIs with their own throttling headers: ``retry_after(response)`` gives the
        # seconds to wait before retrying a 429/5xx (None: computed backoff); each of ``observers``
        # (``on_response`` first) sees every HTTP answer, errors included.
        self.retry_after = retry_after or (lambda response: parse_retry_after(response.headers.get("Retry-After")))
        self.observers = [on_response] if on_response else []
        # Each of ``before_send`` is called with (method, url) before every attempt, retries included; what it
        # raises ends the request unsent (the agent refuses to start one after its lease's deadline).
        self.before_send = []

    def close(self):
        """Release the pooled connections; the transport may not be used afterwards."""
        self.session.close()

    def mask(self, text):
        return self.redactor.text(text)

    def url(self, path):
        if path.startswith("http://") or path.startswith("https://"):
            return path
        return self.base_url + "/" + path.lstrip("/")

    def request(self, method, path, params=None, json=None, headers=None, idempotent=None):
        """Send one request, retrying what may be retried (see the module notes). Returns the
        :class:`~http_session.HttpResponse` of a 2xx answer; raises a typed :class:`ApiError` otherwise
        (a 3xx too: neither API redirects, so a redirect means a wrong URL).
        ``idempotent`` overrides the method's default (a POST that only reads, say)."""
        call = _Call(self, method.upper(), self.url(path), idempotent)
        kwargs = dict(params=params, json=json, headers=headers)
        while True:
            response = call.send(kwargs)
            if response is not None and 300 <= response.status_code < 400:
                raise self.unexpected(response, "a redirect to %s (use that URL in the connection options)"
                                      % (response.headers.get("Location") or "nowhere"))
            if response is not None and response.status_code < 400:
                return response
            if response is not None and not call.may_retry_status(response):
                raise self._error(response, call)

    # ----- answers --------------------------------------------------------------------
    def json(self, response, expect=None, what="answer"):
        """The JSON body of a 2xx ``response`` (``None`` when empty), checked to be an
        ``expect`` (``dict`` or ``list``) when given; :class:`UnexpectedResponseError` otherwise."""
        if response.status_code == 204 or not response.content:
            if expect is None:
                return None
            return expect()
        try:
            body = response.json()
        except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than Python parses
            raise self.unexpected(response, "a body that is not JSON")
        if expect is not None and not isinstance(body, expect):
            raise self.unexpected(response, "a JSON %s where %s was expected (%s)" % (
                _JSON_TYPES.get(type(body), type(body).__name__), "an object" if expect is dict else "a list", what))
        return body

    def unexpected(self, response, what):
        request = response.request
        snippet = " ".join((response.text or "")[:200].split())
        message = "%s (Content-Type %s): %s" % (what, response.headers.get("Content-Type") or "none", snippet or "empty")
        return UnexpectedResponseError(self.mask(message), status=response.status_code, method=request.method if request else None,
                                       url=self.mask(response.url), api=self.api_name)

    def _log(self, text):
        if self.log:
            self.log(self.mask(text))

    def _error(self, response, call):
        try:
            body = response.json() if response.content else None
        except (ValueError, RecursionError):
            body = None
        code, message, errors = self.error_parser(response.status_code, body, response.text)
        cls = error_class_for_status(response.status_code)
        if response.status_code >= 500 and not call.idempotent:
            cls = OutcomeUnknownError
            message = "%s - the write may have been applied; re-read before trying again" % (
                message or "HTTP %s" % response.status_code)
        # An API may echo a secret back (SIGNL4 names an unknown team secret): mask every text.
        if not isinstance(errors, list):
            errors = [errors]
        return cls(self.mask(message or response.reason or "HTTP %s" % response.status_code),
                   status=response.status_code, code=self.mask(code) if isinstance(code, str) else code,
                   errors=self.redactor.value(errors), method=call.method, url=self.mask(call.url), api=self.api_name)


class _Call:
    """One request with its attempts, deadline and waits."""

    def __init__(self, transport, method, url, idempotent):
        self.transport = transport
        self.method = method
        self.url = url
        self.idempotent = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        self.retry = transport.retry
        self.ends = self.retry.clock() + transport.deadline
        self.attempt = 0

    def send(self, kwargs):
        """One attempt: the response, or ``None`` when it failed and a retry is due."""
        transport = self.transport
        for check in transport.before_send:
            check(self.method, self.url)
        timeout = max(0.001, min(transport.timeout, self.ends - self.retry.clock()))
        started = time.time()
        try:
            response = transport.session.request(self.method, self.url, timeout=timeout, **kwargs)
        except HttpFailure as exc:
            self._after_failure(exc, timeout)
            return None
        transport._log("%s %s -> %s (%.0f ms)" % (self.method, self.url, response.status_code, 1000 * (time.time() - started)))
        for observe in transport.observers:
            observe(response)
        return response

    def _after_failure(self, exc, timeout):
        kind = exc.kind
        transport = self.transport
        parts = urlsplit(self.url)
        text = _FAILURE_TEXT[kind] % dict(origin="%s://%s" % (parts.scheme, parts.netloc), timeout="%g" % timeout,
                                          detail=exc.detail, limit="%g" % (transport.session.max_body_bytes / 1048576.0))
        retriable = kind in _NOT_SENT or (kind not in _NEVER_RETRIED + _NOT_RETRIED_AFTER_SENDING and self.idempotent)
        if retriable and self.wait(None, text):
            return
        cls = TransportError
        if kind not in _NOT_SENT + _NEVER_RETRIED and not self.idempotent:
            cls = OutcomeUnknownError
            text += "; the write may have been applied, re-read before trying again"
        raise cls(transport.mask(text), method=self.method, url=transport.mask(self.url), api=transport.api_name)

    def may_retry_status(self, response):
        status = response.status_code
        if status not in RETRY_STATUSES or (status != 429 and not self.idempotent):
            return False
        return self.wait(self.transport.retry_after(response), "HTTP %s" % status)

    def wait(self, retry_after, why):
        """Wait before the next attempt; ``False`` when the budget or the deadline is spent."""
        if self.attempt >= self.retry.max_retries:
            return False
        delay = self.retry.delay(self.attempt, retry_after)
        if self.retry.clock() + delay >= self.ends:
            self.transport._log("%s %s: %s, no retry: the %g s request deadline would pass"
                                % (self.method, self.url, why, self.transport.deadline))
            return False
        self.transport._log("%s %s: %s, retry %d in %.2f s" % (self.method, self.url, why, self.attempt + 1, delay))
        self.retry.sleep(delay)
        self.attempt += 1
        return True


class PooledClient:
    """Base of both API clients: a client owns one :class:`Transport` (``self.transport``) and
    is closed with ``close()``, by ``with client:`` or ``contextlib.closing(client)``."""

    transport = None
    cache = None  # cache.LookupCache of this client's own lookups

    def close(self):
        if self.transport is not None:
            self.transport.close()

    def prepare(self):
        """What must happen once before reads go out in parallel (Manage: codebase discovery)."""

    def concurrently(self, *reads, **kwargs):
        """Call each zero-argument ``read`` at the same time on the pooled session (at most
        ``max_workers``, default 4); results in the order given. The first error is raised once all
        reads have ended. Only for reads: a write must never race another request."""
        if len(reads) <= 1:
            return [read() for read in reads]
        # Imported here: a task whose reads all depend on each other does not pay for it.
        from concurrent.futures import ThreadPoolExecutor  # pylint: disable=import-outside-toplevel

        self.prepare()
        with ThreadPoolExecutor(max_workers=min(kwargs.get("max_workers", 4), len(reads))) as pool:
            futures = [pool.submit(read) for read in reads]
            return [future.result() for future in futures]

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False
