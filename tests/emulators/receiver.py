"""A tiny webhook receiver for tests (SIGNL4 outbound webhooks, Manage callbacks): an HTTP server
on 127.0.0.1 that records every JSON POST it gets (body, raw bytes, headers) and answers with the
statuses it is told to (200 once the list runs out)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, path="/signl4/events?token=receiver-token-0123"):
        self.received = []
        self.statuses = []  # answers for the next POSTs, then 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                with receiver._lock:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.received.append(dict(path=self.path, status=status, raw=raw,
                                                  headers={k.lower(): v for k, v in self.headers.items()},
                                                  body=json.loads(raw.decode("utf-8"))))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, fmt, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d%s" % (self.server.server_address[1], path)
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def requests(self):
        with self._lock:
            return list(self.received)

    def payloads(self, accepted_only=True):
        with self._lock:
            return [r["body"] for r in self.received if not accepted_only or 200 <= r["status"] < 300]

    def wait_for(self, count, timeout=10.0, accepted_only=True):
        """The accepted payloads once there are at least ``count`` (fails the test after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            payloads = self.payloads(accepted_only)
            if len(payloads) >= count:
                return payloads
            time.sleep(0.02)
        raise AssertionError("expected %d deliveries, got %d: %r" % (count, len(self.payloads(accepted_only)), self.received))

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
