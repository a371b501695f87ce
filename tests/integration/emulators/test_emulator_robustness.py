"""No request can hang or crash the emulators: hostile conditions, huge, half-sent and deeply
nested bodies, bad control input, and a journal that cannot grow without bound (issue 8)."""

import json
import socket
import urllib.error
import urllib.request

import pytest

from tests.conftest import manage_emulator
from tests.emulators.harness import RunningEmulator
from tests.integration.emulators.test_manage_emulator import error

LIMITS = ["--max-body", "20000", "--read-timeout", "0.5", "--journal-budget", "60000"]


@pytest.fixture(scope="module")
def server():
    with manage_emulator(*LIMITS, "--tickets", "300") as emulator:
        yield emulator


@pytest.fixture(scope="module")
def signl4():
    emulator = RunningEmulator("tests.emulators.signl4", LIMITS)
    yield emulator
    emulator.stop()


def raw_exchange(url, data):
    """Send ``data`` as is on a fresh connection; the status line and body of the answer."""
    host, port = url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(data)
        answer = b""
        while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
            chunk = connection.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _sep, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body) if body else None


def _length(answer):
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def test_like_with_many_wildcards_answers_and_the_server_stays_responsive(cw):
    pattern = "*a" * 40 + "*z"
    matches = cw.ok("GET", "/service/tickets", conditions='summary like "%s"' % pattern, pageSize=1000)
    assert matches == []
    assert cw.ok("GET", "/service/tickets", conditions='summary like "*%s*"' % "*".join("Printer"))  # still matches


def test_conditions_with_too_many_comparisons_are_400(cw):
    many = " or ".join("id = %d" % n for n in range(257))
    assert "comparisons" in error(cw.get("/service/tickets", conditions=many), 400, "ApiFindCondition")["message"]
    assert len(cw.ok("GET", "/service/tickets", conditions=" or ".join("id = %d" % n for n in range(1, 257)),
                     pageSize=1000)) == 256


def test_deeply_nested_conditions_are_400(cw):
    nested = "(" * 1000 + "id = 1" + ")" * 1000
    assert "nested" in error(cw.get("/service/tickets", conditions=nested), 400, "ApiFindCondition")["message"]
    assert cw.ok("GET", "/service/tickets", conditions="(" * 30 + "id = 1" + ")" * 30)[0]["id"] == 1


@pytest.mark.parametrize("depth", [100, 9000])
def test_deeply_nested_json_is_400(cw, depth):
    body = ("[" * depth + "]" * depth) if depth > 100 else json.dumps(_nest(depth))
    response = cw.session.post(cw.base + "/service/tickets", data=body, headers={"Content-Type": "application/json"},
                               timeout=10)
    error(response, 400, "InvalidObject")


def _nest(depth):
    value = {"summary": "x"}
    for _level in range(depth):
        value = {"summary": "x", "company": value}
    return value


def test_a_body_over_the_limit_is_413_without_being_read(cw, signl4):
    response = cw.session.post(cw.base + "/service/tickets", data=b"x" * 20001, timeout=10)
    assert response.status_code == 413 and response.json()["code"] == "ConnectWiseApi"
    status, body = raw_exchange(signl4.url, b"POST /webhook/abc HTTP/1.1\r\nHost: x\r\nContent-Length: 50000000\r\n\r\n")
    assert status == 413 and body["code"] == 413
    assert cw.session.post(cw.base + "/service/tickets", data=b"x" * 20000, timeout=10).status_code == 400


def test_a_half_sent_request_is_408(cw, signl4):
    for url in (cw.server.url, signl4.url):
        status, body = raw_exchange(url, b"POST /webhook/abc HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"Title\"")
        assert status == 408 and body["message"]
    status, _body = raw_exchange(cw.server.url, b"GET /v2025_1/apis/3.0/system/info HTTP/1.1\r\nHost: x\r\nAcc")
    assert status == 408


@pytest.mark.parametrize("header", [b"Content-Length: -5", b"Content-Length: lots"])
def test_a_bad_content_length_is_400(cw, header):
    status, _body = raw_exchange(cw.server.url, b"POST /v2025_1/apis/3.0/service/tickets HTTP/1.1\r\nHost: x\r\n"
                                 + header + b"\r\n\r\n")
    assert status == 400


@pytest.mark.parametrize("path, body", [
    ("/faults", {"status": "x"}), ("/faults", {"status": 200, "count": 0}), ("/faults", {"path": "("}),
    ("/faults", ["not", "an", "object"]), ("/latency", {"seconds": "soon"}), ("/latency", {"seconds": -1}),
    ("/clock", {"advance": -1}), ("/clock", {"advance": 1}), ("/clock", {"manual": "yes"}),
    ("/callbacks", {"delay": "x"}),
])
def test_bad_control_input_is_400(cw, path, body):
    with pytest.raises(urllib.error.HTTPError) as caught:
        cw.server.control("POST", path, body)
    assert caught.value.code == 400


def test_the_journal_keeps_to_its_budget(cw):
    for number in range(40):
        cw.ok("POST", "/service/tickets", 201, json={"summary": "x" * 90, "company": {"id": 1},
                                                     "initialDescription": "y" * 3000})
    request = urllib.request.Request(cw.server.url + "/__emulator__/requests")
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
        evicted = int(answer.headers["X-Journal-Evicted"])
        kept = json.loads(answer.read())
    assert evicted > 0 and 0 < len(kept) < 40 and len(kept) + evicted == 40
    assert kept[-1]["request_json"]["summary"] == "x" * 90  # the newest stay
