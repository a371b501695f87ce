"""Issue 18 (trust boundaries): each attack of the report reproduced against the real agent (HTTP to its
receiver, both emulators behind it) and shown refused, with nothing written in Manage or SIGNL4 and
nothing sent elsewhere."""

import json
import urllib.request

import pytest

from tests.agent import support
from tests.integration.raw_server import Answer, RawServer

from signl4_agent import callbacks, intents

ATTACKER_KEY = "attacker-chosen-signing-key"
KEY_PATH = "/v2025_1/system/callbackkey/index.rails"
MALLORY = "mallory@example.com"


@pytest.fixture
def elsewhere():
    """A server standing for "elsewhere": records every request; answers each with a signing key the attacker knows."""
    with RawServer([Answer(200, json.dumps({"signing_key": ATTACKER_KEY}))]) as server:
        yield server


def callback_url(agent, ticket_id):
    return "%s/manage/%s/callback?recordId=%d" % (agent.url, support.CALLBACK_TOKEN, ticket_id)


def callback_body(ticket_id, key_url, message_id="0b7c1c8e-6a36-4f8e-9a8f-5d0b6b6f0001"):
    payload = {"MessageId": message_id, "FromUrl": "127.0.0.1", "CompanyId": "signl4demo", "MemberId": "x",
               "Action": "updated", "Type": "ticket", "ID": ticket_id, "CallbackObjectRecId": 1, "Entity": "{}",
               "Metadata": {"key_url": key_url}}
    if message_id is None:
        del payload["MessageId"]
    return json.dumps(payload).encode()


def post_callback(agent, ticket_id, key_url, key, message_id):
    """POST the agent a callback about ``ticket_id`` naming ``key_url``, signed with ``key``: ``(status, answer)``."""
    body = callback_body(ticket_id, key_url, message_id=message_id)
    return support.post(callback_url(agent, ticket_id), body, {"x-content-signature": callbacks.signature(key, body)})


def manage_key(manage):
    """The key_url and signing key of the Manage emulator, as a callback delivered to a receiver shows them."""
    from tests.emulators.receiver import Receiver
    box = Receiver(path="/cb?recordId=")
    try:
        with support.manage_client(manage) as cw:
            made = cw.create("/system/callbacks", {"url": box.url, "objectId": 1, "type": "ticket", "level": "owner"})
            support.new_ticket(cw, summary="key probe")
            manage.control("POST", "/callbacks/drain", {"timeout": 10})
            cw.delete("/system/callbacks/%d" % made["id"])
        key_url = box.wait_for(1)[0]["Metadata"]["key_url"]
    finally:
        box.stop()
    with urllib.request.urlopen(key_url, timeout=10) as answer:  # noqa: S310 - loopback
        return key_url, json.loads(answer.read())["signing_key"]


def key_requests(manage):
    return [r for r in manage.requests() if r["path"].lower().endswith("/system/callbackkey/index.rails")]


# ----- 1: the signing key comes only from the configured Manage, without credentials ------------------

