"""The standard-library HTTP session under the transport, over real sockets: what each failure
without an answer counts as (it decides what is retried), keep-alive reuse and the server closing an
idle connection, TLS checks and CA bundles, proxies from the environment, gzip, query strings,
redirects refused."""

import datetime
import gzip
import ipaddress
import json
import socket
import ssl
import threading
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.signl4.connectwise.plugins.module_utils import http_session
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import UnexpectedResponseError
from ansible_collections.signl4.connectwise.plugins.module_utils.http_session import HttpFailure, HttpSession
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import RetryPolicy, Transport
from tests.integration.raw_server import Answer, RawServer, closed_port, zeros_compressed

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def no_proxy_from_the_machine(monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def failure(url, timeout=5.0, session=None):
    with pytest.raises(HttpFailure) as raised:
        (session or HttpSession()).request("GET", url, timeout=timeout)
    return raised.value


# ----- what a failure without an answer is ---------------------------------------------------

def test_a_refused_connection_is_refused():
    assert failure("http://127.0.0.1:%d/x" % closed_port()).kind == "refused"


def test_a_host_name_that_does_not_resolve_is_dns():
    assert failure("http://no-such-host.invalid/x").kind == "dns"


def test_a_listener_that_never_answers_is_a_read_timeout():
    with socket.socket() as listener:  # the kernel accepts the connection; nobody ever reads or answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        assert failure("http://127.0.0.1:%d/x" % listener.getsockname()[1], timeout=0.2).kind == "read_timeout"


def test_a_connection_closed_without_an_answer_is_lost():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def hang_up():
        connection, _address = listener.accept()
        connection.recv(65536)
        connection.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        assert failure("http://127.0.0.1:%d/x" % listener.getsockname()[1]).kind == "lost"
    finally:
        thread.join(10)
        listener.close()


def test_plain_http_spoken_to_as_https_is_tls():
    with RawServer([Answer(body="{}")]) as server:
        assert failure(server.url.replace("http://", "https://") + "/x").kind == "tls"


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "http:///x", "http://127.0.0.1:99999/x"])
def test_a_url_that_cannot_be_asked_is_invalid(url):
    assert failure(url).kind == "invalid"


def test_a_header_with_a_line_break_is_invalid_and_nothing_is_sent():
    with RawServer([Answer(body="{}")]) as server:
        with pytest.raises(HttpFailure) as raised:
            HttpSession(headers={"X-Bad": "a\r\nInjected: 1"}).request("GET", server.url + "/x")
        assert raised.value.kind == "invalid" and server.requests == []


# ----- keep-alive ----------------------------------------------------------------------------

def test_requests_reuse_one_keep_alive_connection():
    with RawServer([Answer(body="{}")]) as server:
        session = HttpSession()
        for attempt in range(3):
            assert session.request("GET", server.url + "/x").status_code == 200, attempt
        assert len({r["connection"] for r in server.requests}) == 1
        assert session.idle_connections() == 1
        session.close()
        assert session.idle_connections() == 0


def test_a_connection_the_server_closed_while_idle_is_not_reused():
    with RawServer([Answer(body="{}", close=True), Answer(body="{}")]) as server:
        session = HttpSession()
        session.request("GET", server.url + "/x")
        assert server.closed.acquire(timeout=10)  # the server has closed it, without a Connection: close
        assert session.request("GET", server.url + "/x").status_code == 200  # no error: a new connection
        assert len({r["connection"] for r in server.requests}) == 2


def test_an_answer_that_says_connection_close_is_not_pooled():
    with RawServer([Answer(body="{}", headers={"Connection": "close"})]) as server:
        session = HttpSession()
        session.request("GET", server.url + "/x")
        assert session.idle_connections() == 0


def test_concurrent_requests_each_get_their_own_connection():
    with RawServer([Answer(body="{}", delay=0.2)]) as server:
        session = HttpSession()
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(session.request("GET", server.url + "/x")))
                   for _thread in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert len({r["connection"] for r in server.requests}) == 3 and session.idle_connections() == 3


# ----- what is sent and read -------------------------------------------------------------------

