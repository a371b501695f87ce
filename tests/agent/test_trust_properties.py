"""No record stops the agent, and none is believed: property-based (hypothesis).

Arbitrary values go into every field the agent reads from Manage (tickets, ``/test`` results, workflow
events and actions, notes, tasks, members) and SIGNL4 (alerts, alert details with parameters and
timeline entries, users, event answers), and into webhook and callback bodies, through the real cycle
functions (``trigger_cycle``, ``update_cycle``, ``poll_alerts``, ``run_pending``) and the inbound
handlers. For speed the two API clients are replaced here, and only here, by small in-process fakes of
their methods that answer with the generated records (the same record kinds go over real HTTP with the
emulators in ``test_trust_records.py``); everything above the clients is the agent's own code.

Properties: nothing escapes a cycle function but a configuration-level error; a good record among bad
ones is still synced; a write happens only when what the API says (not what a webhook says) allows it;
every write is strict JSON.
"""

import builtins
import json
import os
import pathlib
import re
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import ConflictError

from tests.agent import support

from signl4_agent import callbacks, inbound, intents, sync
from signl4_agent import config as config_module
from signl4_agent.manage import TicketDesk
from signl4_agent.metrics import Metrics
from signl4_agent.store import SqliteStore

set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "signl4-connectwise-hypothesis"))  # not the checkout
SETTINGS = settings(max_examples=40, deadline=None, database=None,  # no example database written into the checkout
                    suppress_health_check=[HealthCheck.too_slow])
CAPTIONS = ["Signl4Retrieved_c", "Signl4Status_c", "Signl4User_c", "signl4status_c", "", "Other"]
SPECIAL_TEXT = ["57", "7", "1" * 20, "9" * 4400, "\u0661\u0662", "\u00b2", "", " ", "Acknowledged", "Resolved",
                "Annotation", "annotation", "true", "NaN", "alert-7", "event-7", "ann-1", "../../x", "a\u0000b"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from([10 ** 40, 2 ** 31, -1, 0, 2, 4]),
                    st.floats(), st.text(max_size=12), st.sampled_from(SPECIAL_TEXT))
junk = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                    max_leaves=6)


def maybe(good):
    """A good value, or anything at all."""
    return st.one_of(good, junk)


def record(**fields):
    """A JSON object with any of ``fields`` (each a good value or junk), or something that is not one at all."""
    return st.fixed_dictionaries({}, optional=dict((k, maybe(v)) for k, v in fields.items()))


reference = record(id=st.integers(1, 9), name=st.text(max_size=8), identifier=st.text(max_size=8))
custom_fields = st.lists(record(id=st.integers(1, 20), caption=st.sampled_from(CAPTIONS), value=junk), max_size=4)
tickets = record(id=st.integers(1, 12), summary=st.text(max_size=20), customFields=custom_fields, company=reference,
                 contact=reference, contactName=st.text(max_size=8), priority=reference, board=reference)
test_items = st.one_of(tickets, st.fixed_dictionaries({"ticket": maybe(tickets)}))
events = record(id=st.integers(1, 9), eventCondition=st.sampled_from(
    ["Signl4Retrieved_c = False", 'Signl4Status_c = "Acknowledged"', 'Signl4Status_c = "Resolved"',
     'Signl4Retrieved_c = True AND Signl4Status_c = "Resolved"']), name=st.text(max_size=5))
actions = record(id=st.integers(1, 9), notifyType=record(name=st.sampled_from(
    ["Update Status", "Update Priority", "Update Custom Field", "Add Note", "Send Email"])),
    boardStatus=reference, servicePriority=reference, notes=st.text(max_size=20), detailNotesFlag=junk,
    internalNotesFlag=junk)
action_values = record(caption=st.sampled_from(CAPTIONS), value=junk, fieldTypeId=st.sampled_from(
    ["Checkbox", "Number", "Percent", "Currency", "Text", "Date"]))
notes = record(id=st.integers(1, 9), text=st.text(max_size=30))
tasks = record(notes=st.text(max_size=10), summary=st.text(max_size=10), closedFlag=junk,
               deviceIdentifier=st.text(max_size=5), name=st.text(max_size=5))
