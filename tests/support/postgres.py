"""A throwaway PostgreSQL cluster for the tests: Debian's binaries, a temporary directory, a free port.

``initdb`` and ``postgres`` refuse to run as root, so as root the cluster belongs to an unprivileged
user (``postgres`` if the system has it, else ``nobody``) and its processes are started through
``setpriv``. The server listens on 127.0.0.1 only, with ``fsync=off`` (tests only: a crash of the
machine loses the cluster, which nobody keeps). One cluster serves a whole test session; each test
gets a database of its own (:meth:`Cluster.database`).

``python -m tests.support.postgres`` starts one and prints its DSN until interrupted (for trying the
agent's PostgreSQL store by hand). Nothing in the collection or the agent imports this.
"""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

ENV_BIN = "SIGNL4_TEST_PG_BIN"
SUPERUSER = "signl4"
PASSWORD = "signl4-test-password"  # a throwaway cluster on 127.0.0.1 only
START_TIMEOUT = 60.0


class Unavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (or they cannot run)."""


def find_bindir():
    """The directory holding ``initdb`` and ``postgres``: ``$SIGNL4_TEST_PG_BIN``, else the newest
    ``/usr/lib/postgresql/<version>/bin``, else ``pg_config --bindir``; :class:`Unavailable` if none."""
    candidates = []
    if os.environ.get(ENV_BIN):
        candidates.append(os.environ[ENV_BIN])
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            candidates.append(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                             check=True).stdout.strip())
        except (OSError, subprocess.CalledProcessError):
            pass
    for bindir in candidates:
        if all(os.access(os.path.join(bindir, name), os.X_OK) for name in ("initdb", "postgres", "pg_ctl")):
            return bindir
    raise Unavailable("no PostgreSQL server binaries found (looked in $%s, /usr/lib/postgresql/*/bin and "
                      "pg_config --bindir); on Debian: apt-get install postgresql" % ENV_BIN)


def _version(path):
    try:
        return int(path.rstrip("/").split("/")[-2])
    except ValueError:
        return 0


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _owner():
    """``(uid, gid)`` the cluster runs as: ourselves, or an unprivileged user when we are root."""
    if os.getuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return entry.pw_uid, entry.pw_gid
    raise Unavailable("running as root and no unprivileged user (postgres, nobody) to own the test cluster")


class Cluster:
    """One running server. ``dsn(dbname)`` builds a connection string; ``stop``/``start``/``restart``
    (for fault tests) keep the data directory; ``destroy`` removes everything."""

    def __init__(self, bindir=None, port=None):
        self.bindir = bindir or find_bindir()
        self.port = port or free_port()
        self.owner = _owner()
        self.root = tempfile.mkdtemp(prefix="signl4-pg-")
        self.data = os.path.join(self.root, "data")
        self.sockets = os.path.join(self.root, "sockets")
        self.log = os.path.join(self.root, "server.log")
        self.proc = None
        os.makedirs(self.sockets)
        if self.owner:
            os.chmod(self.root, 0o755)
            for path in (self.root, self.sockets):
                os.chown(path, *self.owner)
        self._initdb()

    # ----- processes -----------------------------------------------------------
    def _command(self, name, *args):
        command = [os.path.join(self.bindir, name)] + list(args)
        if self.owner:
            uid, gid = self.owner
            command = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups"] + command
        return command

    def _initdb(self):
        pwfile = os.path.join(self.root, "pw")
        with open(pwfile, "w", encoding="utf-8") as handle:
            handle.write(PASSWORD)
        if self.owner:
            os.chown(pwfile, *self.owner)
        result = subprocess.run(self._command("initdb", "-D", self.data, "-U", SUPERUSER, "--pwfile", pwfile,
                                              "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8",
                                              "--no-instructions"),
                                capture_output=True, text=True, cwd=self.root, check=False)
        os.unlink(pwfile)
        if result.returncode != 0:
            raise Unavailable("initdb failed: %s" % (result.stderr or result.stdout).strip()[-500:])

    def start(self):
        """Start the server (again) on the same port; returns when it accepts connections."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        log = open(self.log, "ab")  # noqa: SIM115 - the server holds it for its life
        self.proc = subprocess.Popen(
            self._command("postgres", "-D", self.data, "-p", str(self.port), "-k", self.sockets,
                          "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                          "-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "shared_buffers=32MB"),
            stdout=log, stderr=subprocess.STDOUT, cwd=self.root, start_new_session=True)
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise Unavailable("postgres exited with %s: %s" % (self.proc.returncode, self._tail()))
            ready = subprocess.run([os.path.join(self.bindir, "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                   capture_output=True, check=False)
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise Unavailable("postgres did not accept connections within %d s: %s" % (START_TIMEOUT, self._tail()))

    def _tail(self):
        try:
            with open(self.log, "rb") as handle:
                return handle.read()[-1000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stop(self, mode="fast"):
        """Stop the server: ``fast`` (clients disconnected, clean shutdown) or ``immediate`` (a crash)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        sig = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode]
        self.proc.send_signal(sig)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self, mode="fast"):
        self.stop(mode)
        return self.start()

    def destroy(self):
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    # ----- databases -----------------------------------------------------------
    def dsn(self, dbname="postgres", **extra):
        parts = dict(host="127.0.0.1", port=self.port, user=SUPERUSER, password=PASSWORD, dbname=dbname,
                     connect_timeout=5)
        parts.update(extra)
        return " ".join("%s=%s" % (key, value) for key, value in parts.items())

    def sql(self, statement, dbname="postgres"):
        """Run one statement with psql (no Python driver needed); returns its output."""
        result = subprocess.run([os.path.join(self.bindir, "psql") if os.path.exists(os.path.join(self.bindir, "psql"))
                                 else "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d",
                                 self.dsn(dbname), "-c", statement], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError("psql failed: %s" % result.stderr.strip())
        return result.stdout.strip()

    def database(self, prefix="t"):
        """A new empty database; returns its name."""
        name = "%s_%s" % (prefix, uuid.uuid4().hex[:12])
        self.sql('CREATE DATABASE "%s"' % name)
        return name

    def drop(self, name):
        self.sql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.destroy()
        return False


def main():
    with Cluster() as cluster:
        print(cluster.dsn(), flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    sys.exit(main())
