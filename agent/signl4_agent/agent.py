"""The agent process: clients, store, receiver and the loop that runs the sync.

Every wait is on one event, so SIGTERM (or a callback, or an accepted webhook) interrupts it at
once; the clients' retry sleeps use the same event and give up when the agent stops.
"""

import ctypes
import ctypes.util
import logging
import threading
import time

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import ManageClient
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import ApiError, CancelledError, InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import Signl4Client
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import RetryPolicy

from signl4_agent import callbacks, cutoff, intents, ratelimit, sync
from signl4_agent.constants import DEFAULT_TENANT
from signl4_agent.inbound import Inbox
from signl4_agent.manage import TicketDesk
from signl4_agent.metrics import Metrics
from signl4_agent.quarantine import OUTAGES
from signl4_agent.store import SqliteStore

log = logging.getLogger("signl4_agent")
MAX_BACKOFF = 300.0
POLL_OVERLAP = 5.0  # seconds re-read at each SIGNL4 poll, against clock skew


def _malloc_trim():
    """glibc's ``malloc_trim``: hand the heap freed after a cycle back to the system (a cycle parses
    pages of tickets; without it the resident size keeps the high-water mark of fragmented arenas)."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: trim(0)


TRIM = _malloc_trim()


class Stopping(CancelledError):
    """The agent is shutting down: abandon the current wait (and the request retrying). A
    ``CancelledError``, so that no record guard (``quarantine.guarded``) holds it up."""


# The clients' messages name these settings by the agent's keys, not by the modules' option names.
MANAGE_OPTIONS = {name: f"manage.{name}" for name in ("url", "company_id", "public_key", "private_key", "client_id", "timeout")}
SIGNL4_OPTIONS = {name: f"signl4.{name}" for name in ("api_url", "api_key", "team_secret", "timeout")}


def build_manage(config, retry):
    m = config["manage"]
    return ManageClient(m["url"], m["company_id"], m["public_key"], m["private_key"], m["client_id"],
                        codebase=m["codebase"], api_version=m["api_version"], validate_certs=m["validate_certs"],
                        timeout=m["timeout"], retry=retry, options=MANAGE_OPTIONS)


def build_signl4(config, retry):
    s = config["signl4"]
    return Signl4Client(s["api_url"], s["api_key"], s["team_secret"], validate_certs=s["validate_certs"],
                        timeout=s["timeout"], retry=retry, options=SIGNL4_OPTIONS)


class Agent:
    def __init__(self, config, clock=time.time, retry=None):
        self.config = config
        self.clock = clock
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.requested = set()  # ticket ids from Manage callbacks, to run at once
        self.intents_waiting = False  # an outbound webhook recorded work
        self.metrics = Metrics()
        # the clients' retry waits end when the agent stops (``retry`` is injectable for tests)
        retry = retry or RetryPolicy(max_retries=4, backoff_base=0.5, backoff_max=30.0, cancel=self.stopping)
        self.manage = build_manage(config, retry)
        self.signl4 = build_signl4(config, retry)
        self.manage.transport.observers.append(self.metrics.observe("manage"))
        self.signl4.transport.observers.append(self.metrics.observe("signl4"))
        self.store = SqliteStore(config["state"]["path"])
        self.desk = TicketDesk(self.manage, config)
        limiters = ratelimit.limiters(config["signl4"]["plan"], wait=self.sleep)
        self.ctx = sync.Context(config, self.desk, self.signl4, self.store, self.metrics, limiters, clock,
                                stopping=self.stopping)
        cutoff.first_start(self.store, clock)  # recorded when the state is empty: older tickets raise no Signl
        self.key_fetcher = callbacks.KeyFetcher(config, self.metrics.observe("manage"), self.stopping)
        self.verifier = callbacks.CallbackVerifier(self.manage_origins, self.key_fetcher, self.wake_up,
                                                   count=self._count_callback)
        self.inbox = Inbox(DEFAULT_TENANT, self.store, self.verifier, self.metrics, self.wake_up, self.health)
        self.failures = 0
        self.last_good = None

    # ----- waiting ----------------------------------------------------------------------
    def sleep(self, seconds):
        if self.stopping.wait(seconds):
            raise Stopping()

    def stop(self, *args):
        self.stopping.set()
        self.wake.set()

    def wake_up(self, ticket_id=None):
        """Run a cycle for ``ticket_id`` (a callback) or the pending intents (a webhook) now."""
        with self.lock:
            if ticket_id is not None:
                self.requested.add(int(ticket_id))
            else:
                self.intents_waiting = True
        self.wake.set()

    def manage_origins(self):
        """The origins callback keys may come from, as the Manage client has them (no request): the
        site of ``manage.url`` and the origin of the API base it derived (the ``api-`` host of a cloud
        instance, once the codebase is discovered)."""
        client = self.manage
        found = {callbacks.origin(client.scheme, client.host, client.port)}
        api = callbacks.url_origin(client.transport.base_url)
        if api is not None:
            found.add(api)
        return found

    def _count_callback(self, outcome):
        self.metrics.deliveries.labels(source="manage", outcome=outcome).inc()

    # ----- cycles -----------------------------------------------------------------------
    def cycle(self, ticket_id=None):
        """One pass: pending intents, the trigger, the status updates (one ticket or all)."""
        started = time.monotonic()
        intents.run_pending(self.ctx)
        sync.trigger_cycle(self.ctx, ticket_id)
        sync.update_cycle(self.ctx, ticket_id)
        if ticket_id is None and self.config["signl4"]["poll_alerts"]:
            self.poll_signl4()
        intents.run_pending(self.ctx)
        if ticket_id is None:
            self.metrics.cycle_seconds.set(time.monotonic() - started)
            self.last_good = self.clock()
            self.metrics.last_good_cycle.set(self.last_good)
            self.store.put("last_good_cycle", self.last_good)
            TRIM()

    def poll_signl4(self):
        since = self.store.get("signl4_polled")
        now = self.clock()
        sync.poll_alerts(self.ctx, since - POLL_OVERLAP if since else now - 3600)
        self.store.put("signl4_polled", now)

    def safe(self, step, *args):
        """Run ``step``; an error is logged and counted, and the agent backs off. Only stopping ends
        the loop: whatever else a cycle meets (an API error, a record no guard caught, a full disk),
        the agent tries again after the back-off."""
        try:
            step(*args)
            self.failures = 0
            return True
        except CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the agent exits only on SIGTERM or a configuration error
            if isinstance(exc, OUTAGES):
                self.metrics.last_failure["signl4" if getattr(exc, "api", "") == "SIGNL4" else "manage"] = self.clock()
            self.failures += 1
            self.metrics.errors.labels(kind=type(exc).__name__).inc()
            expected = isinstance(exc, (ApiError, InputError))
            log.error("cycle failed (%d in a row): %s", self.failures, exc, exc_info=None if expected else exc)
            return False

    def backoff(self):
        if not self.failures:
            return self.config["poll_interval"]
        return min(MAX_BACKOFF, self.config["poll_interval"] * 2 ** min(self.failures - 1, 8))

    def run(self, serve_http=True):
        """Cycle until stopped; ``serve_http`` starts the receiver."""
        server = self._start_server() if serve_http else None
        try:
            self._loop()
        except CancelledError:
            pass
        finally:
            if server is not None:
                server.close()
            self.close()
        log.info("stopped")

    def _loop(self):
        next_full = 0.0
        while not self.stopping.is_set():
            if time.monotonic() >= next_full:
                self.full_cycle()
                next_full = time.monotonic() + self.backoff()
            self._run_requested()
            if not self.stopping.is_set():
                self.wake.wait(max(0.0, next_full - time.monotonic()))
                self.wake.clear()

    def full_cycle(self):
        """A cycle over every ticket; the tickets callbacks asked for before it began are covered."""
        with self.lock:
            covered = set(self.requested)
        if self.safe(self.cycle):
            with self.lock:
                self.requested -= covered

    def _run_requested(self):
        """Cycles for the tickets callbacks named, or the pending intents a webhook recorded. The
        first failure stops them: a burst of callbacks during an outage is one failure, not one
        each (which would push the back-off to its maximum within a second). While backing off,
        nothing runs here: the next full cycle covers what was asked for."""
        if self.failures:
            return
        with self.lock:
            tickets, self.requested = sorted(self.requested), set()
            waiting, self.intents_waiting = self.intents_waiting, False
        for index, ticket_id in enumerate(tickets):
            if not self.safe(self.cycle, ticket_id):
                with self.lock:
                    self.requested.update(tickets[index:])
                return
        if waiting and not tickets and not self.stopping.is_set():
            self.safe(intents.run_pending, self.ctx)

    def _start_server(self):
        from signl4_agent.receiver import Receiver, serve
        server = serve(Receiver(self.inbox, self.config), self.config)
        log.info("listening on %s:%s", self.config["listen"]["host"], server.effective_port)
        return server

    # ----- reports ----------------------------------------------------------------------
    def health(self):
        now = self.clock()
        last = self.last_good
        sides = {api: self._side(api, now) for api in ("manage", "signl4")}
        age = None if last is None else round(now - last, 1)
        healthy = age is not None and age <= self.config["stale_after"]
        return dict(healthy=healthy, last_good_cycle_age=age, pending=len(self.store.pending_intents()), **sides)

    def _side(self, api, now):
        """Reachable: the last answer of that API was good (an outage since says otherwise)."""
        ok, failed = self.metrics.last_ok.get(api), self.metrics.last_failure.get(api)
        return dict(reachable=ok is not None and (failed is None or ok >= failed),
                    last_ok_age=None if ok is None else round(now - ok, 1))

    def close(self):
        self.verifier.stop()
        self.key_fetcher.close()
        self.manage.close()
        self.signl4.close()
        self.store.close()
