"""SIGNL4 outbound notifications: checked before anything is written, then taken as hints.

SIGNL4's outbound webhooks carry no signature; the token in the URL is the only check, so the
body is believed in nothing. An alert acknowledged/closed (201) or annotated (203) that can be a
Signl this agent raised, and that would change something the store does not know yet, becomes an
intent, recorded together with the notification id in one transaction (a duplicate delivery
finds the id and does nothing). The intent's executor reads the alert from SIGNL4's API before
it acts and applies what SIGNL4 says (status, who acted, the annotation's text): see ``sync``.
Stale, duplicate and echoed notifications are decided here, from the store, without a request.
Every other event type (200 created too: an alert id is learnt from SIGNL4's API, by event id or
marker), and events of alerts the agent did not raise, are answered 2xx and ignored. Manage
callbacks are in ``callbacks``.
"""

import json

from signl4_agent.alerts import may_be_current, may_be_ours, transition_key
from signl4_agent.records import MAX_IDENTIFIER, record_id

ALERT_EVENTS = (200, 201, 203)
TRANSITION_CODES = (2, 4)


class BadRequest(ValueError):
    """A malformed request: answered 4xx, nothing written."""

    def __init__(self, message, status=400):
        ValueError.__init__(self, message)
        self.status = status


def parse_json(body):
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadRequest("body is not JSON (or nested too deeply)")
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def field(data, name, kind, required=True):
    """``data[name]`` checked to be a ``kind`` (never a bool for int); :class:`BadRequest` otherwise."""
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadRequest("%s must be %s" % (name, getattr(kind, "__name__", "an object")))
    return value


def _identifier(data, name):
    value = field(data, name, str)
    if not 0 < len(value) <= MAX_IDENTIFIER:
        raise BadRequest("%s must be 1 to %d characters" % (name, MAX_IDENTIFIER))
    return value


def outbound_intent(store, data):
    """``(delivery id, intent or None)`` for a SIGNL4 notification; raises :class:`BadRequest`.
    An alert event is checked whole before it is matched to a ticket: malformed is 400 either way."""
    delivery_id = _identifier(data, "id")
    event_type = field(data, "eventType", int)
    if event_type not in ALERT_EVENTS:
        return delivery_id, None
    alert = field(data, "alert", dict)
    alert_id = _identifier(alert, "id")
    external_id = field(alert, "externalEventId", str, required=False)
    field(data, "user", dict, required=False)  # its shape only: who acted is read from SIGNL4
    payload = _event_payload(event_type, data, alert, alert_id)
    ticket_id = record_id(external_id)
    record = store.ticket(ticket_id) if ticket_id else None
    if event_type == 201 and _transition_news(record, payload):
        return delivery_id, (transition_key(alert_id, payload["status"], record), "manage_status", ticket_id, payload)
    if event_type == 203 and may_be_ours(record, alert_id, payload["event_id"]):
        return delivery_id, ("note:%s" % payload["annotation_id"], "note", ticket_id, payload)
    return delivery_id, None  # created, not a Signl of this agent, or nothing new


def _transition_news(record, payload):
    """Whether a claimed status change could be news: the ticket's current Signl as far as the store
    knows, and past the status the store has (else stale, a duplicate or the agent's own echo)."""
    return payload["status"] in TRANSITION_CODES and may_be_current(record, payload["alert_id"], payload["event_id"]) \
        and record["alert_status"] < payload["status"]


def _event_payload(event_type, data, alert, alert_id):
    event_id = alert.get("eventId") if isinstance(alert.get("eventId"), str) else None
    if event_type == 201:
        return dict(status=field(alert, "statusCode", int), alert_id=alert_id, event_id=event_id)
    if event_type == 203:
        annotation = field(data, "annotation", dict)
        field(annotation, "message", str)  # its shape only: the text is read from SIGNL4's timeline
        return dict(alert_id=alert_id, event_id=event_id, annotation_id=_identifier(annotation, "id"))
    return dict(alert_id=alert_id, event_id=event_id)


def accept_outbound(store, body):
    """Record one SIGNL4 notification; returns its outcome (``accepted``, ``duplicate``, ``ignored``)."""
    delivery_id, intent = outbound_intent(store, parse_json(body))
    if intent is None:
        return "ignored"
    return "accepted" if store.accept_delivery(delivery_id, intent) else "duplicate"
