# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SIGNL4 client: the only code that speaks HTTP to SIGNL4.

Used by every ``signl4_*`` module and by the sync agent. Two doors into SIGNL4:

- the inbound webhook ``{origin}/webhook/{teamSecret}``: events whose ``X-S4-*`` control
  fields raise, acknowledge or resolve alerts by external id (no API key needed);
- REST v2 under ``{api_url}/v2`` with the ``X-S4-Api-Key`` header: alerts, users, teams,
  categories, outbound webhook subscriptions and connector apps ("scripts").

Errors carry SIGNL4's own ``code`` and message. ``X-RateLimit-*`` headers are read on every
answer, for events and other REST calls apart (SIGNL4 counts them apart): a request waits for
the window to reset once the last answer of its kind said nothing is left (a request beyond the
limit would extend the block), and a 429 is retried after ``Retry-After`` or, lacking it, at
``X-RateLimit-Reset``. The API key and the team secret are masked in every
log line and error, in every form (URL-encoded, cut short), including URLs that carry the secret
in their path.

Thread safety: a client may be shared by threads; the rate-limit bookkeeping is kept under a lock
and the lookup cache is thread-safe. Pacing is per client, not across processes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import threading
import time
from urllib.parse import quote, urlsplit, urlunsplit

from ansible_collections.signl4.connectwise.plugins.module_utils.cache import LookupCache
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError, NotFoundError
from ansible_collections.signl4.connectwise.plugins.module_utils.timestamps import utc_naive
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import (
    PooledClient,
    Transport,
    check_http_url,
    parse_retry_after,
)

DEFAULT_API_URL = "https://connect.signl4.com/api"
API_KEY_HEADER = "X-S4-Api-Key"
TEAMS = "/v2/teams"
APPS = "/v2/scripts/inventory"  # the catalogue of connector apps
CATEGORY_IMAGES = "/v2/categories/images"
MAX_PAGE_SIZE = 100  # the documented upper bound of maxResults on /v2/alerts/paged

EVENT_STATUSES = ("new", "acknowledged", "resolved")
ALERTING_SCENARIOS = ("single_ack", "multi_ack", "emergency")


class AlertStatus:
    """``V2.AlertStatusCodes`` (``alert.statusCode`` in outbound webhooks too)."""
    OPEN = 1
    ACKNOWLEDGED = 2
    CLOSED = 4


# Module options / agent arguments -> V2.AlertFilterRequestInfo keys.
ALERT_FILTERS = dict(team_ids="teamIds", alert_ids="alertIds", after_id="afterId", category_ids="categoryIds",
                     status="alertStatusCodes", external_id="externalId", min_created="minCreated",
                     max_created="maxCreated", modified_since="modifiedSince", text="textToSearch")


def event_payload(title=None, message=None, external_id=None, status=None, service=None, alerting_scenario=None,
                  source_system=None, filtering=None, location=None, parameters=None):
    """The JSON body of an inbound event: ``parameters`` (a dict) become the alert's tiles, the
    keyword arguments become the ``X-S4-*`` control fields. ``status`` ``acknowledged`` or
    ``resolved`` with an ``external_id`` acknowledges or resolves the alerts raised with that id."""
    if status is not None and status not in EVENT_STATUSES:
        raise InputError("event status must be one of %s, got %r" % (", ".join(EVENT_STATUSES), status))
    if status in ("acknowledged", "resolved") and not external_id:
        raise InputError("an event with status %s needs the external id of the alert(s) it applies to" % status)
    if alerting_scenario is not None and alerting_scenario not in ALERTING_SCENARIOS:
        raise InputError("alerting scenario must be one of %s, got %r" % (", ".join(ALERTING_SCENARIOS), alerting_scenario))
    body = dict(parameters or {})
    for key, value in (("Title", title), ("Message", message), ("X-S4-ExternalID", external_id),
                       ("X-S4-Status", status), ("X-S4-Service", service),
                       ("X-S4-AlertingScenario", alerting_scenario), ("X-S4-SourceSystem", source_system),
                       ("X-S4-Filtering", filtering), ("X-S4-Location", location)):
        if value is not None:
            body[key] = value
    return body


