"""A recording HTTP proxy between the agent and one emulator, for the chaos suite.

It forwards every request unchanged and records what the agent sent and got (method, path,
status, the JSON it sent), so the suite counts the agent's writes exactly: an emulator's journal
drops its oldest entries past a byte budget, and the workload's own calls would mix in.
``down()`` makes the API unreachable the way a stopped server is: the listening socket is closed
(new connections are refused) and open keep-alive connections are cut; ``up()`` listens on the
same port again. The emulator behind keeps its state throughout.
"""

import http.client
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
              "proxy-connection", "content-length"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], OSError):  # a killed agent resets its connections: expected
            super().handle_error(request, client_address)


class RecordingProxy:
    def __init__(self, upstream_port, record=lambda method, path, status, sent: None):
        self.upstream_port = upstream_port
        self.record = record
        self.lock = threading.Lock()
        self.connections = set()
        self.is_down = False
        self.refused = 0  # connections cut when it went down, and requests on them while down
        self._local = threading.local()
        self.server = self._serve(0)
        self.port = self.server.server_address[1]
        self.url = "http://127.0.0.1:%d" % self.port

    def _serve(self, port):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                BaseHTTPRequestHandler.setup(self)
                with proxy.lock:
                    proxy.connections.add(self.connection)

            def finish(self):
                with proxy.lock:
                    proxy.connections.discard(self.connection)
                try:
                    BaseHTTPRequestHandler.finish(self)
                except OSError:
                    pass

            def _forward(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.is_down:
                    with proxy.lock:
                        proxy.refused += 1
                    self.close_connection = True
                    return  # no answer at all: the client sees the connection drop
                status, headers, payload = proxy.forward(self.command, self.path, self.headers, body)
                proxy.record(self.command, self.path, status, _json(body))
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _forward

            def log_message(self, fmt, *args):
                return

        server = _Server(("127.0.0.1", port), Handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return server

    def forward(self, method, path, headers, body):
        connection = getattr(self._local, "connection", None)
        for attempt in (0, 1):  # a kept-alive upstream connection the emulator closed: once more on a new one
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=120)
                self._local.connection = connection
            try:
                connection.request(method, path, body=body or None,
                                   headers=dict((k, v) for k, v in headers.items() if k.lower() not in HOP_BY_HOP))
                response = connection.getresponse()
                return response.status, response.getheaders(), response.read()
            except (http.client.HTTPException, OSError):
                connection.close()
                connection = self._local.connection = None
                if attempt:
                    return 502, [("Content-Type", "application/json")], b'{"message": "proxy: upstream failed"}'
        raise AssertionError("unreachable")

    def down(self):
        """Refuse new connections and cut the open ones, until :meth:`up`."""
        self.is_down = True
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            self.refused += len(self.connections)
            for connection in list(self.connections):
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def up(self):
        self.server = self._serve(self.port)
        self.is_down = False

    def close(self):
        if not self.is_down:
            self.server.shutdown()
            self.server.server_close()


def _json(body):
    if not body:
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except ValueError:
        return None
