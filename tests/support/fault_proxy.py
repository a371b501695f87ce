"""A real HTTP proxy on 127.0.0.1 that sits between a module and an emulator and misbehaves on cue.

Modules are pointed at the proxy (``cw_url`` / ``signl4_api_url``); it forwards every request to the
emulator unchanged (the ``Host`` header included, so links the emulator builds point back at the
proxy). For requests matching a rule it plays a gateway that fails:

- ``apply_then_503``: forward the request, let the emulator apply it, then answer 503 instead of
  the emulator's answer (the write happened, the client cannot know);
- ``apply_then_drop``: forward, then close the connection without any answer;
- ``reject_503``: answer 503 without forwarding (the write provably did not happen);
- ``hang``: never answer and never forward (a hung server: the client's read timeout ends it);
- ``apply_then_hang``: forward, let the emulator apply it, then never answer;
- ``replace_body``: forward, then answer ``status`` (200) with the rule's ``body`` bytes instead
  (not JSON, or JSON of the wrong shape).

``exchanges`` records what the client sent and what it got, so a test can count attempts.
Nothing in the collection imports this.
"""

import http.client
import json
import threading
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

MODES = ("apply_then_503", "apply_then_drop", "reject_503", "hang", "apply_then_hang", "replace_body")
HANG_SECONDS = 60  # a hung answer is held this long at most, or until the proxy stops
HOP_BY_HOP = ("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "content-length")
GATEWAY_BODY = json.dumps({"code": "ServiceUnavailable", "message": "Service Unavailable (injected by the test gateway)"})


class Rule:
    """Misbehave on requests of ``method`` whose path matches the regex ``path`` (searched): let
    ``skip`` of them pass, then misbehave ``count`` times (``None``: every time)."""

    def __init__(self, method, path, mode, count=None, skip=0, body=b"", status=200, content_type="application/json"):
        if mode not in MODES:
            raise ValueError("mode must be one of %s" % ", ".join(MODES))
        self.method = method.upper()
        self.path = re.compile(path, re.IGNORECASE)
        self.mode = mode
        self.count = count
        self.skip = skip
        self.body, self.status, self.content_type = body, status, content_type
        self.seen = 0
        self.hits = 0

    def take(self, method, path):
        if method != self.method or not self.path.search(path.split("?", 1)[0]):
            return False
        self.seen += 1
        if self.seen <= self.skip or (self.count is not None and self.hits >= self.count):
            return False
        self.hits += 1
        return True


class FaultProxy:
    """``FaultProxy(upstream_url)``: started on construction; ``.url`` is its base URL; ``stop()`` ends it."""

    def __init__(self, upstream_url):
        upstream = urlsplit(upstream_url)
        self.upstream = (upstream.hostname, upstream.port)
        self.rules = []
        self.exchanges = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        handler = type("ProxyHandler", (_ProxyHandler,), {"proxy": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()

    def add_rule(self, method, path, mode="apply_then_503", count=None, **answer):
        rule = Rule(method, path, mode, count, **answer)
        with self.lock:
            self.rules.append(rule)
        return rule

    def clear(self):
        with self.lock:
            self.rules = []
            self.exchanges = []

    def rule_for(self, method, path):
        with self.lock:
            return next((rule for rule in self.rules if rule.take(method, path)), None)

    def record(self, **exchange):
        with self.lock:
            self.exchanges.append(exchange)

    def stop(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class _ProxyHandler(BaseHTTPRequestHandler):
    proxy = None
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; do not hold the second

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        rule = self.proxy.rule_for(self.command, self.path)
        mode = rule.mode if rule else "forward"
        upstream_status = None
        if mode == "hang":
            self.proxy.record(method=self.command, path=self.path, mode=mode, upstream_status=None)
            self._hang()
            return
        if mode != "reject_503":
            upstream_status, headers, payload = self._forward(body)
        self.proxy.record(method=self.command, path=self.path, mode=mode, upstream_status=upstream_status)
        if mode == "apply_then_hang":
            self._hang()
            return
        if mode == "apply_then_drop":
            self.close_connection = True
            return
        if mode in ("apply_then_503", "reject_503"):
            headers, payload = [("Content-Type", "application/json")], GATEWAY_BODY.encode("utf-8")
            self.send_response(503)
        elif mode == "replace_body":
            headers, payload = [("Content-Type", rule.content_type)], rule.body
            self.send_response(rule.status)
        else:
            self.send_response(upstream_status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    def _hang(self):
        self.proxy.released.wait(HANG_SECONDS)
        self.close_connection = True

    def _forward(self, body):
        connection = http.client.HTTPConnection(*self.proxy.upstream, timeout=60)
        try:
            headers = dict((k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP)
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            return response.status, kept, payload
        finally:
            connection.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, fmt, *args):
        return
