# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A pooled HTTP/1.1 client on the standard library's ``http.client``, under :mod:`transport`.

Why not ``requests``: every task runs its module in a new process, and importing ``requests``
(urllib3, charset detection, idna, certifi) costs about 45 ms more per task than ``http.client``
(``tests/bench/provisioning.py``). The APIs need only what is here:

- keep-alive connections pooled per origin, safe to share between threads (each request has a
  connection to itself; a connection the server closed while idle is not reused);
- certificates checked against ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` when set (as with
  ``requests``), else the system's store (``SSL_CERT_FILE``/``SSL_CERT_DIR``), else ``certifi``'s;
- proxies from ``http_proxy``/``https_proxy``/``all_proxy`` and ``no_proxy`` (an ``http://`` proxy,
  with user and password if given; HTTPS goes through it with ``CONNECT``);
- gzip answers; Basic auth; query parameters (``None`` dropped, lists repeated); JSON bodies;
- every answer's body read up to a bound (``MAX_BODY_BYTES`` by default, 16 MiB), as sent and once
  decoded from gzip or deflate, chunked or not: a larger one raises :class:`ResponseTooLarge` naming
  the bound, after reading at most the bound, and its connection is closed.

Redirects are not followed: neither API redirects, and a redirected write must not become a GET.
A request that gets no HTTP answer raises :class:`HttpFailure` with what went wrong (``kind``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import http.client
import json as json_module
import os
import select
import socket
import threading
import time
import zlib
from urllib.parse import quote, unquote, urlencode, urlsplit

DEFAULT_HEADERS = {"User-Agent": "signl4.connectwise", "Accept-Encoding": "gzip", "Accept": "*/*"}
MAX_IDLE_PER_ORIGIN = 10
MAX_BODY_BYTES = 16 * 1024 * 1024  # an answer's body as sent and once decoded; neither API sends more than a few MiB
READ_CHUNK = 64 * 1024
# What requests' requote_uri leaves alone: reserved and unreserved characters, and existing %-escapes.
SAFE_URL_CHARS = "!#$%&'()*+,/:;=?@[]~"


class HttpFailure(Exception):
    """No HTTP answer. ``kind``: ``refused``, ``connect_timeout``, ``dns``, ``tls`` or ``invalid``
    (nothing was sent), ``read_timeout`` or ``lost`` (sent, the answer did not come)."""

    def __init__(self, kind, detail):
        Exception.__init__(self, detail)
        self.kind = kind
        self.detail = detail


class ResponseTooLarge(HttpFailure):
    """An answer whose body (as sent, or decoded from gzip or deflate) is larger than ``limit`` bytes."""

    def __init__(self, limit, detail):
        HttpFailure.__init__(self, "too_large", "%s; at most %d bytes are read" % (detail, limit))
        self.limit = limit


class HttpRequest:
    def __init__(self, method, url):
        self.method = method
        self.url = url


class HttpResponse:
    """What the transport and its observers read of an answer (named as in ``requests``)."""

    def __init__(self, request, status_code, reason, headers, content, elapsed):
        self.request = request
        self.status_code = status_code
        self.reason = reason
        self.headers = headers  # http.client.HTTPMessage: get() ignores case
        self.content = content
        self.elapsed = datetime.timedelta(seconds=elapsed)

    @property
    def url(self):
        return self.request.url

    @property
    def text(self):
        charset = self.headers.get_content_charset() if self.headers is not None else None
        try:
            return self.content.decode(charset or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know
            return self.content.decode("utf-8", errors="replace")

    def json(self):
        """The body as JSON; ``ValueError`` when it is not JSON."""
        return json_module.loads(self.text)


def _kind_of_connect_error(exc):
    if isinstance(exc, socket.gaierror):
        return "dns"
    if isinstance(exc, TimeoutError):
        return "connect_timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if type(exc).__module__ == "ssl" or isinstance(exc, ValueError):  # SSLError, SSLCertVerificationError
        return "tls"
    return "lost"


def _decoded(content, encoding, limit):
    """The body without its ``Content-Encoding`` (gzip or deflate), at most ``limit`` bytes of it."""
    encoding = (encoding or "").strip().lower()
    if encoding not in ("gzip", "x-gzip", "deflate"):
        return content
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS)
    try:
        data = decoder.decompress(content, limit + 1)  # one byte more than allowed tells a larger body
    except zlib.error as exc:
        raise HttpFailure("lost", "the %s answer could not be decoded (%s)" % (encoding, exc))
    if len(data) > limit:
        raise ResponseTooLarge(limit, "the %s answer decodes to more than %d bytes" % (encoding, limit))
    return data


def _read_body(response, limit):
    """The body of ``response`` as sent (``Content-Length`` or chunked), refused beyond ``limit`` bytes
    before more than ``limit`` of it is read."""
    if response.length is not None and response.length > limit:
        raise ResponseTooLarge(limit, "the answer says its body is %d bytes" % response.length)
    parts, size = [], 0
    while True:
        piece = response.read(min(READ_CHUNK, limit + 1 - size))
        if not piece:
            return b"".join(parts)
        size += len(piece)
        if size > limit:
            raise ResponseTooLarge(limit, "the answer's body is more than %d bytes" % limit)
        parts.append(piece)


def _basic(user, password):
    token = ("%s:%s" % (user, password))
    try:
        raw = token.encode("latin-1")
    except UnicodeEncodeError:
        raw = token.encode("utf-8")
    return "Basic " + base64.b64encode(raw).decode("ascii")


def environment_proxy(scheme, host):
    """The proxy URL for ``scheme://host`` from the environment, or ``None``."""
    if not any(name.lower().endswith("_proxy") for name in os.environ):
        return None  # the common case, without importing urllib.request
    import urllib.request  # pylint: disable=import-outside-toplevel

    proxies = urllib.request.getproxies_environment()
    if not proxies or urllib.request.proxy_bypass_environment(host, proxies):
        return None
    return proxies.get(scheme) or proxies.get("all")


class _Target:
    """One request's URL, split into what the connection needs."""

    def __init__(self, url, params):
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise HttpFailure("invalid", "%s" % exc)
        self.scheme = parts.scheme.lower()
        if self.scheme not in ("http", "https") or not parts.hostname:
            raise HttpFailure("invalid", "not an absolute http(s) URL")
        self.host = parts.hostname
        self.port = port or (443 if self.scheme == "https" else 80)
        query = [parts.query] if parts.query else []
        pairs = [(key, value) for key, value in (params or {}).items() if value is not None]
        if pairs:
            query.append(urlencode(pairs, doseq=True))
        self.path = quote(parts.path or "/", safe=SAFE_URL_CHARS) + ("?" + "&".join(query) if query else "")
        self.url = "%s://%s%s" % (self.scheme, parts.netloc, self.path)
        self.origin = (self.scheme, self.host, self.port)


class _Proxy:
    def __init__(self, url):
        parts = urlsplit(url if "://" in url else "http://" + url)
        if parts.scheme.lower() != "http" or not parts.hostname:
            raise HttpFailure("invalid", "only http:// proxies are supported (from the *_proxy environment variables)")
        self.host = parts.hostname
        self.port = parts.port or 8080
        self.headers = {}
        if parts.username:
            self.headers["Proxy-Authorization"] = _basic(unquote(parts.username), unquote(parts.password or ""))


class HttpSession:
    """Send requests on pooled keep-alive connections. ``auth``: ``(user, password)`` for Basic auth;
    ``verify``: check TLS certificates and host names."""

    def __init__(self, headers=None, auth=None, verify=True, max_body_bytes=None):
        self.headers = dict(DEFAULT_HEADERS)
        self.max_body_bytes = MAX_BODY_BYTES if max_body_bytes is None else int(max_body_bytes)
        self.headers.update(headers or {})
        if auth:
            self.headers["Authorization"] = _basic(*auth)
        self.verify = verify
        self._idle = {}  # (origin, proxy) -> [connection]
        self._lock = threading.Lock()
        self._tls = None
        self._closed = False

    # ----- connections -------------------------------------------------------------------
    def tls_context(self):
        if self._tls is None:
            # Imported here: plain http needs no TLS.
            import ssl  # pylint: disable=import-outside-toplevel

            if not self.verify:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            else:
                context = ssl.create_default_context(
                    cafile=os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None)
                bundle = None if context.cert_store_stats().get("x509_ca") else _certifi_bundle()
                if bundle:
                    context.load_verify_locations(cafile=bundle)
            self._tls = context
        return self._tls

    def _new_connection(self, target, proxy, timeout):
        host, port = (proxy.host, proxy.port) if proxy else (target.host, target.port)
        if target.scheme == "https":
            connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=self.tls_context())
            if proxy:
                connection.set_tunnel(target.host, target.port, headers=proxy.headers)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        try:
            connection.connect()
        except (OSError, ValueError) as exc:
            connection.close()
            raise HttpFailure(_kind_of_connect_error(exc), _one_line(exc))
        return connection

    def _take(self, key):
        with self._lock:
            idle = self._idle.get(key) or []
            while idle:
                connection = idle.pop()
                if not _dropped(connection):
                    return connection
                connection.close()
        return None

    def _give_back(self, key, connection):
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if self._closed or len(idle) >= MAX_IDLE_PER_ORIGIN:
                connection.close()
            else:
                idle.append(connection)

    def idle_connections(self):
        with self._lock:
            return sum(len(idle) for idle in self._idle.values())

    def close(self):
        """Close the idle connections; a request still running closes its own when it ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    # ----- requests ----------------------------------------------------------------------
    def request(self, method, url, params=None, json=None, headers=None, timeout=30.0):
        """One exchange: an :class:`HttpResponse` whatever its status, or :class:`HttpFailure`."""
        target = _Target(url, params)
        proxy_url = environment_proxy(target.scheme, target.host)
        proxy = _Proxy(proxy_url) if proxy_url else None
        sent_headers = dict(self.headers)
        sent_headers.update(headers or {})
        body = self._body(json, sent_headers)
        request_target = target.path
        if proxy and target.scheme == "http":
            request_target = target.url  # a plain-HTTP proxy is asked for the absolute URL
            sent_headers.update(proxy.headers)
        key = (target.origin, proxy_url)
        started = time.monotonic()
        connection = self._take(key) or self._new_connection(target, proxy, timeout)
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        status, reason, answer_headers, content, reusable = self._exchange(
            connection, method, request_target, body, sent_headers, self.max_body_bytes)
        if reusable:
            self._give_back(key, connection)
        else:
            connection.close()
        return HttpResponse(HttpRequest(method, target.url), status, reason, answer_headers,
                            _decoded(content, answer_headers.get("Content-Encoding"), self.max_body_bytes),
                            time.monotonic() - started)

    @staticmethod
    def _body(json, headers):
        if json is None:
            return None
        try:
            body = json_module.dumps(json, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise HttpFailure("invalid", "the request body is not JSON (%s)" % exc)
        headers.setdefault("Content-Type", "application/json")
        return body

    @staticmethod
    def _exchange(connection, method, request_target, body, headers, limit):
        try:
            try:
                connection.request(method, request_target, body=body, headers=headers)
            except (http.client.InvalidURL, ValueError) as exc:  # a control character in the URL or a header
                raise HttpFailure("invalid", _one_line(exc))
            response = connection.getresponse()
            content = _read_body(response, limit)
        except TimeoutError as exc:  # sent (or partly): the answer did not come in time
            connection.close()
            raise HttpFailure("read_timeout", _one_line(exc))
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            raise HttpFailure("lost", _one_line(exc))
        except HttpFailure:
            connection.close()
            raise
        return response.status, response.reason, response.headers, content, not response.will_close


def _dropped(connection):
    """True when the server closed an idle connection (or sent something unasked)."""
    sock = connection.sock
    if sock is None:
        return True
    try:
        readable, _w, _x = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _certifi_bundle():
    try:
        # Only where the system has no CA store.
        import certifi  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return certifi.where()


def _one_line(exc):
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__
