"""The SIGNL4 emulator: inbound webhook, REST v2 (the subset in tests/specs) and outbound
webhook delivery, on 127.0.0.1. What SIGNL4 does not document is decided in ASSUMPTIONS.md
(section "SIGNL4"); the numbered [A-n] tags in the comments point there.

Test controls, besides the common ones (reset, requests journal, faults, latency):

    POST /__emulator__/act          {"user": "e-mail or id", "action": "acknowledge|close|annotate",
                                     "alert_id": "..." | "external_id": "...", "text": "..."}
                                    acts as that user in the SIGNL4 app (outbound 201/203 follow)
    POST /__emulator__/emit         {"eventType": 202|300|301|302|303, "team": id, "user": "e-mail or id",
                                     "alert_id" | "external_id": ..., "whole_seconds": true}
                                    sends the notifications only the SIGNL4 app causes (escalation, duty, punch),
                                    and changes nothing (a 202 without an escalation SIGNL4's API would show)
    POST /__emulator__/escalate     {"alert_id" | "external_id": ..., "to": "manager" | "team", "team": "id or name",
                                     "whole_seconds": true}
                                    SIGNL4 escalates a Signl: recorded on the alert (``escalations``), 202 follows
    POST /__emulator__/teams        {"name": ..., "secret": ..., "members": ["e-mail or id", ...], "id": optional}
                                    a team more, with its inbound webhook secret, members and default categories
    GET  /__emulator__/outbound     {"settings", "pending", "counts", "deliveries": [{id, url, payload, status, attempt}]}
    POST /__emulator__/outbound     {"duplicates": 2, "delay": 0.5, "jitter": 3, "seed": 7, "drop": 1, "retries": 3,
                                     "timeout": 2} (see tests/emulators/deliveries.py)
    POST /__emulator__/outbound/drain {"timeout": 5} -> 200 when every delivery is done, 504 otherwise
    POST /__emulator__/rate-limit   {"plan": "free" | "commercial" | null} or {"windows": {"events": [[3, 2]], "rest": [[5, 1]]}}
    GET  /__emulator__/state        teams, users, alerts (with annotations), events, webhooks, instances
"""

import datetime
import random
import string
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

from tests.emulators.clock import Clock
from tests.emulators.common import Emulator, HttpError, Response
from tests.emulators.signl4 import notifications, seed
from tests.emulators.signl4.categories import CategoryRoutes
from tests.emulators.signl4.notifications import ANNOTATED, CREATED, ESCALATED, STATUS_CHANGED
from tests.emulators.signl4.outbound import Outbound
from tests.emulators.signl4.ratelimit import RateLimiter

OPEN, ACKNOWLEDGED, CLOSED = 1, 2, 4
HAS_ANNOTATIONS = 2
ESCALATED_TO_TEAM, ESCALATED_TO_MANAGER = 16, 32  # V2.AlertFlags
ESCALATION_TYPES = {"manager": 1, "team": 2}  # V2.AlertEscalationType
# Event status codes (OverviewEvent.eventStatus)
SIGNLED, FILTERED, RESOLVED, DISCARDED, EVENT_ACKNOWLEDGED = 2, 3, 4, 5, 6
WEBHOOK_SOURCE, API_SOURCE = 2, 7
TITLE_KEYS = ("subject", "title", "task", "job", "case", "incident", "x-s4-subject")
TEXT_KEYS = ("text", "message", "messagetext", "description", "body", "content")
SCENARIOS = {"": 2, "single_ack": 2, "multi_ack": 4, "emergency": 5}  # -> workflowType [A-4]
MAX_TICKS = 3155378975999999999  # .NET DateTime.MaxValue.Ticks: SIGNL4 row keys are reversed ticks
EPOCH_TICKS = 621355968000000000


def now_iso():
    """ISO 8601 with 7 fraction digits, as SIGNL4 writes ``eventRaisedUtc``."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def clean(value):
    """Drop null members: the spec marks them x-nullable, a plain JSON-schema check does not. [A-13]"""
    if isinstance(value, dict):
        return dict((k, clean(v)) for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def error(status, message, details=None, code=None):
    """SIGNL4's ``ErrorResponseContent``; ``code`` is the HTTP status unless SIGNL4 documents one. [A-2]"""
    return HttpError(status, clean(dict(code=code or status, message=message, details=details,
                                        requestId=str(uuid.uuid4()))))


def new_secret():
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _position in range(8))


def as_bool(value):
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


