"""What arrives over HTTP, checked before anything is written; the receiver's one door into the agent
(:class:`Inbox`).

SIGNL4's outbound webhooks carry no signature; the token in the URL is the only check, so the
body is believed in nothing. An alert acknowledged/closed (201), annotated (203) or, with
``escalations.enabled``, escalated (202) whose row in the decision table (``decisions``, on what the
store knows: no request) names an action becomes an intent, recorded together with the notification id
in one transaction (a duplicate delivery finds the id and does nothing). The intent's executor reads the
alert from SIGNL4's API before it acts and applies what SIGNL4 says (``intents``). Every other event type
(200 created too: an alert id is learnt from SIGNL4's API, by event id or marker), and events of alerts
the agent did not raise, are answered 2xx and ignored. Manage callbacks are verified in ``callbacks``.
"""

import json

from signl4_agent import decisions
from signl4_agent.constants import EventType
from signl4_agent.decisions import APPLY, NOTE, READ_ESCALATIONS, Seen
from signl4_agent.intents import Escalated, ManageStatus, Note, annotation_seen
from signl4_agent.records import MAX_IDENTIFIER, identifier, record_id

ALERT_EVENTS = (EventType.SIGNL_CREATED, EventType.SIGNL_STATUS_CHANGED, EventType.SIGNL_ANNOTATED)


