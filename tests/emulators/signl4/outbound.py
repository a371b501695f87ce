"""SIGNL4's outbound webhooks: a JSON notification POSTed to every enabled subscription.

SIGNL4 documents no retry policy, only that every notification carries an ``id`` to
deduplicate by (at-least-once delivery; ASSUMPTIONS.md SIGNL4 §4). The emulator retries a
receiver that does not answer 2xx within 2 s three times, after 0.2, 0.4 and 0.8 s, with the
same ``id``. The queue, the test switches and the clock are :mod:`tests.emulators.deliveries`'.
"""

import json

from tests.emulators.deliveries import Deliveries, RetryPolicy

POLICY = RetryPolicy(delays=(0.2, 0.4, 0.8), timeout=2.0,
                     retry_on=lambda status: not (isinstance(status, int) and 200 <= status < 300))
HEADERS = {"Content-Type": "application/json", "User-Agent": "SIGNL4-emulator"}


def _render(notification):
    return json.dumps(notification).encode("utf-8"), dict(HEADERS)


class Outbound(Deliveries):
    def __init__(self, clock):
        super().__init__(clock, POLICY, "signl4-outbound")

    def publish(self, urls, notification):
        super().publish(urls, notification["id"], notification, _render)
