"""A scripted HTTP server on 127.0.0.1 for what the emulators cannot send: bodies that are not
JSON, exact header spellings, answers that never come. A real server over real sockets, not a
mock: each request gets the next scripted answer (the last one repeats) and is recorded."""

import socket
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


class Answer:
    def __init__(self, status=200, body=b"", headers=None, delay=0.0, content_type="application/json",
                 close=False):
        self.status = status
        self.close = close  # close the connection after answering, without saying so (a keep-alive race)
        self.body = body.encode("utf-8") if isinstance(body, str) else body
        self.headers = dict(headers or {})
        self.headers.setdefault("Content-Type", content_type)
        self.delay = delay


class RawServer:
    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []
        self.closed = threading.Semaphore(0)  # released each time the server has closed a connection
        self.lock = threading.Lock()
        self.stopping = threading.Event()  # set by close(): a delayed answer still waiting is never sent
        self.hung_up = 0  # clients that went away before their (delayed) answer was written
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server.lock:
                    parts = urlsplit(self.path)
                    server.requests.append({"method": self.command, "path": parts.path, "target": self.path,
                                            "query": dict(parse_qsl(parts.query)), "body": body,
                                            "headers": dict(self.headers), "connection": self.client_address})
                    answer = server.answers.pop(0) if len(server.answers) > 1 else server.answers[0]
                if answer.delay and server.stopping.wait(answer.delay):
                    self.close_connection = True  # the test is over: nobody waits for this answer
                    return
                try:
                    self.send_response(answer.status)
                    for key, value in answer.headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    # A client whose timeout ended before the delayed answer (what a timeout test
                    # wants): not a server error, no traceback.
                    with server.lock:
                        server.hung_up += 1
                    self.close_connection = True
                    return
                self.close_connection = self.close_connection or answer.close

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, fmt, *args):
                return

        class Server(ThreadingHTTPServer):
            def shutdown_request(self, request):
                ThreadingHTTPServer.shutdown_request(self, request)
                server.closed.release()  # the socket is closed now

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def closed_port():
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def zeros_compressed(size, encoding="gzip"):
    """``size`` zero bytes, gzip- or deflate-compressed: a "bomb" of about a thousandth of its size on the wire."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _mib in range(size // len(block))]
    return b"".join(parts) + packer.compress(bytes(size % len(block))) + packer.flush()
