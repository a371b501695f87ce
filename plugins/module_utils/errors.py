# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed errors shared by both API clients, the modules and the sync agent.

Modules turn every one of these into ``fail_json`` in one place (``module.ApiModule``);
the agent catches them by type.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class IntegrationError(Exception):
    """Base of everything this collection raises on purpose."""


class InputError(IntegrationError):
    """The caller's input is wrong; detected before anything was written."""


class UnknownNameError(InputError):
    """A name given for a lookup (a board, a security role, a custom field) names no record."""


class ApiError(IntegrationError):
    """An API answered with an error. Carries the API's own ``code``, ``message`` and ``errors``.

    ``url`` is already masked: it never holds a secret (team secrets travel in SIGNL4 paths).
    ``hint`` is this collection's advice (the options to check), kept apart from the API's words so
    that a caller with other names for those options (the integration role) can give its own.
    """

    def __init__(self, message, status=None, code=None, errors=None, method=None, url=None, api="API", hint=None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status = status
        self.code = code
        self.errors = errors or []
        self.method = method
        self.url = url
        self.api = api

    def __str__(self):
        head = "%s %s" % (self.api, "error" if self.status is None else "returned HTTP %s" % self.status)
        if self.code:
            head += " (%s)" % self.code
        text = "%s: %s" % (head, self.message)
        if self.hint:
            text += " - " + self.hint
        details = []
        for item in self.errors:
            if isinstance(item, dict):
                field = item.get("field") or item.get("resource") or ""
                details.append(("%s: %s" % (field, item.get("message"))) if field else str(item.get("message")))
            else:
                details.append(str(item))
        if details:
            text += " [" + "; ".join(details) + "]"
        if self.method and self.url:
            text += " (%s %s)" % (self.method, self.url)
        return text

    def to_dict(self):
        return dict(status=self.status, code=self.code, message=self.message, errors=self.errors,
                    method=self.method, url=self.url, hint=self.hint)


class TransportError(ApiError):
    """No HTTP answer at all: connection refused, DNS, TLS, timeout (after retries)."""


class OutcomeUnknownError(ApiError):
    """A write that may or may not have been applied (a 5xx or a timeout after the request was
    sent). Never retried blindly: the caller re-reads and decides (see ``engine.ensure``)."""


class UnexpectedResponseError(ApiError):
    """A 2xx answer whose body is not JSON or not of the expected shape (a proxy's HTML page,
    a list where one object was due)."""


class CancelledError(IntegrationError):
    """A retry wait was interrupted (the ``RetryPolicy``'s ``cancel`` event set, e.g. on SIGTERM in the agent)."""


class AuthenticationError(ApiError):
    """401: the credentials were refused."""


class PermissionDeniedError(ApiError):
    """403: authenticated, but the security role does not allow it."""


class NotFoundError(ApiError):
    """404: the record or the endpoint does not exist."""


class ConflictError(ApiError):
    """409: the object's state forbids the change (e.g. an alert life-cycle move)."""


class ValidationError(ApiError):
    """400: the API refused the payload."""


class RateLimitedError(ApiError):
    """429 that outlived every retry."""


class ServerError(ApiError):
    """5xx that outlived every retry."""


_BY_STATUS = {400: ValidationError, 401: AuthenticationError, 403: PermissionDeniedError,
              404: NotFoundError, 409: ConflictError, 429: RateLimitedError}


def error_class_for_status(status):
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status is not None and status >= 500:
        return ServerError
    return ApiError
