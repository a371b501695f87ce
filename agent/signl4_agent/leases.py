"""Leases (PostgreSQL store only): which agent drives which tenant, and what stops one that no longer does.

A row per tenant in ``leases``: ``(tenant, holder, epoch, expires_at)``. The holder is one agent process
(``<node id>/<random instance>``: a restarted agent is a new holder, so it never mistakes its
predecessor's lease for its own). Expiry is on the database's clock (``clock_timestamp()``), never the
hosts'. A takeover increments the epoch.

- **Acquire**: ``UPDATE ... SET holder = me, epoch = epoch + 1, expires_at = now + lease WHERE (holder IS
  NULL OR expires_at < now)``, for free or expired leases, up to this agent's share ``ceil(M/N)`` (M
  tenants, N live agents in ``agents``, whose heartbeat is younger than a lease).
- **Renew** every lease/3, one statement for all held tenants, ``WHERE holder = me AND epoch = mine``.
  A tenant missing from the answer was taken: its loop stops at once. Above its share an agent releases
  one tenant per renewal (its loop finishes the side effect in flight, then the lease is set expired).
- **Local deadline**: monotonic time when the renewal was *sent* + the seconds the database says remain
  - a margin (lease/3). No HTTP request of the tenant's clients starts after it (``Lease.guard``, a
  transport ``before_send`` hook, retries included); it moves on only with a renewal.
- **Fencing**: every write of the tenant's loop is a transaction that first runs ``Lease.check``: the
  lease row with this holder and epoch, not expired on the database's clock, ``FOR SHARE`` (so a takeover
  waits for the transaction to end: every write of an old epoch is ordered before the new epoch). No row:
  ``Fenced``, nothing written, the loop stops.

No session advisory locks: they belong to a connection, not to a lease (they outlive what their holder
knows after a network cut, and stack when taken twice on one connection). The keeper's connection is
direct: through a pooler in transaction mode its ``LISTEN`` and its settings would land on other
backends; the keeper refuses to run when two transactions of its connection reach different backends.
"""

import logging
import math
import time

import psycopg

from signl4_agent.pgstore import CHANNEL, _message
from signl4_agent.store import Fenced, StoreUnavailable

log = logging.getLogger("signl4_agent.leases")

FENCE = ("SELECT 1 AS held FROM leases WHERE tenant = ? AND holder = ? AND epoch = ? AND expires_at > clock_timestamp() "
         "FOR SHARE")
FORGET_AGENTS_AFTER = 86400  # seconds: the heartbeat row of an agent that died (no SIGTERM) goes after a day
HEARTBEAT = """
    WITH beat AS (
        INSERT INTO agents (holder, node, started, heartbeat) VALUES (%(me)s, %(node)s, clock_timestamp(), clock_timestamp())
        ON CONFLICT (holder) DO UPDATE SET heartbeat = clock_timestamp() RETURNING holder),
    gone AS (DELETE FROM agents WHERE heartbeat < clock_timestamp() - make_interval(secs => %(forget)s))
    SELECT 1 + count(*) AS live FROM agents
    WHERE holder <> %(me)s AND heartbeat > clock_timestamp() - make_interval(secs => %(lease)s)"""
RENEW = """
    UPDATE leases SET expires_at = clock_timestamp() + make_interval(secs => %(lease)s)
    WHERE holder = %(me)s AND (tenant, epoch) IN (SELECT * FROM unnest(%(tenants)s::text[], %(epochs)s::bigint[]))
    RETURNING tenant, extract(epoch FROM expires_at - clock_timestamp())::float8 AS remaining"""
ACQUIRE = """
    WITH free AS (
        SELECT tenant, holder FROM leases
        WHERE tenant = ANY(%(tenants)s) AND (holder IS NULL OR expires_at < clock_timestamp())
        ORDER BY random() LIMIT %(wanted)s FOR UPDATE SKIP LOCKED)
    UPDATE leases SET holder = %(me)s, epoch = leases.epoch + 1,
                      expires_at = clock_timestamp() + make_interval(secs => %(lease)s)
    FROM free WHERE leases.tenant = free.tenant AND (leases.holder IS NULL OR leases.expires_at < clock_timestamp())
    RETURNING leases.tenant, leases.epoch, free.holder AS previous,
              extract(epoch FROM leases.expires_at - clock_timestamp())::float8 AS remaining"""
NEXT_EXPIRY = """
    SELECT extract(epoch FROM min(expires_at) - clock_timestamp())::float8 AS seconds FROM leases
    WHERE tenant = ANY(%(tenants)s) AND holder IS NOT NULL AND holder <> %(me)s"""
# The fallback of NOTIFY: held tenants with callback requests, or with intents recorded since the last look.
WORK = """
    SELECT tenant, 0 AS id FROM requests WHERE tenant = ANY(%(tenants)s)
    UNION ALL SELECT tenant, max(id) AS id FROM intents WHERE id > %(seen)s AND tenant = ANY(%(tenants)s) GROUP BY tenant"""
