"""Client-side pacing at SIGNL4's documented rates (support article "Event Throttling", per
subscription): exceeding a window blocks the sender for that window, so the agent never sends past
it. Windows up to one hour are kept; the free plan's daily cap (4,800 events) is not enforced.

SIGNL4 counts a request when it arrives, which may be later than the moment the agent let it go (a
slow send, the transport's retries); a request counted from then would let the first request of the
next window reach SIGNL4 before its window ends (a 429, and the window blocked for its whole length).
``slot()`` counts the request from its answer instead, by which time SIGNL4 has surely counted it."""

import bisect
import contextlib
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
        """Wait until one more request fits; it is counted from now (returned)."""
        while True:
            with self.lock:
                delay = self.delay()
                if delay <= 0:
                    stamp = self.clock()
                    self.sent.append(stamp)
                    return stamp
            self.wait(delay)

    def answered(self, stamp):
        """The request counted at ``stamp`` was answered: count it from now."""
        with self.lock:
            index = bisect.bisect_left(self.sent, stamp)
            if index < len(self.sent) and self.sent[index] == stamp:
                del self.sent[index]
            bisect.insort(self.sent, self.clock())

    @contextlib.contextmanager
    def slot(self):
        """``with limiter.slot():`` around one request: waits for the windows, counts the request
        from its answer (or its failure: it may have arrived)."""
        stamp = self.acquire()
        try:
            yield
        finally:
            self.answered(stamp)


def limiters(plan, wait=None, clock=time.monotonic):
    return {scope: WindowLimiter(windows, wait, clock) for scope, windows in PLANS[plan].items()}