members = record(id=st.integers(1, 9), officeEmail=st.text(max_size=10))
statuses = record(statusCode=st.sampled_from([1, 2, 4, 8]))
history = record(created=st.text(max_size=10), acknowledgements=st.lists(maybe(st.sampled_from(["olivia", "rene"])),
                                                                         max_size=2),
                 closedBy=st.sampled_from(["olivia", "rene"]))
timeline = record(id=st.sampled_from(["ann-1", "ann-2"]), entryType=st.sampled_from(["Annotation", "Escalation"]),
                  entrytype=st.sampled_from(["annotation"]), text=st.text(max_size=20), userId=st.sampled_from(["olivia"]))
parameters = record(name=st.sampled_from(["SyncRef", "Ticket"]), value=st.text(max_size=8))
alert_records = st.fixed_dictionaries(
    {"id": maybe(st.sampled_from(["alert-7", "alert-7", "alert-8"]))},  # mostly an alert the agent knows
    optional=dict((k, maybe(v)) for k, v in dict(
        eventId=st.sampled_from(["event-7", "event-8"]), externalId=st.sampled_from(["7", "8", "007", "9" * 25, "\u0667"]),
        status=statuses, flags=st.integers(0, 3), history=history, parameters=st.lists(parameters, max_size=2),
        timelineEntries=st.lists(timeline, max_size=3)).items()))
users = record(id=st.sampled_from(["olivia", "rene"]), name=st.text(max_size=10), mail=st.sampled_from(
    ["olivia@example.com", "x", ""]))
answers = record(eventId=st.text(max_size=10), id=st.text(max_size=5), status=statuses)

GOOD_TICKET = {"id": 1000, "summary": "good", "customFields": [
    {"id": 11, "caption": "Signl4Retrieved_c", "value": False}, {"id": 12, "caption": "Signl4Status_c", "value": None},
    {"id": 13, "caption": "Signl4User_c", "value": None}]}
RULES = {"SIGNL4 - Trigger Signls": 1, "SIGNL4 - Update Signls": 2, "SIGNL4 - Update CW Tickets": 3}
GOOD_EVENTS = {1: [{"id": 11, "eventCondition": "Signl4Retrieved_c = False"},
                   {"id": 12, "eventCondition": 'Signl4Retrieved_c = True AND Signl4Status_c = "Resolved"'}],
               2: [{"id": 21, "eventCondition": 'Signl4Status_c = "Acknowledged"'},
                   {"id": 22, "eventCondition": 'Signl4Status_c = "Resolved"'}],
               3: [{"id": 31, "eventCondition": 'Signl4Status_c = "Acknowledged"'},
                   {"id": 32, "eventCondition": 'Signl4Status_c = "Resolved"'}]}


def strict_json(value):
    """What the real transport sends must be JSON without NaN or Infinity (else it is no request at all)."""
    json.dumps(value, allow_nan=False)
    return value


class FakeManage:
    """``ManageClient``'s methods the agent calls, answering with generated records; writes recorded. Like
    the client, a list holds JSON objects only and ``get`` answers an object (what is inside is anything)."""

    def __init__(self, data):
        self.data = data
        self.patches, self.created = [], []

    def list(self, path, **kwargs):
        return list(self.iterate(path, **kwargs))

    def list_many(self, paths, max_workers=4):
        return [self.list(path) for path in paths]

    def iterate(self, path, conditions=None, **kwargs):
        return [item for item in self._records(path, conditions) if isinstance(item, dict)]

    def _records(self, path, conditions):
        data = self.data
        if path == "/system/workflows":
            name = re.search(r'"(.*)"', conditions).group(1)
            return [dict(id=RULES[name], name=name)]
        match = re.fullmatch(r"/system/workflows/(\d+)/events", path)
        if match:
            return GOOD_EVENTS[int(match.group(1))] + data.get("events", [])
        if path.endswith("/test"):
            wanted = re.search(r"id = (\d+)", conditions or "")
            items = data.get("test", []) + ([GOOD_TICKET] if path.endswith("/11/test") else [])
            return [t for t in items if not wanted or isinstance(t, dict) and str(t.get("id")) == wanted.group(1)]
        if path.endswith("/actions"):
            return data.get("actions", [])
        if "/userdefinedfields/" in path:
            return data.get("action_values", [])
        if path.endswith("/notes"):
            return data.get("notes", []) + [n for (p, n) in self.created if p == path]
        if path.endswith("/tasks") or path.endswith("/configurations"):
            return data.get("tasks", [])
        if path == "/system/members":
            return data.get("members", [])
        raise AssertionError("unexpected Manage list %s" % path)

    def get(self, path, params=None):
        ticket_id = int(path.rsplit("/", 1)[1])
        if ticket_id == 1000:
            return dict(GOOD_TICKET)
        found = [t for t in self.data.get("test", []) if isinstance(t, dict) and t.get("id") == ticket_id]
        return dict(found[0]) if found else dict(self.data.get("ticket") or {}, id=ticket_id)

    def patch(self, path, operations):
        self.patches.append((path, strict_json(operations)))
        return {}

    def create(self, path, body):
        self.created.append((path, strict_json(body)))
        return {}


