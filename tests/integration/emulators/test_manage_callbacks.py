"""The Manage emulator delivers callbacks over real HTTP: payload, signature, key_url, retries, switches."""

import base64
import hashlib
import hmac
import json
import urllib.error

import pytest
import requests

from tests.emulators.receiver import Receiver
from tests.integration.emulators.test_manage_emulator import error

TICKETS = "/service/tickets"
CALLBACKS = "/system/callbacks"


@pytest.fixture
def receiver():
    box = Receiver(path="/manage/callback?recordId=")
    yield box
    box.stop()


def register(cw, url, level="owner", object_id=1, **extra):
    body = dict({"url": url, "objectId": object_id, "type": "ticket", "level": level}, **extra)
    return cw.ok("POST", CALLBACKS, 201, json=body)


def drain(cw):
    return cw.server.control("POST", "/callbacks/drain", {"timeout": 10})


def new_ticket(cw, **fields):
    return cw.ok("POST", TICKETS, 201, json=dict({"summary": "Router down", "company": {"id": 1}}, **fields))


def verify(cw, delivery):
    """What a receiver does (amp-labs verifier.go): fetch the key at Metadata.key_url, HMAC the raw body."""
    key_url = json.loads(delivery["raw"])["Metadata"]["key_url"]
    answer = cw.session.get(key_url, timeout=10)
    assert answer.status_code == 200
    key = hashlib.sha256(answer.json()["signing_key"].encode("utf-8")).digest()
    expected = base64.b64encode(hmac.new(key, delivery["raw"], hashlib.sha256).digest()).decode("ascii")
    return hmac.compare_digest(expected, delivery["headers"]["x-content-signature"])


def test_a_created_and_changed_ticket_is_posted_signed(cw, receiver):
    callback = register(cw, receiver.url)
    ticket = new_ticket(cw)
    cw.ok("PATCH", TICKETS + "/%d" % ticket["id"], json=[{"op": "replace", "path": "summary", "value": "Router up"}])
    drain(cw)
    added, updated = receiver.wait_for(2)
    assert set(added) == {"MessageId", "FromUrl", "CompanyId", "MemberId", "Action", "Type", "ID",
                          "CallbackObjectRecId", "Entity", "Metadata"}
    assert (added["Action"], added["Type"], added["ID"], added["CallbackObjectRecId"]) == (
        "added", "ticket", ticket["id"], callback["id"])
    assert isinstance(added["MemberId"], str) and added["CompanyId"] == "signl4demo"
    assert json.loads(added["Entity"]) == ticket  # the record as the API returned it, as a JSON string
    assert updated["Action"] == "updated" and json.loads(updated["Entity"])["summary"] == "Router up"
    assert added["MessageId"] != updated["MessageId"]
    deliveries = receiver.requests()
    assert [d["path"] for d in deliveries] == ["/manage/callback?recordId=%d" % ticket["id"]] * 2
    assert all(verify(cw, delivery) for delivery in deliveries)
    tampered = dict(deliveries[0], raw=deliveries[0]["raw"].replace(b"Router", b"Ruoter"))
    assert not verify(cw, tampered)


def test_the_key_url_needs_the_right_id_and_credentials_only_when_switched_on(cw, receiver):
    register(cw, receiver.url)
    new_ticket(cw)
    drain(cw)
    key_url = receiver.wait_for(1)[0]["Metadata"]["key_url"]
    assert "/system/callbackkey/index.rails?companyName=signl4demo&id=" in key_url
    assert "signing_key" in requests.get(key_url, timeout=10).json()  # a capability URL (ASSUMPTIONS.md)
    error(requests.get(key_url.rsplit("=", 1)[0] + "=00000000-0000-0000-0000-000000000000", timeout=10),
          404, "ConnectWiseApi")
    assert cw.server.control("POST", "/callbacks/key", {"auth": True}) == {"auth": True}
    assert requests.get(key_url, timeout=10).status_code == 401
    assert "signing_key" in cw.session.get(key_url, timeout=10).json()


