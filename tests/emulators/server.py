"""The emulators' HTTP server on 127.0.0.1 and the ``python -m tests.emulators.X`` entry point.

Whatever a client sends, the server answers and stays responsive: one thread per connection,
a body larger than ``MAX_BODY`` is refused with 413 before it is read, a client that stops
sending in the middle of a request gets 408 after ``READ_TIMEOUT`` seconds, and a malformed
``Content-Length`` gets 400. Error bodies are in the emulated vendor's shape (``Emulator.error_body``).
"""

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.emulators.common import JOURNAL_BUDGET, Request, Response

MAX_BODY = 4 * 1024 * 1024  # bytes; real ASP.NET front ends refuse about 28.6 MiB, no test needs that much
READ_TIMEOUT = 10.0  # seconds a client may pause while sending a request


class _Handler(BaseHTTPRequestHandler):
    emulator = None  # set per server class
    max_body = MAX_BODY
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two sends; with Nagle's algorithm the body would wait for the client's
    # delayed ACK (tens of ms per answer), which real servers do not make their clients wait for.
    disable_nagle_algorithm = True

    def setup(self):
        self.timeout = self.read_timeout
        super().setup()

    def parse_request(self):
        try:
            return super().parse_request()
        except TimeoutError:  # the headers stopped coming
            self._refuse(408, "The request was not received in time.")
            return False

    def _read_body(self):
        """The body bytes, or None after refusing the request."""
        raw = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._refuse(411, "A Content-Length is required.")
            return None
        try:
            length = int(raw or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._refuse(400, "The Content-Length header is not valid.")
            return None
        if length > self.max_body:
            self._refuse(413, "The request body is larger than %d bytes." % self.max_body)
            return None
        try:
            return self.rfile.read(length) if length else b""
        except TimeoutError:
            self._refuse(408, "The request body was not received in time.")
            return None

    def _serve(self):
        body = self._read_body()
        if body is None:
            return
        request = Request(self.command, self.path, self.headers, body)
        try:
            response = self.emulator.handle(request)
        except Exception as exc:  # a bug in the emulator must still answer, loudly
            response = Response(500, {"message": "emulator error: %r" % exc})
            sys.stderr.write("emulator error on %s %s: %r\n" % (self.command, self.path, exc))
        self._answer(response)

    def _refuse(self, status, message):
        self.close_connection = True  # what is left of the request cannot be trusted
        self._answer(Response(status, self.emulator.error_body(status, message), {"Connection": "close"}))

    def _answer(self, response):
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


def make_server(emulator, port=0, max_body=MAX_BODY, read_timeout=READ_TIMEOUT):
    handler = type("Handler", (_Handler,), {"emulator": emulator, "max_body": max_body, "read_timeout": read_timeout})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def run_main(emulator_factory, argv=None, configure_parser=None):
    """Entry point of ``python -m tests.emulators.X``: parse flags, bind 127.0.0.1, print one
    ready line (with the real port, so ``--port 0`` works) and serve until killed."""
    parser = argparse.ArgumentParser(description=emulator_factory.__doc__)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--max-body", type=int, default=MAX_BODY, help="largest request body in bytes (413 above)")
    parser.add_argument("--read-timeout", type=float, default=READ_TIMEOUT,
                        help="seconds a client may pause mid-request (408 after)")
    parser.add_argument("--journal-budget", type=int, default=JOURNAL_BUDGET,
                        help="bytes of bodies the request journal keeps (oldest entries go first)")
    if configure_parser:
        configure_parser(parser)
    args = parser.parse_args(argv)
    emulator = emulator_factory(args)
    emulator.journal.budget = args.journal_budget
    server = make_server(emulator, args.port, args.max_body, args.read_timeout)
    port = server.server_address[1]
    print("%s emulator ready on http://127.0.0.1:%d" % (emulator.name, port), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