def test_query_parameters_path_quoting_auth_and_json_body():
    with RawServer([Answer(body='{"ok": true}')]) as server:
        session = HttpSession(headers={"clientId": "c"}, auth=("company+public", "private"))
        answer = session.request("POST", server.url + "/a b/%41?x=1", params={"page": 2, "skip": None, "id": [1, 2]},
                                 json={"name": "é"})
        sent = server.requests[0]
        assert sent["target"] == "/a%20b/%41?x=1&page=2&id=1&id=2"  # existing escapes kept, None dropped
        assert sent["headers"]["Authorization"] == "Basic Y29tcGFueStwdWJsaWM6cHJpdmF0ZQ=="
        assert sent["headers"]["clientId"] == "c" and sent["headers"]["Content-Type"] == "application/json"
        assert json.loads(sent["body"]) == {"name": "é"}
        assert answer.json() == {"ok": True} and answer.url == server.url + "/a%20b/%41?x=1&page=2&id=1&id=2"
        assert answer.request.method == "POST" and answer.elapsed.total_seconds() >= 0


def test_a_body_that_is_not_json_is_invalid_and_not_sent():
    with RawServer([Answer(body="{}")]) as server:
        with pytest.raises(HttpFailure) as raised:
            HttpSession().request("POST", server.url + "/x", json={"n": float("nan")})
        assert raised.value.kind == "invalid" and server.requests == []


def test_gzip_answers_are_decoded():
    body = json.dumps({"items": list(range(1000))}).encode()
    with RawServer([Answer(body=gzip.compress(body), headers={"Content-Encoding": "gzip"})]) as server:
        answer = HttpSession().request("GET", server.url + "/x")
        assert answer.json() == {"items": list(range(1000))}
        assert server.requests[0]["headers"]["Accept-Encoding"] == "gzip"


# ----- bodies are read up to a bound, as sent and decoded ------------------------------------------

def too_large(url, limit):
    with pytest.raises(http_session.ResponseTooLarge) as raised:
        HttpSession(max_body_bytes=limit).request("GET", url)
    assert raised.value.kind == "too_large" and raised.value.limit == limit
    assert "at most %d bytes are read" % limit in str(raised.value)
    return raised.value


def test_a_body_at_the_bound_is_read_and_one_byte_more_is_refused():
    with RawServer([Answer(body=b"x" * 1000)]) as server:
        assert HttpSession(max_body_bytes=1000).request("GET", server.url + "/x").content == b"x" * 1000
        assert "says its body is 1000 bytes" in str(too_large(server.url + "/x", 999))


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_answer_is_decoded_up_to_the_bound(encoding):
    with RawServer([Answer(body=zeros_compressed(1000, encoding), headers={"Content-Encoding": encoding})]) as server:
        assert HttpSession(max_body_bytes=1000).request("GET", server.url + "/x").content == bytes(1000)
        assert "the %s answer decodes to more than 999 bytes" % encoding in str(too_large(server.url + "/x", 999))


class ChunkedServer:
    """Answers every request with ``body`` in HTTP/1.1 chunks, without a Content-Length (which
    RawServer always sends); counts the bytes it managed to send."""

    def __init__(self, body, chunk=4096, encoding=None):
        self.body, self.chunk, self.encoding, self.sent = body, chunk, encoding, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        connection, _address = self.listener.accept()
        with connection:
            connection.recv(65536)
            head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            if self.encoding:
                head += "Content-Encoding: %s\r\n" % self.encoding
            try:
                connection.sendall((head + "\r\n").encode())
                for start in range(0, len(self.body), self.chunk):
                    piece = self.body[start:start + self.chunk]
                    connection.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.sent += len(piece)
                connection.sendall(b"0\r\n\r\n")
            except OSError:
                pass  # the client stopped reading and closed: what it should do

    def close(self):
        self.thread.join(10)
        self.listener.close()


def test_a_chunked_answer_is_read_up_to_the_bound_and_its_connection_dropped():
    server = ChunkedServer(b"y" * (64 * 1024 * 1024))
    try:
        session = HttpSession(max_body_bytes=64 * 1024)
        with pytest.raises(http_session.ResponseTooLarge) as raised:
            session.request("GET", server.url + "/x")
        assert "the answer's body is more than 65536 bytes" in str(raised.value)
        assert session.idle_connections() == 0  # never reused: the rest of that body is still on it
    finally:
        server.close()
    assert server.sent < 64 * 1024 * 1024  # the client stopped reading; the server could not send it all


