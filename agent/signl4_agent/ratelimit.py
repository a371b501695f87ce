"""Client-side pacing at SIGNL4's documented rates (support article "Event Throttling", per
subscription): exceeding a window blocks the sender for that window, so the agent never sends past
it. Windows up to one hour are kept; the free plan's daily cap (4,800 events) is not enforced."""

import bisect
import threading
import time

# (window seconds, max requests) per plan; events and other REST calls are counted apart.
PLANS = {
    "free": {"events": ((15, 10), (60, 240), (3600, 1200)), "rest": ((15, 10), (3600, 1200))},
    "commercial": {"events": ((15, 150), (60, 600), (3600, 36000)), "rest": ((15, 150), (3600, 36000))},
}


class WindowLimiter:
    """Sliding windows: ``acquire()`` returns once one more request fits in every window.
    ``wait(seconds)`` is the agent's interruptible sleep; ``clock`` is injectable."""

    def __init__(self, windows, wait=None, clock=time.monotonic):
        self.windows = tuple(windows)
        self.clock = clock
        self.wait = wait or time.sleep
        self.sent = []  # send times, ascending
        self.lock = threading.Lock()

    def delay(self):
        """Seconds until the next request fits (0: now)."""
        now = self.clock()
        longest = max(window[0] for window in self.windows)
        del self.sent[:bisect.bisect_right(self.sent, now - longest)]
        delay = 0.0
        for seconds, limit in self.windows:
            first = bisect.bisect_right(self.sent, now - seconds)
            if len(self.sent) - first >= limit:
                delay = max(delay, self.sent[len(self.sent) - limit] + seconds - now)
        return delay

    def acquire(self):
        while True:
            with self.lock:
                delay = self.delay()
                if delay <= 0:
                    self.sent.append(self.clock())
                    return
            self.wait(delay)


def limiters(plan, wait=None, clock=time.monotonic):
    return dict((scope, WindowLimiter(windows, wait, clock)) for scope, windows in PLANS[plan].items())