class BadRequest(ValueError):
    """A malformed request: answered 4xx, nothing written."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def parse_json(body):
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("body is not JSON (or nested too deeply)") from None
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def field(data, name, kind, required=True):
    """``data[name]`` checked to be a ``kind`` (never a bool for int); :class:`BadRequest` otherwise."""
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadRequest(f"{name} must be {getattr(kind, '__name__', 'an object')}")
    return value


def _identifier(data, name):
    if identifier(field(data, name, str)) is None:
        raise BadRequest(f"{name} must be 1 to {MAX_IDENTIFIER} printable characters")
    return data[name]


def _claim(event_type, data, alert):
    """What an alert event says happened: ``(seen or None, status, annotation id)``."""
    if event_type == EventType.SIGNL_STATUS_CHANGED:
        status = field(alert, "statusCode", int)
        return decisions.SIGNL4_SAYS.get(status), status, None
    if event_type == EventType.SIGNL_ANNOTATED:
        annotation = field(data, "annotation", dict)
        field(annotation, "message", str)  # the text is read from SIGNL4's timeline; a marker line here only ignores
        return Seen.ANNOTATED, None, _identifier(annotation, "id")
    if event_type == EventType.SIGNL_ESCALATED:
        field(data, "team", dict, required=False)  # its shape only: the escalations are read from SIGNL4
        return Seen.ESCALATED, None, None
    return None, None, None  # created: nothing to sync


def _payload(action, ticket_id, alert_id, event_id, delivery_id, status, annotation_id, record):
    """The intent a row of the decision table names for a notification (None: nothing to do)."""
    if action is APPLY:
        return ManageStatus(ticket_id, status, alert_id, event_id, record["reopened"])
    if action is NOTE:
        return Note(ticket_id, alert_id, annotation_id, event_id)
    if action is READ_ESCALATIONS:
        return Escalated(ticket_id, alert_id, delivery_id, event_id)
    return None  # not a Signl of this agent, or nothing new


def outbound_intent(store, data, escalations=False):
    """``(delivery id, the intent's payload or None)`` for a SIGNL4 notification; raises :class:`BadRequest`.
    An alert event is checked whole before it is matched to a ticket: malformed is 400 either way. A 202
    (escalated) is an alert event only with ``escalations`` (``escalations.enabled``)."""
    delivery_id = _identifier(data, "id")
    event_type = field(data, "eventType", int)
    if event_type not in ALERT_EVENTS and not (escalations and event_type == EventType.SIGNL_ESCALATED):
        return delivery_id, None
    alert = field(data, "alert", dict)
    alert_id = _identifier(alert, "id")
    ticket_id = record_id(field(alert, "externalEventId", str, required=False))
    field(data, "user", dict, required=False)  # its shape only: who acted is read from SIGNL4
    event_id = identifier(alert.get("eventId"))
    seen, status, annotation_id = _claim(event_type, data, alert)
    if seen is None or ticket_id is None:
        return delivery_id, None
    if seen is Seen.ANNOTATED:  # the echo of an annotation the agent wrote from a ticket note: never written back
        seen = annotation_seen(store, annotation_id, data["annotation"]["message"], polled=False)
    record = store.ticket(ticket_id)
    action = decisions.decide(seen, decisions.signl(record), decisions.alert(record, alert_id, event_id))
    return delivery_id, _payload(action, ticket_id, alert_id, event_id, delivery_id, status, annotation_id, record)


def accept_outbound(store, body, escalations=False):
    """Record one SIGNL4 notification; returns its outcome (``accepted``, ``duplicate``, ``ignored``)."""
    delivery_id, payload = outbound_intent(store, parse_json(body), escalations)
    if payload is None:
        return "ignored"
    return "accepted" if store.accept_delivery(delivery_id, payload) else "duplicate"


class Inbox:
    """What the receiver may do with an agent, and all it may do: hand over a SIGNL4 notification or a
    Manage callback of a tenant, count a delivery's outcome, read the health report and the metrics.
    No request to either API is made on the receiver's threads."""

    def __init__(self, tenant, store, verifier, metrics, wake, health, escalations=False):
        self.tenant = tenant
        self._escalations = escalations  # 202s are hints (escalations.enabled), else ignored
        self._store = store
        self._verifier = verifier
        self._metrics = metrics
        self._wake = wake  # wake(ticket_id=None): run that ticket's cycle, or the pending intents, now
        self._health = health

    def _check(self, tenant):
        if tenant != self.tenant:
            raise BadRequest("no such tenant", 404)

    def webhook(self, tenant, body):
        """A SIGNL4 notification: recorded as a hint when it may change something (the loop reads the
        alert from SIGNL4 before it acts); its outcome."""
        self._check(tenant)
        outcome = accept_outbound(self._store, body, self._escalations)
        if outcome == "accepted":
            self._wake()
        return outcome

    def callback(self, tenant, body, signature):
        """A Manage callback: verified at once when its key is cached, else queued for the verifier
        thread (``callbacks``); its outcome."""
        self._check(tenant)
        outcome, ticket_id = self._verifier.receive(body, signature, parse_json(body))
        if ticket_id is not None:
            self._wake(ticket_id)
        return outcome

    def count(self, source, outcome, tenant=None):
        self._metrics.deliveries.labels(source=source, outcome=outcome).inc()

    def health(self):
        return self._health()

    def ready(self):
        return dict(ready=self._store.reachable())

    def metrics(self):
        return self._metrics.render()


class Inboxes:
    """The receiver's one door into an agent process with several tenants: a delivery goes to its tenant's
    :class:`Inbox` (an unknown tenant is 404); health, readiness and metrics are the process's."""

    def __init__(self, inboxes, health, ready, metrics):
        self._inboxes = inboxes
        self._health = health
        self._ready = ready
        self._metrics = metrics

    def _inbox(self, tenant):
        inbox = self._inboxes.get(tenant)
        if inbox is None:
            raise BadRequest("no such tenant", 404)
        return inbox

    def webhook(self, tenant, body):
        return self._inbox(tenant).webhook(tenant, body)

    def callback(self, tenant, body, signature):
        return self._inbox(tenant).callback(tenant, body, signature)

    def count(self, source, outcome, tenant=None):
        """A delivery's outcome, counted for its tenant (a request for no known tenant: for the first one)."""
        inbox = self._inboxes.get(tenant) or next(iter(self._inboxes.values()))
        inbox.count(source, outcome)

    def health(self):
        return self._health()

    def ready(self):
        return self._ready()

    def metrics(self):
        return self._metrics()
