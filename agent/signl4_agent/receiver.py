"""The agent's HTTP endpoints, as one WSGI application served by waitress.

    POST /t/{tenant}/signl4/{webhook_token}           SIGNL4 outbound webhooks of a tenant
    POST /t/{tenant}/manage/{callback_token}/callback  Manage callbacks of a tenant (with its callback_token)
    POST /signl4/{webhook_token}, /manage/{callback_token}/callback: the same for a file without ``tenants:``
    GET  /healthz                           the tenants this node drives, each fresh (503 when one is stale)
    GET  /readyz                            200 when this node can take deliveries (its store answers)
    GET  /metrics                           Prometheus

A wrong token answers 404 (as an unknown path: nothing tells a prober the path exists); a
malformed body answers 400 and writes nothing; bodies over ``listen.max_body_bytes`` 413.

Under abuse (:func:`serve`): every request must have its headers within ``listen.header_timeout``
and its body within ``listen.body_timeout`` seconds of its first byte, however steadily it trickles;
waitress itself only drops connections idle for ``listen.channel_timeout``, so :class:`GuardedServer`
adds these deadlines to its maintenance. At most ``listen.max_connections`` connections are open (a
further one waits in the kernel's backlog), each holding at most ``MAX_HEADER_BYTES`` of headers and
``listen.max_body_bytes`` of body in memory. A request with both ``Content-Length`` and
``Transfer-Encoding`` (or ``Transfer-Encoding`` in HTTP/1.0) answers 400 and its connection is closed,
so nothing sent behind it is read as another request (RFC 9112, section 6.1).
"""

import hmac
import json
import logging
import threading
import time

from signl4_agent import inbound
from signl4_agent.constants import DEFAULT_TENANT
from signl4_agent.metrics import CONTENT_TYPE
from signl4_agent.store import StoreUnavailable

log = logging.getLogger("signl4_agent.receiver")
REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           405: "Method Not Allowed", 411: "Length Required", 413: "Payload Too Large", 429: "Too Many Requests",
           503: "Service Unavailable"}


