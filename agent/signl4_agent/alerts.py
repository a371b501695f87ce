"""SIGNL4 alerts as the sync reads them: which alert is a ticket's Signl, and the polling fallback.

What proves that an alert is the Signl the agent raised for a ticket (never its external id alone:
any system can raise an alert with a ticket's number as external id):

- its id is the one recorded for the ticket; or, while that is not known yet,
- its event id (from SIGNL4's API) is the one SIGNL4 answered the raise with; or
- it carries the raise's marker: a random value the raise intent stores before the event is sent,
  sent as the alert parameter ``SyncRef`` (``GET /v2/alerts/{id}/details`` returns the parameters).

The webhook path (a hint, see ``inbound``) and the poll share this module: both read alerts with
:func:`read_alert` / the paged list and parse them with ``records.alert``.
"""

import datetime
import logging

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError, NotFoundError
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import AlertStatus

from signl4_agent import records
from signl4_agent.quarantine import guarded, record_ident

log = logging.getLogger("signl4_agent.alerts")

HAS_ANNOTATIONS = 2  # bit of an alert's ``flags``
MAX_CANDIDATES = 10  # alerts with a ticket's external id whose details are read to find the raise's marker
MAX_POLLED = 5000  # alerts read per poll (a SIGNL4 whose pages never end does not hold the cycle)
TRANSITIONS = (AlertStatus.ACKNOWLEDGED, AlertStatus.CLOSED)


def transition_key(alert_id, code, record):
    """One SIGNL4 -> Manage transition of one alert (per re-open round): webhook and poll share it."""
    return "manage_status:%s:%d:%d" % (alert_id, code, record["reopened"])


# ----- what the store says, before any request ------------------------------------------------

def may_be_current(record, alert_id, event_id):
    """Whether an alert can be the ticket's current Signl as far as the store knows: its recorded
    alert, or (the id not learnt yet) one with the recorded event id, or anything while the raise is
    in flight (the executor reads the alert and decides)."""
    if not record or record["generation"] < 1 or alert_id in record["old_alerts"]:
        return False
    if record["alert_id"]:
        return record["alert_id"] == alert_id
    return not record["event_id"] or record["event_id"] == event_id


def may_be_ours(record, alert_id, event_id):
    """The current Signl or one of the ticket's earlier Signls (their annotations still become notes)."""
    if record and record["generation"] >= 1 and alert_id in record["old_alerts"]:
        return True
    return may_be_current(record, alert_id, event_id)


# ----- what SIGNL4 says -------------------------------------------------------------------------

def read_alert(ctx, alert_id):
    """The alert with its parameters and timeline, read as the acting user (one request); None when
    SIGNL4 has no such alert or answers with another one."""
    ctx.pace("rest")
    try:
        found = records.alert(ctx.signl4.alert_details(alert_id, user_id=ctx.acting_user))
    except NotFoundError:
        return None
    return found if found is not None and found.id == alert_id else None


def alerts_for(ctx, ticket_id):
    """The alerts SIGNL4 lists with the ticket's number as external id (parsed; unusable ones left out)."""
    ctx.pace("rest")
    found = (records.alert(item) for item in ctx.signl4.alerts(user_id=ctx.acting_user, external_id=str(ticket_id)))
    return [alert for alert in found if alert is not None and alert.external_id == str(ticket_id)]


def raise_marker(ctx, ticket_id, generation):
    """The marker the raise of this generation sent (None for a raise made before markers existed)."""
    intent = ctx.store.intent("raise:%d:%d" % (ticket_id, generation))
    marker = records.mapping(intent and intent["payload"]).get("marker")
    return marker if isinstance(marker, str) and marker else None


def find_own_alert(ctx, ticket_id, known, marker):
    """The alert, among those with the ticket's external id and none of ``known``, that carries
    ``marker``; newest first, at most ``MAX_CANDIDATES`` details read. None when there is none."""
    candidates = [alert for alert in alerts_for(ctx, ticket_id) if alert.id not in known]
    candidates.sort(key=lambda alert: alert.created, reverse=True)
    for candidate in candidates[:MAX_CANDIDATES]:
        details = read_alert(ctx, candidate.id)
        if details is not None and details.marker == marker:
            return details
    return None


