# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small cache shared by the tasks of a run on the controller (each task is its own process).

It holds only facts that are no secret and whose staleness costs a re-read at most, such as the
Manage codebase of a site (a stale codebase answers 404, and the client then discovers it again).
Entries live in one JSON file each, for ``ttl`` seconds, in a directory only this user may use:
``$SIGNL4_CONNECTWISE_RUN_CACHE``, else ``signl4.connectwise-<uid>`` under ``$XDG_RUNTIME_DIR`` (when
it is the user's own) or the temporary directory; ``SIGNL4_CONNECTWISE_RUN_CACHE=off`` turns it off.

Every read and write checks that directory (``private_state``: a directory, not a symbolic link,
owned by this user, mode 0700) and each entry (this user's regular file, mode 0600). When the
directory fails the check, for example because another user created it first in a shared temporary
directory, the task runs without the cache and warns once, naming the directory and what is wrong:
the cache is an optimisation, and an entry planted there could send a write to the wrong object.
Other errors reading or writing it (a full disk) are ignored.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import threading
import time
import uuid
import zlib

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import StaleLookupError
from ansible_collections.signl4.connectwise.plugins.module_utils.private_state import (
    UnsafeStateError,
    default_path,
    private_directory,
    read_private_file,
    remove_private_file,
    write_private_file,
)

ENV_VAR = "SIGNL4_CONNECTWISE_RUN_CACHE"
DEFAULT_TTL = 300.0
LOOKUP_TTL = 60.0
RUN_READ_TTL = 30.0
MAX_ENTRY_BYTES = 16 * 1024 * 1024
ANSIBLE_COMMANDS = ("ansible", "ansible-playbook", "ansible-console", "ansible-pull")


def default_directory():
    configured = os.environ.get(ENV_VAR)
    if configured:
        return None if configured.lower() in ("off", "0", "false", "no") else configured
    return default_path("signl4.connectwise")


class RunCache:
    """``get(kind, key)`` / ``put(kind, key, value)`` / ``drop(kind, key)`` of JSON values. ``warn``
    (a module's ``warn``) is told once when the directory is not private and the cache is not used."""

    def __init__(self, directory=None, ttl=DEFAULT_TTL, clock=None, warn=None):
        self.directory = directory
        self.ttl = float(ttl)
        self.clock = clock or time.time
        self.warn = warn
        self.refused = None  # why the directory is not used, once it failed the check

    @classmethod
    def default(cls, warn=None):
        """The cache of this user's runs, or ``None`` when it is turned off."""
        directory = default_directory()
        return cls(directory, warn=warn) if directory else None

    def _name(self, kind, key):
        # A file name, not a secret: two checksums make a collision unlikely, and one would only cost a miss
        # (an entry holds its full key). zlib, because importing hashlib costs each task ~5 ms.
        raw = ("%s\n%s" % (kind, key)).encode("utf-8")
        return "%s-%08x%08x.json" % (kind, zlib.crc32(raw), zlib.adler32(raw))

    def _use(self, operation):
        """``operation(directory_fd)`` on the checked directory; ``None`` when the cache is not usable."""
        if self.refused is not None:
            return None
        try:
            with private_directory(self.directory, "the run cache directory",
                                   "set %s to a directory of your own (or to off)" % ENV_VAR) as directory_fd:
                return operation(directory_fd)
        except UnsafeStateError as exc:
            self.refused = str(exc)
            if self.warn is not None:
                self.warn("%s. The tasks of this run do not share lookups or the codebase until it is fixed." % exc)
        return None

    def get(self, kind, key):
        def read(directory_fd):
            try:
                entry = json.loads(read_private_file(directory_fd, self._name(kind, key), MAX_ENTRY_BYTES).decode("utf-8"))
                if entry.get("key") == key and self.clock() < float(entry["expires"]):
                    return entry["value"]
            except (OSError, UnsafeStateError, ValueError, KeyError, TypeError, AttributeError):
                pass  # missing, foreign or broken: a miss
            return None
        return self._use(read)

    def put(self, kind, key, value, ttl=None):
        ttl = self.ttl if ttl is None else float(ttl)

        def write(directory_fd):
            try:
                data = json.dumps({"key": key, "expires": self.clock() + ttl, "value": value}).encode("utf-8")
                write_private_file(directory_fd, self._name(kind, key), data)
            except (OSError, TypeError, ValueError):
                pass
        self._use(write)

    def drop(self, kind, key):
        def remove(directory_fd):
            try:
                remove_private_file(directory_fd, self._name(kind, key))
            except OSError:
                pass
        self._use(remove)


def _process(proc, pid):
    """``(parent pid, start time, command names)`` of process ``pid`` from ``proc`` (/proc)."""
    with open(os.path.join(proc, str(pid), "stat")) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    with open(os.path.join(proc, str(pid), "cmdline"), "rb") as handle:
        argv = handle.read().split(b"\0")[:2]
    return int(fields[1]), fields[19], [os.path.basename(arg.decode("utf-8", "replace")) for arg in argv]


def run_identity(proc="/proc", pid=None):
    """The Ansible run this task belongs to, as ``"<pid>:<start time>"`` of the process that runs the
    play: the parent of the nearest ``ansible-playbook`` (or ``ansible``) ancestor, which is the worker
    Ansible forked for this task. ``None`` when there is none: a module run on a remote host (its
    ancestors are sshd's), outside Ansible, or on a system without ``/proc``."""
    try:
        pid = os.getppid() if pid is None else pid
        for _depth in range(12):
            if pid <= 1:
                return None
            parent, _start, names = _process(proc, pid)
            if any(name in ANSIBLE_COMMANDS for name in names):
                return "%d:%s" % (parent, _process(proc, parent)[1])
            pid = parent
    except (OSError, ValueError, IndexError):
        pass
    return None


def record_identity(record):
    """What a write takes from a looked-up record: its id (a SIGNL4 app's ``scriptId``). Other fields
    (a team's members, a timestamp) may change without making the lookup stale."""
    if not isinstance(record, dict):
        return record
    return tuple(record.get(key) for key in ("id", "scriptId"))


def has_identity(record):
    """Whether a shared record names an object a write could take (``{"id": None}`` does not)."""
    identity = record_identity(record)
    return any(part is not None for part in identity) if isinstance(identity, tuple) else identity is not None


class SharedLookups:
    """Name lookups shared by the tasks of a run (a board resolved by one task serves the next),
    for ``ttl`` seconds, keyed by ``site`` (API origin and company).

    Every write a client makes drops the entries of the collections its path is in: each
    collection has a generation (a random token) that is part of every entry's key, and a write
    replaces it, so no task reads an entry from before that write. A change made outside the run
    is seen once the short TTL has passed. Entries hold the looked-up records (boards, statuses,
    members, teams), never a credential.

    A stale entry may cost a re-read, never a wrong write: every entry a task took from another
    task is remembered, and :meth:`verify` (called by the clients before each write) looks them up
    again and raises :class:`StaleLookupError` when one changed, before anything is sent."""

    KIND = "lookup"
    GENERATION = "lookup-generation"

    def __init__(self, run_cache, site, ttl=LOOKUP_TTL, run=None):
        self.run_cache = run_cache
        self.site = site
        self.ttl = float(ttl)
        self.run = run  # run_identity(): reads shared by this run's tasks only, see run_read
        self._unverified = {}  # shared key -> (load, record, ttl): taken from another task, not checked since
        self._lock = threading.Lock()

    def generation(self, collection):
        """The current generation of ``collection``: taken before a read whose records are shared
        with :meth:`put`, so a write made meanwhile leaves them unseen."""
        return self.run_cache.get(self.GENERATION, "%s|%s" % (self.site, collection)) or "0"

    def _shared_key(self, collection, key, generation=None):
        return "%s|%s|%s|%s" % (self.site, collection, generation or self.generation(collection), key)

    def get_or_load(self, collection, key, load, ttl=None):
        """The shared record of ``key`` (a string) in ``collection``, else ``load()`` (shared
        unless it raises)."""
        shared_key = self._shared_key(collection, key)
        ttl = self.ttl if ttl is None else ttl
        record = self.run_cache.get(self.KIND, shared_key)
        if record is not None:
            with self._lock:
                self._unverified[shared_key] = (load, record, ttl)
            return record
        record = load()
        self.run_cache.put(self.KIND, shared_key, record, ttl=ttl)
        return record

    def run_read(self, collection, key, load):
        """A read (``load()``) that serves every task of this Ansible run (:func:`run_identity`) for
        :data:`RUN_READ_TTL` seconds, such as the list of a pod's custom fields that each custom field
        task compares against: one list read for the run instead of one query per field. Another run
        never sees it, and the run's other tasks only until one of them writes to ``collection``.
        Like a lookup, a read taken from another task is read again before a write (:meth:`verify`):
        if anything in it changed, the task starts over on the fresh read. Without a known run,
        ``load()`` is simply called."""
        if self.run is None:
            return load()
        return self.get_or_load(collection.lower().rstrip("/"), "%s (run %s)" % (key, self.run), load, ttl=RUN_READ_TTL)

    def get(self, collection, key, load):
        """The shared record of ``key`` in ``collection``, or ``None``; nothing is loaded. A record
        without identity (a name known to be ambiguous) is ``None`` too. ``load`` looks the record up
        again for :meth:`verify`: a record taken from another task is checked before a write."""
        shared_key = self._shared_key(collection, key)
        record = self.run_cache.get(self.KIND, shared_key)
        if not has_identity(record):
            return None
        with self._lock:
            self._unverified[shared_key] = (load, record, self.ttl)
        return record

    def put(self, collection, key, record, generation=None):
        """Share ``record`` as ``key`` in ``collection`` (under ``generation``, from
        :meth:`generation` before the read). This task read it itself: nothing to verify."""
        shared_key = self._shared_key(collection, key, generation)
        with self._lock:
            self._unverified.pop(shared_key, None)
        self.run_cache.put(self.KIND, shared_key, record, ttl=self.ttl)

    def verify(self, concurrently):
        """Look up again every entry taken from another task since the last check (``concurrently``
        runs the loads, e.g. ``client.concurrently``); raises :class:`StaleLookupError` naming the
        ones that changed, after sharing their fresh records. Nothing to check: no request."""
        with self._lock:
            pending, self._unverified = self._unverified, {}
        if not pending:
            return
        keys = sorted(pending)
        fresh = concurrently(*[pending[key][0] for key in keys])
        stale = [key for key, record in zip(keys, fresh) if record_identity(record) != record_identity(pending[key][1])]
        for key, record in zip(keys, fresh):
            self.run_cache.put(self.KIND, key, record, ttl=pending[key][2])  # a run's read keeps its shorter life
        if stale:
            raise StaleLookupError("looked up again before writing, these names changed: %s"
                                   % ", ".join("%s %s" % tuple(key.rsplit("|", 3)[1::2]) for key in stale))

    def invalidate(self, path):
        """After a write to ``path`` (``/service/boards/5``): a new generation for each collection
        the path is in (``/service``, ``/service/boards``, ``/service/boards/5``)."""
        parts = [part for part in path.lower().split("/") if part]
        for end in range(1, len(parts) + 1):
            collection = "/" + "/".join(parts[:end])
            # The generation outlives every entry made under the one before it.
            self.run_cache.put(self.GENERATION, "%s|%s" % (self.site, collection), uuid.uuid4().hex, ttl=4 * self.ttl)