RELEASE = ("UPDATE leases SET holder = NULL, expires_at = clock_timestamp() WHERE tenant = ? AND holder = ? AND epoch = ?")


class Lease:
    """One tenant's lease as this agent holds it: ``epoch`` and the local deadline (``clock``: monotonic)."""

    def __init__(self, tenant, holder, epoch, margin, clock=time.monotonic):
        self.tenant = tenant
        self.holder = holder
        self.epoch = epoch
        self.margin = margin
        self.clock = clock
        self.deadline = float("-inf")
        self.lost = False

    def renewed(self, sent, remaining):
        """A renewal sent at ``sent`` (monotonic) was answered with ``remaining`` seconds on the database's clock."""
        self.deadline = sent + remaining - self.margin

    def valid(self):
        return not self.lost and self.clock() < self.deadline

    def lose(self):
        self.lost = True

    def guard(self, method=None, url=None):
        """A transport's ``before_send`` hook: no request starts after the local deadline."""
        if not self.valid():
            raise Fenced(f"tenant {self.tenant}: the lease (epoch {self.epoch}) is lost or past its local deadline; "
                         f"no request is started")

    def check(self, db):
        """Inside a write's transaction: this agent still holds the tenant at this epoch (``FOR SHARE``: a takeover
        waits for the transaction); else ``Fenced`` and nothing of the transaction is committed."""
        if db.execute(FENCE, (self.tenant, self.holder, self.epoch)).fetchone() is None:
            self.lost = True
            raise Fenced(f"tenant {self.tenant}: epoch {self.epoch} is no longer this agent's; nothing written")


def release(session, lease):
    """Give a lease up (set it expired, holder none) and tell the other agents; False when it could not be done
    (it then runs out by itself)."""
    def work(connection):
        with connection.transaction():
            connection.execute(RELEASE.replace("?", "%s"), (lease.tenant, lease.holder, lease.epoch))
            connection.execute("SELECT pg_notify(%s, 'lease')", (CHANNEL,))
    lease.lose()
    try:
        session.run(work)
    except StoreUnavailable as exc:
        log.warning("tenant %s: the lease could not be released (%s); it runs out by itself", lease.tenant, exc)
        return False
    log.info("tenant %s: lease released (epoch %d)", lease.tenant, lease.epoch)
    return True


