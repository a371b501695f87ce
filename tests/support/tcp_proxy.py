"""A TCP proxy on 127.0.0.1 that relays bytes to one upstream port and cuts the link on cue.

For faults below HTTP, e.g. between the agents and PostgreSQL: the agents' DSN names the proxy's port, the
proxy relays every connection to the server. ``cut()`` makes the link fail the way a partition does
(``blackhole``: nothing is relayed any more in either direction, the open connections stay open but silent,
new connections are accepted and then get no answer) or the way a stopped host does (``reset``: the open
connections are closed and new ones refused). ``restore()`` ends the cut: in ``blackhole`` mode the
connections that were open resume (what was held back is relayed now) and the ones accepted during the cut
are closed; in ``reset`` mode the proxy listens again on the same port.

``python -m tests.support.tcp_proxy UPSTREAM_PORT`` relays until interrupted (trying a cut by hand: send it
SIGUSR1 to cut, SIGUSR2 to restore). Nothing in the collection or the agent imports this.
"""

import select
import signal
import socket
import struct
import sys
import threading

MODES = ("blackhole", "reset")
CHUNK = 65536


class TcpProxy:
    """Relays connections from ``127.0.0.1:<port>`` (a free port unless given) to ``upstream``."""

    def __init__(self, upstream_port, upstream_host="127.0.0.1", port=0):
        self.upstream = (upstream_host, upstream_port)
        self.lock = threading.Lock()
        self.pairs = set()  # (client, server) sockets of the relayed connections
        self.held = set()  # connections accepted during a blackhole cut: never relayed
        self.mode = None  # the cut in force, or None
        self.flowing = threading.Event()
        self.flowing.set()
        self.closed = False
        self.connections = 0  # accepted in all
        self.cuts = 0
        self.listener = self._listen(port)
        self.port = self.listener.getsockname()[1]

    # ----- the link -------------------------------------------------------------------------------
    def _listen(self, port):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(128)
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return listener

    def _accept(self, listener):
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # the listener was closed (reset cut, close)
            self.connections += 1
            with self.lock:
                if self.mode == "blackhole":
                    self.held.add(client)  # accepted, then silence: a peer that never answers
                    continue
            try:
                server = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.pairs.add((client, server))
            threading.Thread(target=self._relay, args=(client, server), daemon=True).start()

    def _relay(self, client, server):
        """Both directions of one connection on one thread; waits (holds the bytes) while the link is cut."""
        peers = {client: server, server: client}
        try:
            while not self.closed:
                self.flowing.wait()
                readable, _w, _x = select.select(list(peers), [], [], 0.2)
                if not self.flowing.is_set():
                    continue  # cut between the wait and the select: hold what arrived
                for sock in readable:
                    data = sock.recv(CHUNK)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):  # ValueError: a socket the cut closed under select
            return
        finally:
            with self.lock:
                self.pairs.discard((client, server))
            for sock in (client, server):
                _close(sock)

    # ----- faults ----------------------------------------------------------------------------------
    def cut(self, mode="blackhole"):
        """Cut the link until :meth:`restore` (see the module's docstring for the two modes)."""
        if mode not in MODES:
            raise ValueError("mode must be one of %s" % ", ".join(MODES))
        with self.lock:
            if self.mode is not None:
                return
            self.mode = mode
            self.cuts += 1
            self.flowing.clear()
            if mode == "reset":
                _close(self.listener)
                for client, server in list(self.pairs):
                    _close(client, reset=True)
                    _close(server)
        if mode == "reset":
            self.flowing.set()  # the relays find their sockets closed and end

    def restore(self):
        with self.lock:
            mode, self.mode = self.mode, None
            held, self.held = self.held, set()
        for sock in held:
            _close(sock, reset=True)
        if mode == "reset":
            self.listener = self._listen(self.port)
        self.flowing.set()

    @property
    def is_cut(self):
        return self.mode is not None

    def close(self):
        self.closed = True
        self.flowing.set()
        _close(self.listener)
        with self.lock:
            for client, server in list(self.pairs):
                _close(client)
                _close(server)
            for sock in self.held:
                _close(sock)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False


def _close(sock, reset=False):
    """Close a socket; ``reset`` sends an RST instead of a FIN (SO_LINGER 0), as a vanished host's kernel does."""
    try:
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    proxy = TcpProxy(int(args[0]))
    print("relaying 127.0.0.1:%d -> %s:%d (SIGUSR1 cuts, SIGUSR2 restores)" % ((proxy.port,) + proxy.upstream), flush=True)
    signal.signal(signal.SIGUSR1, lambda *unused: proxy.cut())
    signal.signal(signal.SIGUSR2, lambda *unused: proxy.restore())
    try:
        while True:
            signal.pause()
    except KeyboardInterrupt:
        proxy.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