def test_a_key_url_elsewhere_is_never_fetched_and_the_forged_callback_is_refused(make_agent, manage, signl4, cw, elsewhere):
    agent = make_agent()
    ticket = support.new_ticket(cw)
    manage_port, elsewhere_port = (int(server.url.rsplit(":", 1)[1]) for server in (manage, elsewhere))
    query = "?companyName=signl4demo&id=1"
    signl4.clear_requests()
    forged = [
        "http://127.0.0.1:%d%s%s" % (elsewhere_port, KEY_PATH, query),  # another port on the Manage host
        "http://localhost:%d%s%s" % (elsewhere_port, KEY_PATH, query),  # another host name
        "http://localhost:%d%s%s" % (manage_port, KEY_PATH, query),  # the same server under another name
        "https://127.0.0.1:%d%s%s" % (manage_port, KEY_PATH, query),  # another scheme
        "http://demopublic:demoprivate@127.0.0.1:%d%s%s" % (manage_port, KEY_PATH, query),  # user info
        "http://127.0.0.1:%d@127.0.0.1:%d%s%s" % (manage_port, elsewhere_port, KEY_PATH, query),
        "http://127.0.0.1:%d/v2025_1/apis/3.0/system/members" % manage_port,  # not a key URL
        "http://127.0.0.1:%d%s%s#x" % (manage_port, KEY_PATH, query),
        "http://127.0.0.1:%d%s%s\r\nX-Injected: y" % (manage_port, KEY_PATH, query),  # a header smuggled in
    ]
    manage.clear_requests()
    for number, key_url in enumerate(forged):
        status, answer = post_callback(agent, ticket["id"], key_url, ATTACKER_KEY, "m-%d" % number)
        assert status == 401, (key_url, answer)
    assert elsewhere.requests == []  # nothing was sent elsewhere: no request, so no Authorization header
    assert key_requests(manage) == []  # nor to Manage
    assert agent.requested == set() and not agent.wake.is_set()
    assert not manage.writes() and not signl4.writes()


def test_only_the_exact_origins_of_the_configured_manage_are_key_origins(make_agent):
    """A cloud instance: the site of manage.url and the API host ManageClient derives from it, each with its
    scheme and port; http://, another port or another host are not."""
    agent = make_agent(receiver=False, manage={"url": "https://na.myconnectwise.net", "codebase": "v2025_1/"})
    agent.manage.prepare()  # the codebase is given: the API base is derived without a request
    origins = agent.manage_origins()
    assert origins == {("https", "na.myconnectwise.net", 443), ("https", "api-na.myconnectwise.net", 443)}
    good = "https://na.myconnectwise.net%s?companyName=c&id=1" % KEY_PATH
    assert callbacks.key_url_origin(good, origins) == ("https", "na.myconnectwise.net", 443)
    assert callbacks.key_url_origin(good.replace("//na.", "//api-na."), origins)
    for bad in (good.replace("https:", "http:"), good.replace(".net", ".net:8443"), good.replace("na.my", "eu.my"),
                good.replace("//", "//u:p@"), good.replace(".net", ".net.evil.example"), good + "#f",
                good.replace(KEY_PATH, "/v2025_1/apis/3.0/service/tickets")):
        assert callbacks.key_url_origin(bad, origins) is None, bad


def test_the_key_is_read_without_credentials_and_with_them_only_where_manage_asks(make_agent, manage, cw):
    key_url, key = manage_key(manage)
    agent = make_agent()
    ticket = support.new_ticket(cw)
    manage.clear_requests()
    assert post_callback(agent, ticket["id"], key_url, key, "first") == (202, {"outcome": "queued"})
    assert support.wait_for(lambda: agent.requested == {ticket["id"]})
    assert [("authorization" in r["headers"], "clientid" in r["headers"]) for r in key_requests(manage)] == \
        [(False, False)]
    # a Manage that wants the API member's credentials for its keys gets them, there and only there
    manage.control("POST", "/callbacks/key", {"auth": True})
    agent.verifier.keys.entries.clear()
    agent.requested.clear()
    manage.clear_requests()
    assert post_callback(agent, ticket["id"], key_url, key, "second")[0] == 202
    assert support.wait_for(lambda: agent.requested == {ticket["id"]})
    assert [(r["status"], "authorization" in r["headers"], "clientid" in r["headers"]) for r in key_requests(manage)] == \
        [(401, False, False), (200, True, True)]
    # the key reads are the agent's API calls too
    labels = [s.labels for m in agent.metrics.api_calls.collect() for s in m.samples
              if s.name.endswith("_total") and "callbackkey" in s.labels["endpoint"]]
    assert sorted(label["status"] for label in labels) == ["200", "401"]


# ----- 2: no alert stops the agent --------------------------------------------------------------------

