"""Outbound HTTP deliveries of an emulator (SIGNL4's outbound webhooks, Manage's callbacks).

Deliveries run on one background thread so that the API answer never waits for a receiver.
Delivery is at least once: a receiver that fails is retried after the policy's delays (same
payload, same body bytes). Test switches (``configure``) make it worse on purpose:
``duplicates`` sends every delivery that many times, ``delay`` holds each one back for some
seconds, ``jitter`` adds a random 0..jitter seconds to each copy on its own (so deliveries
overtake each other and a duplicate may come long after its twin; ``seed`` seeds those draws),
and ``drop`` loses the next N outright. All waiting reads the emulator's clock, so a test on the
manual clock steps through delays and retries without sleeping. ``counts`` in the snapshot: how
many were published, sent as extra copies, held back (delay or jitter) and dropped.
"""

import math
import heapq
import itertools
import random
import threading
import time
import urllib.error
import urllib.request

COMMON_SETTINGS = dict(duplicates=1, delay=0.0, jitter=0.0, seed=0, drop=0)
COUNTS = ("published", "duplicated", "delayed", "dropped")


class RetryPolicy:
    """``delays``: seconds before each retry; ``retry_on(status)``: whether a result is retried
    (``status`` is an HTTP status or an ``"error: ..."`` text)."""

    def __init__(self, delays, timeout, retry_on):
        self.delays = list(delays)
        self.timeout = timeout
        self.retry_on = retry_on


def post(url, body, headers, timeout):
    """POST ``body`` (bytes); the HTTP status, or ``"error: ..."`` when there was none."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - test receivers only
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return "error: %s" % (getattr(exc, "reason", None) or exc)


class Deliveries:
    def __init__(self, clock, policy, name, extra_settings=None):
        self.clock = clock
        self.policy = policy
        self.defaults = dict(COMMON_SETTINGS, retries=len(policy.delays), timeout=policy.timeout,
                             **(extra_settings or {}))
        self._cond = threading.Condition()
        self._queue = []  # heap of (due, seq, delivery)
        self._seq = itertools.count()
        self._busy = 0
        self._generation = 0
        self.settings = dict(self.defaults)
        self.log = []
        self.counts = dict.fromkeys(COUNTS, 0)
        self._rng = random.Random(0)
        threading.Thread(target=self._run, name=name, daemon=True).start()

    # ----- test controls ------------------------------------------------------------
    def reset(self):
        with self._cond:
            self._generation += 1  # anything in flight belongs to the old world and is not logged
            self._queue = []
            self.settings = dict(self.defaults)
            self.log = []
            self.counts = dict.fromkeys(COUNTS, 0)
            self._rng = random.Random(0)
            self._cond.notify_all()

    def configure(self, **settings):
        unknown = sorted(set(settings) - set(self.defaults))
        if unknown:
            raise ValueError("unknown delivery setting(s): %s" % ", ".join(unknown))
        values = {}
        for key, value in settings.items():
            kind = type(self.defaults[key])
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or math.isnan(value):
                raise ValueError("%s must be a number >= 0" % key)
            values[key] = kind(value)
        with self._cond:
            self.settings.update(values)
            if "seed" in values:
                self._rng = random.Random(values["seed"])
            return dict(self.settings)

    def snapshot(self):
        with self._cond:
            return dict(settings=dict(self.settings), pending=len(self._queue) + self._busy, deliveries=list(self.log),
                        counts=dict(self.counts))

    def condition(self):
        """Notified when the clock moves, so the queue re-checks what is due."""
        return self._cond

    def drain(self, timeout=10.0):
        """Wait (real time) until nothing is due and nothing is in flight. On the manual clock,
        deliveries that are not yet due do not count as pending work."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._busy or (self._queue and (self.clock.is_due(self._queue[0][0]) or not self.clock.manual)):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
            return True

    # ----- publishing ---------------------------------------------------------------
    def publish(self, urls, key, payload, render):
        """Queue ``payload`` for each URL. ``render(payload) -> (body bytes, headers)`` builds the
        request once, so retries and duplicates carry the same bytes; ``key`` names it in the log."""
        with self._cond:
            settings = self.settings
            self.counts["published"] += 1
            if settings["drop"] > 0:
                settings["drop"] -= 1
                self.counts["dropped"] += 1
                for url in urls:
                    self.log.append(dict(id=key, url=url, payload=payload, status="dropped", attempt=0,
                                         time=self.clock.time()))
                return
            body, headers = render(payload)
            copies = max(1, settings["duplicates"])
            for url in urls:
                for _copy in range(copies):
                    held = settings["delay"] + (self._rng.uniform(0, settings["jitter"]) if settings["jitter"] else 0.0)
                    self.counts["delayed"] += held > 0
                    delivery = dict(id=key, url=url, payload=payload, body=body, headers=headers, attempt=1,
                                    generation=self._generation)
                    heapq.heappush(self._queue, (self.clock.monotonic() + held, next(self._seq), delivery))
                self.counts["duplicated"] += copies - 1
            self._cond.notify_all()

    # ----- the delivery thread ------------------------------------------------------
    def _next_due(self):
        with self._cond:
            while True:
                if self._queue:
                    self.clock.wait_until(self._cond, self._queue[0][0])
                    if self._queue and self.clock.is_due(self._queue[0][0]):
                        _due, _seq, delivery = heapq.heappop(self._queue)
                        self._busy += 1
                        return delivery, dict(self.settings)
                else:
                    self._cond.wait()

    def _run(self):
        while True:
            delivery, settings = self._next_due()
            status = "error: not sent"
            try:
                status = post(delivery["url"], delivery["body"], delivery["headers"], settings["timeout"])
            finally:
                self._done(delivery, settings, status)

    def _done(self, delivery, settings, status):
        with self._cond:
            self._busy -= 1
            if delivery["generation"] == self._generation:
                self.log.append(dict(id=delivery["id"], url=delivery["url"], payload=delivery["payload"],
                                     status=status, attempt=delivery["attempt"], time=self.clock.time()))
                attempt = delivery["attempt"]
                if self.policy.retry_on(status) and attempt <= min(settings["retries"], len(self.policy.delays)):
                    due = self.clock.monotonic() + self.policy.delays[attempt - 1]
                    heapq.heappush(self._queue, (due, next(self._seq), dict(delivery, attempt=attempt + 1)))
            self._cond.notify_all()
