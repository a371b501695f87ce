# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small cache shared by the tasks of a run on the controller (each task is its own process).

It holds only facts that are no secret and whose staleness costs a re-read at most, such as the
Manage codebase of a site (a stale codebase answers 404, and the client then discovers it again).
Entries live in one JSON file each under the user's runtime directory (``$XDG_RUNTIME_DIR``, else
the temp directory), in a directory of mode 0700 owned by the user, files of mode 0600, for
``ttl`` seconds. ``SIGNL4_CONNECTWISE_RUN_CACHE`` names another directory, or ``off`` turns the
cache off. Any error reading or writing it is ignored: the cache is an optimisation only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import stat
import tempfile
import time

ENV_VAR = "SIGNL4_CONNECTWISE_RUN_CACHE"
DEFAULT_TTL = 300.0


def default_directory():
    configured = os.environ.get(ENV_VAR)
    if configured:
        return None if configured.lower() in ("off", "0", "false", "no") else configured
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return os.path.join(base, "signl4.connectwise-%d" % os.getuid())


class RunCache:
    """``get(kind, key)`` / ``put(kind, key, value)`` / ``drop(kind, key)`` of JSON values."""

    def __init__(self, directory=None, ttl=DEFAULT_TTL, clock=None):
        self.directory = directory
        self.ttl = float(ttl)
        self.clock = clock or time.time

    @classmethod
    def default(cls):
        """The cache of this user's runs, or ``None`` when it is turned off."""
        directory = default_directory()
        return cls(directory) if directory else None

    def _path(self, kind, key):
        digest = hashlib.sha256(("%s\n%s" % (kind, key)).encode("utf-8")).hexdigest()[:32]
        return os.path.join(self.directory, "%s-%s.json" % (kind, digest))

    def _safe_directory(self):
        """Create the directory 0700; refuse one that another user owns or others may write."""
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        info = os.lstat(self.directory)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            raise OSError("run cache directory %s is not private to this user" % self.directory)

    def get(self, kind, key):
        try:
            with open(self._path(kind, key)) as handle:
                entry = json.load(handle)
            if entry.get("key") == key and self.clock() < float(entry["expires"]):
                return entry["value"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        return None

    def put(self, kind, key, value):
        try:
            self._safe_directory()
            handle, temp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
            try:
                os.fchmod(handle, 0o600)
                with os.fdopen(handle, "w") as out:
                    json.dump({"key": key, "expires": self.clock() + self.ttl, "value": value}, out)
                os.replace(temp, self._path(kind, key))
            except BaseException:
                os.unlink(temp)
                raise
        except (OSError, TypeError, ValueError):
            pass

    def drop(self, kind, key):
        try:
            os.unlink(self._path(kind, key))
        except OSError:
            pass