def _foreign_event(signl4, external_id):
    with support.signl4_client(signl4) as client:
        client.webhook_event({"Title": "Another system's alert", "Message": "x", "X-S4-ExternalID": external_id})


def test_alerts_with_absurd_external_ids_do_not_stop_the_agent(provisioned, cw, tmp_path):
    manage, signl4 = provisioned
    port = support.free_port()
    raw = support.config(tmp_path, manage, signl4, port=port, signl4={"poll_alerts": True}, poll_interval=1)
    ticket = support.new_ticket(cw)
    agent = support.AgentProcess(support.write_config(tmp_path, raw), port)
    try:
        assert agent.wait_ready()
        assert support.wait_for(lambda: support.alerts(signl4, ticket["id"]))
        for external_id in ("9" * 20, "1" * 4400, "\u0661\u0662\u0663", "\u00b2", "-1", "0" * 30):
            _foreign_event(signl4, external_id)
        support.act(signl4, "acknowledge", ticket["id"])  # no webhook subscription: only the poll brings it
        assert support.wait_for(lambda: cw.get("/service/tickets/%d" % ticket["id"])["status"]["name"] == "In Progress",
                                timeout=30)
        assert agent.proc.poll() is None and agent.get("/healthz")[0] == 200
    finally:
        code, output = agent.stop()
    assert code == 0, output[-2000:]
    assert "Traceback" not in output


def test_a_hostile_alert_record_is_quarantined_and_the_poll_goes_on(make_agent, signl4, cw):
    """The alert list as SIGNL4 might send it: an alert whose fields are of every wrong type, between good ones."""
    agent = make_agent(receiver=False, signl4={"poll_alerts": True})
    ticket = support.cycled_ticket(agent, cw)
    support.act(signl4, "acknowledge", ticket["id"])
    real = support.alerts(signl4, ticket["id"])[0]
    hostile = {"id": ["x"], "externalId": 10 ** 30, "status": "2", "flags": "2", "history": [], "eventId": {"a": 1}}
    hostile2 = {"id": "h" * 30, "externalId": str(ticket["id"]), "status": {"statusCode": True}, "flags": 10 ** 40,
                "history": {"acknowledgements": "abc", "closedBy": 5}}
    page = {"results": [hostile, "not an object", hostile2, dict(real, parameters=None)], "hasMore": False}
    signl4.control("POST", "/faults", {"status": 200, "body": page, "path": "/alerts/paged", "count": 1})
    assert agent.safe(agent.cycle)
    assert cw.get("/service/tickets/%d" % ticket["id"])["status"]["name"] == "In Progress"
    quarantined = [q["key"] for q in agent.store.quarantined()]
    assert "alert:(not an object)" in quarantined and len(quarantined) == 2  # and the alert whose id is a list
    metrics = agent.metrics.render().decode()
    assert 'signl4_agent_quarantined_records{kind="alert"} 2.0' in metrics


# ----- 3: an alert is adopted only by the raise's own marker ------------------------------------------

