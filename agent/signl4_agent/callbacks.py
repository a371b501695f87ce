"""Manage callbacks: signatures checked with a key read only from the configured Manage.

A callback is a hint to re-read one ticket (the cycle reads what Manage says now), so one that is
dropped costs nothing the next cycle does not catch up. What is checked:

- ``Metadata.key_url`` must be on the exact origin (scheme, host, port) of the configured Manage:
  the site of ``manage.url`` (recorded real key_urls are on it) or the API origin ``ManageClient``
  derived from it (the ``api-`` host of a cloud instance); the path must end with
  ``/system/callbackkey/index.rails``; user info and fragments are refused.
- The key is read from there without credentials; the API member's credentials are sent only when
  Manage answers 401 without them (from then on, for every key of that origin). One attempt of at
  most ``KEY_TIMEOUT`` seconds, an answer of at most ``MAX_KEY_ANSWER`` bytes.
- ``x-content-signature`` = base64(HMAC-SHA256(key=SHA-256(signing key), raw body)), compared in
  constant time.
- A callback is taken once: its ``MessageId`` (else the body's SHA-256) is remembered for
  ``REPLAY_WINDOW`` seconds (at most ``MAX_SEEN`` of them); a replay answers "duplicate".

The receiver's request thread only parses and checks; when the key is cached it verifies at once.
Otherwise the callback goes into a small queue (answered 202 "queued"; a full queue answers 429,
which Manage retries twice) and the verifier thread reads the key, verifies and wakes the loop.
A key is cached per key_url for ``KEY_TTL`` seconds (the key's id is part of the URL: a new key
comes with a new key_url) and a signature it does not match is refused without reading it again; a
key_url whose key could not be read is remembered for ``BAD_TTL`` seconds; at most ``FETCHES`` keys
are read per ``FETCH_PERIOD``. So a flood of forged callbacks costs Manage at most that many requests.
"""

import base64
import collections
import hashlib
import hmac
import json
import logging
import queue
import re
import threading
import time
from urllib.parse import urlsplit

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import ManageClient
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_paths import CALLBACK_KEY
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import ApiError, AuthenticationError
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import RetryPolicy, Transport

from signl4_agent.inbound import BadRequest, field
from signl4_agent.records import record_id

log = logging.getLogger("signl4_agent.callbacks")

DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_KEY_URL = 2048
KEY_TIMEOUT = 5.0
MAX_KEY_ANSWER = 4096
MAX_KEY_CHARS = 1024
KEY_TTL = 3600.0
MAX_KEYS = 16  # signing keys cached: Manage rotates its key rarely; a sender cannot grow the cache
BAD_TTL = 60.0
MAX_BAD = 256
REPLAY_WINDOW = 3600.0
MAX_SEEN = 10000
MAX_MESSAGE_ID = 100
QUEUE_SIZE = 16
FETCHES, FETCH_PERIOD = 5, 60.0
_UNSAFE = re.compile(r"[^\x21-\x7e]")  # whitespace, controls, anything not ASCII


class KeyUnavailable(Exception):
    """The signing key could not be read from a key_url (a refusal, no answer, an answer without a key)."""


def origin(scheme, host, port):
    scheme = (scheme or "").lower()
    return scheme, (host or "").lower(), port or DEFAULT_PORTS.get(scheme)