class Keeper:
    """The lease keeper of one agent process: heartbeat, renewals, balance, and the wake-ups (``LISTEN``), on
    its own direct connection. ``node`` is told what happens: ``held()`` -> ``{tenant: Lease}`` of the tenants
    it drives, ``acquired(tenant, lease, previous)``, ``lost(tenant)``, ``release(tenant)`` (stop driving it and
    release), ``wake(tenant)`` (work arrived), ``stopping()`` (no new lease), ``done()`` (nothing driven any
    more after stopping: the keeper ends)."""

    def __init__(self, database, tenants, holder, node, clock=time.monotonic):
        self.database = database
        self.tenants = list(tenants)
        self.holder = holder
        self.node = node
        self.clock = clock
        self.lease_seconds = database.lease_seconds
        self.interval = self.lease_seconds / 3.0
        self.connection = None
        self.seen = None  # the highest intent id the fallback poll has seen
        self.live = 1

    # ----- the connection -------------------------------------------------------------------
    def _connected(self):
        if self.connection is None or self.connection.closed or self.connection.broken:
            self.connection = None
            connection = self.database.connect("leases")
            try:
                _refuse_transaction_pooler(connection)
                connection.execute(f"SET lock_timeout = {int(self.interval * 1000):d}")
                connection.execute(f"SET statement_timeout = {int(self.interval * 2000):d}")
                connection.execute("INSERT INTO leases (tenant) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING",
                                   (self.tenants,))
                connection.execute(f"LISTEN {CHANNEL}")
            except BaseException:
                connection.close()
                raise
            self.connection = connection
        return self.connection

    def _fetch(self, sql, **params):
        params.setdefault("tenants", self.tenants)
        params.update(me=self.holder, lease=self.lease_seconds)
        return self._connected().execute(sql, params).fetchall()

    # ----- the loop -------------------------------------------------------------------------
    def run(self):
        """Tick every lease/3 (and when a lease is released) until stopping and nothing is driven any more."""
        while not (self.node.stopping() and not self.node.held()):
            wait = self.interval
            try:
                wait = self.tick()
            except (psycopg.Error, StoreUnavailable) as exc:
                log.warning("lease keeper: the state database did not answer (%s); held leases run out at their "
                            "local deadline unless a renewal goes through", _message(exc))
                self._drop()
            self._listen(wait)
        self.leave()

    def tick(self):
        """Heartbeat, renew, balance; the seconds until the next tick."""
        sent = self.clock()
        self.live = self._fetch(HEARTBEAT, node=self.database.node_id, forget=FORGET_AGENTS_AFTER)[0]["live"]
        held = self._renew(sent)
        if self.node.stopping():
            return self.interval
        share = math.ceil(len(self.tenants) / max(1, self.live))
        if len(held) > share:
            self.node.release(sorted(held)[-1])
        elif len(held) < share:
            self._acquire(share - len(held))
        self._poll_work()
        return self._next_tick(share)

    def _renew(self, sent):
        held = self.node.held()
        current = dict(held)
        if held:
            tenants = sorted(held)
            answered = {row["tenant"]: row["remaining"] for row in self._fetch(
                RENEW, tenants=tenants, epochs=[held[tenant].epoch for tenant in tenants])}
            for tenant in tenants:
                lease = held[tenant]
                if tenant in answered:
                    lease.renewed(sent, answered[tenant])
                else:
                    log.warning("tenant %s: the lease (epoch %d) was taken over; stopping at once", tenant, lease.epoch)
                    lease.lose()
                    self.node.lost(tenant)
                    current.pop(tenant)
        return current

    def _acquire(self, wanted):
        sent = self.clock()
        for row in self._fetch(ACQUIRE, wanted=wanted):
            lease = Lease(row["tenant"], self.holder, row["epoch"], self.interval, self.clock)
            lease.renewed(sent, row["remaining"])
            log.info("tenant %s: lease acquired (epoch %d%s)", lease.tenant, lease.epoch,
                     f", taken over from {row['previous']}" if row["previous"] else "")
            self.node.acquired(lease.tenant, lease, row["previous"])

    def _poll_work(self):
        held = sorted(self.node.held())
        if not held:
            return
        rows = self._connected().execute(WORK, dict(tenants=held, seen=self.seen or 0)).fetchall()
        first = self.seen is None
        for row in rows:
            self.seen = max(self.seen or 0, row["id"])
            if row["id"] == 0 or not first:  # a callback request; an intent (the first look only sets the mark)
                self.node.wake(row["tenant"])
        self.seen = self.seen or 0

    def _next_tick(self, share):
        """Below its share, an agent looks again just after the next lease of another agent runs out (a lost
        agent's tenants are taken over at their expiry, not up to a renewal interval later)."""
        if len(self.node.held()) >= share:
            return self.interval
        seconds = self._fetch(NEXT_EXPIRY)[0]["seconds"]
        if seconds is None:
            return self.interval
        return min(self.interval, max(0.05, seconds + 0.05))

    def _listen(self, seconds):
        """Wait for notifications until the next tick: work for a held tenant wakes its loop; a released lease
        ends the wait (it may be this agent's to take)."""
        ends = self.clock() + seconds
        while not self.node.done():
            remaining = ends - self.clock()
            if remaining <= 0:
                return
            if self.connection is None:
                self.node.sleep(min(remaining, 0.25))
                continue
            try:
                for notice in self.connection.notifies(timeout=min(remaining, 0.25)):
                    if notice.payload == "lease" and not self.node.stopping():
                        return
                    if notice.payload.startswith("work:"):
                        self.node.wake(notice.payload[len("work:"):])
            except psycopg.Error as exc:
                log.warning("lease keeper: lost the connection to the state database (%s)", _message(exc))
                self._drop()

    def _drop(self):
        if self.connection is not None:
            try:
                self.connection.close()
            except psycopg.Error:
                pass
        self.connection = None

    def leave(self):
        """The agent stops: its heartbeat row goes and the others are told, so they count one agent less at once
        (a larger share: they take the leases it released now, not at their next tick)."""
        try:
            self._connected().execute("DELETE FROM agents WHERE holder = %s", (self.holder,))
            self._connected().execute("SELECT pg_notify(%s, 'lease')", (CHANNEL,))
        except (psycopg.Error, StoreUnavailable) as exc:
            log.info("lease keeper: could not remove this agent's heartbeat (%s); it runs out", _message(exc))
        self._drop()


def _refuse_transaction_pooler(connection):
    """Two transactions of one connection on two server backends: a pooler in transaction mode (pgbouncer's
    ``pool_mode = transaction``) is between the agent and PostgreSQL. LISTEN and the session's settings would be
    lost there; the lease connection must be direct (or through a pooler in session mode)."""
    first = connection.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
    second = connection.execute("SELECT pg_backend_pid() AS pid").fetchone()["pid"]
    if first != second:
        raise StoreUnavailable("state.dsn reaches PostgreSQL through a pooler in transaction mode; the agents need a "
                               "direct connection (or a pooler in session mode) for their leases")


def acquire_for_once(database, holder, tenant):
    """A lease of one tenant for a one-shot cycle (``once``), when no running agent holds it; else None."""
    with database.connect("once") as connection:
        connection.execute("INSERT INTO leases (tenant) VALUES (%s) ON CONFLICT DO NOTHING", (tenant,))
        sent = time.monotonic()
        rows = connection.execute(ACQUIRE, dict(tenants=[tenant], wanted=1, me=holder,
                                                lease=database.lease_seconds)).fetchall()
    if not rows:
        return None
    lease = Lease(tenant, holder, rows[0]["epoch"], database.lease_seconds / 3.0)
    lease.renewed(sent, rows[0]["remaining"])
    return lease