class FakeSignl4:
    """``Signl4Client``'s methods the agent calls, answering with generated records; writes recorded."""

    def __init__(self, data):
        self.data = data
        self.events, self.changes, self.detail_reads = [], [], []

    def user(self, user_id):
        if user_id == support.ACTING_USER:
            return {"id": "rene"}
        return self.data.get("user") if isinstance(self.data.get("user"), dict) else {}

    def alerts(self, user_id=None, **filters):
        yield from self.data.get("alerts", [])

    def alert_details(self, alert_id, user_id=None):
        self.detail_reads.append(alert_id)
        details = self.data.get("details", {})
        return details if isinstance(details, dict) else {}

    def webhook_event(self, payload):
        self.events.append(strict_json(payload))
        answer = self.data.get("answer", {})
        return answer if isinstance(answer, dict) else {}

    def _change(self, alert_id, user_id, what):
        self.changes.append((what, alert_id))
        if self.data.get("conflict"):
            raise ConflictError("already", status=409)
        answer = self.data.get("answer", {})
        return answer if isinstance(answer, dict) else {}

    def acknowledge(self, alert_id, user_id, comment=None):
        return self._change(alert_id, user_id, "acknowledge")

    def close_alert(self, alert_id, user_id, comment=None):
        return self._change(alert_id, user_id, "close")

    def undo_close(self, alert_id, user_id, comment=None):
        return self._change(alert_id, user_id, "undoClose")


class Place:
    """A config, a fresh state file and a context over the fakes, for one example (``with Place(...) as place``)."""

    def __init__(self, data, **overrides):
        self.dir = tempfile.TemporaryDirectory()
        nowhere = type("Nowhere", (), {"url": "http://127.0.0.1:9"})()
        raw = support.config(pathlib.Path(self.dir.name), nowhere, nowhere, **overrides)
        raw["details"] = ["notes", "tasks", "company", "contact", "priority", "board", "configurations"]
        self.config = config_module.validate(raw, env={})
        self.store = SqliteStore(os.path.join(self.dir.name, "state.db"))
        self.store.db.execute("PRAGMA synchronous=OFF")  # a scratch file per example: no fsync needed
        self.manage, self.signl4 = FakeManage(data), FakeSignl4(data)
        self.ctx = sync.Context(self.config, TicketDesk(self.manage, self.config), self.signl4, self.store, Metrics())

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        """Ends the example: every record in quarantine failed on a checked input or an API's answer,
        never on a value a parser did not foresee (a TypeError, a KeyError ...)."""
        try:
            unforeseen = [q for q in self.store.quarantined() if q["reason"].split(":")[0] in dir(builtins)]
            assert not unforeseen, unforeseen
        finally:
            self.store.close()
            self.dir.cleanup()

    def status_words(self, ticket_id):
        """The Signl4Status_c values the ticket's PATCHes set."""
        words = []
        for path, operations in self.manage.patches:
            if path.endswith("/%d" % ticket_id):
                for op in operations:
                    if op["path"] == "customFields":
                        words += [e.get("value") for e in op["value"] if e.get("caption") == "Signl4Status_c"]
        return words


