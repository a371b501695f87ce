"""The machinery both API emulators share: an HTTP server on 127.0.0.1, routing,
a journal of every exchange, and the test-only control endpoints.

An emulator subclasses :class:`Emulator`, registers its routes with
:meth:`Emulator.route` and implements :meth:`Emulator.reset_state`.
Everything under ``CONTROL_PREFIX`` is a test control the real APIs do not have:

    POST   /__emulator__/reset                  back to the seeded state, journal cleared
    GET    /__emulator__/requests               the journal (list of exchanges)
    DELETE /__emulator__/requests               clear the journal only
    POST   /__emulator__/faults                 {"status": 429, "count": 3, "retry_after": 1,
                                                 "method": "GET", "path": "regex", "body": {...}}
    DELETE /__emulator__/faults                 drop pending faults
    POST   /__emulator__/latency                {"seconds": 0.2}
    POST   /__emulator__/clock                  {"manual": true} freezes the emulator's clock,
                                                 {"advance": 2.5} steps it (see clock.py)
    anything else under the prefix              handled by the subclass's ``control_routes``
"""

import argparse
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.emulators.clock import Clock

CONTROL_PREFIX = "/__emulator__"


class Request:
    """One incoming HTTP request, decoded once."""

    def __init__(self, method, raw_path, headers, body):
        parts = urlsplit(raw_path)
        self.method = method
        self.raw_path = raw_path
        self.path = parts.path
        self.query = dict(parse_qs(parts.query, keep_blank_values=True))
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body
        self.params = {}  # filled from the route's named groups
        self.api_version = None  # the model version the request asked for, where the API has versions
        self._json = None
        self._json_error = None
        if body:
            try:
                self._json = json.loads(body.decode("utf-8"))
            except ValueError as exc:
                self._json_error = str(exc)

    def arg(self, name, default=None):
        """First value of a query parameter; names are matched case-insensitively as Manage does."""
        for key, values in self.query.items():
            if key.lower() == name.lower():
                return values[0]
        return default

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    @property
    def json(self):
        if self._json_error:
            raise HttpError(400, {"message": "Malformed JSON body: %s" % self._json_error})
        return self._json


class Response:
    def __init__(self, status, body=None, headers=None):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


