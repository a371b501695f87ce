"""One agent process (a node): every tenant of the configuration, the receiver, and with the PostgreSQL store
the lease keeper.

- SQLite (``state.path``): one agent; every tenant's loop runs from the start, each on a thread of its own.
- PostgreSQL (``state.dsn``): several agents share the tenants. Every node receives (webhooks and callbacks
  of every tenant are verified and recorded in the shared store); the lease keeper (``leases.Keeper``, on the
  main thread) decides which tenants this node drives, and each driven tenant's loop runs on its thread until
  its lease is lost or released.

SIGTERM: no new side effect starts; each loop finishes the one in flight and ends; its lease is released
(set expired, the other agents told at once), and the process exits.
"""

import collections
import logging
import secrets
import threading
import time

from signl4_agent.agent import Agent
from signl4_agent.inbound import Inboxes
from signl4_agent.metrics import render_tenants
from signl4_agent.store import SqliteStore

log = logging.getLogger("signl4_agent.node")
Driver = collections.namedtuple("Driver", "thread lease")  # a tenant's loop on its thread, and its lease (None: SQLite)


class Node:
    def __init__(self, config, clock=time.time):
        self.config = config
        self.clock = clock
        self.shutdown = threading.Event()
        self.node_id = config["node"]["id"]
        self.holder = f"{self.node_id}/{secrets.token_hex(4)}"  # this process; a restart is a new holder
        self.lock = threading.Lock()
        self.drivers = {}  # tenant -> Driver
        self.database = None
        if config["state"]["dsn"]:
            from signl4_agent import pgstore
            self.database = pgstore.Database(config["state"], self.node_id)
        self.agents = {}
        try:
            for index, tenant in enumerate(config["tenants"]):
                self.agents[tenant["id"]] = self._agent(index, tenant)
        except BaseException:
            self.close()
            raise
        self.inbox = Inboxes({tenant: agent.inbox for tenant, agent in self.agents.items()}, self.health, self.ready,
                             self.metrics)

    def _agent(self, index, tenant):
        if self.database is None:
            store = SqliteStore(self.config["state"]["path"], self.clock, tenant=tenant["id"])
            return Agent(tenant, self.clock, store=store, shutdown=self.shutdown, node_id=self.node_id)
        from signl4_agent.pgstore import PostgresStore
        store = PostgresStore(self.database.loop_session(index), tenant["id"], fencing=True, clock=self.clock)
        intake = PostgresStore(self.database.intake, tenant["id"], clock=self.clock)
        return Agent(tenant, self.clock, store=store, intake=intake, leased=True, shutdown=self.shutdown,
                     node_id=self.node_id)

    # ----- running ----------------------------------------------------------------------------
    def run(self):
        """Serve and sync until SIGTERM/SIGINT (``stop``)."""
        from signl4_agent.receiver import Receiver, serve
        server = serve(Receiver(self.inbox, self.config), self.config)
        log.info("node %s listening on %s:%s (%d tenant(s), %s store)", self.node_id, self.config["listen"]["host"],
                 server.effective_port, len(self.agents), "PostgreSQL" if self.database else "SQLite")
        try:
            if self.database is None:
                for tenant in self.agents:
                    self._start(tenant, None, None)
                while not self.shutdown.wait(1.0):
                    pass
            else:
                from signl4_agent.leases import Keeper
                Keeper(self.database, list(self.agents), self.holder, self).run()
        finally:
            self.stop()
            for thread in [driver.thread for driver in self.drivers.values()]:
                thread.join()
            server.close()
            self.close()
        log.info("stopped")

    def stop(self, *args):
        self.shutdown.set()
        for agent in self.agents.values():
            agent.stop()

    def _start(self, tenant, lease, previous):
        thread = threading.Thread(target=self._drive, args=(tenant, lease, previous), name=f"tenant-{tenant}",
                                  daemon=True)
        with self.lock:
            self.drivers[tenant] = Driver(thread, lease)
        thread.start()

    def _drive(self, tenant, lease, previous):
        agent = self.agents[tenant]
        try:
            agent.drive(lease, previous)
        except Exception:  # noqa: BLE001 - a loop that dies is logged; the lease runs out or is released below
            log.exception("tenant %s: the loop ended with an error", tenant)
        finally:
            if lease is not None:
                from signl4_agent.leases import release
                release(agent.store.session, lease)
            with self.lock:
                self.drivers.pop(tenant, None)

    # ----- the lease keeper's view (leases.Keeper) ----------------------------------------------
    def held(self):
        with self.lock:
            return {tenant: driver.lease for tenant, driver in self.drivers.items()
                    if driver.lease is not None and not driver.lease.lost}

    def acquired(self, tenant, lease, previous):
        with self.lock:
            running = tenant in self.drivers
        if running or self.shutdown.is_set():  # still ending its last lease: give the new one back
            from signl4_agent.leases import release
            release(self.database.intake, lease)
            return
        # A lease this process held before (its loop ended when it could not renew) has no request of another in flight.
        self._start(tenant, lease, previous if previous != self.holder else None)

    def lost(self, tenant):
        self.agents[tenant].stop()

    def release(self, tenant):
        log.info("tenant %s: above this agent's share; handing it over", tenant)
        self.agents[tenant].stop()

    def wake(self, tenant):
        agent = self.agents.get(tenant)
        if agent is not None and agent.lease is not None:
            agent.wake_up(pull=True)

    def stopping(self):
        return self.shutdown.is_set()

    def done(self):
        return self.shutdown.is_set() and not self.drivers

    def sleep(self, seconds):
        self.shutdown.wait(seconds)

    # ----- reports ------------------------------------------------------------------------------
    def health(self):
        """``/healthz``: 200 when the store is reachable and every tenant this node drives has had a good cycle
        lately (a healthy standby, holding nothing, is 200). Today's single-tenant file keeps its report's keys
        at the top."""
        held = sorted(self.held()) if self.database else sorted(self.agents)
        reachable = self.ready()["ready"]
        tenants = {tenant: dict(agent.health(), held=tenant in held) for tenant, agent in self.agents.items()}
        report = dict(healthy=reachable and all(tenants[tenant]["healthy"] for tenant in held), node=self.node_id,
                      store=dict(kind="postgresql" if self.database else "sqlite", reachable=reachable), held=held,
                      tenants=tenants)
        if not self.config["tenanted"]:
            only = dict(tenants[next(iter(tenants))])
            only.pop("held")
            report.update(only, healthy=report["healthy"])
        return report

    def ready(self):
        """``/readyz``: this node can take deliveries (its store answers)."""
        agent = next(iter(self.agents.values()))
        return dict(ready=agent.intake.reachable(), node=self.node_id)

    def metrics(self):
        if not self.config["tenanted"]:
            return next(iter(self.agents.values())).metrics.render()
        return render_tenants({tenant: agent.metrics for tenant, agent in self.agents.items()})

    def close(self):
        for agent in self.agents.values():
            agent.close()
        if self.database is not None:
            self.database.close()
