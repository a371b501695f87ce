"""Bad input: a seeded fuzz of malformed requests to a running agent, and of malformed configs.

    python -m tests.bench.fuzz_agent [--requests 10000] [--configs 500] [--seed N] [--quick]

HTTP part: the agent runs as a real process (``python -m signl4_agent run``) against both
emulators, with a poll interval of an hour so that only the fuzz makes it act. After a warm-up
(Signls raised for a few tickets, their alert ids learnt from SIGNL4's "created" webhooks) both
emulators' journals are cleared and the state database's rows are hashed. Then ``--requests``
generated requests go over real sockets to 127.0.0.1, one connection each. Every request belongs to
one class (``CLASSES``) that states the answers allowed for it; the run fails when any answer is
outside its class's set (a 5xx above all), when the agent process dies, when either emulator's
journal holds a POST/PUT/PATCH/DELETE, when the hash of the state rows changed, or when the
agent's resident memory (sampled every ``SAMPLE_EVERY`` requests) grew by more than
``RSS_GROWTH_BOUND_MB`` over its value after the first sample.

Config part: ``--configs`` broken configurations (YAML and JSON) made from a valid one by one
mutation each; every one goes through ``config.validate`` / ``config.load`` in-process and a sample
through ``python -m signl4_agent check-config``. Each must end with ``ConfigError`` (in-process) or
exit 2 with exactly one line on stderr, ``signl4-agent: configuration error: ...``, no traceback,
and never a secret of the config (raw, URL-encoded, base64).
"""

import argparse
import base64
import hashlib
import hmac
import http.server
import json
import random
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import quote, quote_plus

from tests.bench import common, results
from tests.bench.procfs import memory_kb
from tests.emulators.harness import REPO_ROOT
from tests.agent import support  # noqa: E402 - after common, which puts the agent and the collection on sys.path

SAMPLE_EVERY = 250
RSS_GROWTH_BOUND_MB = 16.0
MAX_BODY = 65536  # the agent's default listen.max_body_bytes, used by the fuzz config
NO_ANSWER = "none"  # the server closed the connection without an answer

# class -> (what it sends, the answers allowed). 200 only where the agent legitimately ignores or
# serves the request; "none" only where the fuzz itself does not finish the request.
CLASSES = {
    "bad_token": ("POST/GET to /signl4/<wrong token> or /manage/<wrong token>/callback", {404}),
    "unknown_path": ("other paths: traversal, encoded slashes, junk, over-long paths", {404}),
    "wrong_method": ("a method other than POST (webhook, callback) or GET (health, metrics)", {405}),
    "webhook_bad_body": ("webhook: empty, not JSON, not UTF-8, truncated, not an object, deeply nested", {400}),
    "webhook_oversized": ("webhook: body or declared Content-Length over max_body_bytes", {413}),
    "webhook_bad_fields": ("webhook: a JSON object with missing or wrongly typed fields", {400}),
    "webhook_ignored": ("webhook: well-formed events the agent ignores (other types, unknown external or alert "
                        "ids, other status codes)", {200}),
    "callback_bad_body": ("callback: not JSON, not an object, no Metadata.key_url", {400}),
    "callback_bad_signature": ("callback: x-content-signature missing, wrong, not base64, not ASCII; key_url "
                               "off the Manage origin", {401}),
    "callback_unknown_key": ("callback: a key_url on the Manage origin with a key id Manage does not know: queued "
                             "for the verifier thread (202), refused once remembered (401), 429 when the queue is full",
                             {202, 401, 429}),
    "callback_bad_id": ("callback, correctly signed: ticket ID not a ticket id (type, range)", {400}),
    "callback_ignored": ("callback, correctly signed: another record type", {200}),
    "callback_unknown_ticket": ("callback, correctly signed: a ticket the agent never saw (reads only)", {200}),
    "health_metrics": ("GET /healthz, /metrics with junk query strings, headers, bodies", {200}),
    "huge_headers": ("request headers over the server's limit", {431}),
    "protocol": ("malformed request line, Content-Length, Transfer-Encoding, HTTP version", {400}),
    "partial_body": ("a body shorter than its Content-Length, then the sender closes", {NO_ANSWER, 400}),
    "slow_body": ("a valid-looking event sent in slow chunks (within channel_timeout)", {200, 400}),
    "stalled_body": ("part of a body, then nothing (the sender keeps the connection open; concurrent with the "
                     "rest): dropped after channel_timeout", {NO_ANSWER, 408}),
}


# ----- the generator ------------------------------------------------------------------------------

class Case:
    """One request: its class, its bytes, and how to send them."""

    def __init__(self, kind, raw, chunks=None, close_early=False, note="", timeout=15.0):
        self.kind = kind
        self.raw = raw
        self.chunks = chunks  # send in these pieces with a pause between them (slow sender)
        self.close_early = close_early  # half-close after sending: the body is incomplete
        self.note = note
        self.timeout = timeout  # how long the fuzz waits for an answer

    @property
    def allowed(self):
        return CLASSES[self.kind][1]


def http_request(method, target, headers=(), body=b"", content_length=True, version="HTTP/1.1"):
    lines = ["%s %s %s" % (method, target, version), "Host: 127.0.0.1"]
    lines += ["%s: %s" % pair for pair in headers]
    if content_length and body:
        lines.append("Content-Length: %d" % len(body))
    lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
    return head + body


