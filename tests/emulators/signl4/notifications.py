"""The envelopes of SIGNL4's outbound webhook notifications, one per event type (ASSUMPTIONS.md
SIGNL4 §4: www.signl4.com/outbound-webhooks and the RudderStack fixtures).

    200 created, 201 acknowledged/closed, 203 annotated    alert + subscription (+ user, annotation)
    202 escalated                                          alert + team, no user, no acknowledgements
    300 / 301 duty period started / ended                  team only: no alert, no subscription
    302 / 303 punched in / out                             team + user{id}: no alert

``eventRaisedUtc`` has 7 fraction digits, or none ("2020-01-10T12:27:19Z") when asked for.
"""

import datetime
import uuid

CREATED, STATUS_CHANGED, ESCALATED, ANNOTATED = 200, 201, 202, 203
DUTY_STARTED, DUTY_ENDED, PUNCHED_IN, PUNCHED_OUT = 300, 301, 302, 303
ALERT_EVENTS = (CREATED, STATUS_CHANGED, ESCALATED, ANNOTATED)
TEAM_EVENTS = (DUTY_STARTED, DUTY_ENDED, PUNCHED_IN, PUNCHED_OUT)
USER_EVENTS = (PUNCHED_IN, PUNCHED_OUT)


def raised_utc(unix_seconds, whole_seconds=False):
    moment = datetime.datetime.fromtimestamp(unix_seconds, datetime.timezone.utc)
    if whole_seconds:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def alert_part(event_type, alert):
    status = 0 if event_type == ANNOTATED else alert["status"]["statusCode"]
    part = dict(statusCode=status, eventId=alert["eventId"], externalEventId=alert.get("externalId"), id=alert["id"])
    if event_type == STATUS_CHANGED:
        part["acknowledgedUserIds"] = list(alert["history"]["acknowledgements"])
    if event_type == ESCALATED:
        part["acknowledgedUserIds"] = []
    return part


def alert_notification(event_type, raised, subscription_id, alert, user=None, annotation=None, team_id=None):
    """``team_id``: of a 202, the team escalated to (the alert's own for an escalation to its manager)."""
    notification = dict(eventType=event_type, eventRaisedUtc=raised, subscription=dict(id=subscription_id),
                        alert=alert_part(event_type, alert), id=str(uuid.uuid4()))
    if event_type == ESCALATED:
        notification["team"] = dict(id=team_id or alert["teamId"])
    if user:
        notification["user"] = dict(username=user["name"], mailaddress=user["mail"], id=user["id"])
    if annotation:
        notification["annotation"] = dict(message=annotation["text"], id=annotation["id"])
    return notification


def team_notification(event_type, raised, team_id, user_id=None):
    notification = dict(eventType=event_type, eventRaisedUtc=raised, team=dict(id=team_id), id=str(uuid.uuid4()))
    if event_type in USER_EVENTS:
        notification["user"] = dict(id=user_id)
    return notification