def test_only_matching_active_callbacks_fire(cw, receiver):
    ticket = new_ticket(cw)  # before any callback: nothing to deliver
    register(cw, receiver.url + "board", level="board", object_id=ticket["board"]["id"])
    register(cw, receiver.url + "status", level="status", object_id=ticket["status"]["id"])
    register(cw, receiver.url + "one", level="ticket", object_id=ticket["id"])
    other_board = next(b for b in cw.ok("GET", "/service/boards") if b["id"] != ticket["board"]["id"])
    register(cw, receiver.url + "other", level="board", object_id=other_board["id"])
    register(cw, receiver.url + "off", inactiveFlag=True)
    register(cw, receiver.url + "self", isSelfSuppressedFlag=True)
    cw.ok("PATCH", TICKETS + "/%d" % ticket["id"], json=[{"op": "replace", "path": "summary", "value": "x"}])
    cw.ok("PUT", TICKETS + "/%d" % ticket["id"], json={"summary": "quiet", "company": {"id": 1},
                                                       "skipCallback": True})
    drain(cw)
    paths = sorted(d["path"].rsplit("=", 1)[1] for d in receiver.requests())
    assert paths == ["board", "one", "status"]
    cw.ok("DELETE", TICKETS + "/%d" % ticket["id"], 204)
    drain(cw)
    deleted = [p for p in receiver.payloads() if p["Action"] == "deleted"]
    assert len(deleted) == 3 and all(p["ID"] == ticket["id"] for p in deleted)


def test_refused_deliveries_are_retried_on_the_guides_schedule(cw, receiver):
    cw.server.use_manual_clock()
    register(cw, receiver.url)
    receiver.statuses = [429, 404]
    new_ticket(cw)
    drain(cw)
    assert [d["status"] for d in receiver.requests()] == [429]
    cw.server.advance(1.9)
    drain(cw)
    assert len(receiver.requests()) == 1  # not yet: the first retry is 2 s later
    cw.server.advance(0.1)
    drain(cw)
    assert [d["status"] for d in receiver.requests()] == [429, 404]
    cw.server.advance(4)
    drain(cw)
    attempts = receiver.requests()
    assert [d["status"] for d in attempts] == [429, 404, 200]
    assert len({d["raw"] for d in attempts}) == 1  # the same message each time
    assert [d["attempt"] for d in cw.server.control("GET", "/callbacks")["deliveries"]] == [1, 2, 3]


def test_a_server_error_is_not_retried(cw, receiver):
    register(cw, receiver.url)
    receiver.statuses = [500]
    new_ticket(cw)
    drain(cw)
    assert [d["status"] for d in receiver.requests()] == [500]


def test_duplicate_delay_and_drop_switches(cw, receiver):
    register(cw, receiver.url)
    cw.server.control("POST", "/callbacks", {"duplicates": 2})
    new_ticket(cw)
    drain(cw)
    first, second = receiver.wait_for(2)
    assert first == second
    cw.server.control("POST", "/clock", {"manual": True})
    cw.server.control("POST", "/callbacks", {"duplicates": 1, "drop": 1, "delay": 30})
    new_ticket(cw, summary="lost")
    new_ticket(cw, summary="late")
    drain(cw)
    assert len(receiver.requests()) == 2
    cw.server.control("POST", "/clock", {"advance": 30})
    drain(cw)
    summaries = [json.loads(p["Entity"])["summary"] for p in receiver.payloads()]
    assert summaries == ["Router down", "Router down", "late"]
    statuses = [d["status"] for d in cw.server.control("GET", "/callbacks")["deliveries"]]
    assert statuses.count("dropped") == 1


@pytest.mark.parametrize("body", [{"duplicates": "x"}, {"delay": -1}, {"nope": 1}, {"drop": True}])
def test_bad_switches_are_400(cw, body):
    with pytest.raises(urllib.error.HTTPError) as caught:
        cw.server.control("POST", "/callbacks", body)
    assert caught.value.code == 400