def webhook_base(api_url):
    """``https://connect.signl4.com/webhook`` for ``https://connect.signl4.com/api``: the inbound
    webhook lives next to the REST base, on the same origin."""
    parts = urlsplit(api_url)
    path = parts.path.rstrip("/")
    path = (path[:-len("/api")] if path.endswith("/api") else path) + "/webhook"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _iso(value):
    if isinstance(value, datetime.datetime):
        return utc_naive(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


class RateLimit:
    """The last ``X-RateLimit-*`` headers seen (``reset`` is a unix timestamp)."""

    def __init__(self, limit=None, remaining=None, reset=None):
        self.limit = limit
        self.remaining = remaining
        self.reset = reset

    @classmethod
    def from_headers(cls, headers):
        values = [headers.get("X-RateLimit-" + name) for name in ("Limit", "Remaining", "Reset")]
        if all(value is None for value in values):
            return None
        try:
            return cls(*[None if value is None else int(float(value)) for value in values])
        except ValueError:
            return None

    def wait(self, now):
        """Seconds to wait before the next request: only when nothing is left in the window."""
        if self.remaining is not None and self.remaining <= 0 and self.reset is not None:
            return max(0.0, self.reset - now)
        return 0.0

    def to_dict(self):
        return dict(limit=self.limit, remaining=self.remaining, reset=self.reset)


# The user-facing name of each connection setting, for messages: the modules' options.
MODULE_OPTIONS = dict(api_url="signl4_api_url", api_key="signl4_api_key", team_secret="signl4_team_secret",
                      timeout="signl4_timeout")


class Signl4Client(PooledClient):
    """One pooled session; lookups by name (teams, apps) are cached (TTL and size bound, see
    :class:`LookupCache`) and dropped on any 404.

    ``api_key`` is needed for REST calls only, ``team_secret`` for inbound events only; a call
    that needs a missing one fails with :class:`InputError` before anything is sent.
    """

    def __init__(self, api_url=DEFAULT_API_URL, api_key=None, team_secret=None, validate_certs=True, timeout=30.0,
                 retry=None, log=None, clock=None, deadline=None, lookup_cache=None, options=None):
        # ``options`` names the caller's settings in messages (the agent's ``signl4.api_key``, ...).
        self.options = dict(MODULE_OPTIONS, **(options or {}))
        # None means the default; an empty value (an unset Jinja variable, say) is an error, not the default.
        api_url = str(DEFAULT_API_URL if api_url is None else api_url).strip().rstrip("/")
        check_http_url(api_url, self.options["api_url"])
        self.api_key = api_key
        self.team_secret = team_secret
        self.webhook_url = webhook_base(api_url)
        self.rate_limits = {}  # scope ("events" or "rest") -> the RateLimit last seen; SIGNL4 counts them apart
        self._rate_lock = threading.Lock()
        self.clock = clock or time.time
        self.transport = Transport(
            api_url, "SIGNL4", self._parse_error, headers={"Accept": "application/json"},
            timeout=timeout, validate_certs=validate_certs, retry=retry, secrets=[api_key, team_secret], log=log,
            retry_after=self._retry_after, on_response=self._observe, deadline=deadline,
            options={"timeout": self.options["timeout"], "url": self.options["api_url"]}, secret_segments=("/webhook/", "/events/"))
        self.cache = LookupCache() if lookup_cache is None else lookup_cache

    @classmethod
    def from_params(cls, params, log=None):
        """Build from the shared connection options (see ``signl4_module.SIGNL4_CONNECTION_SPEC``)."""
        timeout = params.get("signl4_timeout")
        return cls(params.get("signl4_api_url"), params.get("signl4_api_key"), params.get("signl4_team_secret"),
                   validate_certs=params.get("signl4_validate_certs", True),
                   timeout=30.0 if timeout is None else timeout, log=log)

    @property
    def api_url(self):
        return self.transport.base_url

    # ----- errors and throttling --------------------------------------------------------
    @staticmethod
    def _parse_error(status, body, text):
        """SIGNL4's ``ErrorResponseContent``: ``{code, message, details, requestId, errors[]}``.
        ``details`` can name the team secret (``An event source with ID ... was not found``);
        the transport masks every text of the error it builds from this."""
        if isinstance(body, dict):
            message = " - ".join(part for part in (body.get("message"), body.get("details")) if part)
            return body.get("code"), message or text.strip()[:500], body.get("errors") or []
        return None, text.strip()[:500], []

    @staticmethod
    def _scope(url):
        path = urlsplit(url).path
        return "events" if "/webhook/" in path or "/v2/events/" in path else "rest"

    def _observe(self, response):
        seen = RateLimit.from_headers(response.headers)
        if seen is not None:
            with self._rate_lock:
                self.rate_limits[self._scope(response.url)] = seen

    def _retry_after(self, response):
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is None and response.status_code == 429:
            seen = RateLimit.from_headers(response.headers)
            if seen is not None and seen.reset is not None:
                return max(0.0, seen.reset - self.clock())
        return retry_after

    def _pace(self, scope):
        with self._rate_lock:
            seen = self.rate_limits.pop(scope, None)
            wait = seen.wait(self.clock()) if seen else 0.0
            if seen and wait <= 0:
                self.rate_limits[scope] = seen
        if wait > 0:  # bounded like any retry wait, and by the request deadline
            self.transport.retry.sleep(min(wait, self.transport.retry.retry_after_max, self.transport.deadline))

    # ----- plumbing -------------------------------------------------------------------
    def request(self, method, path, **kwargs):
        """A REST v2 call (``path`` below the API base, e.g. ``/v2/teams``); returns the response."""
        if not self.api_key:
            raise InputError("the SIGNL4 API key is required: set %s or SIGNL4_API_KEY" % self.options["api_key"])
        headers = dict(kwargs.pop("headers", None) or {})
        headers[API_KEY_HEADER] = self.api_key
        self._pace(self._scope(path))
        try:
            response = self.transport.request(method, path, headers=headers, **kwargs)
        except NotFoundError:
            self.cache.invalidate()  # a team or app we resolved may be gone (the client never writes those)
            raise
        return response

    def _json(self, method, path, expect=None, **kwargs):
        """The JSON answer of a REST call (``None`` when empty), checked to be an ``expect``
        (``dict`` or ``list``) when given."""
        response = self.request(method, path, **kwargs)
        body = self.transport.json(response, expect, "%s %s" % (method, path))
        if expect is list and not all(isinstance(item, dict) for item in body):
            raise self.transport.unexpected(response, "a list whose items are not all JSON objects")
        return body

    @staticmethod
    def _segment(value):
        return quote(str(value), safe="@")

    # ----- inbound events ---------------------------------------------------------------
    def _secret(self):
        if not self.team_secret:
            raise InputError("the SIGNL4 team secret is required: set %s or SIGNL4_TEAM_SECRET" % self.options["team_secret"])
        return self.team_secret

    def webhook_event(self, payload, query=None):
        """POST ``payload`` (see :func:`event_payload`) to the team's inbound webhook; returns
        ``{"eventId": ...}``. ``query`` takes ``ExtIDParam``/``ExtStatusParam``/... mappings."""
        url = "%s/%s" % (self.webhook_url, self._segment(self._secret()))
        self._pace("events")
        response = self.transport.request("POST", url, params=query, json=payload)
        return self.transport.json(response, dict, "event answer")

    def trigger(self, title, message, external_id=None, **controls):
        """Raise an alert through the inbound webhook; returns its ``eventId``."""
        payload = event_payload(title=title, message=message, external_id=external_id, status="new" if external_id else None,
                                **controls)
        return self.webhook_event(payload).get("eventId")

    # ----- alerts -------------------------------------------------------------------------
    @staticmethod
    def alert_filter(**filters):
        """A ``V2.AlertFilterRequestInfo`` from snake_case filters (see ``ALERT_FILTERS``)."""
        unknown = sorted(set(filters) - set(ALERT_FILTERS))
        if unknown:
            raise InputError("unknown alert filter(s) %s; known: %s" % (", ".join(unknown), ", ".join(sorted(ALERT_FILTERS))))
        return {ALERT_FILTERS[key]: _iso(value) for key, value in filters.items() if value is not None}

    def alerts_page(self, user_id=None, max_results=MAX_PAGE_SIZE, continuation_token=None, **filters):
        """One page of ``POST /v2/alerts/paged``: ``{"results": [...], "continuationToken": ..., "hasMore": bool}``.
        SIGNL4 answers 204 when nothing matches; that is an empty page here."""
        if not 1 <= int(max_results) <= MAX_PAGE_SIZE:
            raise InputError("max_results must be between 1 and %d, got %s" % (MAX_PAGE_SIZE, max_results))
        body = self.alert_filter(**filters)
        if continuation_token:
            body["continuationToken"] = continuation_token
        params = {"maxResults": int(max_results)}
        if user_id:
            params["userId"] = user_id
        # A read sent as POST: retried like any read.
        page = self._json("POST", "/v2/alerts/paged", dict, params=params, json=body, idempotent=True)
        return page or {"results": [], "continuationToken": None, "hasMore": False}

    def alerts(self, user_id=None, page_size=MAX_PAGE_SIZE, **filters):
        """Every alert matching the filters, following continuation tokens while ``hasMore``.
        With an API key SIGNL4 wants the ``user_id`` of a team member to read alerts as."""
        token = None
        while True:
            page = self.alerts_page(user_id=user_id, max_results=page_size, continuation_token=token, **filters)
            yield from page.get("results") or []
            token = page.get("continuationToken")
            if not page.get("hasMore") or not token:
                return

    def alert(self, alert_id, user_id=None):
        return self._json("GET", "/v2/alerts/%s" % self._segment(alert_id), dict, params=self._user(user_id))

    def alert_details(self, alert_id, user_id=None):
        return self._json("GET", "/v2/alerts/%s/details" % self._segment(alert_id), dict, params=self._user(user_id))

    @staticmethod
    def _user(user_id):
        return {"userId": user_id} if user_id else None

    def _status_change(self, alert_id, action, user_id, comment):
        if not user_id:
            raise InputError("%s of alert %s needs the id of the SIGNL4 user who acts" % (action, alert_id))
        body = {"uid": user_id}
        if comment is not None:
            body["descr"] = comment
        return self._json("POST", "/v2/alerts/%s/%s" % (self._segment(alert_id), action), json=body)

    def acknowledge(self, alert_id, user_id, comment=None):
        """Acknowledge as ``user_id``; SIGNL4 answers 409 (:class:`ConflictError`) where the life cycle forbids it."""
        return self._status_change(alert_id, "acknowledge", user_id, comment)

    def close_alert(self, alert_id, user_id, comment=None):
        return self._status_change(alert_id, "close", user_id, comment)

    def undo_close(self, alert_id, user_id, comment=None):
        return self._status_change(alert_id, "undoClose", user_id, comment)

    def annotate(self, alert_id, user_id, text):
        """Add a text annotation as ``user_id``; returns the ``V2.AlertAnnotationDetails``."""
        body = {"text": text, "type": 1, "userId": user_id}  # 1 = Text
        return self._json("POST", "/v2/alerts/%s/annotate" % self._segment(alert_id), json=body)

    # ----- users, teams, categories --------------------------------------------------------
    def user(self, user_id_or_email):
        """A user by id or by the e-mail address of a user in the team (404 -> :class:`NotFoundError`)."""
        return self._json("GET", "/v2/users/%s" % self._segment(user_id_or_email), dict)

    def teams(self, team_ids=None):
        return self._json("GET", TEAMS, list, params={"teamId": list(team_ids)} if team_ids else None)

    def team(self, team_id):
        return self._json("GET", "/v2/teams/%s" % self._segment(team_id), dict)

    def resolve_team(self, name_or_id):
        """The team whose id or name (case-insensitive) is ``name_or_id``; cached.
        Unknown names fail with the known ones listed, before anything is written."""
        return self._resolve("team", name_or_id, self.teams, lambda team: (team.get("id"), team.get("name")))

    def categories(self, team_id):
        return self._json("GET", "/v2/categories/%s" % self._segment(team_id), list)

    def create_category(self, team_id, category):
        return self._json("POST", "/v2/categories/%s" % self._segment(team_id), json=category)

    def update_category(self, team_id, category_id, category):
        """``PUT`` a whole ``CategoryInfo`` (its required keys included); returns the category."""
        return self._json("PUT", self._category_path(team_id, category_id), dict, json=category)

    def delete_category(self, team_id, category_id):
        self.request("DELETE", self._category_path(team_id, category_id))

    def _category_path(self, team_id, category_id):
        return "/v2/categories/%s/%s" % (self._segment(team_id), self._segment(category_id))

    def category_images(self):
        """The names ``imageName`` takes (``GET /v2/categories/images``); cached. SIGNL4 answers 404 "No
        category images found" or 204 when there are none: an empty list here."""
        return self.cache.get_or_load(("category images",), self._category_images)

    def _category_images(self):
        try:
            response = self.request("GET", CATEGORY_IMAGES)
        except NotFoundError:
            return []
        names = self.transport.json(response, list, "GET " + CATEGORY_IMAGES)
        if not all(isinstance(name, str) for name in names):
            raise self.transport.unexpected(response, "a list of image names that are not all strings")
        return names

    # ----- outbound webhook subscriptions --------------------------------------------------
    def webhooks(self, team_id=None):
        """All outbound webhooks (of one team when ``team_id`` is given). SIGNL4 answers 404
        when there are none; that is an empty list here."""
        try:
            return self._json("GET", "/v2/webhooks", list, params={"teamId": team_id} if team_id else None)
        except NotFoundError:
            return []

    def webhook(self, webhook_id):
        return self._json("GET", "/v2/webhooks/%s" % self._segment(webhook_id), dict)

    def create_webhook(self, webhook):
        """``webhook`` is a ``WebhookBaseInfo`` (``name``, ``extUrl``, ``description``, ``teamId``); returns the new id."""
        return self._json("POST", "/v2/webhooks", json=webhook)

    def update_webhook(self, webhook_id, webhook):
        return self._json("PUT", "/v2/webhooks/%s" % self._segment(webhook_id), json=webhook)

    def delete_webhook(self, webhook_id):
        self.request("DELETE", "/v2/webhooks/%s" % self._segment(webhook_id))

    def enable_webhook(self, webhook_id):
        return self._json("POST", "/v2/webhooks/%s/enable" % self._segment(webhook_id))

    def disable_webhook(self, webhook_id):
        return self._json("POST", "/v2/webhooks/%s/disable" % self._segment(webhook_id))

    # ----- connector apps ("scripts") ------------------------------------------------------
    def script_inventory(self):
        """The app catalogue (``InventoryScriptInfo``: ``scriptId``, ``scriptName``, ``data``...)."""
        return self._json("GET", APPS, list)

    def resolve_app(self, name_or_id):
        """The catalogue app whose ``scriptId`` or name (case-insensitive) is ``name_or_id``; cached."""
        return self._resolve("app", name_or_id, self.script_inventory,
                             lambda app: (app.get("scriptId"), app.get("scriptName") or (app.get("data") or {}).get("name")))

    def resolve(self, path, value, field="name", what=None):
        """The record of the collection at ``path`` (``TEAMS`` or ``APPS``) whose id or name is ``value``, as
        ``ManageClient.resolve`` answers for Manage: the lookups of references declared in a module's spec."""
        return {TEAMS: self.resolve_team, APPS: self.resolve_app}[path](value)

    def script_instances(self, team_ids=None):
        """Installed apps (``ScriptInstanceInfo``, without ``config``; read one instance for it)."""
        params = {"teamId": list(team_ids)} if team_ids else None
        return self._json("GET", "/v2/scripts/instances", list, params=params)

    def script_instance(self, instance_id):
        """One installed app with its ``config`` (``ScriptInstanceDetails``)."""
        return self._json("GET", "/v2/scripts/instances/%s" % self._segment(instance_id), dict)

    def create_script_instance(self, instance):
        return self._json("POST", "/v2/scripts/instances", json=instance)

    def update_script_instance(self, instance_id, instance):
        return self._json("PUT", "/v2/scripts/instances/%s" % self._segment(instance_id), json=instance)

    def delete_script_instance(self, instance_id):
        self.request("DELETE", "/v2/scripts/instances/%s" % self._segment(instance_id))

    def enable_script_instance(self, instance_id):
        return self._json("POST", "/v2/scripts/instances/%s/enable" % self._segment(instance_id))

    def disable_script_instance(self, instance_id):
        return self._json("POST", "/v2/scripts/instances/%s/disable" % self._segment(instance_id))

    # ----- lookups by name ---------------------------------------------------------------
    def _resolve(self, what, value, load, id_and_name):
        if not value:
            raise InputError("a SIGNL4 %s name or id is required" % what)
        return self.cache.get_or_load((what, str(value).lower()),
                                      lambda: self._resolve_uncached(what, value, load, id_and_name))

    @staticmethod
    def _resolve_uncached(what, value, load, id_and_name):
        records = load()
        by_id = [r for r in records if id_and_name(r)[0] == value]
        by_name = [r for r in records if str(id_and_name(r)[1] or "").lower() == str(value).lower()]
        matches = by_id or by_name
        if not matches:
            known = sorted(str(id_and_name(r)[1]) for r in records)[:50]
            raise InputError("unknown SIGNL4 %s %r; known: %s" % (what, value, ", ".join(known) or "none"))
        if len(matches) > 1:
            raise InputError("SIGNL4 %s %r is ambiguous: %d share that name; use the id" % (what, value, len(matches)))
        return matches[0]
