# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small cache shared by the tasks of a run on the controller (each task is its own process).

It holds the one fact worth sharing: the Manage codebase of a site, which is no secret and whose
staleness costs a re-read at most (a stale codebase answers 404, and the client then discovers it
again; one of another shape is not used, ``cw_client``). Everything else a task compares or looks up
it reads itself.
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
import time
import zlib

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
MAX_ENTRY_BYTES = 1024 * 1024


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
        raw = f"{kind}\n{key}".encode()
        return f"{kind}-{zlib.crc32(raw):08x}{zlib.adler32(raw):08x}.json"

    def _use(self, operation):
        """``operation(directory_fd)`` on the checked directory; ``None`` when the cache is not usable."""
        if self.refused is not None:
            return None
        try:
            with private_directory(self.directory, "the run cache directory",
                                   f"set {ENV_VAR} to a directory of your own (or to off)") as directory_fd:
                return operation(directory_fd)
        except UnsafeStateError as exc:
            self.refused = str(exc)
            if self.warn is not None:
                self.warn(f"{exc}. The tasks of this run do not share the discovered codebase until it is fixed.")
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
