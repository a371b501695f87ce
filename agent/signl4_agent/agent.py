"""One tenant's sync: its clients, store, rate limiters, receiver inbox and the loop that runs it.

An agent process (``node.Node``) has one ``Agent`` per tenant, each looping on a thread of its own. Every
wait is on one event, so SIGTERM (or a callback, or an accepted webhook) interrupts it at once; the
clients' retry sleeps use the same event and give up when the loop stops. With leases (the PostgreSQL
store) the loop runs only while this agent holds the tenant: every request of its clients is refused
after the lease's local deadline and every write checks the lease (``leases``); ``Fenced`` ends it.
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

from ansible_collections.signl4.connectwise.plugins.module_utils.transport import DEADLINE_FACTOR

from signl4_agent import __version__, callbacks, cutoff, intents, notes, ratelimit, routing, sync
from signl4_agent.callback_health import CallbackHealth
from signl4_agent.constants import DEFAULT_TENANT
from signl4_agent.inbound import Inbox
from signl4_agent.manage import TicketDesk
from signl4_agent.metrics import Metrics
from signl4_agent.quarantine import OUTAGES
from signl4_agent.store import Fenced, SqliteStore, StoreUnavailable

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


def user_agent(node_id):
    """Every request of an agent says which agent sent it (the emulators' journals tell agents apart by it)."""
    return f"signl4-agent/{__version__} node/{node_id}"


def build_manage(config, retry):
    m = config["manage"]
    return ManageClient(m["url"], m["company_id"], m["public_key"], m["private_key"], m["client_id"],
                        codebase=m["codebase"], api_version=m["api_version"], validate_certs=m["validate_certs"],
                        timeout=m["timeout"], retry=retry, options=MANAGE_OPTIONS)


def build_signl4(config, retry, team_secret=None):
    """The tenant's SIGNL4 client (``team_secret``: a route's team instead of the default route's)."""
    s = config["signl4"]
    return Signl4Client(s["api_url"], s["api_key"], team_secret or s["team_secret"], validate_certs=s["validate_certs"],
                        timeout=s["timeout"], retry=retry, options=SIGNL4_OPTIONS)


class Agent:
    """One tenant's loop. ``store``: the loop's view of the tenant's state (a SQLite file of its own when not
    given); ``intake``: what the receiver records into (the same store without leases; with leases an unfenced
    view: every node receives); ``leased``: the loop runs only with a lease (``drive(lease)``); ``shutdown``:
    the process stops (the callback key reads end with it)."""

    def __init__(self, config, clock=time.time, retry=None, store=None, intake=None, leased=False, shutdown=None,
                 node_id=None):
        self.config = config
        self.tenant = config.get("id", DEFAULT_TENANT)
        self.clock = clock
        self.stopping = threading.Event()  # this loop stops: SIGTERM, or its lease is lost or released
        self.shutdown = shutdown or self.stopping
        self.wake = threading.Event()
        self.lock = threading.Lock()
        self.requested = set()  # ticket ids from Manage callbacks, to run at once
        self.intents_waiting = False  # an outbound webhook recorded work
        self.pull_requests = False  # (leases) callbacks recorded in the store for this tenant
        self.leased = leased
        self.lease = None
        self.driving_since = None  # (leases) when this agent took the tenant
        self.metrics = Metrics()
        # the clients' retry waits end when the loop stops (``retry`` is injectable for tests)
        retry = retry or RetryPolicy(max_retries=4, backoff_base=0.5, backoff_max=30.0, cancel=self.stopping)
        self.manage = build_manage(config, retry)
        self.signl4 = build_signl4(config, retry)
        # a client per other team secret the routes name: it raises their Signls (the REST calls use ``signl4``)
        self.raisers = {secret: build_signl4(config, retry, secret) for secret in
                        {route.team_secret for route in routing.routes(config)} - {config["signl4"]["team_secret"]}}
        tag = user_agent(node_id or config.get("node", {}).get("id") or "agent")
        clients = [("manage", self.manage), ("signl4", self.signl4)] + [("signl4", client) for client in self.raisers.values()]
        for api, client in clients:
            client.transport.observers.append(self.metrics.observe(api))
            client.transport.session.headers["User-Agent"] = tag
            client.transport.before_send.append(self._guard)
        self.store = store if store is not None else SqliteStore(config["state"]["path"], tenant=self.tenant)
        self.intake = intake if intake is not None else self.store
        self.desk = TicketDesk(self.manage, config)
        limiters = ratelimit.limiters(config["signl4"]["plan"], wait=self.sleep)
        router = routing.Router(config, dict(self.raisers, **{config["signl4"]["team_secret"]: self.signl4}))
        self.ctx = sync.Context(config, self.desk, self.signl4, self.store, self.metrics, limiters, clock,
                                stopping=self.stopping, router=router)
        if not leased:
            cutoff.first_start(self.store, clock)  # recorded when the state is empty: older tickets raise no Signl
        self.key_fetcher = callbacks.KeyFetcher(config, self.metrics.observe("manage"), self.shutdown, user_agent=tag)
        self.verifier = callbacks.CallbackVerifier(self.manage_origins, self.key_fetcher, self.received,
                                                   count=self._count_callback)
        self.inbox = Inbox(self.tenant, self.intake, self.verifier, self.metrics, self.received, self.health,
                           escalations=config["escalations"]["enabled"])
        self.notes_watch = notes.Watch()
        self.callback_health = CallbackHealth(config, self.manage, self.metrics, clock)
        self.failures = 0
        self.last_good = None

    def _guard(self, method, url):
        """Before every request of the tenant's clients: with leases, none starts without a valid lease."""
        if self.leased:
            lease = self.lease
            if lease is None:
                raise Fenced(f"tenant {self.tenant}: this agent does not hold the tenant; no request is started")
            lease.guard(method, url)

    # ----- waiting ----------------------------------------------------------------------
    def sleep(self, seconds):
        if self.stopping.wait(seconds):
            raise Stopping()

    def stop(self, *args):
        """Stop the loop: no side effect is started after this; the one in flight ends (its retry waits do not)."""
        self.stopping.set()
        self.wake.set()

    def wake_up(self, ticket_id=None, pull=False):
        """Run a cycle for ``ticket_id`` (a callback) or the pending intents (a webhook) now; ``pull``: read the
        tickets callbacks asked for from the store first (they arrived on any agent)."""
        with self.lock:
            if ticket_id is not None:
                self.requested.add(int(ticket_id))
            else:
                self.intents_waiting = True
            self.pull_requests = self.pull_requests or pull
        self.wake.set()

    def received(self, ticket_id=None):
        """The receiver took a delivery (a webhook's intent is recorded) or verified a callback for ``ticket_id``.
        With leases the callback is recorded for whichever agent drives the tenant (and the store notifies it);
        this agent's loop is woken when it is that agent."""
        if not self.leased:
            self.wake_up(ticket_id)
            return
        if ticket_id is not None:
            self.intake.request_ticket(ticket_id)
        if self.lease is not None:
            self.wake_up(pull=ticket_id is not None)

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
        if ticket_id is None:  # notes first: a note written just before a close reaches the Signl before it closes
            notes.notes_cycle(self.ctx, self.notes_watch)
        else:
            notes.requested(self.ctx, ticket_id)
        sync.trigger_cycle(self.ctx, ticket_id)
        sync.update_cycle(self.ctx, ticket_id)
        if ticket_id is None:
            sync.unacknowledged_cycle(self.ctx)
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
            expected = isinstance(exc, (ApiError, InputError, StoreUnavailable))
            log.error("cycle failed (%d in a row): %s", self.failures, exc, exc_info=None if expected else exc)
            return False

    def backoff(self):
        if not self.failures:
            return self.config["poll_interval"]
        return min(MAX_BACKOFF, self.config["poll_interval"] * 2 ** min(self.failures - 1, 8))

    def run(self, serve_http=True):
        """Cycle until stopped, with the receiver when ``serve_http`` (one tenant, no leases; ``node.Node`` runs
        a whole configuration)."""
        server = self._start_server() if serve_http else None
        try:
            self.drive()
        finally:
            if server is not None:
                server.close()
            self.close()
        log.info("stopped")

    def drive(self, lease=None, previous=None):
        """The loop: until stopped or, with leases, until the lease is lost (``Fenced``) or released. ``previous``:
        the holder a lease was taken over from (not released by it): see ``in_doubt``."""
        self.stopping.clear()
        if self.shutdown.is_set():
            self.stopping.set()
        self.lease = lease
        if self.leased:
            self.store.lease = lease
            self.driving_since = self.clock()
            self.ctx.in_doubt = self._in_doubt(previous)
        self.failures = 0
        try:
            self._loop()
        except Fenced as exc:
            log.warning("tenant %s: %s; the loop stops (standby)", self.tenant, exc)
        except CancelledError:
            pass
        finally:
            self.lease = None
            if self.leased:
                self.store.lease = None
                self.driving_since = None

    def _in_doubt(self, previous):
        """After a takeover from an agent that did not release the tenant, a request of that agent may still be on
        the wire: it started before its local deadline and may last the clients' request deadline. The intents
        pending at the takeover wait that long (minus the margin already passed) before they are reconciled and
        run, so a reconcile never misses a side effect still in flight; new work goes on at once."""
        if not previous:
            return intents.NOTHING_IN_DOUBT
        longest = DEADLINE_FACTOR * max(self.config["manage"]["timeout"], self.config["signl4"]["timeout"])
        wait = max(0.0, longest - self.lease.margin)
        pending = self.store.pending_intents(limit=1_000_000)
        if not pending or not wait:
            return intents.NOTHING_IN_DOUBT
        log.info("tenant %s: taken over from %s; %d pending intent(s) wait %.0f s for its requests in flight",
                 self.tenant, previous, len(pending), wait)
        return intents.InDoubt(max(row["id"] for row in pending), time.monotonic() + wait)

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

    def _pull(self, always=False):
        """Move the tickets callbacks recorded in the store (leases: on any agent) into ``requested``."""
        with self.lock:
            pull, self.pull_requests = self.pull_requests, False
        if pull or always:
            taken = self.store.take_requests()
            with self.lock:
                self.requested.update(taken)

    def full_cycle(self):
        """A cycle over every ticket; the tickets callbacks asked for before it began are covered."""
        if not self.safe(self._pull, self.leased):
            return
        with self.lock:
            covered = set(self.requested)
        if self.safe(self.cycle):
            with self.lock:
                self.requested -= covered
            self.callback_health.check_if_due()

    def _run_requested(self):
        """Cycles for the tickets callbacks named, or the pending intents a webhook recorded. The
        first failure stops them: a burst of callbacks during an outage is one failure, not one
        each (which would push the back-off to its maximum within a second). While backing off,
        nothing runs here: the next full cycle covers what was asked for."""
        if self.failures or not self.safe(self._pull):
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
        """This tenant's part of ``/healthz``: its last good cycle (with leases: counted from when this agent took
        the tenant, so a takeover is not reported stale), each API reachable, the pending intents."""
        now = self.clock()
        anchors = [moment for moment in (self.last_good, self.driving_since) if moment is not None]
        fresh_for = None if not anchors else now - max(anchors)
        sides = {api: self._side(api, now) for api in ("manage", "signl4")}
        report = dict(healthy=fresh_for is not None and fresh_for <= self.config["stale_after"],
                      last_good_cycle_age=None if self.last_good is None else round(now - self.last_good, 1), **sides)
        try:
            report["pending"] = len(self.intake.pending_intents())
        except StoreUnavailable:
            report.update(pending=None, healthy=False)
        if self.callback_health.enabled:
            report["callback"] = self.callback_health.report(now)  # reported; the sync goes on without it
        return report

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
        for client in self.raisers.values():
            client.close()
        self.store.close()
        if self.intake is not self.store:
            self.intake.close()