class Signl4Emulator(CategoryRoutes, Emulator):
    """SIGNL4 emulator: inbound webhook, REST v2 subset, outbound webhooks (python -m tests.emulators.signl4)."""

    name = "SIGNL4"
    clean, error = staticmethod(clean), staticmethod(error)  # for the category routes (categories.py)

    def __init__(self, api_key=seed.DEFAULT_API_KEY, team_secret=seed.DEFAULT_TEAM_SECRET,
                 team_id=seed.DEFAULT_TEAM_ID, rate_limit=None):
        self.api_key = api_key
        self.team_secret = team_secret
        self.team_id = team_id
        self.initial_rate_limit = rate_limit
        self.clock = Clock()
        self.outbound = Outbound(self.clock)
        self.limiter = RateLimiter(self.clock.time)
        self._last_ticks = 0
        self._ticks_lock = threading.Lock()
        super().__init__()
        self._register_routes()

    # ----- seed ------------------------------------------------------------------------
    def reset_state(self):
        self.outbound.reset()
        self.limiter.configure(self.initial_rate_limit)
        self.users = dict((u["id"], dict(u)) for u in seed.USERS)
        self.teams, self.memberships, self.categories = {}, {}, {}
        for team in seed.teams(self.team_id):
            self.add_team(team)
        # event sources: secret -> team id (each team's inbound webhook, plus every app instance's)
        self.event_sources = {self.team_secret: self.team_id, seed.SECOND_TEAM_SECRET: seed.SECOND_TEAM_ID}
        self.inventory = seed.inventory()
        self.alerts, self.events, self.webhooks, self.instances = {}, {}, {}, {}

    def add_team(self, team):
        """A team with its members (``[(user id, role id)]``) and the seed's categories."""
        self.teams[team["id"]] = dict(id=team["id"], name=team["name"], timezone=team["timezone"])
        self.memberships[team["id"]] = [dict(userId=user_id, teamId=team["id"], mailAddress=self.users[user_id]["mail"],
                                             roleId=role, memberSince="2026-01-05T09:00:00Z", status=3)
                                        for user_id, role in team["members"]]
        self.categories[team["id"]] = [dict(c, id=str(uuid.uuid4()), teamId=team["id"]) for c in seed.categories(team["id"])]
        return self.teams[team["id"]]

    # ----- hooks of the common base -------------------------------------------------------
    def strip_prefix(self, path):
        if path.startswith("/api/v2/"):
            return path[len("/api"):]
        if path.startswith("/webhook/"):
            return path
        return None

    def authenticate(self, request):
        if request.path.startswith("/api/") and request.header("x-s4-api-key") != self.api_key:
            raise error(401, "Unauthorized", "The API key is missing, invalid or expired.")

    def not_found(self, request):
        return error(404, "The requested resource was not found.")

    def fault_body(self, status):
        return dict(code=status, message="Injected fault %d" % status)

    def error_body(self, status, message):
        return dict(code=status, message=message)

    def _handle_api(self, request):
        scope = "events" if request.path.startswith(("/webhook/", "/api/v2/events/")) else "rest"
        with self.lock:
            allowed, headers = self.limiter.hit(scope)
        if not allowed:
            response = Response(429, dict(code=429, message="Too many requests.",
                                          details="The rate limit of the subscription was exceeded."), headers)
        else:
            response = super()._handle_api(request)
            response.headers.update(headers)
        return response

    # ----- ids and lookups ------------------------------------------------------------------
    def row_id(self):
        """``<19-digit reversed ticks>_<guid>``: newer rows sort first, as SIGNL4's alert and event ids."""
        with self._ticks_lock:
            ticks = EPOCH_TICKS + int(time.time() * 10 ** 7)
            ticks = max(ticks, self._last_ticks + 1)
            self._last_ticks = ticks
        return "%019d_%s" % (MAX_TICKS - ticks, uuid.uuid4())

    def body(self, request, required=True):
        try:
            body = request.json
        except HttpError:
            raise error(400, "The request body is not valid JSON.")
        if body is None and required:
            raise error(400, "A request body is required.")
        if body is not None and not isinstance(body, dict):
            raise error(400, "The request body must be a JSON object.")
        return body or {}

    def find_user(self, id_or_mail):
        if not id_or_mail:
            return None
        if id_or_mail in self.users:
            return self.users[id_or_mail]
        return next((u for u in self.users.values() if u["mail"].lower() == str(id_or_mail).lower()), None)

    def get_team(self, team_id, status=404):
        if team_id not in self.teams:
            raise error(status, "The team was not found.", "No team with ID %s." % team_id)
        return self.teams[team_id]

    def get_alert(self, alert_id):
        if alert_id not in self.alerts:
            raise error(404, "No alert with id was found.", "Alert %s does not exist." % alert_id)
        return self.alerts[alert_id]

    def team_ids_of(self, user_id):
        return [team_id for team_id, members in self.memberships.items() if any(m["userId"] == user_id for m in members)]

    def check_member(self, alert, user):
        """A user reads or acts on the alerts of their teams only. [A-14]"""
        if user and alert["teamId"] not in self.team_ids_of(user["id"]):
            raise error(403, "The user is not allowed to access this alert.",
                        "User %s is not a member of the alert's team." % user["id"])

    def readable_alert(self, request):
        """``GET /v2/alerts/{id}[/details]?userId=``: as that user, when one is named. [A-14]"""
        alert = self.get_alert(request.params["alert_id"])
        self.check_member(alert, self.find_user(request.arg("userId")))
        return alert

    def inbound_urls(self, request):
        host = request.header("host") or "127.0.0.1"
        return ["http://%s/webhook/%s" % (host, secret) for secret in self.event_sources]

    # ----- routes ---------------------------------------------------------------------------
    def _register_routes(self):
        r = self.route
        r("POST", "/webhook/(?P<secret>[^/]+)/?", self.webhook_event)
        r("POST", "/v2/events/(?P<secret>[^/]+)/?", self.api_event)
        r("POST", "/v2/alerts", self.raise_alert)
        r("POST", "/v2/alerts/paged", self.alerts_paged)
        r("GET", "/v2/alerts/(?P<alert_id>[^/]+)", lambda q: Response(200, self.alert_info(self.readable_alert(q))))
        r("GET", "/v2/alerts/(?P<alert_id>[^/]+)/details", lambda q: Response(200, self.alert_details(self.readable_alert(q))))
        for action in ("acknowledge", "close", "undoAcknowledge", "undoClose"):
            r("POST", "/v2/alerts/(?P<alert_id>[^/]+)/%s" % action, self._status_route(action))
        r("POST", "/v2/alerts/(?P<alert_id>[^/]+)/annotate", self.annotate_route)
        r("GET", "/v2/users", lambda q: Response(200, [self.user_details(u) for u in self.users.values()]))
        r("GET", "/v2/users/(?P<user>[^/]+)", self.get_user)
        r("DELETE", "/v2/users/(?P<user>[^/]+)", self.delete_user)
        r("GET", "/v2/teams", self.list_teams)
        r("GET", "/v2/teams/(?P<team_id>[^/]+)", lambda q: Response(200, self.team_info(self.get_team(q.params["team_id"]))))
        r("GET", "/v2/teams/(?P<team_id>[^/]+)/memberships",
          lambda q: Response(200, clean(self.memberships[self.get_team(q.params["team_id"])["id"]])))
        self.register_category_routes(r)
        r("GET", "/v2/webhooks", self.list_webhooks)
        r("POST", "/v2/webhooks", self.create_webhook)
        r("GET", "/v2/webhooks/(?P<webhook_id>[^/]+)", lambda q: Response(200, self.webhook_info(self.get_webhook(q))))
        r("PUT", "/v2/webhooks/(?P<webhook_id>[^/]+)", self.update_webhook)
        r("DELETE", "/v2/webhooks/(?P<webhook_id>[^/]+)", self.delete_webhook)
        r("POST", "/v2/webhooks/(?P<webhook_id>[^/]+)/enable", lambda q: self.toggle_webhook(q, True))
        r("POST", "/v2/webhooks/(?P<webhook_id>[^/]+)/disable", lambda q: self.toggle_webhook(q, False))
        r("GET", "/v2/scripts/inventory", lambda q: Response(200, clean(self.inventory)))
        r("GET", "/v2/scripts/inventory/parsed", lambda q: Response(200, clean(self.inventory)))
        r("GET", "/v2/scripts/instances", self.list_instances)
        r("POST", "/v2/scripts/instances", self.create_instance)
        r("GET", "/v2/scripts/instances/(?P<instance_id>[^/]+)",
          lambda q: Response(200, self.instance_details(self.get_instance(q), q)))
        r("PUT", "/v2/scripts/instances/(?P<instance_id>[^/]+)", self.update_instance)
        r("DELETE", "/v2/scripts/instances/(?P<instance_id>[^/]+)", self.delete_instance)
        r("POST", "/v2/scripts/instances/(?P<instance_id>[^/]+)/enable", lambda q: self.toggle_instance(q, True))
        r("POST", "/v2/scripts/instances/(?P<instance_id>[^/]+)/disable", lambda q: self.toggle_instance(q, False))
        for method, pattern, handler in (
                ("POST", "/act", self.control_act),
                ("POST", "/emit", self.control_emit),
                ("POST", "/escalate", self.control_escalate),
                ("POST", "/teams", self.control_add_team),
                ("GET", "/outbound", lambda q: Response(200, self.outbound.snapshot())),
                ("POST", "/outbound", self.control_outbound),
                ("POST", "/outbound/drain", self.control_drain),
                ("POST", "/rate-limit", self.control_rate_limit),
                ("GET", "/state", self.control_state)):
            r(method, pattern, handler, control=True)

    # ----- inbound events -----------------------------------------------------------------
    def webhook_event(self, request):
        team_id = self._event_source(request.params["secret"])
        event = self.process_event(team_id, self._event_fields(request), request.query, WEBHOOK_SOURCE)
        return Response(201, {"eventId": event["id"]})

    def api_event(self, request):
        team_id = self._event_source(request.params["secret"])
        event = self.process_event(team_id, self.body(request), request.query, API_SOURCE)
        return Response(201, clean(event))

    def _event_source(self, secret):
        if secret not in self.event_sources:  # the body documented by Losant's README
            raise error(404, "Error raising event.", "An event source with ID %s was not found." % secret, code=3004)
        return self.event_sources[secret]

    def _event_fields(self, request):
        """JSON, form-encoded or ``Key: value`` text: SIGNL4 takes any payload. [A-5]"""
        content_type = (request.header("content-type") or "").lower()
        raw = request.body.decode("utf-8", "replace") if request.body else ""
        if "json" in content_type or raw.lstrip().startswith("{"):
            return self.body(request)
        if "x-www-form-urlencoded" in content_type:
            return dict((k, v[0]) for k, v in parse_qs(raw, keep_blank_values=True).items())
        fields = {}
        for line in raw.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip():
                fields[key.strip()] = value.strip()
        return fields or {"Message": raw}

    @staticmethod
    def _query_value(query, name):
        for key, values in query.items():
            if key.lower() == name.lower():
                return values[0]
        return None

    def process_event(self, team_id, fields, query, source_type):
        """Raise, acknowledge or resolve by ``X-S4-*`` controls; returns the ``OverviewEvent``. [A-4]"""
        controls = dict((k.lower(), v) for k, v in fields.items() if k.lower().startswith("x-s4-"))
        params = [(k, v) for k, v in fields.items() if not k.lower().startswith("x-s4-")]
        external_id = controls.get("x-s4-externalid")
        status = str(controls.get("x-s4-status") or "").strip().lower()
        ext_id_param = self._query_value(query, "ExtIDParam")
        ext_status_param = self._query_value(query, "ExtStatusParam")
        lowered = dict((k.lower(), v) for k, v in fields.items())
        if ext_id_param and ext_id_param.lower() in lowered:
            external_id = str(lowered[ext_id_param.lower()])
        if ext_status_param and ext_status_param.lower() in lowered:
            raw = str(lowered[ext_status_param.lower()])
            mapped = dict((str(self._query_value(query, key)).lower(), value) for key, value in
                          (("ResolvedStatus", "resolved"), ("AckStatus", "acknowledged"), ("NewStatus", "new"))
                          if self._query_value(query, key) is not None)
            new_status = self._query_value(query, "NewStatus")
            status = mapped.get(raw.lower(), "discard" if new_status is not None else "new")
        title = self._first(lowered, TITLE_KEYS, "SIGNL4 event")
        text = self._first(lowered, TEXT_KEYS, "")
        stamp = now_iso()
        event = dict(id=self.row_id(), teamId=team_id, eventSourceTeamId=team_id, eventSourceType=source_type,
                     eventSourceId=team_id, title=title, text=text, severity=0, creationTime=stamp,
                     lastModified=stamp, acknowledgedAlerts=[], closedAlerts=[])
        if status in ("", "new"):
            category = self._category(team_id, controls.get("x-s4-service"))
            event["categoryId"] = category["id"]
            if as_bool(controls.get("x-s4-filtering", False)) and not self._keyword_match(team_id, title, text):
                event["eventStatus"] = FILTERED
            else:
                scenario = str(controls.get("x-s4-alertingscenario") or "").lower()
                alert = self.new_alert(team_id, title, text, external_id, category, params, event["id"],
                                       SCENARIOS.get(scenario, 2), controls)
                event.update(alertId=alert["id"], eventStatus=SIGNLED)
        elif status in ("acknowledged", "resolved") and external_id:
            matching = [a for a in self.alerts.values()
                        if a["teamId"] == team_id and a.get("externalId") == external_id]
            for alert in sorted(matching, key=lambda a: a["id"]):
                if status == "acknowledged" and alert["status"]["statusCode"] == OPEN:
                    self.acknowledge(alert, None)
                    event["acknowledgedAlerts"].append(alert["id"])
                elif status == "resolved" and alert["status"]["statusCode"] in (OPEN, ACKNOWLEDGED):
                    self.close(alert, None)
                    event["closedAlerts"].append(alert["id"])
            event["eventStatus"] = EVENT_ACKNOWLEDGED if status == "acknowledged" else RESOLVED
        else:
            event["eventStatus"] = DISCARDED
        self.events[event["id"]] = dict(event, externalId=external_id, fields=fields)
        return event

    @staticmethod
    def _first(fields, keys, default):
        for key in keys:
            if fields.get(key) not in (None, ""):
                return str(fields[key])
        return default

    def _category(self, team_id, name):
        categories = self.categories[team_id]
        if name:
            for category in categories:
                if category["name"].lower() == str(name).lower():
                    return category
        return next(c for c in categories if c.get("isDefault"))

    def _keyword_match(self, team_id, title, text):
        haystack = ("%s %s" % (title, text)).lower()
        return any(str(k).lower() in haystack for c in self.categories[team_id] for k in c.get("keywords") or [])

    # ----- alerts ---------------------------------------------------------------------------
    def new_alert(self, team_id, title, text, external_id, category, params, event_id, workflow_type=2, controls=None,
                  severity=0):
        alert_id = self.row_id()
        stamp = now_iso()
        members = [m["userId"] for m in self.memberships[team_id]]
        alert = dict(
            id=alert_id, eventId=event_id, externalId=external_id, teamId=team_id, subscriptionId=seed.SUBSCRIPTION_ID,
            categoryId=category["id"], title=title, text=text, severity=severity, flags=0, lastModified=stamp,
            requiredAcknowledgements=1 if workflow_type == 2 else len(members), workflowType=workflow_type,
            history=dict(created=stamp, acknowledgements=[]),
            status=dict(statusCode=OPEN, alertDeliveryStatus=dict(
                alertId=alert_id, statusCode=6, userDeliveryStatus=[dict(userId=u, statusCode=6) for u in members])),
            parameters=[dict(id=str(uuid.uuid4()), name=str(k), value=str(v), type=8, order=i, options=0)
                        for i, (k, v) in enumerate(params)],
            annotations=[], escalations=[], controls=dict(controls or {}))
        self.alerts[alert_id] = alert
        self.notify(CREATED, alert)
        return alert

    def raise_alert(self, request):
        body = self.body(request)
        missing = [k for k in ("teamId", "title", "text") if not body.get(k)]
        if missing:
            raise error(400, "Required information could not be found in the request.", "Missing: %s" % ", ".join(missing))
        team = self.get_team(body["teamId"])
        category = self._category(team["id"], body.get("category"))
        params = [(p.get("name"), p.get("value")) for p in body.get("parameters") or []]
        event_id = self.row_id()
        alert = self.new_alert(team["id"], body["title"], body["text"], body.get("externalId"), category, params, event_id,
                               severity=body.get("severity") or 0)
        return Response(201, self.alert_details(alert))

    def alert_info(self, alert):
        keys = ("id", "eventId", "externalId", "teamId", "subscriptionId", "categoryId", "title", "text", "severity",
                "flags", "lastModified", "requiredAcknowledgements", "workflowType", "history", "status")
        return clean(dict((k, alert.get(k)) for k in keys))

    def alert_details(self, alert):
        details = self.alert_info(alert)
        details.update(parameters=clean(alert["parameters"]), attachments=[], escalations=clean(alert["escalations"]),
                       timelineEntries=[dict(id=a["id"], timestamp=a["timestamp"], entryType="Annotation",
                                             text=a["text"], userId=a["userId"]) for a in alert["annotations"]])
        return details

    def alerts_paged(self, request):
        user = self.find_user(request.arg("userId"))
        if not user:
            raise error(400, "Required parameters could not be found in the request.",
                        "userId must name a user of the subscription when an API key is used.")
        limit = _max_results(request)
        body = self.body(request, required=False)
        teams = set(self.team_ids_of(user["id"]))
        if body.get("teamIds"):
            teams &= set(body["teamIds"])
        start = (body.get("continuationToken") or {}).get("nextRowKey") or ""
        tests = [lambda a: a["teamId"] in teams and a["id"] >= start] + _alert_filters(body)
        selected = [a for a in sorted(self.alerts.values(), key=lambda a: a["id"]) if all(t(a) for t in tests)]
        if not selected:
            return Response(204)
        page, rest = selected[:limit], selected[limit:]
        result = dict(results=[self.alert_info(a) for a in page], hasMore=bool(rest))
        if rest:
            result["continuationToken"] = dict(nextPartitionKey=rest[0]["teamId"], nextRowKey=rest[0]["id"],
                                               nextTableName="Alerts")
        return Response(200, result)

    # ----- the alert life cycle [A-7] -----------------------------------------------------------
    def acknowledge(self, alert, user):
        code = alert["status"]["statusCode"]
        acks = alert["history"]["acknowledgements"]
        multi = alert["workflowType"] in (4, 5)
        if code == CLOSED or (code == ACKNOWLEDGED and not (multi and user and user["id"] not in acks)):
            raise error(409, "Alert can't be acknowledged because it is against the defined alert lifecycle.",
                        "The alert's status is %s." % code)
        if user:
            acks.append(user["id"])
        alert["history"]["acknowledgedAt"] = now_iso()
        self._set_status(alert, ACKNOWLEDGED)
        self.notify(STATUS_CHANGED, alert, user)

    def close(self, alert, user):
        if alert["status"]["statusCode"] == CLOSED:
            raise error(409, "Alert can't be closed because it is against the defined alert lifecycle.",
                        "The alert is already closed.")
        alert["history"]["closedAt"] = now_iso()
        alert["history"]["closedBy"] = user["id"] if user else None
        self._set_status(alert, CLOSED)
        self.notify(STATUS_CHANGED, alert, user)

    def undo(self, alert, action):
        history = alert["history"]
        if action == "undoAcknowledge" and alert["status"]["statusCode"] == ACKNOWLEDGED:
            history.update(acknowledgements=[], acknowledgedAt=None)
            self._set_status(alert, OPEN)
        elif action == "undoClose" and alert["status"]["statusCode"] == CLOSED:
            history.update(closedAt=None, closedBy=None)
            self._set_status(alert, ACKNOWLEDGED if history.get("acknowledgedAt") else OPEN)
        else:
            raise error(403, "User is not allowed to undo the %s." % ("acknowledgement" if action == "undoAcknowledge" else "close"))

    def annotate(self, alert, user, text):
        annotation = dict(id=self.row_id(), teamId=alert["teamId"], text=text, timestamp=now_iso(), type=1,
                          userId=user["id"])
        alert["annotations"].append(annotation)
        alert["flags"] = HAS_ANNOTATIONS  # a single flag: the spec's enum lists no combinations
        alert["lastModified"] = annotation["timestamp"]
        self.notify(ANNOTATED, alert, user, annotation)
        return annotation

    def escalate(self, alert, target=None, whole_seconds=False):
        """SIGNL4 escalates the alert to the manager of its team or to the ``target`` team: an entry in its
        ``escalations``, a flag, and a 202 to the subscriptions of its team and of the target's. [A-15]"""
        team = target or self.teams[alert["teamId"]]
        entry = dict(alertId=alert["id"], alertStatus=alert["status"]["statusCode"],
                     escType=ESCALATION_TYPES["team" if target else "manager"], status=0, teamId=team["id"],
                     teamName=team["name"], timestamp=now_iso())
        alert["escalations"].append(entry)
        if not alert["flags"]:  # a single flag
            alert["flags"] = ESCALATED_TO_TEAM if target else ESCALATED_TO_MANAGER
        alert["lastModified"] = entry["timestamp"]
        self.notify(ESCALATED, alert, whole_seconds=whole_seconds, team_id=team["id"])
        return entry

    @staticmethod
    def _set_status(alert, code):
        alert["status"]["statusCode"] = code
        alert["lastModified"] = now_iso()

    def _status_route(self, action):
        def handler(request):
            alert = self.get_alert(request.params["alert_id"])
            body = self.body(request)
            user = self.users.get(body.get("uid") or "")
            if not user:
                raise error(400, "Required information could not be found in the request.",
                            "uid must be the id of a SIGNL4 user.")
            self.check_member(alert, user)
            if action == "acknowledge":
                self.acknowledge(alert, user)
            elif action == "close":
                self.close(alert, user)
            else:
                self.undo(alert, action)
            return Response(200, self.alert_info(alert))
        return handler

    def annotate_route(self, request):
        alert = self.get_alert(request.params["alert_id"])
        body = self.body(request)
        user = self.users.get(body.get("userId") or "")
        if not user or not str(body.get("text") or "").strip():
            raise error(400, "Required information could not be found in the request.",
                        "An annotation needs text and the userId of a SIGNL4 user.")
        self.check_member(alert, user)
        return Response(200, clean(self.annotate(alert, user, body["text"])))

    # ----- outbound notifications (ASSUMPTIONS.md SIGNL4 §4) [A-8] -------------------------------
    def notify(self, event_type, alert, user=None, annotation=None, whole_seconds=False, team_id=None):
        """``team_id``: of a 202, the team the alert escalated to (its subscriptions are notified too). [A-15]"""
        urls = self.subscribers(alert["teamId"], team_id)
        if urls:
            raised = notifications.raised_utc(self.clock.time(), whole_seconds)
            self.outbound.publish(urls, clean(notifications.alert_notification(
                event_type, raised, seed.SUBSCRIPTION_ID, alert, user, annotation, team_id)))

    def notify_team(self, event_type, team_id, user_id=None, whole_seconds=False):
        urls = self.subscribers(team_id)
        if urls:
            raised = notifications.raised_utc(self.clock.time(), whole_seconds)
            self.outbound.publish(urls, notifications.team_notification(event_type, raised, team_id, user_id))

    def subscribers(self, team_id, other_team_id=None):
        return [w["extUrl"] for w in self.webhooks.values()
                if w["enabled"] and w.get("teamId") in (None, team_id, other_team_id or team_id)]

    # ----- users and teams ------------------------------------------------------------------
    def user_details(self, user):
        duty = [dict(teamId=t, userId=user["id"], dutyMode=1, onDutyTime=0, overdue=False) for t in self.team_ids_of(user["id"])]
        return dict(id=user["id"], name=user["name"], mail=user["mail"], subscriptionId=seed.SUBSCRIPTION_ID,
                    timeZone="UTC", isDeactivated=False, isInvite=False, colorIndex=0, remoteActionPinSet=False,
                    contactAddresses=[], dutyInfos=duty)

    def get_user(self, request):
        user = self.find_user(request.params["user"])
        if not user:
            raise error(404, "User was not found.")
        return Response(200, self.user_details(user))

    def delete_user(self, request):
        user = self.find_user(request.params["user"])
        if not user:
            raise error(404, "User was not found.")
        del self.users[user["id"]]
        for members in self.memberships.values():
            members[:] = [m for m in members if m["userId"] != user["id"]]
        return Response(204)

    def team_info(self, team):
        return dict(id=team["id"], name=team["name"], timezone=team["timezone"], subscriptionId=seed.SUBSCRIPTION_ID,
                    memberIds=[m["userId"] for m in self.memberships[team["id"]]], setupProgressEnabled=False)

    def list_teams(self, request):
        wanted = request.query.get("teamId") or request.query.get("teamid")
        return Response(200, [self.team_info(t) for t in self.teams.values() if not wanted or t["id"] in wanted])

    # ----- outbound webhook subscriptions ---------------------------------------------------------
    def webhook_info(self, webhook):
        return clean(dict(webhook))

    def get_webhook(self, request):
        webhook_id = request.params["webhook_id"]
        if webhook_id not in self.webhooks:
            raise error(404, "Webhook with specified id was not found.")
        return self.webhooks[webhook_id]

    def list_webhooks(self, request):
        team_id = request.arg("teamId")
        found = [self.webhook_info(w) for w in self.webhooks.values() if not team_id or w.get("teamId") == team_id]
        if not found:  # documented: 404 when the subscription has none
            raise error(404, "The subscription does not have any outbound webhooks.")
        return Response(200, found)

    def _webhook_fields(self, request):
        body = self.body(request)
        name, url = body.get("name"), body.get("extUrl")
        if not isinstance(name, str) or not name.strip():
            raise error(400, "Either the webhook object or a necessary property was invalid or empty.", "name is required.")
        parts = urlsplit(url if isinstance(url, str) else "")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise error(400, "Either the webhook object or a necessary property was invalid or empty.",
                        "extUrl must be an absolute http(s) URL.")
        if any(url.rstrip("/").endswith("/webhook/" + secret) for secret in self.event_sources):
            raise error(400, "Either the webhook object or a necessary property was invalid or empty.",
                        "An inbound webhook of this subscription cannot be an outbound webhook.")
        team_id = body.get("teamId")
        if team_id:
            self.get_team(team_id, status=400)
        return dict(name=name, extUrl=url, description=body.get("description"), teamId=team_id or None)

    def create_webhook(self, request):
        fields = self._webhook_fields(request)
        webhook = dict(fields, id=str(uuid.uuid4()), enabled=True, subId=seed.SUBSCRIPTION_ID)
        self.webhooks[webhook["id"]] = webhook
        return Response(201, webhook["id"])

    def update_webhook(self, request):
        webhook = self.get_webhook(request)
        webhook.update(self._webhook_fields(request))  # PUT replaces the WebhookBaseInfo fields
        return Response(200, self.webhook_info(webhook))

    def delete_webhook(self, request):
        del self.webhooks[self.get_webhook(request)["id"]]
        return Response(200)

    def toggle_webhook(self, request, enabled):
        webhook = self.get_webhook(request)
        webhook["enabled"] = enabled
        return Response(200, self.webhook_info(webhook))

    # ----- connector apps ("scripts") [A-10] ------------------------------------------------------
    INFO_KEYS = ("instanceId", "scriptId", "scriptName", "teamId", "subscriptionId", "enabled", "customScriptName",
                 "customScriptDescription", "eventPattern", "eventSourceId", "lastModified", "runtimeInformation")

    def instance_info(self, instance):
        info = dict((k, instance.get(k)) for k in self.INFO_KEYS)
        info["runtimeInformation"] = dict(runtimeStatus=2, runtimeStatusMessage="Running") if instance["enabled"] \
            else dict(runtimeStatus=4, runtimeStatusMessage="Stopped")
        return clean(info)

    def instance_details(self, instance, request):
        details = self.instance_info(instance)
        details.update(config=instance["config"],
                       webhookUrl="http://%s/webhook/%s" % (request.header("host") or "127.0.0.1", instance["secret"]))
        return details

    def get_instance(self, request):
        instance_id = request.params["instance_id"]
        if instance_id not in self.instances:
            raise error(404, "Required entities could not be found in the database or in memory.",
                        "No app instance with ID %s." % instance_id)
        return self.instances[instance_id]

    def list_instances(self, request):
        teams = [t for k, values in request.query.items() if k.lower() == "teamid" for t in values]
        since = request.arg("modifiedSince")
        return Response(200, [self.instance_info(i) for i in self.instances.values()
                              if (not teams or i["teamId"] in teams) and (not since or i["lastModified"] >= since)])

    def create_instance(self, request):
        body = self.body(request)
        existing = self.instances.get(body.get("instanceId") or "")
        if existing:  # documented: 200 "existing script instance was updated"
            self._apply_instance(existing, body)
            return Response(200, self.instance_details(existing, request))
        app = next((a for a in self.inventory if body.get("scriptId") and a["scriptId"] == body["scriptId"]), None) or \
            next((a for a in self.inventory if body.get("scriptName") and a["scriptName"].lower() == str(body["scriptName"]).lower()), None)
        if app is None:
            raise error(404, "Required entities could not be found in the database.", "No app with that scriptId or scriptName.")
        if not body.get("teamId"):
            raise error(400, "Required information could not be found in the request.", "teamId is required.")
        self.get_team(body["teamId"])
        secret = new_secret()
        instance = dict(instanceId=str(uuid.uuid4()), scriptId=app["scriptId"], scriptName=app["scriptName"],
                        teamId=body["teamId"], subscriptionId=seed.SUBSCRIPTION_ID, enabled=False, config={},
                        customScriptName=app["scriptName"], customScriptDescription=None, eventPattern=None,
                        eventSourceId=str(uuid.uuid4()), lastModified=now_iso(), secret=secret)
        self._apply_instance(instance, body)
        self.instances[instance["instanceId"]] = instance
        self.event_sources[secret] = instance["teamId"]
        return Response(201, self.instance_details(instance, request))

    def _apply_instance(self, instance, body):
        """Given keys replace the stored ones; ``config`` is stored and returned as sent. [A-10]"""
        if body.get("teamId"):
            self.get_team(body["teamId"])
        for key in ("config", "enabled", "teamId", "customScriptName", "customScriptDescription"):
            if key in body and body[key] is not None:
                instance[key] = body[key]
        instance["lastModified"] = now_iso()

    def update_instance(self, request):
        instance = self.get_instance(request)
        self._apply_instance(instance, self.body(request))
        return Response(200, self.instance_details(instance, request))

    def delete_instance(self, request):
        instance = self.instances.pop(self.get_instance(request)["instanceId"])
        self.event_sources.pop(instance["secret"], None)
        return Response(200)

    def toggle_instance(self, request, enabled):
        instance = self.get_instance(request)
        instance.update(enabled=enabled, lastModified=now_iso())
        return Response(200, self.instance_details(instance, request))

    # ----- test controls ------------------------------------------------------------------------
    def control_act(self, request):
        """Act as a SIGNL4 user in the app: acknowledge, close or annotate an alert."""
        spec = request.json or {}
        actions = {"acknowledge": self.acknowledge,
                   "close": self.close,
                   "annotate": lambda alert, user: self.annotate(alert, user, spec.get("text") or "")}
        if spec.get("action") not in actions:
            raise HttpError(400, {"message": "action must be acknowledge, close or annotate"})
        with self.lock:
            user = self._control_user(spec)
            alert = self._control_alert(spec)
            actions[spec["action"]](alert, user)
            return Response(200, self.alert_details(alert))

    def control_emit(self, request):
        """Make SIGNL4 send a notification the API cannot cause: 202 (escalated: ``alert_id`` or
        ``external_id``), 300/301 (duty: ``team``), 302/303 (punch: ``team`` and ``user``).
        ``whole_seconds`` leaves the fraction out of ``eventRaisedUtc``."""
        spec = request.json if isinstance(request.json, dict) else {}
        event_type = spec.get("eventType")
        whole = spec.get("whole_seconds") is True
        with self.lock:
            if event_type == notifications.ESCALATED:
                self.notify(event_type, self._control_alert(spec), whole_seconds=whole)
            elif event_type in notifications.TEAM_EVENTS:
                team = self.get_team(spec.get("team") or self.team_id, status=400)
                user = self._control_user(spec) if event_type in notifications.USER_EVENTS else None
                self.notify_team(event_type, team["id"], user and user["id"], whole_seconds=whole)
            else:
                raise HttpError(400, {"message": "eventType must be one of 202, 300, 301, 302, 303"})
        return Response(204)

    def control_escalate(self, request):
        """SIGNL4 escalates a Signl (its escalation settings, or a user in the app): ``to`` the manager of the
        alert's team or to another ``team`` (id or name); the alert's details show it, a 202 is sent."""
        spec = request.json if isinstance(request.json, dict) else {}
        if spec.get("to") not in ESCALATION_TYPES:
            raise HttpError(400, {"message": "to must be manager or team"})
        with self.lock:
            alert = self._control_alert(spec)
            target = None
            if spec["to"] == "team":
                target = next((t for t in self.teams.values() if spec.get("team") in (t["id"], t["name"])), None)
                if target is None:
                    raise HttpError(404, {"message": "no team %r" % spec.get("team")})
            return Response(200, clean(self.escalate(alert, target, whole_seconds=spec.get("whole_seconds") is True)))

    def control_add_team(self, request):
        """A team more (the seed's two stay as they are): its inbound webhook secret, members, default categories."""
        spec = request.json if isinstance(request.json, dict) else {}
        name, secret = spec.get("name"), spec.get("secret")
        if not isinstance(name, str) or not name or not isinstance(secret, str) or not secret.isalnum():
            raise HttpError(400, {"message": "a team needs a name and an alphanumeric secret"})
        with self.lock:
            if secret in self.event_sources or any(t["name"].lower() == name.lower() for t in self.teams.values()):
                raise HttpError(409, {"message": "a team with that name or secret exists"})
            members = [self._control_user(dict(user=member)) for member in spec.get("members") or []]
            team = self.add_team(dict(id=spec.get("id") or str(uuid.uuid4()), name=name, timezone="UTC",
                                      members=[(user["id"], seed.USER_ROLE) for user in members]))
            self.event_sources[secret] = team["id"]
            return Response(201, self.team_info(team))

    def _control_user(self, spec):
        user = self.find_user(spec.get("user"))
        if not user:
            raise HttpError(404, {"message": "no user %r" % spec.get("user")})
        return user

    def _control_alert(self, spec):
        if spec.get("alert_id"):
            return self.get_alert(spec["alert_id"])
        matching = sorted((a for a in self.alerts.values() if a.get("externalId") == spec.get("external_id")),
                          key=lambda a: a["id"])
        if not matching:
            raise HttpError(404, {"message": "no alert with external id %r" % spec.get("external_id")})
        return matching[0]  # the newest one

    def clock_listeners(self):
        return (self.outbound.condition(),)

    def control_outbound(self, request):
        try:
            return Response(200, self.outbound.configure(**(request.json or {})))
        except (TypeError, ValueError) as exc:
            raise HttpError(400, {"message": str(exc)})

    def control_drain(self, request):
        done = self.outbound.drain(float((request.json or {}).get("timeout", 10)))
        return Response(200 if done else 504, self.outbound.snapshot())

    def control_rate_limit(self, request):
        spec = request.json or {}
        with self.lock:
            self.limiter.configure(spec.get("windows") or spec.get("plan"))
        return Response(200, {"plan": self.limiter.plan})

    def control_state(self, request):
        with self.lock:
            alerts = [dict(self.alert_details(a), annotations=a["annotations"]) for a in self.alerts.values()]
            return Response(200, clean(dict(
                teams=[self.team_info(t) for t in self.teams.values()], users=list(self.users.values()),
                alerts=alerts, events=list(self.events.values()), webhooks=list(self.webhooks.values()),
                instances=list(self.instances.values()), event_sources=self.event_sources)))


