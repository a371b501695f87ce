"""Outbound webhook delivery: SIGNL4 POSTs a JSON notification to every enabled subscription.

Deliveries run on one background thread so that the API answer never waits for a receiver.
Delivery is at least once: a receiver that fails (no answer, or not 2xx) is retried a few
times with a short backoff. Test switches (``configure``) make it worse on purpose:
``duplicates`` sends every notification that many times (same ``id``), ``delay`` holds each
one back for some seconds, and ``drop`` loses the next N notifications outright.
"""

import heapq
import itertools
import json
import threading
import time
import urllib.error
import urllib.request

DEFAULTS = dict(duplicates=1, delay=0.0, drop=0, retries=3, timeout=2.0, backoff=0.2)


class Outbound:
    def __init__(self):
        self._cond = threading.Condition()
        self._queue = []  # heap of (due, seq, delivery)
        self._seq = itertools.count()
        self._busy = 0
        self._generation = 0
        self.settings = dict(DEFAULTS)
        self.log = []
        thread = threading.Thread(target=self._run, name="signl4-outbound", daemon=True)
        thread.start()

    # ----- test controls ------------------------------------------------------------
    def reset(self):
        with self._cond:
            self._generation += 1  # anything in flight belongs to the old world and is not logged
            self._queue = []
            self.settings = dict(DEFAULTS)
            self.log = []
            self._cond.notify_all()

    def configure(self, **settings):
        unknown = sorted(set(settings) - set(DEFAULTS))
        if unknown:
            raise ValueError("unknown outbound setting(s): %s" % ", ".join(unknown))
        with self._cond:
            self.settings.update((k, type(DEFAULTS[k])(v)) for k, v in settings.items())
            return dict(self.settings)

    def snapshot(self):
        with self._cond:
            return dict(settings=dict(self.settings), pending=len(self._queue) + self._busy, deliveries=list(self.log))

    def drain(self, timeout=10.0):
        """Wait until nothing is queued or in flight; returns whether that happened in time."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    # ----- publishing ---------------------------------------------------------------
    def publish(self, urls, notification):
        """Queue ``notification`` for each receiver URL, honouring the test switches."""
        with self._cond:
            settings = self.settings
            if settings["drop"] > 0:
                settings["drop"] -= 1
                for url in urls:
                    self.log.append(dict(id=notification["id"], url=url, payload=notification, status="dropped",
                                         attempt=0, time=time.time()))
                return
            due = time.monotonic() + settings["delay"]
            for url in urls:
                for _copy in range(max(1, settings["duplicates"])):
                    delivery = dict(url=url, payload=notification, attempt=1, generation=self._generation)
                    heapq.heappush(self._queue, (due, next(self._seq), delivery))
            self._cond.notify_all()

    # ----- the delivery thread ------------------------------------------------------
    def _run(self):
        while True:
            with self._cond:
                while not self._queue or self._queue[0][0] > time.monotonic():
                    wait = (self._queue[0][0] - time.monotonic()) if self._queue else None
                    self._cond.wait(wait if wait is None else max(wait, 0.001))
                _due, _seq, delivery = heapq.heappop(self._queue)
                self._busy += 1
                settings = dict(self.settings)
            status = "error: not sent"
            try:
                status = self._post(delivery["url"], delivery["payload"], settings["timeout"])
            finally:
                with self._cond:
                    self._busy -= 1
                    if delivery["generation"] == self._generation:
                        self.log.append(dict(id=delivery["payload"]["id"], url=delivery["url"],
                                             payload=delivery["payload"], status=status,
                                             attempt=delivery["attempt"], time=time.time()))
                        if not (isinstance(status, int) and 200 <= status < 300) and delivery["attempt"] <= settings["retries"]:
                            retry = dict(delivery, attempt=delivery["attempt"] + 1)
                            due = time.monotonic() + settings["backoff"] * 2 ** (delivery["attempt"] - 1)
                            heapq.heappush(self._queue, (due, next(self._seq), retry))
                    self._cond.notify_all()

    @staticmethod
    def _post(url, payload, timeout):
        data = json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(url, data=data, method="POST",
                                         headers={"Content-Type": "application/json", "User-Agent": "SIGNL4-emulator"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - test receivers only
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except (urllib.error.URLError, OSError) as exc:
            return "error: %s" % (getattr(exc, "reason", None) or exc)
