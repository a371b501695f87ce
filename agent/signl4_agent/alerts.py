"""SIGNL4 alerts as the sync reads them, and which alert is a ticket's Signl.

What proves that an alert is the Signl the agent raised for a ticket (never its external id alone:
any system can raise an alert with a ticket's number as external id):

- its id is the one recorded for the ticket; or, while that is not known yet,
- its event id (from SIGNL4's API) is the one SIGNL4 answered the raise with; or
- it carries the raise's marker: a random value the raise intent stores before the event is sent,
  sent as the alert parameter ``SyncRef`` (``GET /v2/alerts/{id}/details`` returns the parameters).

The executors and the poll (``sync.poll_alerts``) share this module: both read alerts with
:func:`read_alert` / the paged list and parse them with ``records.alert``. What the store alone says of
an alert (no request) is ``decisions.alert``.
"""

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import NotFoundError

from signl4_agent import records
from signl4_agent.decisions import Alert

MAX_CANDIDATES = 10  # alerts with a ticket's external id whose details are read to find the raise's marker


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


def proven(ctx, ticket_id, record, alert, marker):
    """What SIGNL4's API proves ``alert`` (read from it) to be: an earlier Signl of the ticket, its current
    Signl (whose id is learnt when the event id or ``marker``, the raise's, proves it), or another alert."""
    if alert.id in record["old_alerts"]:
        return Alert.EARLIER
    if record["alert_id"]:
        return Alert.CURRENT if alert.id == record["alert_id"] else Alert.OTHER
    if record["event_id"]:
        current = alert.event_id == record["event_id"]
    else:
        current = marker is not None and alert.marker == marker
    if not current:
        return Alert.OTHER
    ctx.store.save_ticket(ticket_id, alert_id=alert.id)
    return Alert.CURRENT


def current_alert(ctx, ticket_id, record, marker):
    """The id of the ticket's current Signl, looked up in SIGNL4 by the raise's event id, else by its
    ``marker`` (None when not found)."""
    known = set(record["old_alerts"])
    if record["event_id"]:
        for alert in alerts_for(ctx, ticket_id):
            if alert.event_id == record["event_id"] and alert.id not in known:
                return alert.id
        return None
    found = find_own_alert(ctx, ticket_id, known, marker) if marker else None
    return found.id if found else None
