"""The emulators' time source: real time by default, or a manual clock a test moves on.

Everything in an emulator that waits or measures time (injected latency, rate-limit windows,
delivery delays and retry backoff) reads this clock, so a test can switch it to manual mode
(``POST /__emulator__/clock {"manual": true}``) and step it (``{"advance": 2.5}``) instead of
sleeping and asserting wall-clock bounds.
"""

import threading
import time


class Clock:
    def __init__(self):
        self._cond = threading.Condition()
        self._manual = False
        self._offset = 0.0  # manual mode: seconds the test has advanced since switching
        self._base_wall = self._base_mono = 0.0

    # ----- reading ----------------------------------------------------------------------
    def time(self):
        """Unix seconds."""
        with self._cond:
            return self._base_wall + self._offset if self._manual else time.time()

    def monotonic(self):
        with self._cond:
            return self._base_mono + self._offset if self._manual else time.monotonic()

    def is_due(self, due):
        """Whether ``due`` (a monotonic reading) has come; a nanosecond of slack absorbs float
        rounding when a test advances in the same steps the emulator scheduled with."""
        return due - self.monotonic() <= 1e-9

    @property
    def manual(self):
        return self._manual

    # ----- waiting ----------------------------------------------------------------------
    def sleep(self, seconds):
        """Return once ``seconds`` have passed on this clock."""
        if seconds <= 0:
            return
        with self._cond:
            due = self.monotonic() + seconds
            self.wait_until(self._cond, due)

    def wait_until(self, condition, due, predicate=lambda: False):
        """Wait on ``condition`` (held by the caller) until ``due`` on this clock or ``predicate()``.
        In manual mode only :meth:`advance` (or a notify on ``condition``) moves things on."""
        while not predicate():
            if self.is_due(due):
                return True
            condition.wait(None if self._manual else min(due - self.monotonic(), 1.0))
        return False

    # ----- test control -----------------------------------------------------------------
    def configure(self, manual=None, advance=0.0, listeners=()):
        """Switch modes and/or step the manual clock; ``listeners`` are conditions to wake."""
        with self._cond:
            if manual is not None and bool(manual) != self._manual:
                self._base_wall, self._base_mono, self._offset = time.time(), time.monotonic(), 0.0
                self._manual = bool(manual)
            if advance:
                if not self._manual:
                    raise ValueError("advance needs the manual clock")
                if advance < 0:
                    raise ValueError("a clock does not go back")
                self._offset += float(advance)
            self._cond.notify_all()
        for condition in listeners:
            with condition:
                condition.notify_all()
        return {"manual": self._manual, "time": self.time(), "monotonic": self.monotonic()}

    def condition(self):
        """A condition whose waiters wake when this clock is advanced (for sleep())."""
        return self._cond