class Generator:
    """Seeded: the same seed and targets make the same requests."""

    def __init__(self, seed, webhook_token, callback_token, manage_host, key_url, signing_key, known):
        self.rnd = random.Random(seed)
        self.webhook_token, self.callback_token = webhook_token, callback_token
        self.manage_host = manage_host
        self.key_url, self.signing_key = key_url, signing_key
        self.known = known  # [(ticket id, alert id, event id)] the agent raised before the fuzz
        self.makers = [(getattr(self, "make_" + kind), weight) for kind, weight in WEIGHTS.items()]

    def cases(self, count):
        makers, weights = zip(*self.makers)
        for unused in range(count):
            yield self.rnd.choices(makers, weights)[0]()

    # ----- pieces
    def junk(self, low=1, high=40, alphabet="abcdefghijklmnopqrstuvwxyzABCDEF0123456789-_.~%"):
        return "".join(self.rnd.choice(alphabet) for unused in range(self.rnd.randint(low, high)))

    def content_type(self):
        return self.rnd.choice(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                "multipart/form-data; boundary=x", "application/json; charset=latin-1", "",
                                "application/xml", "*/*", "application/json; charset=\u00ff"])

    def webhook_path(self):
        return "/signl4/%s%s" % (self.webhook_token, self.query())

    def callback_path(self):
        query = self.rnd.choice(["", "?recordId=", "?recordId=12", "?recordId=%s" % self.junk()])
        return "/manage/%s/callback%s" % (self.callback_token, query)

    def query(self):
        return self.rnd.choice(["", "", "?", "?a=1", "?%s=%s" % (self.junk(), self.junk()), "?" + "x" * 2000,
                                "?token=%s" % self.junk(), "?%00=%ff", "?a=1&a=2&a[]=3"])

    def post(self, kind, path, body, extra=(), **kw):
        headers = [("Content-Type", self.content_type())] + list(extra)
        return Case(kind, http_request("POST", path, headers, body), **kw)

    # ----- classes
    def make_bad_token(self):
        token = self.rnd.choice([
            "", self.junk(), self.junk(300, 4000), self.webhook_token[:-1], self.webhook_token + "x",
            self.webhook_token.upper(), self.callback_token, quote(self.webhook_token + "\u00e9"),
            "%2e%2e", "..", self.webhook_token[:8], "%00" + self.webhook_token, self.webhook_token + "%20",
            "%C3%BF" * 3, quote(self.webhook_token[:-1] + "\u0161")])
        if self.rnd.random() < 0.5:
            token = token if token != self.webhook_token else token + "0"
            target = "/signl4/%s%s" % (token, self.query())
        else:
            token = token if token != self.callback_token else token + "0"
            target = "/manage/%s/callback%s" % (token, self.query())
        method = self.rnd.choice(["POST", "POST", "GET", "PUT"])
        return Case("bad_token", http_request(method, target, [("Content-Type", "application/json")],
                                              b'{"id": "x", "eventType": 201}'), note=repr(token[:30]))

    def make_unknown_path(self):
        target = self.rnd.choice([
            "/", "/signl4", "/signl4/", "/manage", "/manage/%s" % self.callback_token,
            "/manage/%s/callbacks" % self.callback_token, "/manage/%s/callback/x" % self.callback_token,
            "/signl4/%s/x" % self.webhook_token, "/../../etc/passwd", "/signl4/../healthz/..",
            "/healthz/x", "/metrics/x", "/healthz/..", "/%2e%2e/%2e%2e/etc/passwd", "/" + self.junk(),
            "/" + "a/" * 500, "/metrics%00", "/healthz%2F..", "/" + self.junk(2000, 6000),
            "/.git/config", "/signl4%2F..%2Fhealthz", "/manage/x/../%s/callback" % self.callback_token,
            "//signl4/x/%s" % self.webhook_token])
        method = self.rnd.choice(["GET", "POST", "DELETE"])
        return Case("unknown_path", http_request(method, target, [("Content-Type", "application/json")], b"{}"))

    def make_wrong_method(self):
        target = self.rnd.choice([self.webhook_path(), self.callback_path(), "/healthz", "/metrics"])
        if target.startswith(("/signl4", "/manage")):
            method = self.rnd.choice(["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "FOO"])
        else:
            method = self.rnd.choice(["POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "PROPFIND"])
        return Case("wrong_method", http_request(method, target, [("Content-Type", "application/json")],
                                                 b'{"id": "1", "eventType": 201}'))

    def bad_json(self):
        depth = self.rnd.choice([200, 1000, 10000, MAX_BODY // 12])  # within max_body_bytes
        valid = json.dumps(self.event()).encode()
        return self.rnd.choice([
            b"", b"not json", b"\xff\xfe\x00{}", valid[:self.rnd.randint(1, max(1, len(valid) - 1))],
            b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth, b"[]", b"null", b"42", b'"x"',
            b"{" + self.junk(1, 3000).encode() + b"}", "{\"id\": \"\udcff\"}".encode("utf-8", "surrogatepass"),
            b'{"id": "1", "eventType": 201, "alert": {"id": "1"}', b"\x00" * 100, b'{"id": NaN, "eventType": Infinity}',
            bytes(self.rnd.randrange(256) for unused in range(self.rnd.randint(1, 500))),
            ("{\"x\": \"%s\"}" % ("\u00e9" * 1000)).encode("latin-1")])

    def make_webhook_bad_body(self):
        body = self.bad_json()
        if not body:  # empty: Content-Length 0 or absent
            lengths = self.rnd.choice([[("Content-Length", "0")], []])
            return Case("webhook_bad_body", http_request("POST", self.webhook_path(), lengths, b""))
        if body in (b'{"id": NaN, "eventType": Infinity}',):
            body = b'{"id": NaN}'
        return self.post("webhook_bad_body", self.webhook_path(), body, note=repr(body[:30]))

    def make_webhook_oversized(self):
        if self.rnd.random() < 0.5:
            body = b'{"id": "' + b"x" * (MAX_BODY + self.rnd.randint(1, 200000)) + b'"}'
            return self.post("webhook_oversized", self.webhook_path(), body)
        declared = self.rnd.choice([MAX_BODY + 1, 10 ** 9, 10 ** 15])
        raw = http_request("POST", self.webhook_path(), [("Content-Length", str(declared))], b'{"id":',
                           content_length=False)
        return Case("webhook_oversized", raw)

    def event(self, event_type=201, external=None, alert_id=None, status=2, learnt=False):
        """A notification about one of the agent's Signls (``learnt``: one whose alert id it knows)."""
        ticket, known_alert, event_id = self.rnd.choice([row for row in self.known if row[1] or not learnt])
        return {"eventType": event_type, "eventRaisedUtc": "2026-11-30T08:00:00.0000000Z", "id": self.junk(8, 36),
                "subscription": {"id": "sub"}, "user": {"id": "u1", "username": "Olivia", "mailaddress": "o@example.com"},
                "alert": {"statusCode": status, "eventId": event_id, "externalEventId": str(ticket) if external is None
                          else external, "id": alert_id or known_alert or self.junk(20, 36),
                          "acknowledgedUserIds": []},
                "annotation": {"id": self.junk(8, 12), "message": "fuzz"}}

    def make_webhook_bad_fields(self):
        event = self.event(event_type=self.rnd.choice([200, 201, 203]))
        wrong = self.rnd.choice([None, 1, 1.5, True, [], {}, "x", "", 10 ** 40])
        mutation = self.rnd.choice(["id", "eventType", "alert", "alert.id", "alert.externalEventId", "user",
                                    "statusCode", "annotation", "annotation.id", "annotation.message"])
        _break(event, mutation, wrong, self.rnd)
        body = json.dumps(event).encode()
        return self.post("webhook_bad_fields", self.webhook_path(), body, note=mutation)

    def make_webhook_ignored(self):
        choice = self.rnd.randrange(6)
        if choice == 0:  # not an alert event
            event = self.event(event_type=self.rnd.choice([202, 300, 301, 302, 303, 0, -1, 999, 10 ** 12]))
        elif choice == 1:  # an external id no ticket of the agent has
            event = self.event(event_type=self.rnd.choice([200, 201, 203]),
                               external=self.rnd.choice(["", "abc", "99999999", "0", "-5", "1e3", "\u00b2", "\u0661\u0662",
                                                         "9" * 30, "12 ", " 12", self.junk()]))
        elif choice == 2:  # no external id at all
            event = self.event(event_type=self.rnd.choice([200, 201, 203]))
            event["alert"]["externalEventId"] = None
        elif choice == 3:  # a ticket of the agent, an alert that is not its Signl
            event = self.event(event_type=self.rnd.choice([200, 201, 203]), alert_id=self.junk(20, 36))
            event["alert"]["eventId"] = self.junk(20, 36)
        elif choice == 4:  # the agent's Signl, a status code that is neither acknowledged nor closed
            event = self.event(status=self.rnd.choice([0, 1, 3, 8, 16, 255, -2]))
        else:  # the agent's Signl "created" again: it knows the alert id already (a "created" with the
            # Signl's event id and another alert id would be news: the agent learns alert ids that way)
            event = self.event(event_type=200, status=1, learnt=True)
        return self.post("webhook_ignored", self.webhook_path(), json.dumps(event).encode(), note=str(choice))

    def callback(self, record_type="ticket", record_id=None, key_url=None):
        return {"MessageId": self.junk(8, 36), "FromUrl": self.manage_host, "CompanyId": "signl4demo", "MemberId": "x",
                "Action": self.rnd.choice(["added", "updated", "deleted", "junk"]), "Type": record_type,
                "ID": record_id if record_id is not None else self.rnd.randint(10 ** 6, 10 ** 7),
                "Entity": "{}", "Metadata": {"key_url": self.key_url if key_url is None else key_url}}

    def signed(self, body):
        key = hashlib.sha256(self.signing_key.encode("utf-8")).digest()
        return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")

    def make_callback_bad_body(self):
        body = self.rnd.choice([self.bad_json() or b"x", json.dumps({"Type": "ticket", "ID": 5}).encode(),
                                json.dumps(dict(self.callback(), Metadata={})).encode(),
                                json.dumps(dict(self.callback(), Metadata="x")).encode(),
                                json.dumps(dict(self.callback(), Metadata={"key_url": 5})).encode()])
        return self.post("callback_bad_body", self.callback_path(), body,
                         extra=[("x-content-signature", self.signed(body))])

    def make_callback_unknown_key(self):
        return self.make_callback_bad_signature(choice=1)

    def make_callback_bad_signature(self, choice=None):
        choice = self.rnd.randrange(4) if choice is None else choice
        key_url = self.key_url
        if choice == 0:
            key_url = self.rnd.choice(["http://evil.example/key", "http://127.0.0.2/x", "file:///etc/passwd",
                                       "http://%s@evil.example/" % self.manage_host, "", "//evil", "x" * 500])
        elif choice == 1:  # on the Manage host, but no such key
            key_url = self.key_url.split("&id=")[0] + "&id=" + self.junk(5, 36)
        body = json.dumps(self.callback(key_url=key_url)).encode()
        signature = self.rnd.choice([None, "", "x", self.signed(body + b" "), "A" * 44, "\u00ff" * 44, "=" * 10,
                                     self.signed(body)[:-2], self.junk(100, 5000), self.signed(body).lower()])
        if choice in (0, 1) and signature is not None and self.rnd.random() < 0.5:
            signature = self.signed(body)  # well signed, but with a key the agent must not fetch or cannot get
        extra = [] if signature is None else [("x-content-signature", signature)]
        kind = "callback_unknown_key" if choice == 1 and signature else "callback_bad_signature"
        return self.post(kind, self.callback_path(), body, extra=extra,
                         note="key_url %r, signature %r" % (key_url[:60], (signature or "")[:20]))

    def make_callback_bad_id(self):
        record_id = self.rnd.choice(["abc", "", None, 1.5, True, [], {}, 2 ** 63, 10 ** 30, -1, 0, "-7", "\u00b2",
                                     "12a", str(2 ** 64)])
        payload = self.callback(record_id=0)
        payload["ID"] = record_id
        body = json.dumps(payload).encode()
        return self.post("callback_bad_id", self.callback_path(), body, extra=[("x-content-signature", self.signed(body))],
                         note=repr(record_id))

    def make_callback_ignored(self):
        body = json.dumps(self.callback(record_type=self.rnd.choice(["company", "contact", "", "Tickets", None, 5,
                                                                     "project", "ticket\u0000"]))).encode()
        return self.post("callback_ignored", self.callback_path(), body, extra=[("x-content-signature", self.signed(body))])

    def make_callback_unknown_ticket(self):
        payload = self.callback()
        if self.rnd.random() < 0.3:
            payload["ID"] = str(payload["ID"])
        body = json.dumps(payload).encode()
        return self.post("callback_unknown_ticket", self.callback_path(), body,
                         extra=[("x-content-signature", self.signed(body))])

    def make_health_metrics(self):
        target = self.rnd.choice(["/healthz", "/metrics", "//healthz", "/metrics/"]) + self.query()
        headers = self.rnd.sample([("Accept", "application/openmetrics-text; version=1.0.0"), ("Accept", self.junk()),
                                   ("X-Forwarded-For", "1.2.3.4, " + self.junk()), ("Cookie", self.junk(100, 3000)),
                                   ("Authorization", "Basic " + self.junk()), ("Accept-Encoding", "gzip, br, *"),
                                   ("Range", "bytes=0-1"), ("If-None-Match", "*")], self.rnd.randint(0, 4))
        body = self.rnd.choice([b"", b"junk", b"{}"])
        return Case("health_metrics", http_request("GET", target, headers, body))

    def make_huge_headers(self):
        if self.rnd.random() < 0.5:
            headers = [("X-Junk-%d" % number, self.junk(200, 400)) for number in range(1500)]
        else:
            headers = [("X-Huge", "v" * self.rnd.randint(300000, 600000))]
        target = self.rnd.choice([self.webhook_path(), "/healthz", self.callback_path()])
        return Case("huge_headers", http_request("POST", target, headers, b"{}"))

    def make_protocol(self):
        path = self.webhook_path()
        body = b'{"id": "x", "eventType": 300}'
        raw = self.rnd.choice([
            b"POST\r\n\r\n", b"\x00\x01\x02 / HTTP/1.1\r\nConnection: close\r\n\r\n",
            b"get /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
            ("post %s HTTP/1.1\r\nContent-Length: 29\r\nConnection: close\r\n\r\n" % path).encode() + body,
            ("POST /signl4/%s HTTP/1.1\r\nContent-Length: 29\r\nConnection: close\r\n\r\n" % ("\u00ff" * 3)).encode()
            + body,
            ("POST %s HTTP/1.1\r\nContent-Length: abc\r\nConnection: close\r\n\r\n" % path).encode() + body,
            ("POST %s HTTP/1.1\r\nContent-Length: -5\r\nConnection: close\r\n\r\n" % path).encode() + body,
            ("POST %s HTTP/1.1\r\nContent-Length: 29\r\nContent-Length: 3\r\nConnection: close\r\n\r\n" % path).encode()
            + body,
            ("POST %s HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nab\r\n0\r\n\r\n"
             % path).encode(),
            ("POST %s HTTP/1.1\r\nHost: a\r\nBad Header Line\r\nConnection: close\r\n\r\n" % path).encode(),
            ("POST %s HTTP/1.1\r\n Folded: x\r\nConnection: close\r\n\r\n" % path).encode(),
            ("POST %s HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
             "1\r\nx\r\n0\r\n\r\n" % path).encode(),
        ])
        return Case("protocol", raw)

    def make_partial_body(self):
        body = json.dumps(self.event()).encode()
        raw = http_request("POST", self.webhook_path(), [("Content-Length", str(len(body) + 50))], body,
                           content_length=False)
        return Case("partial_body", raw, close_early=True)

    def make_stalled_body(self):
        body = json.dumps(self.event()).encode()
        raw = http_request("POST", self.webhook_path(), [("Content-Type", "application/json")], body)
        return Case("stalled_body", raw[:-len(body) // 2], timeout=120.0)

    def make_slow_body(self):
        event = self.event(event_type=self.rnd.choice([202, 300]))
        raw = http_request("POST", self.webhook_path(), [("Content-Type", "application/json")], json.dumps(event).encode())
        size = max(1, len(raw) // 8)
        return Case("slow_body", raw, chunks=[raw[i:i + size] for i in range(0, len(raw), size)])


# how often each class is drawn (slow and partial senders only a few)
WEIGHTS = {"bad_token": 10, "unknown_path": 6, "wrong_method": 6, "webhook_bad_body": 12, "webhook_oversized": 2,
           "webhook_bad_fields": 14, "webhook_ignored": 14, "callback_bad_body": 5, "callback_bad_signature": 8, "callback_unknown_key": 0,
           "callback_bad_id": 4, "callback_ignored": 3, "callback_unknown_ticket": 2, "health_metrics": 8,
           "huge_headers": 1, "protocol": 3, "partial_body": 0.2, "slow_body": 0.2,
           "stalled_body": 0}  # stalled senders are not drawn: fuzz_http runs a few alongside


def _break(event, mutation, wrong, rnd):
    """Make ``mutation`` of a well-formed event wrong: removed, or of a type the agent must refuse."""
    if mutation == "id":
        wrong = wrong if not isinstance(wrong, str) else None
        _set(event, "id", wrong, rnd)
    elif mutation == "eventType":
        _set(event, "eventType", wrong if not isinstance(wrong, int) or isinstance(wrong, bool) else "201", rnd)
    elif mutation in ("alert", "user", "annotation"):
        _set(event, mutation, wrong if not isinstance(wrong, dict) else "x", rnd)
        if mutation == "user" and event.get("user") is None:
            event["user"] = 5  # a missing user is allowed
        if mutation == "annotation":
            event["eventType"] = 203
    elif mutation == "statusCode":
        event["eventType"] = 201
        _set(event["alert"], "statusCode", wrong if not isinstance(wrong, int) or isinstance(wrong, bool) else "2", rnd)
    else:
        parent, name = mutation.split(".")
        if parent == "annotation":
            event["eventType"] = 203
        if name == "externalEventId":
            wrong = wrong if wrong is not None and not isinstance(wrong, str) else 12
        else:
            wrong = wrong if not isinstance(wrong, str) else None
        _set(event[parent], name, wrong, rnd)


def _set(holder, name, value, rnd):
    if value is None and rnd.random() < 0.5:
        holder.pop(name, None)
    else:
        holder[name] = value


# ----- sending ---------------------------------------------------------------------------------

def send(port, case, pause=0.05):
    """The status the agent answered (int), or ``NO_ANSWER``; plus the body."""
    with socket.create_connection(("127.0.0.1", port), timeout=case.timeout) as sock:
        try:
            if case.chunks:
                for chunk in case.chunks:
                    sock.sendall(chunk)
                    time.sleep(pause)
            else:
                sock.sendall(case.raw)
            if case.close_early:
                sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered (and closed) before it read everything: read its answer
        data = _read_all(sock)
    if not data.startswith(b"HTTP/"):
        return NO_ANSWER, b""
    head, unused, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def _read_all(sock):
    parts = []
    while True:
        try:
            piece = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not piece:
            break
        parts.append(piece)
    return b"".join(parts)


# ----- the run ---------------------------------------------------------------------------------

def state_hash(path):
    """SHA-256 of every row of every table (the content, not the file: WAL checkpoints move bytes)."""
    digest = hashlib.sha256()
    with sqlite3.connect("file:%s?mode=ro" % path, uri=True) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        for table in tables:
            digest.update(table.encode())
            for row in db.execute("SELECT * FROM %s ORDER BY 1" % table):  # noqa: S608 - table names of the schema
                digest.update(repr(row).encode())
    return digest.hexdigest()


class _Capture(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Capture.received.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def signing_key(manage):
    """Learn the callback ``key_url`` and its key the way a receiver does: one delivered callback."""
    server = http.server.HTTPServer(("127.0.0.1", 0), _Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with support.manage_client(manage) as cw:
            made = cw.create("/system/callbacks", {"url": "http://127.0.0.1:%d/cb?recordId=" % server.server_port,
                                                   "objectId": 1, "type": "ticket", "level": "owner"})
            support.new_ticket(cw, summary="Callback key probe")
            assert support.wait_for(lambda: _Capture.received, timeout=15), "no callback arrived"
            cw.delete("/system/callbacks/%d" % made["id"])
            key_url = json.loads(_Capture.received[0][1])["Metadata"]["key_url"]
            return key_url, cw.request("GET", key_url).json()["signing_key"]
    finally:
        server.shutdown()
        server.server_close()


class Target:
    """Both emulators, a provisioned Manage and the agent process with its Signls raised."""

    def __init__(self, workdir, manage=None, signl4=None):
        """``manage``/``signl4``: emulators already running (pytest's fixtures, ``manage.connection`` set), else
        started here."""
        self.own_emulators = None if manage else common.Emulators()
        self.manage, self.signl4 = (manage, signl4) if manage else (self.own_emulators.manage, self.own_emulators.signl4)
        self.agent = None
        self.workdir = workdir

    def start(self, tickets=3):
        support.provision(self.manage)
        self.key_url, self.signing_key = signing_key(self.manage)
        with support.manage_client(self.manage) as cw:
            for number in range(tickets):
                support.new_ticket(cw, summary="Fuzz warm-up %d" % number)
        self.port = support.free_port()
        self.db = str(self.workdir / "fuzz-state.db")
        raw = support.config(self.workdir, self.manage, self.signl4, port=self.port, poll_interval=3600,
                             state={"path": self.db}, listen={"max_body_bytes": MAX_BODY, "channel_timeout": 5},
                             logging={"level": "DEBUG"})
        support.subscribe(self.signl4, "http://127.0.0.1:%d/signl4/%s" % (self.port, support.WEBHOOK_TOKEN))
        self.agent = support.AgentProcess(support.write_config(self.workdir, raw, "fuzz.yml"), self.port)
        assert self.agent.wait_ready(), self.agent.stop()
        assert support.wait_for(lambda: len(self._known() or ()) > tickets, timeout=60), "the agent raised no Signls"
        self.signl4.control("POST", "/outbound/drain", {"timeout": 10})
        self.manage.control("POST", "/callbacks/drain", {"timeout": 10})
        # the agent learns a Signl's alert id when SIGNL4's API confirms something about it: an annotation here
        self.signl4.control("POST", "/act", {"action": "annotate", "external_id": str(self._known()[0][0]),
                                             "user": support.OLIVIA, "text": "fuzz warm-up"})
        assert support.wait_for(lambda: any(row[1] for row in self._known() or ()), timeout=60), \
            "the agent learnt no alert id"
        self.known = self._known()
        self._warm_callback_key()
        self.manage.clear_requests()
        self.signl4.clear_requests()

    def _warm_callback_key(self):
        """The agent reads the callback key on its verifier thread for the first callback (202); from then on
        a callback with that key_url is verified at once (200), a forged one refused (401)."""
        generator = self.generator(0)
        assert support.wait_for(lambda: send(self.port, generator.make_callback_unknown_ticket())[0] == 200,
                                timeout=30, interval=0.2), "the agent never verified a callback"

    def _known(self):
        """(ticket, alert id or None, event id) of every Signl, once the first cycle is over."""
        with sqlite3.connect("file:%s?mode=ro" % self.db, uri=True) as db:
            rows = db.execute("SELECT ticket_id, alert_id, event_id FROM tickets").fetchall()
            pending = db.execute("SELECT COUNT(*) FROM intents WHERE state='pending'").fetchone()[0]
            cycled = db.execute("SELECT COUNT(*) FROM kv WHERE key='last_good_cycle'").fetchone()[0]
        return rows if cycled and not pending else None

    def generator(self, seed):
        host = self.manage.url.split("//", 1)[1]
        return Generator(seed, support.WEBHOOK_TOKEN, support.CALLBACK_TOKEN, host, self.key_url, self.signing_key,
                         self.known)

    def writes(self):
        return dict(manage=self.manage.writes(), signl4=self.signl4.writes())

    def stop(self):
        output = self.agent.stop()[1] if self.agent else ""
        if self.own_emulators:
            self.own_emulators.stop()
        return output


class Tally:
    def __init__(self):
        self.answers = defaultdict(Counter)  # class -> status -> count
        self.violations = []

    def add(self, case, status, body):
        self.answers[case.kind][status] += 1
        if status not in case.allowed:
            self.violations.append((case.kind, status, case.note, case.raw[:200], body[:200]))

    def total(self):
        return sum(sum(c.values()) for c in self.answers.values())


def stalled(port, generator, count):
    """``count`` senders that stop half-way through a body, each on its own thread; join() them."""
    answers, threads = [], []
    for unused in range(count):
        case = generator.make_stalled_body()
        thread = threading.Thread(target=lambda c=case: answers.append((c,) + send(port, c)), daemon=True)
        thread.start()
        threads.append(thread)
    return answers, threads


def fuzz_http(target, seed, count, stalled_senders=1, progress=print):
    """Send ``count`` generated requests (and ``stalled_senders`` alongside); returns the tally,
    the RSS samples (kB) and what the checks need."""
    tally, samples = Tally(), []
    before = state_hash(target.db)
    pid = target.agent.proc.pid
    generator = target.generator(seed)
    stalled_answers, threads = stalled(target.port, target.generator(seed + 1), stalled_senders)
    for number, case in enumerate(generator.cases(count), start=1):
        status, body = send(target.port, case)
        tally.add(case, status, body)
        if number % SAMPLE_EVERY == 0 or number == 1:
            if target.agent.proc.poll() is not None:
                break
            samples.append((number, memory_kb(pid)[0]))
            if number % (SAMPLE_EVERY * 8) == 0:
                rss_mb = samples[-1][1] / 1024.0
                progress("  %6d requests, VmRSS %.1f MB, violations %d" % (number, rss_mb, len(tally.violations)))
    for thread in threads:
        thread.join(180)
    for case, status, body in stalled_answers:
        tally.add(case, status, body)
    alive = target.agent.proc.poll() is None
    if alive:
        samples.append((tally.total(), memory_kb(pid)[0]))
        target.agent.get("/healthz")  # give the agent's threads a last moment to act on what arrived
        time.sleep(1.0)
    return dict(tally=tally, samples=samples, alive=alive, peak_kb=memory_kb(pid)[1] if alive else None,
                db_unchanged=state_hash(target.db) == before, writes=target.writes())


def http_failures(outcome):
    failures, shown = [], Counter()
    for kind, status, note, raw, body in outcome["tally"].violations:
        shown[kind, status] += 1
        if shown[kind, status] <= 3:  # a few examples of each kind of wrong answer
            failures.append("%s answered %s (allowed %s) [%s]: %r -> %r" % (
                kind, status, ", ".join(sorted(map(str, CLASSES[kind][1]))), note, raw, body))
    if not outcome["alive"]:
        failures.append("the agent process died")
    if not outcome["db_unchanged"]:
        failures.append("the state database's rows changed")
    for side, writes in outcome["writes"].items():
        if writes:
            failures.append("%d write(s) reached the %s emulator: %s" % (
                len(writes), side, ["%s %s %s" % (w["method"], w["path"], str(w.get("body"))[:200]) for w in writes[:5]]))
    growth = rss_growth_mb(outcome["samples"])
    if growth is not None and growth > RSS_GROWTH_BOUND_MB:
        failures.append("VmRSS grew %.1f MB during the fuzz (bound %.0f MB)" % (growth, RSS_GROWTH_BOUND_MB))
    return failures


def rss_growth_mb(samples, after=0):
    """VmRSS growth from the first sample taken after request ``after`` to the last one."""
    later = [sample for sample in samples if sample[0] >= after]
    if len(later) < 2:
        return None
    return (later[-1][1] - later[0][1]) / 1024.0


# ----- configs ---------------------------------------------------------------------------------

CONFIG_SECRETS = {"manage.private_key": "cwPriv-7f3a9c2e41d0b8aa", "manage.public_key": "cwPub-55e1c0ffee42",
                  "signl4.api_key": "s4key-0b7e6d5c4b3a2918", "signl4.team_secret": "teamSecret9z8y7x",
                  "listen.webhook_token": "hookTok-aa11bb22cc33dd44", "listen.callback_token": "cbTok-ee55ff66aa77bb88"}


def secret_forms(secret):
    """How a secret may leak: raw, URL-encoded, base64 (also of ``public:private``), JSON-escaped."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), base64.b64encode(secret.encode()).decode(),
             json.dumps(secret)[1:-1]}
    return sorted(form for form in forms if len(form) >= 6)


def valid_config(workdir):
    raw = {"manage": dict(url="https://na.myconnectwise.net", company_id="contoso", public_key=CONFIG_SECRETS["manage.public_key"],
                          private_key=CONFIG_SECRETS["manage.private_key"], client_id="00000000-0000-4000-8000-000000000001"),
           "signl4": dict(api_key=CONFIG_SECRETS["signl4.api_key"], team_secret=CONFIG_SECRETS["signl4.team_secret"],
                          acting_user="ops@example.com"),
           "listen": dict(port=0, webhook_token=CONFIG_SECRETS["listen.webhook_token"],
                          callback_token=CONFIG_SECRETS["listen.callback_token"]),
           "state": dict(path=str(workdir / "state.db")), "poll_interval": 30}
    return raw


class ConfigGenerator:
    """Broken configs: one mutation of a valid config each, as (label, file text) pairs."""

    SECTIONS = ("manage", "signl4", "listen", "state", "workflows", "custom_fields", "status_mappings", "notes",
                "filters", "trigger_query", "logging")

    def __init__(self, seed, workdir):
        self.rnd = random.Random(seed)
        self.workdir = workdir
        self.mutations = [getattr(self, name) for name in sorted(dir(self)) if name.startswith("mut_")]

    def configs(self, count):
        for number in range(count):
            raw = valid_config(self.workdir)
            mutation = self.mutations[number % len(self.mutations)]
            label, result = mutation(raw)
            kind = mutation.__name__[len("mut_"):]
            if isinstance(result, str):
                yield kind, label, result
            else:
                text = json.dumps(result) if self.rnd.random() < 0.3 else _yaml(result)
                yield kind, label, text

    def pick_key(self, raw):
        section = self.rnd.choice(["manage", "signl4", "listen", "state"])
        return section, self.rnd.choice(sorted(raw[section]))

    def mut_missing_key(self, raw):
        section, key = self.pick_key(raw)
        if (section, key) in (("listen", "port"), ("listen", "callback_token")):
            key = "webhook_token"
            section = "listen"
        del raw[section][key]
        return "missing %s.%s" % (section, key), raw

    def mut_missing_section(self, raw):
        section = self.rnd.choice(["manage", "signl4", "listen", "state"])
        raw[section] = self.rnd.choice([None, {}, [], "x", 5])
        return "section %s broken" % section, raw

    def mut_wrong_type(self, raw):
        section = self.rnd.choice(self.SECTIONS)
        from signl4_agent.config import _schema
        key, (kind, unused, unused2) = self.rnd.choice(sorted(_schema()[section].items()))
        candidates = [v for v in (5, 1.5, True, "text", [1], {"a": 1}, [], {}) if not _fits(v, kind)]
        raw.setdefault(section, {})[key] = self.rnd.choice(candidates)
        return "wrong type %s.%s" % (section, key), raw

    def mut_top_level(self, raw):
        junk = [[], {"a": 1}, True, "", [["nested"]], None if self.rnd.random() < 0.1 else 7]
        key, values = self.rnd.choice([("owner_assignment", ["sometimes", 5, "ACKNOWLEDGE"]),
                                       ("reopen", ["maybe", 1.5]), ("details", [["weather"], "company", [1], [None]]),
                                       ("poll_interval", [-1, 0, 0.5, float("nan"), float("inf"), 10 ** 400, "30"]),
                                       ("stale_after", [-1, 0, float("nan"), "2m"])])
        value = self.rnd.choice(values + [v for v in junk if (v is not None and not _fits(v, float)
                                          or key not in ("poll_interval", "stale_after")) and v != []])
        raw[key] = value if value is not None else "x"
        return "top level %s" % key, raw

    def mut_bad_url(self, raw):
        where = self.rnd.choice([("manage", "url"), ("signl4", "api_url")])
        raw[where[0]][where[1]] = self.rnd.choice(["na.myconnectwise.net", "ftp://x", "http://", "https://",
                                                   "http://host:99999", "http://[::1", "javascript:alert(1)", "",
                                                   "http:// spaces .com", "https://a b", "http://\u00e9\u0000x",
                                                   "file:///etc/passwd", "//host", "http://host:port/"])
        return "bad url %s.%s" % where, raw

    def mut_out_of_range(self, raw):
        choice = self.rnd.choice([("listen", "port", [-1, 65536, 10 ** 6, 10 ** 30]),
                                  ("listen", "max_body_bytes", [-1, 0, 10 ** 30]),
                                  ("listen", "channel_timeout", [-5, 0, 10 ** 30]),
                                  ("manage", "timeout", [-1, 0, float("nan"), float("inf"), 10 ** 400]),
                                  ("signl4", "timeout", [-0.5, 0, float("-inf")]),
                                  (None, "poll_interval", [0, 0.5, -3, float("nan"), float("inf"), 10 ** 400, 10 ** 9]),
                                  (None, "stale_after", [-1, 0, float("nan")])])
        section, key, values = choice
        (raw[section] if section else raw)[key] = self.rnd.choice(values)
        return "out of range %s.%s" % (section or "", key), raw

    def mut_unknown_key(self, raw):
        section = self.rnd.choice(list(self.SECTIONS) + [None])
        name = self.rnd.choice(["colour", "privatekey", "PRIVATE_KEY", "url ", "", "a" * 300, "x.y", "\u00e9t\u00e9"])
        holder = raw.setdefault(section, {}) if section else raw
        holder[name] = self.rnd.choice(["blue", 1, None])
        return "unknown key %s.%r" % (section, name[:20]), raw

    def mut_non_string_keys(self, raw):
        holder = raw if self.rnd.random() < 0.5 else raw["manage"]
        holder[self.rnd.choice([1, 2.5, True, None])] = "x"
        return "non-string key", raw

    def mut_secret_elsewhere(self, raw):
        """A secret pasted into a value or key where it does not belong (it stays in its own key too)."""
        secret = self.rnd.choice(sorted(CONFIG_SECRETS.values()))
        spots = [(raw, "owner_assignment", secret), (raw, "details", ["company", secret]), (raw["signl4"], "plan", secret),
                 (raw["manage"], secret, "x"), (raw, "logging", {"level": secret}),
                 (raw["manage"], "url", "https://na.myconnectwise.net:%s/" % secret), (raw["listen"], "port", secret),
                 (raw, secret, {"a": 1}), (raw["signl4"], "api_url", "ftp://user:%s@host/" % secret)]
        spot = self.rnd.randrange(len(spots))
        holder, key, value = spots[spot]
        holder[key] = value
        return "secret in wrong place %d" % spot, raw

    def mut_secret_file(self, raw):
        key = self.rnd.choice(["private_key", "public_key"])
        del raw["manage"][key]
        target = self.rnd.choice(["/nonexistent/file", "/dev/zero", str(self.workdir), "/dev/null/x", 5, None, "",
                                  "a\u0000b", str(self.workdir / "binary.key"), str(self.workdir / "huge.key")])
        raw["manage"][key + "_file"] = target
        return "secret file %r" % (target,), raw

    def mut_broken_yaml(self, raw):
        text = _yaml(raw)
        lines = text.splitlines()
        where = self.rnd.randrange(len(lines))
        damage = self.rnd.choice(["\t", ": : :", "[", "{", "- x", "  bad: [unclosed", '"', "!!python/object:os.system x",
                                  "&a [*a]", "%YAML 9.9", "\x00", "? [a, b]\n: c", "*undefined", "key: @reserved"])
        lines.insert(where, damage)  # a line of its own: appended to a value it may still be a valid string
        return "broken yaml %r" % damage, "\n".join(lines) + "\n"

    def mut_not_a_mapping(self, raw):
        return "not a mapping", self.rnd.choice(["", "null\n", "- a\n- b\n", "42\n", "just text\n", "[]\n", "---\n...\n",
                                                 "\"%s\"\n" % CONFIG_SECRETS["manage.private_key"]])

    def mut_huge(self, raw):
        choice = self.rnd.randrange(3)
        if choice == 0:
            raw["filters"] = {"boards": ["board %d" % n for n in range(200000)]}
            raw["filters"]["priorities"] = "not a list"
            return "huge list + wrong type", raw
        if choice == 1:
            return "huge file", _yaml(raw) + "# " + "x" * (3 * 1024 * 1024) + "\n"
        # nested aliases: a "billion laughs" document
        nested = ["a%d: &a%d [%s]" % (n, n, ", ".join(["*a%d" % (n - 1)] * 9)) for n in range(1, 10)]
        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"] + nested
        return "alias bomb", _yaml(raw) + "details: *a9\n" + "\n".join("x" + line for line in lines[:0]) + \
            "\n".join(lines) + "\n"

    def mut_wrong_encoding(self, raw):
        text = _yaml(raw)
        return "not UTF-8", text.replace("contoso", "contoso\udcff")


def _fits(value, kind):
    if kind is object:  # a key checked by its own parser (filters.entered_after): none of the fuzz values is one
        return False
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _yaml(raw):
    import yaml
    return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False)


def config_secret_leaks(text):
    return [name for name, secret in CONFIG_SECRETS.items() for form in secret_forms(secret) if form in text]


def prepare_config_files(workdir):
    (workdir / "binary.key").write_bytes(b"\xff\xfe\x00\x81" * 10)
    (workdir / "huge.key").write_text("k" * (2 * 1024 * 1024))


def check_config_in_process(label, text, workdir):
    """None when ``text`` ends in a clean ConfigError without a secret; else what went wrong."""
    from signl4_agent import config as config_module
    path = workdir / "fuzz-config.yml"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    try:
        config_module.load(str(path), env={})
    except config_module.ConfigError as exc:
        message = str(exc)
        if "\n" in message:
            return "%s: the message spans lines: %r" % (label, message[:300])
        if len(message) > 500:
            return "%s: the message is %d characters long" % (label, len(message))
        leaks = config_secret_leaks(message)
        return "%s: the message shows %s: %r" % (label, leaks, message[:300]) if leaks else None
    except Exception as exc:  # noqa: BLE001 - what the fuzz is looking for
        return "%s: %s: %s" % (label, type(exc).__name__, str(exc)[:300])
    return "%s: accepted" % label


def check_config_cli(label, text, workdir):
    path = workdir / "fuzz-cli.yml"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    env = support.agent_env()
    for name in ("CW_PRIVATE_KEY", "CW_PUBLIC_KEY", "SIGNL4_API_KEY", "SIGNL4_TEAM_SECRET",
                 "SIGNL4_AGENT_WEBHOOK_TOKEN", "SIGNL4_AGENT_CALLBACK_TOKEN"):
        env.pop(name, None)
    result = subprocess.run([sys.executable, "-m", "signl4_agent", "check-config", "--config", str(path)], cwd=REPO_ROOT,
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    lines = result.stderr.splitlines()
    problems = []
    if result.returncode != 2:
        problems.append("exit %d" % result.returncode)
    if len(lines) != 1 or not lines[0].startswith("signl4-agent: configuration error: "):
        problems.append("stderr %r" % result.stderr[:300])
    if "Traceback" in result.stderr + result.stdout:
        problems.append("a traceback")
    leaks = config_secret_leaks(result.stderr + result.stdout)
    if leaks:
        problems.append("shows %s" % leaks)
    return "%s: %s" % (label, "; ".join(problems)) if problems else None


def fuzz_configs(seed, count, cli_every, workdir, progress=print):
    """Every config in-process; every ``cli_every``-th also through ``check-config``."""
    prepare_config_files(workdir)
    failures, labels, cli_runs = [], Counter(), 0
    for number, (kind, label, text) in enumerate(ConfigGenerator(seed, workdir).configs(count)):
        labels[kind] += 1
        problem = check_config_in_process(label, text, workdir)
        if problem:
            failures.append("in-process: " + problem)
        if cli_every and number % cli_every == 0:
            cli_runs += 1
            problem = check_config_cli(label, text, workdir)
            if problem:
                failures.append("check-config: " + problem)
        if number and number % 200 == 0:
            progress("  %d configs, %d failures" % (number, len(failures)))
    return dict(count=count, cli_runs=cli_runs, failures=failures, labels=labels)


# ----- report ----------------------------------------------------------------------------------

def markdown(args, cond, http, configs, failures):
    intro = ["Script: `tests/bench/fuzz_agent.py` (`make chaos`)", "",
             "A seeded generator sends malformed requests to the agent running as a process against both emulators "
             "(one TCP connection each, 127.0.0.1; poll interval one hour, so only the fuzz makes it act), in classes "
             "that each state the answers allowed. Checked after the run: no answer outside its class, the process "
             "alive, no POST/PUT/PATCH/DELETE in either emulator's journal, the state database's rows unchanged "
             "(hash), resident memory growth within %.0f MB. Then broken configs (one mutation of a valid one each) "
             "through `config.load` in-process and every %dth through `python -m signl4_agent check-config`: each "
             "must end in one line `configuration error: ...` (exit 2), no traceback, no secret." % (
                 RSS_GROWTH_BOUND_MB, args.cli_every)]
    rows = []
    for kind, (_what, allowed) in CLASSES.items():
        answers = http["tally"].answers.get(kind, Counter())
        rows.append((kind, sum(answers.values()), ", ".join(sorted(map(str, allowed))),
                     ", ".join("%s: %d" % (s, n) for s, n in sorted(answers.items(), key=str))))
    lines = ["### Requests (seed %d)" % args.seed, "", *results.table(("class", "sent", "allowed", "answers"), rows)]
    samples = http["samples"]
    lines += ["", "- requests: %d; answers outside their class: %d; agent alive at the end: %s" % (
        http["tally"].total(), len(http["tally"].violations), "yes" if http["alive"] else "NO"),
        "- writes in the journals: Manage %d, SIGNL4 %d; state rows unchanged: %s" % (
            len(http["writes"]["manage"]), len(http["writes"]["signl4"]), "yes" if http["db_unchanged"] else "NO"),
        "- VmRSS (sampled every %d requests): start %.1f MB, end %.1f MB, peak (VmHWM) %s, growth %.1f MB (bound "
        "%.0f MB); growth over the last 80%% of the requests %.1f MB" % (
            SAMPLE_EVERY, samples[0][1] / 1024.0, samples[-1][1] / 1024.0,
            "%.1f MB" % (http["peak_kb"] / 1024.0) if http["peak_kb"] else "n/a", rss_growth_mb(samples) or 0.0,
            RSS_GROWTH_BOUND_MB, rss_growth_mb(samples, http["tally"].total() // 5) or 0.0),
        "", "### Configs (seed %d)" % args.seed, "",
        "- broken configs: %d in-process, %d through `check-config`; failures: %d" % (
            configs["count"], configs["cli_runs"], len(configs["failures"])),
        "- mutations: %s" % ", ".join("%s %d" % item for item in sorted(configs["labels"].items())), "",
        "**Result: %s**" % ("PASS" if not failures else "FAIL: " + "; ".join(failures[:5]))]
    return results.section("Bad input: malformed requests and configs (chaos suite part)", intro, cond, lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10000)
    parser.add_argument("--configs", type=int, default=600)
    parser.add_argument("--cli-every", type=int, default=10, help="every Nth config also through check-config")
    parser.add_argument("--stalled", type=int, default=3, help="senders that stall half-way, alongside the fuzz")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="1,000 requests, 120 configs: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests, args.configs, args.cli_every, args.stalled = 1000, 120, 20, 1
    args.seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10 ** 6)
    cond = results.start(args.quick, seed=args.seed, requests=args.requests, configs=args.configs)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        target = Target(workdir)
        try:
            target.start()
            print("agent up on port %d; %d Signls known; fuzzing %d requests (seed %d)"
                  % (target.port, len(target.known), args.requests, args.seed))
            http = fuzz_http(target, args.seed, args.requests, args.stalled)
        finally:
            target.stop()
        failures = http_failures(http)
        for line in failures:
            print("FAIL " + line)
        print("configs: %d (seed %d)" % (args.configs, args.seed))
        configs = fuzz_configs(args.seed, args.configs, args.cli_every, workdir)
        for line in configs["failures"][:30]:
            print("FAIL config " + line)
        failures += configs["failures"]
    text = markdown(args, results.end(cond), http, configs, failures)
    print(text)
    results.write_section("bad-input", text)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