def url_origin(url):
    """``(scheme, host, port)`` of an absolute http(s) URL, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        return None
    return origin(parts.scheme, parts.hostname, port)


def key_url_origin(key_url, origins):
    """The origin of ``key_url`` when it is a key URL of the configured Manage (see the module notes), else None."""
    if not 0 < len(key_url) <= MAX_KEY_URL or _UNSAFE.search(key_url):
        return None
    try:
        parts = urlsplit(key_url)
    except ValueError:
        return None
    if "@" in parts.netloc or parts.fragment or not parts.path.lower().endswith(CALLBACK_KEY):
        return None
    found = url_origin(key_url)
    return found if found in origins else None


def signature(key, body):
    digest = hmac.new(hashlib.sha256(key.encode("utf-8")).digest(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def ticket_id(data):
    """The ticket id of a ticket callback, None for other record types; 400 for a bad ticket ID."""
    if str(data.get("Type") or "").lower() != "ticket":
        return None
    found = record_id(data.get("ID"))
    if found is None:
        raise BadRequest("ID must be a ticket id")
    return found


class Claim:
    """One callback as received: what it says, checked for shape (400/401) but not yet verified."""

    def __init__(self, body, signature_header, data):
        self.body = body
        self.key_url = field(field(data, "Metadata", dict), "key_url", str)
        if not signature_header:
            raise BadRequest("missing x-content-signature", 401)
        self.signature = signature_header.encode("utf-8", "surrogateescape")
        self.ticket_id = ticket_id(data)
        message_id = data.get("MessageId")
        if isinstance(message_id, str) and 0 < len(message_id) <= MAX_MESSAGE_ID:
            self.replay_id = "message:" + message_id
        else:
            self.replay_id = "body:" + hashlib.sha256(body).hexdigest()
        self.origin = None

    def signed_with(self, key):
        return hmac.compare_digest(signature(key, self.body).encode("ascii"), self.signature)


class Expiring:
    """A bounded map whose entries expire ``ttl`` seconds after they were put (thread-safe)."""

    def __init__(self, ttl, size, clock):
        self.ttl, self.size, self.clock = ttl, size, clock
        self.entries = collections.OrderedDict()  # key -> (put at, value), oldest first
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or self.clock() - entry[0] >= self.ttl:
                self.entries.pop(key, None)
                return None
            return entry

    def put(self, key, value):
        """Put ``key``; False when it was there already (and fresh)."""
        now = self.clock()
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None and now - entry[0] < self.ttl:
                return False
            self.entries.pop(key, None)
            self.entries[key] = (now, value)
            while len(self.entries) > self.size or (self.entries and now - next(iter(self.entries.values()))[0] >= self.ttl):
                self.entries.popitem(last=False)
            return True

    def __len__(self):
        return len(self.entries)


class CallbackVerifier:
    """``receive`` on the receiver's threads; a verifier thread of its own for callbacks whose key is not cached.

    ``origins()``: the set of Manage origins (see :func:`origin`); ``fetch_key(key_url, origin)``: the
    key or :class:`KeyUnavailable`; ``wake(ticket_id)``: run a cycle for the ticket; ``count(outcome)``:
    the verifier thread's outcomes, for the metrics."""

    def __init__(self, origins, fetch_key, wake, count=None, clock=time.monotonic, threaded=True):
        self.threaded = threaded  # False: queued callbacks wait for ``work_queued()`` (tests)
        self.origins = origins
        self.fetch_key = fetch_key
        self.wake = wake
        self.count = count or (lambda outcome: None)
        self.clock = clock
        self.keys = Expiring(KEY_TTL, MAX_KEYS, clock)  # key_url -> signing key
        self.bad = Expiring(BAD_TTL, MAX_BAD, clock)  # key_url -> why its key could not be read
        self.seen = Expiring(REPLAY_WINDOW, MAX_SEEN, clock)  # replay ids of the callbacks taken
        self.fetches = collections.deque()  # when the last keys were read
        self.queue = queue.Queue(QUEUE_SIZE)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = None

    # ----- the receiver's thread: no request to anyone ----------------------------------------
    def receive(self, body, signature_header, data):
        """``(outcome, ticket id to wake for or None)``: ``accepted``, ``duplicate``, ``ignored`` or
        ``queued``; :class:`BadRequest` (400, 401, 429) for what is refused."""
        claim = Claim(body, signature_header, data)
        if claim.ticket_id is None:
            return "ignored", None  # another record type: nothing to do, nothing to verify
        claim.origin = key_url_origin(claim.key_url, self.origins())
        if claim.origin is None:
            raise BadRequest("Metadata.key_url is not a callback key URL of the configured Manage", 401)
        if self.bad.get(claim.key_url) is not None:
            raise BadRequest("Metadata.key_url gave no usable key lately", 401)
        cached = self.keys.get(claim.key_url)
        if cached is not None:
            if not claim.signed_with(cached[1]):
                raise BadRequest("bad x-content-signature", 401)
            return self._take(claim)
        self._enqueue(claim)
        return "queued", None

    def _take(self, claim):
        if not self.seen.put(claim.replay_id, True):
            return "duplicate", None
        return "accepted", claim.ticket_id

    def _enqueue(self, claim):
        with self.lock:
            if self.threaded and (self.thread is None or not self.thread.is_alive()):
                self.thread = threading.Thread(target=self._work, name="callback-verifier", daemon=True)
                self.thread.start()
        try:
            self.queue.put_nowait(claim)
        except queue.Full:
            raise BadRequest("too many callbacks wait for their signing key; try again", 429) from None

    # ----- the verifier thread ------------------------------------------------------------------
    def _work(self):
        while not self.stopping.is_set():
            try:
                claim = self.queue.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                outcome = self.verify(claim)
            except Exception:  # noqa: BLE001 - the thread outlives any one callback
                log.exception("verifying a Manage callback failed")
                outcome = "error"
            self.count(outcome)

    def work_queued(self):
        """Verify what is queued on the caller's thread (a verifier made with ``threaded=False``)."""
        outcomes = []
        while not self.queue.empty():
            outcomes.append(self.verify(self.queue.get_nowait()))
        return outcomes

    def verify(self, claim):
        """Verify a queued claim (reading its key when needed); wakes the loop for a good one."""
        if self.bad.get(claim.key_url) is not None:
            return "rejected"
        cached = self.keys.get(claim.key_url)
        if cached is not None:
            return self._wake(claim) if claim.signed_with(cached[1]) else "rejected"
        if not self._budget():
            log.warning("a Manage callback waits for a key, but %d keys were read within %d s; dropped (the next "
                        "cycle reads the ticket anyway)", FETCHES, FETCH_PERIOD)
            return "throttled"
        try:
            key = self.fetch_key(claim.key_url, claim.origin)
        except KeyUnavailable as exc:
            self.bad.put(claim.key_url, str(exc))
            log.warning("refused a Manage callback: its signing key could not be read: %s", exc)
            return "rejected"
        self.keys.put(claim.key_url, key)
        if claim.signed_with(key):
            return self._wake(claim)
        log.warning("refused a Manage callback: bad x-content-signature")
        return "rejected"

    def _wake(self, claim):
        outcome, ticket = self._take(claim)
        if ticket is not None:
            self.wake(ticket)
        return outcome

    def _budget(self):
        now = self.clock()
        with self.lock:
            while self.fetches and now - self.fetches[0] >= FETCH_PERIOD:
                self.fetches.popleft()
            if len(self.fetches) >= FETCHES:
                return False
            self.fetches.append(now)
            return True

    def stop(self):
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(KEY_TIMEOUT + 1)