def owns(ctx, ticket_id, record, alert):
    """Whether ``alert`` (read from SIGNL4's API) is the ticket's current Signl; learns its id when
    the event id or the marker prove it."""
    if alert.id in record["old_alerts"]:
        return False
    if record["alert_id"]:
        return alert.id == record["alert_id"]
    if record["event_id"]:
        proven = alert.event_id == record["event_id"]
    else:
        marker = raise_marker(ctx, ticket_id, record["generation"])
        proven = marker is not None and alert.marker == marker
    if proven:
        ctx.store.save_ticket(ticket_id, alert_id=alert.id)
    return proven


def current_alert(ctx, ticket_id, record):
    """The id of the ticket's current Signl, looked up in SIGNL4 (None when not found)."""
    known = set(record["old_alerts"])
    if record["event_id"]:
        for alert in alerts_for(ctx, ticket_id):
            if alert.event_id == record["event_id"] and alert.id not in known:
                return alert.id
        return None
    marker = raise_marker(ctx, ticket_id, record["generation"])
    found = find_own_alert(ctx, ticket_id, known, marker) if marker else None
    return found.id if found else None


# ----- SIGNL4 polling fallback ------------------------------------------------------------------

def poll_alerts(ctx, since):
    """Alerts modified since ``since`` (unix time) whose status moved past what the store knows
    become the same intents an outbound webhook would have recorded (same keys: no double work);
    so do their annotations (timeline entries), which a webhook lost while the agent was down
    would otherwise never bring. Each alert is guarded: one that fails is quarantined."""
    ctx.pace("rest")
    modified = datetime.datetime.fromtimestamp(since, datetime.timezone.utc)
    for number, item in enumerate(ctx.signl4.alerts(user_id=ctx.acting_user, modified_since=modified)):
        if number >= MAX_POLLED:
            log.warning("SIGNL4 listed more than %d alerts modified since the last poll; the rest wait", MAX_POLLED)
            return
        with guarded(ctx, "alert", record_ident(item)):
            _poll_one(ctx, item)


def _poll_one(ctx, item):
    alert = records.alert(item)
    if alert is None:
        raise InputError("SIGNL4 listed an alert without a usable id")
    ticket_id = records.record_id(alert.external_id)
    record = ctx.store.ticket(ticket_id) if ticket_id else None
    if not record or record["generation"] < 1:
        return  # another system's alert, or a ticket this agent never raised a Signl for
    if records.flag_set(alert.flags, HAS_ANNOTATIONS) and may_be_ours(record, alert.id, alert.event_id):
        poll_annotations(ctx, ticket_id, alert.id)
    _poll_status(ctx, ticket_id, record, alert)


def _poll_status(ctx, ticket_id, record, alert):
    code = alert.status
    if code not in TRANSITIONS or record["alert_status"] >= code:
        return
    current = alert.id == record["alert_id"] if record["alert_id"] else \
        bool(record["event_id"]) and alert.event_id == record["event_id"] and alert.id not in record["old_alerts"]
    if not current:
        return
    user_id = alert.acted_by(code)
    payload = dict(status=code, alert_id=alert.id, event_id=alert.event_id, user={"id": user_id} if user_id else {},
                   verified=True)
    ctx.store.add_intent(transition_key(alert.id, code, record), "manage_status", ticket_id, payload)


def poll_annotations(ctx, ticket_id, alert_id):
    """The alert's annotations as ``note`` intents (key ``note:<annotation id>``, as the webhook's)."""
    alert = read_alert(ctx, alert_id)
    if alert is None:
        return
    record = ctx.store.ticket(ticket_id)
    if alert.id not in record["old_alerts"] and not owns(ctx, ticket_id, record, alert):
        return
    for annotation_id, (body, user_id) in alert.annotations.items():
        payload = dict(alert_id=alert_id, event_id=alert.event_id, annotation_id=annotation_id, text=body,
                       user={"id": user_id} if user_id else {}, verified=True)
        ctx.store.add_intent("note:%s" % annotation_id, "note", ticket_id, payload)