manage_data = st.fixed_dictionaries({}, optional={
    "test": st.lists(maybe(test_items), max_size=5), "events": st.lists(events, max_size=3),
    "actions": st.lists(actions, max_size=3), "action_values": st.lists(action_values, max_size=3),
    "notes": st.lists(notes, max_size=3), "tasks": st.lists(tasks, max_size=3), "members": st.lists(members, max_size=2),
    "ticket": tickets, "answer": maybe(answers), "conflict": st.booleans(), "user": maybe(users)})


def _seed_signls(store):
    """Tickets 1..5 with a Signl each, some closed (the reopen paths), some acknowledged."""
    for ticket_id in range(1, 6):
        store.add_intent(intents.Raise(ticket_id, 1, "m%d" % ticket_id))
        store.save_ticket(ticket_id, generation=1, alert_id="alert-%d" % ticket_id if ticket_id % 2 else None,
                          event_id="event-%d" % ticket_id, alert_status=(1, 2, 4)[ticket_id % 3])


@SETTINGS
@given(data=manage_data, reopen=st.sampled_from(["new_signl", "reopen", "ignore"]))
def test_manage_records_of_any_shape_never_stop_a_cycle_and_a_good_ticket_still_raises(data, reopen):
    with Place(data, reopen=reopen, owner_assignment="both") as place:
        _seed_signls(place.store)
        sync.trigger_cycle(place.ctx)
        sync.update_cycle(place.ctx)
        intents.run_pending(place.ctx)
        sync.trigger_cycle(place.ctx)  # and again, with the quarantine filled
        assert place.store.intent("raise:1000:1")["state"] == "done"
        raised = [e for e in place.signl4.events if e.get("X-S4-ExternalID") == "1000"]
        assert len(raised) == 1 and raised[0]["SyncRef"] == place.store.intent("raise:1000:1")["payload"]["marker"]


signl4_data = st.fixed_dictionaries({}, optional={
    "alerts": st.lists(maybe(alert_records), max_size=5), "details": maybe(alert_records), "user": maybe(users),
    "answer": maybe(answers), "ticket": tickets, "actions": st.lists(actions, max_size=2),
    "action_values": st.lists(action_values, max_size=2), "notes": st.lists(notes, max_size=2),
    "members": st.lists(members, max_size=2)})
GENUINE = {"id": "alert-7", "eventId": "event-7", "externalId": "7", "status": {"statusCode": 2},
           "history": {"acknowledgements": ["olivia"]}, "flags": 0}


@SETTINGS
@given(data=signl4_data, position=st.integers(0, 5))
def test_polled_alerts_of_any_shape_never_stop_the_poll_and_a_good_one_is_applied(data, position):
    data = dict(data)
    data["alerts"] = list(data.get("alerts", []))
    data["alerts"].insert(min(position, len(data["alerts"])), GENUINE)
    data["ticket"] = dict(GOOD_TICKET, id=7)
    with Place(data, owner_assignment="both") as place:
        place.store.save_ticket(7, generation=1, alert_id="alert-7", event_id="event-7", alert_status=1)
        sync.poll_alerts(place.ctx, 0)
        intents.run_pending(place.ctx)
        assert place.store.ticket(7)["alert_status"] >= 2
        assert "Acknowledged" in place.status_words(7) or "Resolved" in place.status_words(7)


