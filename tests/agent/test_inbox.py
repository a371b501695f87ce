"""The receiver reaches the agent only through its Inbox: with an object that has nothing but the Inbox's
methods it serves every endpoint; the Inbox takes only its own tenant's deliveries."""

import io
import json

import pytest

from tests.agent import support

from signl4_agent.constants import DEFAULT_TENANT
from signl4_agent.inbound import BadRequest, Inbox
from signl4_agent.metrics import Metrics
from signl4_agent.receiver import Receiver
from signl4_agent.store import SqliteStore, StoreUnavailable


class RecordingInbox:
    """The Inbox's methods and nothing else, each call recorded."""

    def __init__(self, outcome="accepted"):
        self.calls, self.outcome = [], outcome

    def webhook(self, tenant, body):
        self.calls.append(("webhook", tenant, body))
        if self.outcome == "bad":
            raise BadRequest("malformed")
        if self.outcome == "store down":
            raise StoreUnavailable("the state database: connection refused")
        return self.outcome

    def callback(self, tenant, body, signature):
        self.calls.append(("callback", tenant, body, signature))
        return self.outcome

    def count(self, source, outcome, tenant=None):
        self.calls.append(("count", source, outcome))

    def health(self):
        self.calls.append(("health",))
        return {"healthy": False}

    def metrics(self):
        self.calls.append(("metrics",))
        return b"# metrics\n"


def _request(receiver, method, path, body=b"", **headers):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_LENGTH": str(len(body)),
               "wsgi.input": io.BytesIO(body)}
    environ.update(("HTTP_" + name.upper(), value) for name, value in headers.items())
    return receiver.dispatch(environ)


def _receiver(inbox):
    return Receiver(inbox, {"listen": dict(webhook_token=support.WEBHOOK_TOKEN, callback_token=support.CALLBACK_TOKEN,
                                           max_body_bytes=65536)})


def test_the_receiver_serves_every_endpoint_through_the_inbox():
    inbox = RecordingInbox()
    receiver = _receiver(inbox)
    assert _request(receiver, "POST", "/signl4/" + support.WEBHOOK_TOKEN, b"{}")[0] == 200
    assert _request(receiver, "POST", "/manage/%s/callback" % support.CALLBACK_TOKEN, b"{}",
                    x_content_signature="c2ln")[0] == 200
    assert _request(receiver, "GET", "/healthz")[:2] == (503, b'{"healthy": false}')
    assert _request(receiver, "GET", "/metrics")[:2] == (200, b"# metrics\n")
    assert _request(receiver, "POST", "/signl4/wrong-token-0123456789", b"{}")[0] == 404
    assert inbox.calls == [("webhook", DEFAULT_TENANT, b"{}"), ("count", "signl4", "accepted"),
                           ("callback", DEFAULT_TENANT, b"{}", "c2ln"), ("count", "manage", "accepted"),
                           ("health",), ("metrics",), ("count", "signl4", "bad_token")]
    refusing = RecordingInbox("bad")
    assert _request(_receiver(refusing), "POST", "/signl4/" + support.WEBHOOK_TOKEN, b"{}")[0] == 400
    assert refusing.calls[-1] == ("count", "signl4", "rejected")


def test_a_delivery_the_store_cannot_take_gets_503_and_one_log_line_without_a_traceback(caplog):
    inbox = RecordingInbox("store down")
    with caplog.at_level("WARNING", logger="signl4_agent.receiver"):
        status, body = _request(_receiver(inbox), "POST", "/signl4/" + support.WEBHOOK_TOKEN, b"{}")[:2]
    assert (status, json.loads(body)) == (503, {"error": "try again later"})
    assert inbox.calls[-1] == ("count", "signl4", "error")
    assert [(record.levelname, record.exc_info) for record in caplog.records] == [("WARNING", None)]
    assert "connection refused" in caplog.records[0].getMessage()


@pytest.fixture
def store(tmp_path):
    store = SqliteStore(str(tmp_path / "state.db"))
    store.save_ticket(7, generation=1, alert_id="alert-7", event_id="event-7", alert_status=1)
    yield store
    store.close()


def test_the_inbox_takes_its_own_tenants_deliveries_and_wakes_the_loop_for_news(store):
    woken = []
    inbox = Inbox(DEFAULT_TENANT, store, verifier=None, metrics=Metrics(), wake=lambda *ticket: woken.append(ticket),
                  health=dict)
    acknowledged = json.dumps({"id": "d1", "eventType": 201, "alert": {"id": "alert-7", "eventId": "event-7",
                                                                       "externalEventId": "7", "statusCode": 2}})
    with pytest.raises(BadRequest) as caught:
        inbox.webhook("another-tenant", acknowledged.encode())
    assert caught.value.status == 404 and store.counts()["deliveries"] == 0 and woken == []
    assert inbox.webhook(DEFAULT_TENANT, json.dumps({"id": "d0", "eventType": 300}).encode()) == "ignored"
    assert woken == []
    assert inbox.webhook(DEFAULT_TENANT, acknowledged.encode()) == "accepted" and woken == [()]
    assert inbox.webhook(DEFAULT_TENANT, acknowledged.encode()) == "duplicate" and woken == [()]
    assert [row["key"] for row in store.pending_intents()] == ["manage_status:alert-7:2:0"]
    unprintable = json.loads(acknowledged)
    unprintable["alert"]["id"] = "alert-7\u0000"  # no SIGNL4 id: refused, as the intent's payload would be
    with pytest.raises(BadRequest) as caught:
        inbox.webhook(DEFAULT_TENANT, json.dumps(dict(unprintable, id="d2")).encode())
    assert caught.value.status == 400
