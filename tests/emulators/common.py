"""The machinery both API emulators share: requests and responses, routing, a bounded journal
of every exchange, fault injection and the test-only control endpoints. The HTTP server
itself (limits, timeouts, the entry point) is in :mod:`tests.emulators.server`.

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

import collections
import json
import re
import threading
from urllib.parse import parse_qs, urlsplit

from tests.emulators.clock import Clock

CONTROL_PREFIX = "/__emulator__"


MAX_JSON_DEPTH = 64  # no API body of either vendor is nested deeper than a few levels
JOURNAL_BUDGET = 32 * 1024 * 1024  # bytes of request and response bodies the journal keeps


def json_depth(value):
    """How deeply ``value`` nests (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


class Journal:
    """The exchanges an emulator answered, oldest first, within a memory budget: the oldest
    entries go once the bodies they hold pass ``budget`` bytes (``evicted`` counts them)."""

    def __init__(self, budget=JOURNAL_BUDGET):
        self.budget = budget
        self.clear()

    def clear(self):
        self._entries = collections.deque()
        self.size = 0
        self.evicted = 0

    def append(self, entry, size):
        self._entries.append((entry, size))
        self.size += size
        while self.size > self.budget and len(self._entries) > 1:
            _old, old_size = self._entries.popleft()
            self.size -= old_size
            self.evicted += 1

    def entries(self):
        return [entry for entry, _size in self._entries]


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
        self.member = None  # who the credentials belong to, where the API has members
        self._json = None
        self._json_error = None
        if body:
            try:
                self._json = json.loads(body.decode("utf-8"))
            except (ValueError, RecursionError) as exc:
                self._json_error = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            else:
                if json_depth(self._json) > MAX_JSON_DEPTH:
                    self._json, self._json_error = None, "nested more than %d levels deep" % MAX_JSON_DEPTH

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
        self.journal = Journal()
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
        self.route("GET", "/requests", lambda r: self._journal_answer(), control=True)
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

    def error_body(self, status, message):
        """The body of an error the HTTP layer answers (413, 408, ...) in the vendor's shape."""
        return {"message": message}

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
            self.journal.clear()
            self.faults = []
            self.latency = 0.0
            self.clock.configure(manual=False, listeners=self.clock_listeners())
            self.reset_state()

    def _control_reset(self):
        self.reset()
        return Response(204)

    def _clear_journal(self):
        with self.lock:
            self.journal.clear()
        return Response(204)

    def _journal_answer(self):
        with self.lock:
            return Response(200, self.journal.entries(), {"X-Journal-Evicted": str(self.journal.evicted)})

    def _clear_faults(self):
        with self.lock:
            self.faults = []
        return Response(204)

    def _control_add_fault(self, request):
        spec = dict(request.json or {})
        spec.setdefault("count", 1)
        spec.setdefault("status", 500)
        for key, low, high in (("status", 100, 599), ("count", 1, 10 ** 6)):
            if isinstance(spec[key], bool) or not isinstance(spec[key], int) or not low <= spec[key] <= high:
                raise HttpError(400, {"message": "%s must be an integer from %d to %d" % (key, low, high)})
        if "path" in spec:
            try:
                spec["_re"] = re.compile(spec["path"], re.IGNORECASE)
            except (re.error, TypeError) as exc:
                raise HttpError(400, {"message": "path is not a regular expression: %s" % exc}) from None
        with self.lock:
            self.faults.append(spec)
        return Response(204)

    def _control_latency(self, request):
        with self.lock:
            seconds = float((request.json or {}).get("seconds", 0))
            if not 0 <= seconds <= 3600:  # also refuses nan
                raise HttpError(400, {"message": "seconds must be from 0 to 3600"})
            self.latency = seconds
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
            self.journal.append(entry, len(request.body) + len(json.dumps(response.body, default=str)))
