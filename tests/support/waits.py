"""Retry waits without waiting, and without a wall clock in any assertion.

``record_retry_waits(monkeypatch)`` makes every ``RetryPolicy`` the modules build record its waits
instead of sleeping; where the policy takes a clock (its deadline), that clock is the real
monotonic one moved on by the recorded waits, so deadlines see the waits as spent. Tests then
reason about counts: attempts that reached a server, and the seconds the policy asked to wait.
"""

import inspect
import time

from ansible_collections.signl4.connectwise.plugins.module_utils import transport


class RecordedWaits(list):
    def sleep(self, seconds):
        self.append(seconds)

    def clock(self):
        return time.monotonic() + sum(self)


def record_retry_waits(monkeypatch):
    waits = RecordedWaits()
    original = transport.RetryPolicy.__init__
    accepted = inspect.signature(original).parameters

    def init(self, *args, **kwargs):
        for name, value in (("sleep", waits.sleep), ("clock", waits.clock)):
            if name in accepted and kwargs.get(name) is None:
                kwargs[name] = value
        original(self, *args, **kwargs)

    monkeypatch.setattr(transport.RetryPolicy, "__init__", init)
    return waits