# The optional filters of POST /v2/alerts/paged: body key -> whether an alert passes for a given value.
ALERT_FILTERS = {
    "alertStatusCodes": lambda alert, codes: bool(alert["status"]["statusCode"] & int(codes)),  # bit flags
    "externalId": lambda alert, wanted: alert.get("externalId") == wanted,
    "alertIds": lambda alert, ids: alert["id"] in ids,
    "categoryIds": lambda alert, ids: alert["categoryId"] in ids,
    "afterId": lambda alert, after: alert["id"] < after,  # ids sort newest first: "after" = newer than that alert
    "modifiedSince": lambda alert, since: alert["lastModified"] >= since,
    "minCreated": lambda alert, earliest: alert["history"]["created"] >= earliest,
    "maxCreated": lambda alert, latest: alert["history"]["created"] <= latest,
    "textToSearch": lambda alert, text: str(text).lower() in ("%s %s" % (alert["title"], alert["text"])).lower(),
}


def _alert_filters(body):
    """The tests the body's filters ask for (an empty or zero value asks for nothing)."""
    codes = body.get("alertStatusCodes")
    if codes is not None and (isinstance(codes, bool) or not isinstance(codes, int)):
        raise error(400, "alertStatusCodes must be an integer.")
    return [lambda alert, test=test, value=body[key]: test(alert, value)
            for key, test in ALERT_FILTERS.items() if body.get(key)]


def _max_results(request):
    try:
        limit = int(request.arg("maxResults", 100))
    except ValueError:
        raise error(400, "maxResults must be an integer.") from None
    if not 1 <= limit <= 100:
        raise error(400, "maxResults must be between 1 and 100.")
    return limit
