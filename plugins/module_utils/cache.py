# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The name-lookup cache of both clients: entries expire after a TTL, the oldest are evicted
beyond a size bound, and callers drop entries when the API says a record is gone or renamed.

A wrong entry can only cost a re-read: the clients invalidate on a 404 and on their own writes,
and an entry older than the TTL is never served. Safe to share between threads.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
import time
from collections import OrderedDict

DEFAULT_TTL = 300.0
DEFAULT_MAX_ENTRIES = 512


class LookupCache:
    """``get_or_load(key, load)``: the cached value of ``key`` while younger than ``ttl`` seconds,
    else ``load()`` (stored unless it raises). ``clock`` is injectable for tests."""

    def __init__(self, ttl=DEFAULT_TTL, max_entries=DEFAULT_MAX_ENTRIES, clock=None):
        self.ttl = float(ttl)
        self.max_entries = int(max_entries)
        self.clock = clock or time.monotonic
        self._entries = OrderedDict()  # key -> (stored at, value); oldest first
        self._lock = threading.Lock()

    def __len__(self):
        with self._lock:
            return len(self._entries)

    def get(self, key, default=None):
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and self.clock() - entry[0] < self.ttl:
                return entry[1]
            self._entries.pop(key, None)
            return default

    def put(self, key, value):
        if self.ttl <= 0 or self.max_entries <= 0:
            return
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (self.clock(), value)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def get_or_load(self, key, load):
        # Two threads may load the same key at once; both get a correct value, the later one is kept.
        missing = object()
        value = self.get(key, missing)
        if value is missing:
            value = load()
            self.put(key, value)
        return value

    def invalidate(self, predicate=None):
        """Drop the entries whose key satisfies ``predicate`` (all when none); returns how many."""
        with self._lock:
            doomed = [key for key in self._entries if predicate is None or predicate(key)]
            for key in doomed:
                del self._entries[key]
            return len(doomed)
