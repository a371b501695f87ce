"""One record never stops the agent: a record that fails in a cycle is quarantined and the cycle goes on.

``with guarded(ctx, kind, ident):`` around the work on one record (a ticket, an alert, an intent, a
workflow event). An outage (no answer, 5xx, 429 after the retries) and the agent stopping pass
through: they end the cycle as before. Anything else the record causes (a 4xx about it, a value
no parser foresaw) puts it in quarantine: logged once, kept in the state file (``status`` lists
it), counted in ``signl4_agent_quarantined_records``. It is tried again in the next cycles and
leaves the quarantine when it goes through.
"""

import contextlib
import hashlib
import logging

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import (
    ApiError,
    CancelledError,
    InputError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    TransportError,
)

from signl4_agent.records import identifier, record_id
from signl4_agent.store import StoreUnavailable

log = logging.getLogger("signl4_agent.quarantine")

OUTAGES = (TransportError, ServerError, RateLimitedError, OutcomeUnknownError)  # 5xx of a write: outcome unknown
PASSED_ON = OUTAGES + (CancelledError, StoreUnavailable)  # the store's outage ends the cycle too
MAX_REASON = 300


def record_ident(record):
    """A short name of a record for logs and keys: its id when usable, else a digest of it."""
    if not isinstance(record, dict):
        return "(not an object)"
    value = record.get("id")
    usable = record_id(value) or identifier(value)
    if usable:
        return str(usable)
    try:
        shown = repr(value)[:10000]
    except Exception:  # noqa: BLE001 - a repr that fails (nesting too deep) still names the record
        shown = "(unprintable)"
    return "?" + hashlib.sha256(shown.encode("utf-8", "backslashreplace")).hexdigest()[:12]


class Quarantine:
    """The quarantine of one agent: the store's table, the metric, a log line when a record enters."""

    def __init__(self, store, metrics):
        self.store = store
        self.metrics = metrics
        self.keys = {entry["key"] for entry in store.quarantined()}
        self.kinds = set()  # every kind published so far: a kind whose last record left shows 0
        self._publish()

    def add(self, kind, ident, exc):
        key = f"{kind}:{ident}"
        reason = f"{type(exc).__name__}: {exc}"[:MAX_REASON]
        self.keys.add(key)
        if self.store.quarantine(key, kind, reason):
            expected = isinstance(exc, (ApiError, InputError))  # else a traceback: a case no parser foresaw
            log.warning("quarantined %s %s (skipped; tried again each cycle): %s", kind, ident, reason,
                        exc_info=None if expected else exc)
            self._publish()

    def release(self, kind, ident):
        key = f"{kind}:{ident}"
        if key in self.keys:
            self.store.release(key)
            self.keys.discard(key)
            log.info("%s %s went through; out of quarantine", kind, ident)
            self._publish()

    def _publish(self):
        counts = {}
        for entry in self.store.quarantined():
            counts[entry["kind"]] = counts.get(entry["kind"], 0) + 1
        self.kinds |= set(counts)
        for kind in self.kinds:
            self.metrics.quarantined.labels(kind=kind).set(counts.get(kind, 0))


class Outcome:
    """What ``guarded`` saw: ``error``, the exception that put the record in quarantine (None: it went through)."""

    error = None

    @property
    def failed(self):
        return self.error is not None

    @property
    def unexpected(self):
        """Failed with something other than an API's answer or a checked input (a value no parser foresaw)."""
        return self.failed and not isinstance(self.error, (ApiError, InputError))


@contextlib.contextmanager
def guarded(ctx, kind, ident):
    outcome = Outcome()
    try:
        yield outcome
    except PASSED_ON:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever one record causes, the cycle goes on
        outcome.error = exc
        ctx.quarantine.add(kind, ident, exc)
    else:
        ctx.quarantine.release(kind, ident)
