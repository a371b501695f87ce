"""A clock (seconds) that only the test moves, for code that takes its clock as an argument."""

import time


class Clock:
    """``now`` on every call (the real time unless given); ``sleep`` records the wait and moves the clock on."""

    def __init__(self, now=None):
        self.now = time.time() if now is None else now
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
