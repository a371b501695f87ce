"""The receiver under abuse, against the agent as a real process: slow senders that never finish
(header and body deadlines counted from a request's first byte, a connection limit 200 of them
cannot fill) and a request framed both by ``Content-Length`` and ``Transfer-Encoding`` (refused,
and its connection closed so nothing sent behind it is served)."""

import json
import select
import socket
import time
from types import SimpleNamespace

import pytest

from signl4_agent import receiver
from tests.agent import support

SLOW_CLIENTS = 200
CLIENT_TIMEOUT = 5.0  # the bound the receiver must meet for /healthz and a webhook while under abuse
NOT_ALERT = json.dumps({"id": "delivery-1", "eventType": 300, "team": {"id": "t"}}).encode()


@pytest.fixture
def agent_of(provisioned, tmp_path):
    manage, signl4 = provisioned
    started = []

    def start(**listen):
        port = support.free_port()
        raw = support.config(tmp_path, manage, signl4, port=port, listen=listen)
        agent = support.AgentProcess(support.write_config(tmp_path, raw, "agent-%d.yml" % len(started)), port)
        started.append(agent)
        assert agent.wait_ready(), agent.stop()
        return agent

    yield start
    for agent in started:
        code, err = agent.stop()
        assert code == 0, err
        assert "Traceback" not in err


def test_200_slow_senders_do_not_starve_healthz_or_a_webhook(agent_of):
    """Defaults: waitress's own limit of 100 connections was filled by ~110 such senders, and
    nothing else was answered until they stopped."""
    agent = agent_of()
    with support.SlowSenders(agent.port, SLOW_CLIENTS, support.WEBHOOK_PATH) as slow:
        time.sleep(slow.every)  # every slow sender has sent at least one more line
        # urllib raises (a timeout) when the answer takes longer than CLIENT_TIMEOUT
        assert agent.request("GET", "/healthz", timeout=CLIENT_TIMEOUT)[0] == 200
        assert agent.request("POST", support.WEBHOOK_PATH, NOT_ALERT, timeout=CLIENT_TIMEOUT) == (200, b'{"outcome": "ignored"}')


def _trickle_until_closed(sock, data, pause=0.25, give_up=60.0):
    """Send ``data`` a byte every ``pause`` seconds (never idle long enough for channel_timeout);
    ``True`` as soon as the agent closes the connection, ``False`` if it is still open after ``give_up``
    seconds or all of ``data`` went out."""
    ends = time.monotonic() + give_up
    for index in range(len(data)):
        if time.monotonic() > ends:
            return False
        try:
            sock.sendall(data[index:index + 1])
        except OSError:
            return True
        readable, _w, _x = select.select([sock], [], [], pause)
        if readable:  # the agent closed the connection (an answer before that is read and dropped)
            _read_until_closed(sock)
            return True
    return False


def _read_until_closed(sock):
    sock.settimeout(10)
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass


@pytest.mark.parametrize("head, trickled", [
    (b"POST %s HTTP/1.1\r\nHost: agent\r\n" % support.WEBHOOK_PATH.encode(), b"X-Slow: " + b"a" * 1000),
    (b"POST %s HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
     % support.WEBHOOK_PATH.encode(), b"{" + b" " * 998 + b"}"),
], ids=["headers", "body"])
def test_a_request_trickled_steadily_is_closed_at_its_deadline(agent_of, head, trickled):
    """channel_timeout (idle time) never fires for a sender that sends a byte every 0.25 s; the
    header and body deadlines count from the request's first byte and do."""
    agent = agent_of(channel_timeout=30, header_timeout=1, body_timeout=2)
    with socket.create_connection(("127.0.0.1", agent.port), timeout=10) as sock:
        sock.sendall(head)
        assert _trickle_until_closed(sock, trickled), "the agent kept a trickling request open for a minute"
    assert agent.get("/healthz")[0] == 200


def test_the_deadlines_pick_the_overdue_requests():
    """The deadline rule itself, on a clock of the test's: headers by the first deadline, the whole
    request by the second, both from its first byte; a complete request or a closing channel is left alone."""
    def channel(started, headers_finished=False, completed=False, will_close=False, request=True):
        parsed = SimpleNamespace(started=started, headers_finished=headers_finished, completed=completed)
        return SimpleNamespace(request=parsed if request else None, will_close=will_close)

    in_headers, late_headers = channel(95.0), channel(89.0)
    in_body, late_body = channel(71.0, headers_finished=True), channel(69.0, headers_finished=True)
    left_alone = [channel(0.0, completed=True), channel(0.0, will_close=True), channel(0.0, request=False)]
    channels = [in_headers, late_headers, in_body, late_body] + left_alone
    assert receiver._overdue(channels, (10.0, 30.0), now=100.0) == [late_headers, late_body]


SMUGGLED = b"POST %s HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    support.WEBHOOK_PATH.encode(), len(NOT_ALERT), NOT_ALERT)


@pytest.mark.parametrize("framing", support.SMUGGLING_FRAMINGS, ids=["cl-then-te", "te-then-cl", "te-gzip-chunked", "te-empty", "http-1.0"])
def test_content_length_with_transfer_encoding_is_refused_and_nothing_behind_it_is_served(agent_of, framing):
    """RFC 9112, 6.1: such a request may be a smuggling attempt; the server answers 400 and closes the
    connection. A webhook POST sent behind it on the same connection must never be answered."""
    agent = agent_of()
    first = b"POST %s " % support.WEBHOOK_PATH.encode() + framing % 5
    answer, closed = support.exchange(agent.port, first + SMUGGLED)
    assert closed, "the agent kept the connection open after refusing the request: %r" % answer
    assert answer.split(b"\r\n", 1)[0] in (b"HTTP/1.1 400 Bad Request", b"HTTP/1.0 400 Bad Request"), answer[:200]
    assert answer.count(b"HTTP/1.") == 1, answer  # one answer only: the smuggled webhook was never read
    metrics = agent.get("/metrics")[1].decode()
    assert 'source="signl4"' not in metrics  # no delivery reached the webhook handler