def test_a_foreign_alert_with_the_tickets_number_is_not_adopted_after_an_unknown_raise(make_agent, manage, signl4, cw):
    agent = make_agent()
    ticket = support.new_ticket(cw)
    signl4.inject(500, count=1, method="POST", path="^/webhook/")
    assert not agent.safe(agent.cycle)  # the raise's outcome is unknown (a 5xx of a write)
    _foreign_event(signl4, str(ticket["id"]))  # another system raises an alert with the ticket's number
    foreign = support.alerts(signl4, ticket["id"])[0]
    assert agent.safe(agent.cycle)
    raised = support.alerts(signl4, ticket["id"])
    assert len(raised) == 2  # the ticket's own Signl was raised: nobody would have been paged otherwise
    own = next(a for a in raised if a["id"] != foreign["id"])
    assert dict((p["name"], p["value"]) for p in own["parameters"])["SyncRef"]
    record = agent.store.ticket(ticket["id"])
    assert record["event_id"] == own["eventId"] and record["alert_id"] in (None, own["id"])
    # closing (or annotating) the foreign alert changes nothing in Manage
    support.settle(agent, signl4)
    manage.clear_requests()
    signl4.clear_requests()
    signl4.control("POST", "/act", {"action": "annotate", "alert_id": foreign["id"], "user": support.OLIVIA, "text": "x"})
    signl4.control("POST", "/act", {"action": "close", "alert_id": foreign["id"], "user": support.OLIVIA})
    support.settle(agent, signl4)
    agent.cycle()
    assert not manage.writes()
    assert not [r for r in signl4.requests() if r["path"].endswith("/details")]  # decided from the store
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert current["status"]["name"] == "New (not responded)" and support.custom(current, "Signl4Status_c") is None
    # the ticket's own Signl still syncs
    signl4.control("POST", "/act", {"action": "acknowledge", "alert_id": own["id"], "user": support.OLIVIA})
    support.settle(agent, signl4)
    assert cw.get("/service/tickets/%d" % ticket["id"])["status"]["name"] == "In Progress"


def test_after_a_lost_answer_the_own_alert_is_adopted_by_its_marker_not_a_newer_foreign_one(make_agent, signl4, cw):
    agent = make_agent(signl4={"timeout": 1})
    support.new_ticket(cw)
    signl4.set_latency(2)  # SIGNL4 raises the Signl after the agent stopped waiting for the answer
    assert not agent.safe(agent.cycle)
    signl4.set_latency(0)
    ticket_id = agent.store.pending_intents()[0]["ticket_id"]  # the first ticket the cycle raised a Signl for
    assert support.wait_for(lambda: support.alerts(signl4, ticket_id))
    own = support.alerts(signl4, ticket_id)[0]
    _foreign_event(signl4, str(ticket_id))  # newer than the Signl, same external id
    assert agent.safe(agent.cycle)
    assert len(support.alerts(signl4, ticket_id)) == 2  # not sent again
    assert agent.store.ticket(ticket_id)["alert_id"] == own["id"]


@pytest.mark.parametrize("event_id_known", [True, False])
def test_alert_of_learns_no_alert_by_external_id_alone(make_agent, signl4, cw, event_id_known):
    """A Manage acknowledge needs the Signl's alert id: found by the event id SIGNL4 answered the raise
    with, or (an answer without one) by the raise's marker; never a newer foreign alert with the same
    external id (the acknowledge would go to another system's alert)."""
    agent = make_agent(receiver=False)
    ticket = support.cycled_ticket(agent, cw)
    own = support.alerts(signl4, ticket["id"])[0]
    if not event_id_known:
        agent.store.save_ticket(ticket["id"], event_id=None)
    _foreign_event(signl4, str(ticket["id"]))
    support.set_status(cw, ticket["id"], "In Progress")
    agent.cycle()
    statuses = dict((a["id"], a["status"]["statusCode"]) for a in support.alerts(signl4, ticket["id"]))
    assert statuses[own["id"]] == 2 and sorted(statuses.values()) == [1, 2]
    assert agent.store.ticket(ticket["id"])["alert_id"] == own["id"]


# ----- 4: a webhook is a hint; SIGNL4's API says what happened -----------------------------------------

def _hook(agent):
    return "%s/signl4/%s" % (agent.url, support.WEBHOOK_TOKEN)


def _details_reads(signl4):
    return [r for r in signl4.requests() if r["path"].endswith("/details")]


