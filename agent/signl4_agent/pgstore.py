"""The PostgreSQL store: the state of every tenant in one database shared by several agents.

Queries are ``store.SqlStore``'s; this module brings the connections, the migrations, the fencing of
writes (``leases.Lease.check``) and the reconnect after a lost connection (a PostgreSQL restart).

Connections: each tenant's loop has its own (``Session``), the receiver one for all tenants, the lease
keeper a third, direct one (``leases``). A connection lost is opened again at the next use.
"""

import contextlib
import logging
import threading
import time

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from signl4_agent import schema
from signl4_agent.store import Fenced, SqlStore, StoreUnavailable

log = logging.getLogger("signl4_agent.pgstore")

CHANNEL = "signl4_agent"  # NOTIFY payloads: "work:<tenant>" (something to execute), "lease" (a lease was released)
CONNECT_TIMEOUT = 5  # seconds, unless the DSN says otherwise
IDLE_IN_TRANSACTION_MS = 5000
LOOP_SESSIONS = 4  # connections the tenants' loops of one agent share (a transaction holds one for milliseconds)
KEEPALIVE = dict(keepalives=1, keepalives_idle=5, keepalives_interval=2, keepalives_count=3)


def _message(exc):
    """The first line of a driver error (libpq's messages name the host, never the password)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class Database:
    """Where the state lives: the DSN of ``state.dsn`` with ``state.password`` apart, and what every connection
    of this agent sets (its name in ``pg_stat_activity``, keep-alives, a connect timeout)."""

    def __init__(self, state, node_id="signl4-agent"):
        self.dsn = state["dsn"]
        self.password = state.get("password")
        self.lease_seconds = state.get("lease_seconds", 10.0)
        self.node_id = node_id
        self.migrated = False
        self.lock = threading.Lock()
        self.loop_sessions = [Session(self, f"loops {number}") for number in range(LOOP_SESSIONS)]
        self.intake = Session(self, "receiver")

    def connect(self, purpose, autocommit=True):
        """A new connection (``psycopg.OperationalError`` when the server cannot be reached)."""
        options = dict(KEEPALIVE, application_name=f"signl4-agent {self.node_id} {purpose}"[:63])
        if "connect_timeout" not in conninfo_to_dict(self.dsn):
            options["connect_timeout"] = CONNECT_TIMEOUT
        if self.password:
            options["password"] = self.password
        connection = psycopg.connect(self.dsn, autocommit=autocommit, row_factory=dict_row, **options)
        try:
            # a transaction left open by a client that vanished must not hold a lease row (renewals wait for it)
            connection.execute(f"SET idle_in_transaction_session_timeout = {IDLE_IN_TRANSACTION_MS:d}")
            self.migrate(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    def migrate(self, connection):
        """Bring the schema to ``schema.LATEST`` (once per process; every agent may start first)."""
        if self.migrated:
            return
        with self.lock:
            if not self.migrated:
                migrate(connection, "the PostgreSQL state database")
                self.migrated = True

    def loop_session(self, index):
        """The connection a tenant's loop uses (a few shared by all tenants: an agent with a hundred tenants
        holds a handful of connections, not a hundred)."""
        return self.loop_sessions[index % len(self.loop_sessions)]

    def close(self):
        for session in self.loop_sessions + [self.intake]:
            session.close()


def migrate(connection, where):
    """The PostgreSQL migrations, one transaction each, recorded in ``schema_version``. Agents that start
    together take turns: each migration locks ``schema_version`` and reads the version again under the lock."""
    try:
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    except psycopg.errors.UniqueViolation:  # two agents created it at the same moment: it exists now
        pass
    while True:
        with connection.transaction():
            connection.execute("LOCK TABLE schema_version IN EXCLUSIVE MODE")
            row = connection.execute("SELECT max(version) AS version FROM schema_version").fetchone()
            steps = schema.pending(row["version"] or 0, "postgresql", where)
            if not steps:
                return
            for statement in steps[0].postgresql:
                connection.execute(statement)
            connection.execute("DELETE FROM schema_version")
            connection.execute("INSERT INTO schema_version (version) VALUES (%s)", (steps[0].version,))
        log.info("state database migrated to schema version %d (%s)", steps[0].version, steps[0].description)


class Session:
    """One connection used by one thread at a time (a lock), opened when first needed and again after it was
    lost. ``run(work)`` calls ``work(connection)``; when the connection is lost on the way, ``work`` runs once
    more on a new connection if ``retry`` (the caller says whether ``work`` may be repeated), else
    :class:`StoreUnavailable` is raised."""

    def __init__(self, database, purpose):
        self.database = database
        self.purpose = purpose
        self.lock = threading.RLock()
        self.connection = None

    def _connected(self):
        if self.connection is None or self.connection.closed or self.connection.broken:
            self.drop()
            self.connection = self.database.connect(self.purpose)
        return self.connection

    def drop(self):
        if self.connection is not None:
            with contextlib.suppress(psycopg.Error):
                self.connection.close()
        self.connection = None

    def run(self, work, retry=True):
        with self.lock:
            for attempt in (1, 2):
                try:
                    return work(self._connected())
                except psycopg.OperationalError as exc:  # the connection is gone (or could not be made)
                    self.drop()
                    if attempt == 2 or not retry:
                        raise StoreUnavailable(f"the state database: {_message(exc)}") from None
                    log.info("the connection to the state database was lost (%s); connecting again", _message(exc))
                except psycopg.Error as exc:
                    raise StoreUnavailable(f"the state database refused a statement: {_message(exc)}") from None
        return None  # not reached

    def close(self):
        with self.lock:
            self.drop()


class Cursor:
    """What the queries of ``SqlStore`` call ``db``: ``execute`` with ``?`` placeholders."""

    def __init__(self, connection):
        self.connection = connection

    def execute(self, sql, args=()):
        return self.connection.execute(sql.replace("?", "%s"), args)


class PostgresStore(SqlStore):
    """One tenant's view of the shared database. ``lease`` (``leases.Lease``, set while this agent drives the
    tenant): every write but the receiver's checks it in its own transaction and raises ``Fenced`` when this
    agent's epoch is no longer the tenant's current one or its lease has run out on the database's clock.

    After a lost connection a write is run again on a new one. Each of them may be repeated, whether or not
    its first commit went through: ``add_intent`` and ``accept_delivery`` insert by key / delivery id and do
    nothing the second time (a repeat answers "exists already": the intent runs with the pending ones, the
    delivery is counted a duplicate); ``save_ticket``, ``put``, ``update_intent`` (state, payload, error) set
    values, and the attempts counter it increments only needs to be above 0 after an attempt; the deletes
    (``forget_intent``, ``release``, ``take_requests``) delete what is there; ``quarantine`` counts one
    failure more; ``request_ticket`` inserts by ticket id."""

    NO_LIMIT = "ALL"

    def __init__(self, session, tenant, lease=None, fencing=False, clock=time.time):
        super().__init__(tenant, clock)
        self.session = session
        self.lease = lease
        self.fencing = fencing  # a loop's store: no write without a lease; the receiver's (intake) is not fenced

    def _fence(self, db, fenced):
        if fenced and self.fencing:
            lease = self.lease
            if lease is None:
                raise Fenced(f"tenant {self.tenant}: this agent does not hold the tenant; nothing written")
            lease.check(db)

    def _transaction(self, connection, work, fenced):
        with connection.transaction():
            db = Cursor(connection)
            self._fence(db, fenced)
            return work(db)

    def _write(self, work, fenced=True):
        return self.session.run(lambda connection: self._transaction(connection, work, fenced), retry=True)

    @contextlib.contextmanager
    def transaction(self, fenced=True):
        with self.session.lock:
            try:
                connection = self.session._connected()
                with connection.transaction():
                    db = Cursor(connection)
                    self._fence(db, fenced)
                    yield db
            except psycopg.Error as exc:
                self.session.drop()
                raise StoreUnavailable(f"the state database: {_message(exc)}") from None

    def _one(self, sql, args=()):
        return self.session.run(lambda connection: Cursor(connection).execute(sql, args).fetchone())

    def _all(self, sql, args=()):
        return self.session.run(lambda connection: Cursor(connection).execute(sql, args).fetchall())

    @staticmethod
    def _insert_id(db, sql, args):
        row = db.execute(sql + " RETURNING id", args).fetchone()
        return row["id"] if row else None

    def _notify(self, db):
        db.execute("SELECT pg_notify(?, ?)", (CHANNEL, "work:" + self.tenant))  # sent when the transaction commits

    def request_ticket(self, ticket_id):
        def work(db):
            db.execute("INSERT INTO requests (tenant, ticket_id, requested) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                       (self.tenant, int(ticket_id), self.clock()))
            self._notify(db)
        self._write(work, fenced=False)

    def take_requests(self):
        rows = self._write(lambda db: db.execute("DELETE FROM requests WHERE tenant = ? RETURNING ticket_id",
                                                 (self.tenant,)).fetchall())
        return sorted(row["ticket_id"] for row in rows)

    def close(self):
        """The session may be shared (the receiver's): its owner closes it."""
