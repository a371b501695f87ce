"""The agent's HTTP endpoints, as one WSGI application served by waitress.

    POST /signl4/{webhook_token}           SIGNL4 outbound webhooks
    POST /manage/{callback_token}/callback  Manage callbacks (when listen.callback_token is set)
    GET  /healthz                           each side reachable, age of the last good cycle (503 when stale)
    GET  /metrics                           Prometheus

A wrong token answers 404 (as an unknown path: nothing tells a prober the path exists); a
malformed body answers 400 and writes nothing; bodies over ``listen.max_body_bytes`` 413.
"""

import hmac
import json
import logging
import threading

from signl4_agent import inbound
from signl4_agent.constants import DEFAULT_TENANT
from signl4_agent.metrics import CONTENT_TYPE

log = logging.getLogger("signl4_agent.receiver")
REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           405: "Method Not Allowed", 411: "Length Required", 413: "Payload Too Large", 429: "Too Many Requests",
           503: "Service Unavailable"}


def _token_ok(given, expected):
    return bool(expected) and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


class Receiver:
    """The WSGI application. All it reaches of the agent is its :class:`inbound.Inbox`."""

    def __init__(self, inbox, config):
        self.inbox = inbox
        self.listen = config["listen"]
        self.max_body = self.listen["max_body_bytes"]

    def __call__(self, environ, start_response):
        status, body, content_type = self.dispatch(environ)
        start_response(f"{status} {REASONS.get(status, '')}", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]

    def dispatch(self, environ):
        method, parts = environ["REQUEST_METHOD"], [p for p in environ.get("PATH_INFO", "").split("/") if p]
        if parts in (["healthz"], ["metrics"]):
            if method != "GET":
                return self._json(405, {"error": "method not allowed"})
            return self.health() if parts == ["healthz"] else (200, self.inbox.metrics(), CONTENT_TYPE)
        if len(parts) == 2 and parts[0] == "signl4" and _token_ok(parts[1], self.listen["webhook_token"]):
            return self._post(environ, method, "signl4", lambda body: self.inbox.webhook(DEFAULT_TENANT, body))
        if len(parts) == 3 and parts[0] == "manage" and parts[2] == "callback" and \
                _token_ok(parts[1], self.listen["callback_token"]):
            signature = environ.get("HTTP_X_CONTENT_SIGNATURE")
            return self._post(environ, method, "manage", lambda body: self.inbox.callback(DEFAULT_TENANT, body, signature))
        if parts and parts[0] in ("signl4", "manage"):
            self.inbox.count(parts[0], "bad_token")
            log.warning("refused a %s request to /%s/... with a wrong token or path", method, parts[0])
        return self._json(404, {"error": "not found"})

    def _post(self, environ, method, source, handler):
        if method != "POST":
            return self._json(405, {"error": "method not allowed"})
        try:
            outcome = handler(self._body(environ))
        except inbound.BadRequest as exc:
            self.inbox.count(source, "rejected")
            log.warning("refused a %s delivery: %s", source, exc)
            return self._json(exc.status, {"error": str(exc)})
        except Exception:  # noqa: BLE001 - the receiver stays up; the sender retries or polling catches up
            self.inbox.count(source, "error")
            log.exception("a %s delivery failed", source)
            return self._json(503, {"error": "try again later"})
        self.inbox.count(source, outcome)
        return self._json(202 if outcome == "queued" else 200, {"outcome": outcome})  # queued: verified later

    def _body(self, environ):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise inbound.BadRequest("bad Content-Length") from None
        if length > self.max_body:
            raise inbound.BadRequest(f"body larger than {self.max_body} bytes", 413)
        if length <= 0:
            raise inbound.BadRequest("empty body")
        return environ["wsgi.input"].read(length)

    def health(self):
        report = self.inbox.health()
        return self._json(200 if report["healthy"] else 503, report)

    @staticmethod
    def _json(status, data):
        return status, json.dumps(data).encode("utf-8"), "application/json"


class Served:
    """A waitress server on a thread of its own. ``close()`` ends the thread's loop first and closes
    the sockets after it: closing them under the running loop (waitress's own ``run``) made the
    receiver thread raise at shutdown."""

    LOOP_SECONDS = 0.2  # how long one turn of the loop may wait for a socket event

    def __init__(self, server):
        self.server = server
        self.effective_port = server.effective_port
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="receiver", daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopped.is_set():
            # waitress's map of its listening socket and channels (``BaseWSGIServer.run`` passes the same)
            self.server.asyncore.loop(timeout=self.LOOP_SECONDS, map=self.server._map, count=1,
                                      use_poll=self.server.adj.asyncore_use_poll)

    def close(self):
        self.stopped.set()
        self.server.pull_trigger()  # wakes the loop now instead of after its timeout
        self.thread.join(5)
        self.server.task_dispatcher.shutdown()
        self.server.asyncore.close_all(self.server._map)


def serve(app, config):
    """The waitress server of ``app`` running on its own thread (:class:`Served`; ``close()`` stops it)."""
    from waitress.server import create_server
    listen = config["listen"]
    server = create_server(app, host=listen["host"], port=listen["port"], threads=4,
                           max_request_body_size=listen["max_body_bytes"], channel_timeout=listen["channel_timeout"],
                           cleanup_interval=max(1, min(30, listen["channel_timeout"])),
                           ident="signl4-agent", expose_tracebacks=False)
    return Served(server)