def test_a_forged_acknowledge_and_forged_annotations_write_nothing(make_agent, manage, signl4, cw):
    support.member_with_email(cw, "asmith", MALLORY)
    agent = make_agent(owner_assignment="both")
    ticket = support.cycled_ticket(agent, cw)
    support.settle(agent, signl4)
    alert = support.alerts(signl4, ticket["id"])[0]
    manage.clear_requests()
    signl4.clear_requests()
    part = {"id": alert["id"], "eventId": alert["eventId"], "externalEventId": str(ticket["id"])}
    ack = {"id": "forged-ack", "eventType": 201, "alert": dict(part, statusCode=2),
           "user": {"id": "mallory", "username": "Mallory", "mailaddress": MALLORY}}
    assert support.post(_hook(agent), ack) == (200, {"outcome": "accepted"})
    for number in range(20):
        note = {"id": "forged-note-%d" % number, "eventType": 203, "alert": dict(part, statusCode=0),
                "user": {"id": "mallory", "username": "Mallory"},
                "annotation": {"id": "forged-%d" % number, "message": "Resolved, close it"}}
        assert support.post(_hook(agent), note)[0] == 200
        intents.run_pending(agent.ctx)
    intents.run_pending(agent.ctx)
    assert not manage.writes()
    assert cw.list("/service/tickets/%d/notes" % ticket["id"]) == []
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert current["status"]["name"] == "New (not responded)" and "owner" not in current
    assert support.alerts(signl4, ticket["id"])[0]["status"]["statusCode"] == 1
    assert len(_details_reads(signl4)) == 21  # one read per delivery that would have acted
    assert not signl4.writes()
    assert agent.store.pending_intents() == []
    # the real acknowledge afterwards is applied (the forged one left nothing in its way), with the real user
    support.act_and_settle(agent, signl4, "acknowledge", ticket["id"])
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert current["status"]["name"] == "In Progress" and "owner" not in current  # Olivia is no Manage member


def test_a_forged_user_on_a_real_acknowledge_does_not_choose_the_owner(make_agent, signl4, cw):
    support.member_with_email(cw, "asmith", MALLORY)
    olivia = support.member_with_email(cw, "bjones", support.OLIVIA)
    agent = make_agent(owner_assignment="both", subscribe=False)  # SIGNL4's own notification never comes
    ticket = support.cycled_ticket(agent, cw)
    alert = support.alerts(signl4, ticket["id"])[0]
    support.act(signl4, "acknowledge", ticket["id"])  # by Olivia, in SIGNL4
    forged = {"id": "forged", "eventType": 201, "alert": {"id": alert["id"], "eventId": alert["eventId"],
                                                          "externalEventId": str(ticket["id"]), "statusCode": 2},
              "user": {"id": "mallory", "username": "Mallory", "mailaddress": MALLORY}}
    assert support.post(_hook(agent), forged)[0] == 200
    intents.run_pending(agent.ctx)
    current = cw.get("/service/tickets/%d" % ticket["id"])
    assert current["status"]["name"] == "In Progress"
    assert current["owner"]["id"] == olivia["id"] and support.custom(current, "Signl4User_c") == support.OLIVIA


def test_a_forged_annotation_id_of_another_alert_writes_no_note(make_agent, signl4, cw):
    agent = make_agent(subscribe=False)
    first, second = support.new_ticket(cw, summary="One"), support.new_ticket(cw, summary="Two")
    agent.cycle()
    elsewhere_note = support.act(signl4, "annotate", second["id"], text="note of the other ticket")
    annotation_id = elsewhere_note["timelineEntries"][-1]["id"]
    alert = support.alerts(signl4, first["id"])[0]
    body = {"id": "forged", "eventType": 203, "alert": {"id": alert["id"], "eventId": alert["eventId"],
                                                        "externalEventId": str(first["id"]), "statusCode": 0},
            "annotation": {"id": annotation_id, "message": "note of the other ticket"}}
    assert support.post(_hook(agent), body)[0] == 200
    intents.run_pending(agent.ctx)
    assert cw.list("/service/tickets/%d/notes" % first["id"]) == []
    assert cw.list("/service/tickets/%d/notes" % second["id"]) == []


