"""The agent's own Manage callbacks, kept alive (with ``listen.callback_token``).

Manage retries a callback only when the receiver answers 404, 409, 419 or 429, and turns a callback off
(``inactiveFlag``) once every delivery to it failed for three days (an agent down over a long weekend, an
expired certificate at the load balancer). The cycles sync every ticket anyway, so a callback that is off only
costs latency, and nobody notices. So each hour the tenant's loop reads Manage's callbacks (one request) and
finds the agent's own: the ticket callbacks whose URL path ends with ``/manage/<listen.callback_token>/callback``
(the path the integration role registers; the token is compared in constant time, the URL is never logged or
reported). None: reported missing, with how to register one. One that is inactive: switched on again
(``PATCH inactiveFlag=false``, one request each) and reported; when the API member may not (403), reported with
the step in Manage's UI. The state is in ``/healthz`` (the tenant's ``callback``), in
``signl4_agent_callback_ok`` and in the log; it does not make ``/healthz`` answer 503 (the sync goes on).
"""

import hmac
import logging
from urllib.parse import urlsplit

from ansible_collections.signl4.connectwise.plugins.module_utils import cw_paths
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import patch_operations
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import ApiError, InputError, PermissionDeniedError

from signl4_agent.records import objects, record_id

log = logging.getLogger("signl4_agent.callback_health")

CHECK_EVERY = 3600.0  # seconds between two checks (one request each, and one per callback to switch on)
MAX_URL = 2048
MAX_ERROR = 300
FIELDS = ["id", "url", "type", "level", "inactiveFlag"]
UI_STEP = "in Manage, System > Callbacks: open the callback (id {ids}), clear Inactive and save"
INACTIVE_HINT = ("Manage turned the callback off (it does after three days of failed deliveries) and the API member "
                 "may not switch it on (403): " + UI_STEP + "; or run the collection's cw_callback module with inactive: "
                 "false as a member whose security role may edit callbacks")
MISSING_HINT = ("no ticket callback in Manage has a URL ending in {path}: register one (the integration role with "
                "integration_agent_callback_token, or the cw_callback module: url <the agent's public base URL>{path}"
                "?recordId=, type Ticket), or in Manage under System > Callbacks")
READ_HINT = "the API member may not read /system/callbacks (403); the callback is not checked"


def ours(callback, token):
    """Whether a callback Manage listed is a ticket callback of the agent: its URL path ends with
    ``/manage/<token>/callback`` (a tenant's ``/t/<id>/manage/<token>/callback`` does too)."""
    url = callback.get("url")
    if str(callback.get("type") or "").lower() != "ticket" or not isinstance(url, str) or len(url) > MAX_URL:
        return False
    try:
        parts = [part for part in urlsplit(url).path.split("/") if part]
    except ValueError:
        return False
    return len(parts) >= 3 and parts[-3] == "manage" and parts[-1] == "callback" and \
        hmac.compare_digest(parts[-2].encode("utf-8", "surrogateescape"), token.encode("utf-8"))


class CallbackHealth:
    """One tenant's check. ``client``: its ``ManageClient``; ``clock``: the agent's (seconds)."""

    def __init__(self, config, client, metrics, clock):
        self.token = config["listen"]["callback_token"]
        self.path = ("/t/%s" % config["id"] if config.get("tenanted", True) and "id" in config else "") + \
            "/manage/<listen.callback_token>/callback"
        self.client = client
        self.metrics = metrics
        self.clock = clock
        self.due = None  # the clock time of the next check (None: at the first full cycle)
        self.state = None
        self.registered = False  # the gauge is in the registry (absent until the first answer)

    @property
    def enabled(self):
        return bool(self.token)

    def check_if_due(self):
        """Check now when an hour has passed since the last check (or none was made)."""
        if not self.enabled or (self.due is not None and self.clock() < self.due):
            return
        self.due = self.clock() + CHECK_EVERY
        try:
            state = self.check()
        except (ApiError, InputError) as exc:
            denied = isinstance(exc, PermissionDeniedError)
            state = dict(ok=None, state="unknown", error=str(exc)[:MAX_ERROR], hint=READ_HINT if denied else None)
            log.warning("the Manage callbacks could not be checked (again in an hour): %s", exc)
        self.state = dict(state, checked=self.clock())
        if state["ok"] is not None:
            if not self.registered:
                self.metrics.registry.register(self.metrics.callback_ok)
                self.registered = True
            self.metrics.callback_ok.set(1 if state["ok"] else 0)

    def check(self):
        """Read the callbacks, switch the agent's inactive ones on; the state to report."""
        found = [callback for callback in objects(self.client.list(cw_paths.CALLBACKS, fields=FIELDS))
                 if ours(callback, self.token)]
        if not found:
            hint = MISSING_HINT.format(path=self.path)
            log.warning("no Manage callback of this agent: new tickets page at the next cycle, not at once; %s", hint)
            return dict(ok=False, state="missing", callbacks=0, hint=hint)
        inactive = [record_id(callback.get("id")) for callback in found if callback.get("inactiveFlag") is True]
        refused = [callback_id for callback_id in inactive if not self._switch_on(callback_id)]
        if refused:
            hint = INACTIVE_HINT.format(ids=", ".join(str(callback_id) for callback_id in refused))
            log.error("the Manage callback of this agent is inactive; %s", hint)
            return dict(ok=False, state="inactive", callbacks=len(found), hint=hint)
        if inactive:
            return dict(ok=True, state="reactivated", callbacks=len(found), reactivated=len(inactive))
        return dict(ok=True, state="active", callbacks=len(found))

    def _switch_on(self, callback_id):
        """``PATCH inactiveFlag=false``; False when Manage refuses it (403) or the callback has no usable id."""
        if callback_id is None:
            return False
        try:
            self.client.patch("%s/%d" % (cw_paths.CALLBACKS, callback_id), patch_operations({"inactiveFlag": False}))
        except PermissionDeniedError:
            return False
        self.metrics.callback_reactivations.inc()
        log.warning("the Manage callback %d of this agent was inactive (Manage turns a callback off after three days "
                    "of failed deliveries); switched on again", callback_id)
        return True

    def report(self, now):
        """The tenant's ``callback`` in ``/healthz``."""
        if self.state is None:
            return dict(ok=None, state="unchecked")
        report = {key: value for key, value in self.state.items() if key != "checked" and value is not None}
        report["checked_age"] = round(now - self.state["checked"], 1)
        return report
