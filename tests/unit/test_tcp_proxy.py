"""tests/support/tcp_proxy.py against a real echo server on 127.0.0.1: it relays, a blackhole cut holds the
bytes and silences new connections until restored, a reset cut refuses and closes."""

import socket
import threading

import pytest

from tests.support.tcp_proxy import TcpProxy


@pytest.fixture
def echo():
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(conn):
        with conn:
            while not stop.is_set():
                try:
                    data = conn.recv(4096)
                except OSError:
                    return
                if not data:
                    return
                conn.sendall(data)

    def accept():
        while not stop.is_set():
            try:
                conn = server.accept()[0]
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1]
    stop.set()
    server.close()


def connect(proxy):
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=5)


def ask(sock, data=b"ping"):
    sock.sendall(data)
    return sock.recv(4096)


def closed(sock):
    """Whether the peer closed ``sock`` (a FIN or an RST) within 5 s."""
    sock.settimeout(5)
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True


def test_relays_both_ways(echo):
    with TcpProxy(echo) as proxy, connect(proxy) as sock:
        assert ask(sock) == b"ping" and ask(sock, b"pong") == b"pong"


def test_a_blackhole_holds_the_bytes_until_restored_and_silences_new_connections(echo):
    with TcpProxy(echo) as proxy, connect(proxy) as sock:
        assert ask(sock) == b"ping"
        proxy.cut("blackhole")
        sock.sendall(b"held")
        sock.settimeout(0.5)
        with pytest.raises(socket.timeout):
            sock.recv(4096)
        late = connect(proxy)  # accepted, then nothing
        late.settimeout(0.5)
        late.sendall(b"anyone?")
        with pytest.raises(socket.timeout):
            late.recv(4096)
        proxy.restore()
        sock.settimeout(5)
        assert sock.recv(4096) == b"held"  # what was held back goes through now
        assert closed(late)  # a connection made during the cut is dropped, never relayed
        late.close()
        assert ask(sock) == b"ping"


def test_a_reset_closes_the_open_connections_and_refuses_new_ones_until_restored(echo):
    with TcpProxy(echo) as proxy, connect(proxy) as sock:
        assert ask(sock) == b"ping"
        proxy.cut("reset")
        assert closed(sock)
        with pytest.raises(ConnectionRefusedError):
            connect(proxy)
        proxy.restore()
        with connect(proxy) as again:
            assert ask(again) == b"ping"