def _key_error(status, body, text):
    """The error of a key answer (``Transport``'s parser): the status, no body (it is not Manage's API)."""
    return None, f"HTTP {status}", []


class KeyFetcher:
    """Reads signing keys with the collection's transport, one attempt each, counted in the agent's API
    metrics (``observe``). Anonymous first; with the API member's credentials (and clientId) only for
    an origin where Manage answered 401 without them."""

    def __init__(self, config, observe, cancel, user_agent=None):
        manage = config["manage"]
        self.timeout = min(KEY_TIMEOUT, manage["timeout"])
        retry = RetryPolicy(max_retries=0, cancel=cancel)
        self.anonymous = Transport("https://manage.invalid", "ConnectWise Manage", _key_error,
                                   headers={"Accept": "application/json"}, timeout=self.timeout,
                                   validate_certs=manage["validate_certs"], retry=retry, deadline=self.timeout)
        self.member = ManageClient(manage["url"], manage["company_id"], manage["public_key"], manage["private_key"],
                                   manage["client_id"], codebase=manage["codebase"], api_version=manage["api_version"],
                                   validate_certs=manage["validate_certs"], timeout=self.timeout, retry=retry,
                                   deadline=self.timeout)
        for transport in (self.anonymous, self.member.transport):
            transport.observers.append(observe)
            if user_agent:
                transport.session.headers["User-Agent"] = user_agent
        self.needs_credentials = set()  # origins whose key answer asked for the API member's credentials

    def _get(self, key_url, key_origin):
        if key_origin not in self.needs_credentials:
            try:
                return self.anonymous.request("GET", key_url)
            except AuthenticationError:
                log.info("Manage wants the API member's credentials for its callback keys; sending them from now on")
                self.needs_credentials.add(key_origin)
        return self.member.transport.request("GET", key_url)

    def __call__(self, key_url, key_origin):
        try:
            response = self._get(key_url, key_origin)
        except ApiError as exc:
            raise KeyUnavailable(str(exc)) from None
        if len(response.content) > MAX_KEY_ANSWER:
            raise KeyUnavailable(f"the key answer is larger than {MAX_KEY_ANSWER} bytes")
        try:
            body = json.loads(response.content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise KeyUnavailable("the key answer is not JSON") from None
        key = body.get("signing_key") if isinstance(body, dict) else None
        if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_CHARS:
            raise KeyUnavailable("the key answer holds no signing_key")
        return key

    def close(self):
        self.anonymous.close()
        self.member.close()
