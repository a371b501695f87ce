"""The scripted test server itself: a client that gives up before a delayed answer (what the timeout
tests do) is no server error. It used to print a BrokenPipeError traceback into a passing run."""

import time
import urllib.request

import pytest

from tests.integration.raw_server import Answer, RawServer

BIG = b"x" * (1024 * 1024)  # more than a socket buffer: writing it to a client that left always fails


def test_a_client_that_gave_up_leaves_no_traceback(capfd):
    with RawServer([Answer(body=BIG, delay=0.5)]) as server:
        with pytest.raises(OSError):  # the client's read timeout
            urllib.request.urlopen(server.url + "/slow", timeout=0.1)  # noqa: S310 - loopback
        deadline = time.monotonic() + 10
        while server.hung_up == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.hung_up == 1
    err = capfd.readouterr().err
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_a_delayed_answer_is_dropped_when_the_server_closes(capfd):
    server = RawServer([Answer(body=BIG, delay=30)])
    with pytest.raises(OSError):
        urllib.request.urlopen(server.url + "/slow", timeout=0.1)  # noqa: S310 - loopback
    server.close()
    assert server.closed.acquire(timeout=10)  # the handler returned without writing, long before its 30 s
    assert server.hung_up == 0 and "Traceback" not in capfd.readouterr().err