@SETTINGS
@given(data=signl4_data)
def test_webhook_hints_are_applied_only_as_the_api_has_them(data):
    data = dict(data, ticket=dict(GOOD_TICKET, id=7))
    with Place(data, owner_assignment="both") as place:
        place.store.save_ticket(7, generation=1, alert_id="alert-7", event_id="event-7", alert_status=1)
        for status in (2, 4):
            place.store.add_intent(intents.ManageStatus(7, status, "alert-7", "event-7"))
        place.store.add_intent(intents.Note(7, "alert-7", "ann-1", "event-7"))
        intents.run_pending(place.ctx)
        details = data.get("details") if isinstance(data.get("details"), dict) else {}
        code = (details.get("status") or {}).get("statusCode") if isinstance(details.get("status"), dict) else None
        words = place.status_words(7)
        if words:  # a status was applied: SIGNL4's API has the alert so
            assert details.get("id") == "alert-7" and isinstance(code, int) and not isinstance(code, bool) and code in (2, 4)
            assert words == [{2: "Acknowledged", 4: "Resolved"}[code]]
        written = [body["text"] for path, body in place.manage.created if path.endswith("/notes")]
        entries = [e for e in details.get("timelineEntries") or [] if isinstance(e, dict) and e.get("id") == "ann-1"] \
            if isinstance(details.get("timelineEntries"), list) else []
        for text in written:
            if text.endswith("[SIGNL4 ref ann-1]"):  # the annotation's note: its text is the timeline's
                assert details.get("id") == "alert-7"
                assert any(isinstance(e.get("text"), str) and e["text"].strip() and e["text"] in text for e in entries)
        assert place.signl4.detail_reads.count("alert-7") <= 3  # one read per hint that would act


webhook_bodies = record(id=st.text(max_size=10), eventType=st.sampled_from([200, 201, 202, 203, 300]),
                        alert=record(id=st.sampled_from(["alert-7", "alert-x"]), eventId=st.sampled_from(["event-7", "e"]),
                                     externalEventId=st.sampled_from(["7", "8", "\u0667"]), statusCode=st.integers(0, 5)),
                        user=users, annotation=record(id=st.text(max_size=5), message=st.text(max_size=5)))
callback_bodies = record(MessageId=st.text(max_size=8), Type=st.sampled_from(["ticket", "Ticket", "company"]),
                         ID=st.integers(-1, 20), Metadata=record(key_url=st.sampled_from(
                             ["https://na.example.com/v1/system/callbackkey/index.rails?id=1",
                              "http://na.example.com/v1/system/callbackkey/index.rails?id=1",
                              "https://evil.example/system/callbackkey/index.rails", "https://na.example.com/x"])))


@SETTINGS
@given(body=st.one_of(webhook_bodies, junk), raw=st.binary(max_size=40))
def test_webhook_bodies_of_any_shape_are_answered_and_write_no_ticket(body, raw):
    with Place({}) as place:
        place.store.save_ticket(7, generation=1, alert_id="alert-7", event_id="event-7", alert_status=1)
        for data in (json.dumps(body).encode(), raw):
            try:
                assert inbound.accept_outbound(place.store, data) in ("accepted", "duplicate", "ignored")
            except inbound.BadRequest as exc:
                assert 400 <= exc.status < 500
        assert place.store.ticket(7)["alert_status"] == 1 and place.store.ticket(7)["alert_id"] == "alert-7"
        for intent in place.store.pending_intents():
            assert intent["kind"] in ("manage_status", "note") and intent["ticket_id"] == 7


@SETTINGS
@given(body=st.one_of(callback_bodies, junk), signature=st.one_of(st.none(), st.text(max_size=50)),
       key=st.sampled_from(["k", "other"]))
def test_callback_bodies_of_any_shape_never_fetch_a_key_elsewhere(body, signature, key):
    fetched, woken = [], []
    origins = {("https", "na.example.com", 443)}

    def fetch(key_url, origin):
        fetched.append((key_url, origin))
        return key

    verifier = callbacks.CallbackVerifier(lambda: origins, fetch, woken.append, threaded=False)
    data = json.dumps(body).encode()
    signatures = [signature, callbacks.signature("k", data)]
    for header in signatures:
        try:
            outcome, ticket = verifier.receive(data, header, inbound.parse_json(data))
            assert outcome in ("accepted", "duplicate", "ignored", "queued")
        except inbound.BadRequest as exc:
            assert exc.status in (400, 401, 429)
    verifier.work_queued()
    for key_url, origin in fetched:
        assert callbacks.url_origin(key_url) in origins and "@" not in key_url.split("/")[2]
    if woken:  # only a callback signed with the key Manage serves wakes the loop
        assert key == "k"
