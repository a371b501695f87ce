"""Manage's callbacks delivered: a saved ticket is POSTed to every matching ``/system/callbacks`` entry.

What is sent follows the recorded real payload (amp-labs/connectors
``providers/connectwise/internal/webhook/test/contact-update.json``) and the Guide (PSA Callbacks):

- body: ``{"MessageId", "FromUrl", "CompanyId", "MemberId", "Action", "Type", "ID",
  "CallbackObjectRecId", "Entity": "<the record as the API returns it, as a JSON string>",
  "Metadata": {"key_url": "..."}}``;
- header ``x-content-signature: base64(HMAC-SHA256(key=SHA-256(signing_key), message=raw body))``,
  where ``signing_key`` is what ``GET key_url`` answers as ``{"signing_key": "..."}`` (without
  credentials; with the API's Basic auth and clientId once ``key_auth`` is set, see
  ASSUMPTIONS.md). The scheme is the one public verifiers implement
  (amp-labs ``internal/webhook/verifier.go``; NangoHQ/nango's ConnectWise PSA webhook handler).
- retries as the Guide says: a receiver answering 404, 409, 419 or 429 is tried twice more,
  after 2 s and then 4 s more, 5 s timeout; the emulator also retries when there was no answer;
- a callback whose deliveries all failed for three days (on the emulator's clock, from the first failure
  after its last success or after it was switched on) is switched off (``inactiveFlag``), as the Guide says.
"""

import base64
import hashlib
import hmac
import json
import secrets
import uuid

from tests.emulators.deliveries import Deliveries, RetryPolicy

RETRIED_STATUSES = (404, 409, 419, 429)
POLICY = RetryPolicy(delays=(2.0, 4.0), timeout=5.0,
                     retry_on=lambda status: status in RETRIED_STATUSES or isinstance(status, str))
DISABLE_AFTER = 3 * 86400.0  # seconds of failed deliveries after which Manage switches a callback off
KEY_PATH = "/system/callbackkey/index.rails"
ACTIONS = {"POST": "added", "PUT": "updated", "PATCH": "updated", "DELETE": "deleted"}
# ticket callback level -> what objectId is compared with (other levels never match a service ticket)
TICKET_LEVELS = {"owner": lambda ticket: 1, "board": lambda ticket: (ticket.get("board") or {}).get("id"),
                 "status": lambda ticket: (ticket.get("status") or {}).get("id"),
                 "ticket": lambda ticket: ticket["id"]}


def sign(body, signing_key):
    """The ``x-content-signature`` value for ``body`` (bytes)."""
    key = hashlib.sha256(signing_key.encode("utf-8")).digest()
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def _render(payload, signing_key):
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return body, {"Content-Type": "application/json", "x-content-signature": sign(body, signing_key)}


class CallbackDeliveries(Deliveries):
    def __init__(self, emulator):
        self.emulator = emulator
        self.key_id = self.signing_key = None
        self.key_auth = False  # whether GET key_url wants the API's credentials (POST /__emulator__/callbacks/key)
        self.failing_since = {}
        super().__init__(emulator.clock, POLICY, "manage-callbacks")

    def reset(self):
        super().reset()
        # a fresh key per reset: a verifier must fetch it from key_url, never hard-code it
        self.key_id, self.signing_key = str(uuid.uuid4()), secrets.token_urlsafe(32)
        self.key_auth = False
        self.failing_since = {}  # callback id -> when its deliveries began to fail (emulator clock)

    def _done(self, delivery, settings, status):
        super()._done(delivery, settings, status)
        retried = self.policy.retry_on(status) and delivery["attempt"] <= min(settings["retries"], len(self.policy.delays))
        if not retried and delivery["generation"] == self._generation:
            delivered = isinstance(status, int) and 200 <= status < 300
            self.emulator.callback_outcome(delivery["payload"]["CallbackObjectRecId"], delivered)

    def failing(self, callback_id, delivered):
        """Record a delivery's outcome (the caller holds the emulator's lock); True when the callback's
        deliveries have failed for ``DISABLE_AFTER`` seconds."""
        if delivered:
            self.failing_since.pop(callback_id, None)
            return False
        since = self.failing_since.setdefault(callback_id, self.emulator.clock.time())
        return self.emulator.clock.time() - since >= DISABLE_AFTER

    def switched_on(self, callback_id):
        """A callback switched on again (``inactiveFlag`` false) starts its three days anew."""
        self.failing_since.pop(callback_id, None)

    def key_url(self, request):
        return "http://%s/%s%s?companyName=%s&id=%s" % (request.header("host", "127.0.0.1"), self.emulator.codebase,
                                                        KEY_PATH.lstrip("/"), self.emulator.company_id, self.key_id)

    def key_answer(self, request):
        if request.arg("id") != self.key_id:
            return None
        return {"signing_key": self.signing_key}

    def ticket_saved(self, request, ticket, callbacks, suppressed=False, action=None):
        """Queue the callbacks a save of ``ticket`` (as the API returns it) triggers."""
        action = action or ACTIONS.get(request.method)
        if action is None or suppressed:
            return
        for callback in self._matching(ticket, callbacks):
            url = callback["url"] + (str(ticket["id"]) if callback["url"].endswith("=") else "")
            payload = {
                "MessageId": str(uuid.uuid4()), "FromUrl": request.header("host", "127.0.0.1"),
                "CompanyId": self.emulator.company_id, "MemberId": self.emulator.api_member, "Action": action,
                "Type": "ticket", "ID": ticket["id"], "CallbackObjectRecId": callback["id"],
                "Entity": json.dumps(ticket, separators=(",", ":")), "Metadata": {"key_url": self.key_url(request)},
            }
            key = self.signing_key
            self.publish([url], payload["MessageId"], payload, lambda p: _render(p, key))

    @staticmethod
    def _matching(ticket, callbacks):
        for callback in callbacks:
            level = TICKET_LEVELS.get(callback["level"].lower())
            if callback["type"].lower() != "ticket" or callback.get("inactiveFlag") or level is None:
                continue
            if callback.get("isSelfSuppressedFlag"):
                continue  # every API change is made by the callbacks' own member (the API keys' owner)
            if level(ticket) == callback["objectId"]:
                yield callback