def _token_ok(given, expected):
    return bool(expected) and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class Receiver:
    """The WSGI application. All it reaches of the agent is its inbox (:class:`inbound.Inbox`, or
    :class:`inbound.Inboxes` for a process with several tenants)."""

    def __init__(self, inbox, config):
        self.inbox = inbox
        self.listen = config["listen"]
        self.max_body = self.listen["max_body_bytes"]
        # Each tenant's tokens; a file without ``tenants:`` serves its one tenant at the paths without /t/<id> too.
        self.tenants = {tenant["id"]: tenant["listen"] for tenant in config.get("tenants", ())}
        self.untenanted = None if config.get("tenanted") else self.listen

    def __call__(self, environ, start_response):
        status, body, content_type = self.dispatch(environ)
        start_response(f"{status} {REASONS.get(status, '')}", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def dispatch(self, environ):
        method, parts = environ["REQUEST_METHOD"], [p for p in environ.get("PATH_INFO", "").split("/") if p]
        if parts in (["healthz"], ["readyz"], ["metrics"]):
            if method != "GET":
                return self._json(405, {"error": "method not allowed"})
            if parts == ["metrics"]:
                return 200, self.inbox.metrics(), CONTENT_TYPE
            return self.health() if parts == ["healthz"] else self.ready()
        tenant, listen, rest = self._route(parts)
        if listen is not None and len(rest) == 2 and rest[0] == "signl4" and _token_ok(rest[1], listen["webhook_token"]):
            return self._post(environ, method, "signl4", tenant, lambda body: self.inbox.webhook(tenant, body))
        if listen is not None and len(rest) == 3 and rest[0] == "manage" and rest[2] == "callback" and \
                _token_ok(rest[1], listen["callback_token"]):
            signature = environ.get("HTTP_X_CONTENT_SIGNATURE")
            return self._post(environ, method, "manage", tenant, lambda body: self.inbox.callback(tenant, body, signature))
        if rest and rest[0] in ("signl4", "manage"):
            self.inbox.count(rest[0], "bad_token", tenant)
            log.warning("refused a %s request to %s/%s/... with a wrong token or path", method,
                        f"/t/{tenant}" if tenant and parts[0] == "t" else "", rest[0])
        return self._json(404, {"error": "not found"})

    def _route(self, parts):
        """``(tenant, its listen settings, the rest of the path)``; no settings for a tenant not configured."""
        if len(parts) >= 2 and parts[0] == "t":
            listen = self.tenants.get(parts[1])
            return (parts[1], listen, parts[2:]) if listen is not None else (None, None, parts[2:])
        if self.untenanted is not None:
            return DEFAULT_TENANT, self.untenanted, parts
        return None, None, parts

    def _post(self, environ, method, source, tenant, handler):
        if method != "POST":
            return self._json(405, {"error": "method not allowed"})
        try:
            outcome = handler(self._body(environ))
        except inbound.BadRequest as exc:
            self.inbox.count(source, "rejected", tenant)
            log.warning("refused a %s delivery: %s", source, exc)
            return self._json(exc.status, {"error": str(exc)})
        except StoreUnavailable as exc:  # expected while the state database restarts: one line, not a traceback
            self.inbox.count(source, "error", tenant)
            log.warning("a %s delivery was not stored (%s); the sender retries or polling catches up", source, exc)
            return self._json(503, {"error": "try again later"})
        except Exception:  # noqa: BLE001 - the receiver stays up; the sender retries or polling catches up
            self.inbox.count(source, "error", tenant)
            log.exception("a %s delivery failed", source)
            return self._json(503, {"error": "try again later"})
        self.inbox.count(source, outcome, tenant)
        return self._json(202 if outcome == "queued" else 200, {"outcome": outcome})  # queued: verified later

    def _body(self, environ):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise inbound.BadRequest("bad Content-Length") from None
        if length > self.max_body:
            raise inbound.BadRequest(f"body larger than {self.max_body} bytes", 413)
        if length <= 0:
            raise inbound.BadRequest("empty body")
        return environ["wsgi.input"].read(length)

    def health(self):
        report = self.inbox.health()
        return self._json(200 if report["healthy"] else 503, report)

    def ready(self):
        report = self.inbox.ready()
        return self._json(200 if report["ready"] else 503, report)

    @staticmethod
    def _json(status, data):
        return status, json.dumps(data).encode("utf-8"), "application/json"


class Served:
    """A waitress server on a thread of its own. ``close()`` ends the thread's loop first and closes
    the sockets after it: closing them under the running loop (waitress's own ``run``) made the
    receiver thread raise at shutdown."""

    LOOP_SECONDS = 0.2  # how long one turn of the loop may wait for a socket event

    def __init__(self, server):
        self.server = server
        self.effective_port = server.effective_port
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="receiver", daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopped.is_set():
            # waitress's map of its listening socket and channels (``BaseWSGIServer.run`` passes the same)
            self.server.asyncore.loop(timeout=self.LOOP_SECONDS, map=self.server._map, count=1,
                                      use_poll=self.server.adj.asyncore_use_poll)

    def close(self):
        self.stopped.set()
        self.server.pull_trigger()  # wakes the loop now instead of after its timeout
        self.thread.join(5)
        self.server.task_dispatcher.shutdown()
        self.server.asyncore.close_all(self.server._map)


MAX_HEADER_BYTES = 16 * 1024  # request line and headers; SIGNL4's and Manage's are well under 2 KiB
FILES_BESIDES_CONNECTIONS = 64  # the state database, API connections, waitress's triggers


def _waitress_classes():
    """waitress's parser, channel and server with the deadlines and the framing check of this module
    (built on first use: the agent's other commands never import waitress)."""
    from waitress.channel import HTTPChannel
    from waitress.parser import HTTPRequestParser, ParsingError, TransferEncodingNotImplemented
    from waitress.server import TcpWSGIServer

    class SeenHeaders(dict):
        """The parser's headers; waitress pops ``Transfer-Encoding`` from them, this remembers it was there."""

        transfer_encoding = None

        def pop(self, key, *default):
            if key == "TRANSFER_ENCODING" and key in self:
                self.transfer_encoding = self[key]
            return dict.pop(self, key, *default)

    class Request(HTTPRequestParser):
        """One request as it arrives; ``started`` is when its first byte came (waitress makes the
        parser when a request's first data arrives)."""

        def __init__(self, adj):
            HTTPRequestParser.__init__(self, adj)
            self.started = time.monotonic()
            self.headers = SeenHeaders()

        def parse_header(self, header_plus):
            try:
                HTTPRequestParser.parse_header(self, header_plus)
            except TransferEncodingNotImplemented:
                if "CONTENT_LENGTH" not in self.headers:
                    raise  # 501, and waitress closes the connection
            problem = _framing_problem(self.headers, self.version)
            if problem:
                raise ParsingError(problem)  # 400, and waitress closes the connection

    class Channel(HTTPChannel):
        parser_class = Request

    class Server(TcpWSGIServer):
        channel_class = Channel
        deadlines = (10.0, 30.0)  # (headers, body) in seconds from a request's first byte

        def maintenance(self, now):
            TcpWSGIServer.maintenance(self, now)  # idle connections (channel_timeout)
            _close_overdue(self.active_channels.values(), self.deadlines)

    return Server


def _framing_problem(headers, version):
    """Why a request's framing is ambiguous (RFC 9112, 6.1), or ``None``. ``headers`` is the parser's
    (``TRANSFER_ENCODING`` popped, and remembered, by waitress for HTTP/1.1)."""
    transfer_encoding = headers.transfer_encoding is not None or "TRANSFER_ENCODING" in headers
    if transfer_encoding and "CONTENT_LENGTH" in headers:
        return "both Content-Length and Transfer-Encoding"
    if transfer_encoding and version == "1.0":
        return "Transfer-Encoding in an HTTP/1.0 request"
    return None


def _close_overdue(channels, deadlines):
    overdue = _overdue(channels, deadlines, time.monotonic())
    for channel in overdue:
        channel.will_close = True  # the loop closes it at its next turn
    if overdue:
        log.debug("closing %d connection(s) whose request was not complete in time", len(overdue))


def _overdue(channels, deadlines, now):
    """The channels whose request in progress has passed its header or body deadline."""
    header_seconds, body_seconds = deadlines
    overdue = []
    for channel in list(channels):
        request = channel.request
        if request is None or request.completed or channel.will_close:
            continue
        limit = body_seconds if request.headers_finished else header_seconds
        if now - request.started > limit:
            overdue.append(channel)
    return overdue


def _enough_files(connections):
    """Raise the soft limit of open files to what ``connections`` need (up to the hard limit)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return
    needed = connections + FILES_BESIDES_CONNECTIONS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target < needed:
            log.warning("listen.max_connections is %d but only %d files may be open; lower it or raise LimitNOFILE",
                        connections, target)


def serve(app, config):
    """The waitress server of ``app`` running on its own thread (:class:`Served`; ``close()`` stops it)."""
    from waitress.adjustments import Adjustments
    from waitress.task import ThreadedTaskDispatcher
    listen = config["listen"]
    _enough_files(listen["max_connections"])
    adj = Adjustments(host=listen["host"], port=listen["port"], threads=4, ident="signl4-agent", expose_tracebacks=False,
                      max_request_body_size=listen["max_body_bytes"], inbuf_overflow=listen["max_body_bytes"] + 1,
                      max_request_header_size=MAX_HEADER_BYTES, channel_timeout=listen["channel_timeout"],
                      cleanup_interval=1, asyncore_use_poll=True)
    adj.connection_limit = listen["max_connections"] + 2 * len(adj.listen)  # waitress counts its listeners and triggers
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    server_class, shared = _waitress_classes(), {}
    # One server per address the host resolves to, on one map, loop and thread pool (as waitress's create_server).
    servers = [server_class(app, shared, dispatcher=dispatcher, adj=adj, sockinfo=sockinfo) for sockinfo in adj.listen]
    for server in servers:
        server.deadlines = (listen["header_timeout"], listen["body_timeout"])
    return Served(servers[0])