def test_stale_duplicate_and_echoed_deliveries_cost_no_request(make_agent, manage, signl4, cw):
    agent = make_agent()
    ticket = support.cycled_ticket(agent, cw)
    support.act_and_settle(agent, signl4, "close", ticket["id"])
    alert = support.alerts(signl4, ticket["id"])[0]
    signl4.clear_requests()
    manage.clear_requests()
    part = {"id": alert["id"], "eventId": alert["eventId"], "externalEventId": str(ticket["id"])}
    for number, code in enumerate((2, 4, 4, 1)):
        assert support.post(_hook(agent), {"id": "late-%d" % number, "eventType": 201, "alert": dict(part, statusCode=code)}) == \
            (200, {"outcome": "ignored"})
    intents.run_pending(agent.ctx)
    assert signl4.requests() == [] and manage.requests() == []


# ----- 8: replays, key floods, note markers -----------------------------------------------------------

def test_a_signed_callback_is_taken_once(make_agent, manage, cw):
    key_url, key = manage_key(manage)
    agent = make_agent()
    ticket = support.new_ticket(cw)
    for message_id in ("a-message-id", None):  # Manage's MessageId, else the body's digest
        agent.requested.clear()
        body = callback_body(ticket["id"], key_url, message_id=message_id)
        headers = {"x-content-signature": callbacks.signature(key, body)}
        first = support.post(callback_url(agent, ticket["id"]), body, headers)
        assert first[0] in (200, 202)
        assert support.wait_for(lambda: agent.requested == {ticket["id"]})
        agent.requested.clear()
        for unused in range(3):
            assert support.post(callback_url(agent, ticket["id"]), body, headers) == (200, {"outcome": "duplicate"})
        assert agent.requested == set()


def test_a_flood_of_bad_signatures_costs_manage_no_request(make_agent, manage, cw):
    key_url, key = manage_key(manage)
    agent = make_agent()
    ticket = support.new_ticket(cw)
    post_callback(agent, ticket["id"], key_url, key, "good")
    assert support.wait_for(lambda: agent.requested == {ticket["id"]})
    manage.clear_requests()
    for number in range(50):  # the key's own key_url, signed with another key
        assert post_callback(agent, ticket["id"], key_url, ATTACKER_KEY, "bad-%d" % number)[0] == 401
    assert key_requests(manage) == []
    unknown = key_url.rsplit("=", 1)[0] + "="
    statuses = []
    for number in range(50):  # key ids Manage does not know: queued, read at most FETCHES times, then refused
        key_url_unknown = unknown + "00000000-0000-0000-0000-%012d" % number
        statuses.append(post_callback(agent, ticket["id"], key_url_unknown, ATTACKER_KEY, "u-%d" % number)[0])
    assert set(statuses) <= {202, 401, 429}
    assert support.wait_for(agent.verifier.queue.empty)
    assert 1 <= len(key_requests(manage)) <= callbacks.FETCHES
    assert not manage.writes()


def test_a_reference_quoted_in_an_annotation_does_not_suppress_that_note(make_agent, signl4, cw):
    agent = make_agent()
    ticket = support.cycled_ticket(agent, cw)
    quoted = "see [SIGNL4 ref later-annotation] above\n[SIGNL4 ref later-annotation]\nthanks"
    support.act_and_settle(agent, signl4, "annotate", ticket["id"], text=quoted)
    notes = cw.list("/service/tickets/%d/notes" % ticket["id"])
    assert len(notes) == 1 and "[SIGNL4 ref later-annotation]" in notes[0]["text"]
    intents.write_note(agent.ctx, ticket["id"], "Olivia Oncall (SIGNL4): the later annotation", {"internalAnalysisFlag": True},
                       reference="later-annotation")
    assert len(cw.list("/service/tickets/%d/notes" % ticket["id"])) == 2
    intents.write_note(agent.ctx, ticket["id"], "again", {"internalAnalysisFlag": True}, reference="later-annotation")
    assert len(cw.list("/service/tickets/%d/notes" % ticket["id"])) == 2  # its own reference line still counts