class HttpError(Exception):
    """Raised by a route to answer with an error status and a vendor-shaped body."""

    def __init__(self, status, body, headers=None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


SECRET_HEADERS = ("authorization", "x-s4-api-key")


class Emulator:
    """Routing, journal and fault injection. Subclasses add the vendor's resources."""

    name = "emulator"
    content_type = "application/json"

    def __init__(self):
        self.clock = getattr(self, "clock", None) or Clock()  # a subclass may have made it already
        self._routes = []
        self._control_routes = []
        self.lock = threading.RLock()
        self.journal = []
        self.faults = []
        self.latency = 0.0
        self._register_base_controls()
        self.reset()

    # ----- registration -------------------------------------------------
    def route(self, method, pattern, handler, control=False):
        """Register ``handler(request)`` for ``method`` and a path regex (named groups become
        ``request.params``). Patterns are matched case-insensitively, as path segments are in Manage."""
        target = self._control_routes if control else self._routes
        target.append((method.upper(), re.compile("^" + pattern + "$", re.IGNORECASE), handler))

    def _register_base_controls(self):
        self.route("POST", "/reset", lambda r: self._control_reset(), control=True)
        self.route("GET", "/requests", lambda r: Response(200, list(self.journal)), control=True)
        self.route("DELETE", "/requests", lambda r: self._clear_journal(), control=True)
        self.route("POST", "/faults", self._control_add_fault, control=True)
        self.route("DELETE", "/faults", lambda r: self._clear_faults(), control=True)
        self.route("POST", "/latency", self._control_latency, control=True)
        self.route("POST", "/clock", self._control_clock, control=True)

    # ----- hooks for subclasses ----------------------------------------
    def reset_state(self):
        raise NotImplementedError

    def authenticate(self, request):
        """Raise HttpError when the request's credentials are wrong."""

    def not_found(self, request):
        return HttpError(404, {"message": "Not found"})

    def fault_body(self, status):
        return {"message": "Injected fault %d" % status}

    def finish(self, request, response):
        """Last touch on every API response before it is journaled (e.g. version headers)."""

    def clock_listeners(self):
        """Conditions to wake when the test moves the clock (delivery queues)."""
        return ()

    def strip_prefix(self, path):
        """Map a request path to the route space (e.g. drop a codebase prefix); None = unknown."""
        return path

    # ----- controls -----------------------------------------------------
    def reset(self):
        with self.lock:
            self.journal = []
            self.faults = []
            self.latency = 0.0
            self.clock.configure(manual=False, listeners=self.clock_listeners())
            self.reset_state()

    def _control_reset(self):
        self.reset()
        return Response(204)

    def _clear_journal(self):
        with self.lock:
            self.journal = []
        return Response(204)

    def _clear_faults(self):
        with self.lock:
            self.faults = []
        return Response(204)

    def _control_add_fault(self, request):
        spec = dict(request.json or {})
        spec.setdefault("count", 1)
        spec.setdefault("status", 500)
        if "path" in spec:
            spec["_re"] = re.compile(spec["path"], re.IGNORECASE)
        with self.lock:
            self.faults.append(spec)
        return Response(204)

    def _control_latency(self, request):
        with self.lock:
            self.latency = float((request.json or {}).get("seconds", 0))
        return Response(204)

    def _control_clock(self, request):
        spec = request.json
        if not isinstance(spec, dict) or set(spec) - {"manual", "advance"}:
            raise HttpError(400, {"message": 'expected {"manual": bool, "advance": seconds}'})
        manual, advance = spec.get("manual"), spec.get("advance", 0)
        if manual is not None and not isinstance(manual, bool) or isinstance(advance, bool) \
                or not isinstance(advance, (int, float)):
            raise HttpError(400, {"message": "manual is a boolean, advance a number of seconds"})
        try:
            return Response(200, self.clock.configure(manual, advance, self.clock_listeners()))
        except ValueError as exc:
            raise HttpError(400, {"message": str(exc)}) from None

    def _take_fault(self, request):
        with self.lock:
            for fault in self.faults:
                if fault.get("method") and fault["method"].upper() != request.method:
                    continue
                if fault.get("_re") and not fault["_re"].search(request.path):
                    continue
                fault["count"] -= 1
                if fault["count"] <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    # ----- dispatch -----------------------------------------------------
    @staticmethod
    def _match(routes, method, path):
        allowed = False
        for route_method, regex, handler in routes:
            match = regex.match(path)
            if match:
                if route_method == method:
                    return handler, match.groupdict()
                allowed = True
        return None, allowed

    def handle(self, request):
        if request.path.startswith(CONTROL_PREFIX):
            handler, params = self._match(self._control_routes, request.method, request.path[len(CONTROL_PREFIX):])
            if not handler:
                return Response(404, {"message": "unknown control"})
            request.params = params
            try:
                return handler(request)
            except HttpError as err:
                return Response(err.status, err.body, err.headers)
            except (TypeError, ValueError, KeyError, AttributeError, OverflowError) as exc:
                # a control given the wrong shape: the test's mistake, not the emulator's
                return Response(400, {"message": "bad control input: %s" % exc})

        response = self._handle_api(request)
        self.finish(request, response)
        self._record(request, response)
        return response

    def _handle_api(self, request):
        if self.latency:
            self.clock.sleep(self.latency)
        fault = self._take_fault(request)
        if fault:
            headers = {}
            if fault.get("retry_after") is not None:
                headers["Retry-After"] = str(fault["retry_after"])
            return Response(fault["status"], fault.get("body", self.fault_body(fault["status"])), headers)
        try:
            path = self.strip_prefix(request.path)
            if path is None:
                raise self.not_found(request)
            self.authenticate(request)
            handler, params = self._match(self._routes, request.method, path)
            if handler is None:
                if params:  # the path exists, the method does not
                    raise HttpError(405, {"message": "The requested resource does not support http method '%s'." % request.method})
                raise self.not_found(request)
            request.params = params
            with self.lock:
                return handler(request)
        except HttpError as err:
            return Response(err.status, err.body, err.headers)

    def _record(self, request, response):
        headers = {k: ("***" if k in SECRET_HEADERS else v) for k, v in request.headers.items()}
        entry = {
            "method": request.method,
            "path": request.path,
            "raw_path": request.raw_path,
            "query": request.query,
            "headers": headers,
            "request_json": request._json,
            "status": response.status,
            "response_json": response.body,
            "response_headers": dict(response.headers),
            "api_version": request.api_version,
            "time": self.clock.time(),
        }
        with self.lock:
            self.journal.append(entry)


class _Handler(BaseHTTPRequestHandler):
    emulator = None  # set per server class
    protocol_version = "HTTP/1.1"

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, self.headers, body)
        try:
            response = self.emulator.handle(request)
        except Exception as exc:  # a bug in the emulator must still answer, loudly
            response = Response(500, {"message": "emulator error: %r" % exc})
            sys.stderr.write("emulator error on %s %s: %r\n" % (self.command, self.path, exc))
        payload = b""
        if response.body is not None and response.status != 204:
            payload = json.dumps(response.body).encode("utf-8")
        self.send_response(response.status)
        headers = dict(response.headers)
        if payload:
            headers.setdefault("Content-Type", self.emulator.content_type)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, fmt, *args):  # the journal is the log; keep stderr quiet
        return


def make_server(emulator, port=0):
    handler = type("Handler", (_Handler,), {"emulator": emulator})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def run_main(emulator_factory, argv=None, configure_parser=None):
    """Entry point of ``python -m tests.emulators.X``: parse flags, bind 127.0.0.1, print one
    ready line (with the real port, so ``--port 0`` works) and serve until killed."""
    parser = argparse.ArgumentParser(description=emulator_factory.__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 picks a free one)")
    if configure_parser:
        configure_parser(parser)
    args = parser.parse_args(argv)
    emulator = emulator_factory(args)
    server = make_server(emulator, args.port)
    port = server.server_address[1]
    print("%s emulator ready on http://127.0.0.1:%d" % (emulator.name, port), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
