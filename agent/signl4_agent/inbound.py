"""What arrives from outside, checked before anything is written.

- SIGNL4 outbound notifications: an alert acknowledged/closed (201) or annotated (203) for a Signl
  this agent raised becomes an intent, recorded together with the notification id in one
  transaction (a duplicate delivery finds the id and does nothing). Every other event type, and
  events of alerts the agent did not raise, are answered 2xx and ignored.
- Manage callbacks: ``x-content-signature`` is base64(HMAC-SHA256(key=SHA-256(signing key),
  raw body)); the signing key is read from ``Metadata.key_url``, which must be on the Manage host.
"""

import base64
import hashlib
import hmac
import json
import logging
import threading
import time
from urllib.parse import urlsplit

from signl4_agent.sync import transition_key

log = logging.getLogger("signl4_agent.inbound")

ALERT_EVENTS = (200, 201, 203)
KEY_TTL = 3600.0
MAX_KEYS = 16  # signing keys cached: Manage rotates its key rarely; a sender cannot grow the cache
MAX_TICKET_ID = 2 ** 31 - 1  # Manage record ids are 32-bit


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


def _field(data, name, kind, required=True):
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadRequest("%s must be %s" % (name, getattr(kind, "__name__", "an object")))
    return value


def outbound_intent(store, data):
    """``(delivery id, intent or None)`` for a SIGNL4 notification; raises :class:`BadRequest`.
    An alert event is checked whole before it is matched to a ticket: malformed is 400 either way."""
    delivery_id = _field(data, "id", str)
    event_type = _field(data, "eventType", int)
    if event_type not in ALERT_EVENTS:
        return delivery_id, None
    alert = _field(data, "alert", dict)
    alert_id = _field(alert, "id", str)
    external_id = _field(alert, "externalEventId", str, required=False)
    user = _user(_field(data, "user", dict, required=False) or {})
    payload = _event_payload(event_type, data, alert, alert_id, user)
    ticket_id = _record_id(external_id)
    record = store.ticket(ticket_id) if ticket_id else None
    if record is None or not _may_be_ours(record, alert_id, alert.get("eventId")):
        return delivery_id, None  # not a Signl of this agent
    if event_type == 201:
        if payload["status"] not in (2, 4):
            return delivery_id, None
        return delivery_id, (transition_key(alert_id, payload["status"], record), "manage_status", ticket_id, payload)
    if event_type == 203:
        return delivery_id, ("note:%s" % payload["annotation_id"], "note", ticket_id, payload)
    return delivery_id, ("alert_id:%s" % alert_id, None, ticket_id, payload)


def _event_payload(event_type, data, alert, alert_id, user):
    if event_type == 201:
        return dict(status=_field(alert, "statusCode", int), alert_id=alert_id, event_id=alert.get("eventId"), user=user)
    if event_type == 203:
        annotation = _field(data, "annotation", dict)
        return dict(alert_id=alert_id, annotation_id=_field(annotation, "id", str),
                    text=_field(annotation, "message", str), user=user)
    return dict(alert_id=alert_id, event_id=alert.get("eventId"))


def _record_id(text):
    """The ticket id an external id names (ASCII digits within Manage's id range), else None."""
    text = text or ""
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= MAX_TICKET_ID else None


def _may_be_ours(record, alert_id, event_id):
    """Whether the alert can be a Signl the agent raised for this ticket: the current one, an earlier
    one, or, while the raise is in flight and neither id is known yet, maybe (the executor decides)."""
    if alert_id == record["alert_id"] or alert_id in record["old_alerts"]:
        return True
    if record["alert_id"]:
        return False
    return not record["event_id"] or record["event_id"] == event_id


def _user(user):
    return dict((key, user[key]) for key in ("id", "username", "mailaddress") if isinstance(user.get(key), str))


def accept_outbound(store, body):
    """Record one SIGNL4 notification; returns its outcome (``accepted``, ``duplicate``, ``ignored``)."""
    delivery_id, intent = outbound_intent(store, parse_json(body))
    if intent is None:
        return "ignored"
    if intent[1] is None:  # 200 created: learn the alert id of a Signl raised by event id
        record = store.ticket(intent[2])
        if record and not record["alert_id"] and record["event_id"] == intent[3]["event_id"]:
            store.save_ticket(intent[2], alert_id=intent[3]["alert_id"])
        return "ignored"
    return "accepted" if store.accept_delivery(delivery_id, intent) else "duplicate"


class CallbackVerifier:
    """Checks Manage callback signatures; signing keys are cached per ``key_url``."""

    def __init__(self, manage_url, fetch_key, clock=time.monotonic):
        host = (urlsplit(manage_url).hostname or "").lower()
        self.hosts = {host, "api-" + host}
        self.fetch_key = fetch_key  # key_url -> signing key (str)
        self.clock = clock
        self.keys = {}
        self.lock = threading.Lock()

    def _key(self, key_url, fresh=False):
        with self.lock:
            cached = self.keys.get(key_url)
            if cached and not fresh and self.clock() - cached[0] < KEY_TTL:
                return cached[1]
        key = self.fetch_key(key_url)
        with self.lock:
            if len(self.keys) >= MAX_KEYS:
                self.keys.pop(min(self.keys, key=lambda url: self.keys[url][0]))
            self.keys[key_url] = (self.clock(), key)
        return key

    @staticmethod
    def signature(key, body):
        digest = hmac.new(hashlib.sha256(key.encode("utf-8")).digest(), body, hashlib.sha256).digest()
        return base64.b64encode(digest).decode("ascii")

    def verify(self, body, signature, data):
        """The ticket id of a valid ticket callback, None for other record types; raises BadRequest."""
        if not signature:
            raise BadRequest("missing x-content-signature", 401)
        key_url = _field(_field(data, "Metadata", dict), "key_url", str)
        if (urlsplit(key_url).hostname or "").lower() not in self.hosts:
            raise BadRequest("Metadata.key_url is not on the Manage host", 401)
        for fresh in (False, True):  # a rotated key: read it again once
            expected = self.signature(self._key(key_url, fresh), body).encode("ascii")
            if hmac.compare_digest(expected, signature.encode("utf-8", "surrogateescape")):
                return _ticket_id(data)
        raise BadRequest("bad x-content-signature", 401)


def _ticket_id(data):
    if str(data.get("Type") or "").lower() != "ticket":
        return None
    record_id = data.get("ID")
    if isinstance(record_id, int) and not isinstance(record_id, bool):
        record_id = str(record_id)
    record_id = _record_id(record_id) if isinstance(record_id, str) else None
    if record_id is None:
        raise BadRequest("ID must be a ticket id")
    return record_id
