"""SIGNL4's documented throttling, per subscription (support article "Event Throttling").

Inbound events (webhook and ``/v2/events``) and the other REST endpoints are counted apart,
each against several fixed windows. A request over a window's limit is answered 429 and blocks
that scope for the window's length from then on ("exceeding a window blocks new events for the
same period"). Every answer of a limited scope carries ``X-RateLimit-Limit``, ``-Remaining`` and
``-Reset`` (unix timestamp) of its tightest window.

Inbound events carry these headers on every answer, also when throttling is off (support article
"Event Throttling"): then they count against the commercial plan's event windows, but nothing is
refused, so tests that do not ask for throttling are never blocked.
"""

import math
import time

# scope -> [(limit, seconds)]
PLANS = {
    "free": {"events": [(10, 15), (240, 60), (1200, 3600), (4800, 86400)], "rest": [(10, 15), (1200, 3600)]},
    "commercial": {"events": [(150, 15), (600, 60), (36000, 3600), (864000, 86400)],
                   "rest": [(150, 15), (36000, 3600)]},
}


class Window:
    def __init__(self, limit, seconds):
        self.limit = int(limit)
        self.seconds = float(seconds)
        self.start = None
        self.count = 0

    def end(self):
        return self.start + self.seconds

    def roll(self, now):
        if self.start is None or now >= self.end():
            self.start = now
            self.count = 0


class RateLimiter:
    """Off unless configured: ``configure("free")``, ``configure("commercial")`` or
    ``configure({"events": [[3, 2]], "rest": [[5, 1]]})`` (limit per seconds)."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self.scopes = {}
        self.advisory = {}
        self.plan = None

    def configure(self, plan):
        self.advisory = {"events": [Window(limit, seconds) for limit, seconds in PLANS["commercial"]["events"]]}
        if not plan:
            self.scopes, self.plan = {}, None
            return
        windows = PLANS[plan] if isinstance(plan, str) else plan
        self.scopes = dict((scope, [Window(limit, seconds) for limit, seconds in pairs])
                           for scope, pairs in windows.items())
        self.plan = plan

    def hit(self, scope):
        """``(allowed, headers)`` for one request of ``scope``; ``headers`` is empty when off."""
        windows = self.scopes.get(scope)
        if not windows:
            return True, self._advise(scope)
        now = self.clock()
        for window in windows:
            window.roll(now)
        full = [w for w in windows if w.count >= w.limit]
        if full:
            for window in full:
                if window.count == window.limit:  # first refusal: the block lasts a whole period from now
                    window.start = now
                    window.count += 1
            return False, self._headers(windows)
        for window in windows:
            window.count += 1
        return True, self._headers(windows)

    def _advise(self, scope):
        windows = self.advisory.get(scope)
        if not windows:
            return {}
        now = self.clock()
        for window in windows:
            window.roll(now)
            window.count = min(window.count + 1, window.limit)  # counted, never refused
        return self._headers(windows)

    @staticmethod
    def _headers(windows):
        tightest = min(windows, key=lambda w: (max(0, w.limit - w.count), w.end()))
        return {"X-RateLimit-Limit": str(tightest.limit),
                "X-RateLimit-Remaining": str(max(0, tightest.limit - tightest.count)),
                "X-RateLimit-Reset": str(int(math.ceil(tightest.end())))}