def test_a_gzip_bomb_costs_at_most_the_bound_in_memory():
    """A 100 MiB gzip answer is about 100 KiB on the wire; it is refused once 16 MiB are decoded,
    and the memory the request allocated stays near that (the bound was 512 MiB before)."""
    bomb = zeros_compressed(100 * 1024 * 1024)
    assert len(bomb) < 200 * 1024
    with RawServer([Answer(body=bomb, headers={"Content-Encoding": "gzip"})]) as server:
        tracemalloc.start()
        try:
            with pytest.raises(http_session.ResponseTooLarge) as raised:
                HttpSession().request("GET", server.url + "/x")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert raised.value.limit == http_session.MAX_BODY_BYTES == 16 * 1024 * 1024
    assert peak < 2 * http_session.MAX_BODY_BYTES + len(bomb) + 4 * 1024 * 1024, peak


def test_the_charset_of_the_answer_is_used():
    with RawServer([Answer(body="{\"a\": \"\xe9\"}".encode("latin-1"),
                           content_type="application/json; charset=iso-8859-1")]) as server:
        assert HttpSession().request("GET", server.url + "/x").json() == {"a": "é"}


def test_the_transport_refuses_a_redirect_with_where_it_points():
    with RawServer([Answer(status=302, headers={"Location": "https://elsewhere.example/x"})]) as server:
        transport = Transport(server.url, "Test", lambda status, body, text: (None, text, []),
                              retry=RetryPolicy(max_retries=0))
        with pytest.raises(UnexpectedResponseError, match="redirect to https://elsewhere.example/x"):
            transport.request("POST", "/x", json={})
        assert len(server.requests) == 1  # not followed


# ----- proxies ---------------------------------------------------------------------------------

def test_an_http_proxy_from_the_environment_gets_the_absolute_url_and_its_credentials(monkeypatch):
    with RawServer([Answer(body="{}")]) as proxy:
        monkeypatch.setenv("http_proxy", proxy.url.replace("http://", "http://user:p%40ss@"))
        assert HttpSession().request("GET", "http://api.example:8080/v1/x?y=1").status_code == 200
        sent = proxy.requests[0]
        assert sent["target"] == "http://api.example:8080/v1/x?y=1"
        assert sent["headers"]["Proxy-Authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss


def test_no_proxy_sends_a_host_directly(monkeypatch):
    with RawServer([Answer(body="{}")]) as server:
        monkeypatch.setenv("http_proxy", "http://127.0.0.1:%d" % closed_port())
        monkeypatch.setenv("no_proxy", "127.0.0.1")
        assert HttpSession().request("GET", server.url + "/x").status_code == 200


def test_an_https_proxy_url_is_refused_clearly(monkeypatch):
    monkeypatch.setenv("https_proxy", "https://proxy.example:3128")
    assert "only http:// proxies" in failure("https://api.example/x").detail


# ----- TLS ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """An HTTPS server on 127.0.0.1 with a certificate no system trusts."""
    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=2))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 - the http.server name
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, fmt, *args):
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert_file), str(key_file))
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d" % httpd.server_address[1], str(cert_file)
    httpd.shutdown()
    httpd.server_close()


def test_an_untrusted_certificate_is_tls_unless_checks_are_off(tls_server, monkeypatch):
    url, _cert = tls_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert failure(url + "/x").kind == "tls"
    assert HttpSession(verify=False).request("GET", url + "/x").status_code == 200


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_ca_bundle_from_the_environment_is_trusted(tls_server, monkeypatch, variable):
    url, cert = tls_server
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, cert)
    session = HttpSession()
    assert session.request("GET", url + "/x").json() == {}
    assert session.idle_connections() == 1


class ConnectProxy:
    """An HTTP proxy that only tunnels (CONNECT), recording each request head it gets."""

    def __init__(self):
        self.heads = []
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.url = "http://user:secret@127.0.0.1:%d" % self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            head = b""
            while b"\r\n\r\n" not in head:
                head += client.recv(4096)
            self.heads.append(head.decode("latin-1"))
            host, port = head.split(b" ")[1].decode().rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.listener.close()


def test_https_goes_through_an_http_proxy_with_connect_and_its_credentials(tls_server, monkeypatch):
    url, cert = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert)
    proxy = ConnectProxy()
    try:
        monkeypatch.setenv("https_proxy", proxy.url)
        assert HttpSession().request("GET", url + "/x").json() == {}  # the certificate is the server's, checked
        head = proxy.heads[0]
        assert head.startswith("CONNECT 127.0.0.1:%s HTTP/1." % url.rsplit(":", 1)[1])
        assert "Proxy-Authorization: Basic dXNlcjpzZWNyZXQ=" in head  # user:secret, sent to the proxy only
    finally:
        proxy.close()
