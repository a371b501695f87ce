"""JSON log lines on stderr; every secret of the config is masked in every form the collection's
``Redactor`` knows (raw, URL-encoded, base64, JSON-escaped, cut short), in the message and in the
exception text, before the line is serialised: masked after ``json.dumps``, a secret holding a
quote, a backslash, a newline or a non-ASCII character would be escaped first and slip through."""

import json
import logging
import sys
import time

from ansible_collections.signl4.connectwise.plugins.module_utils.redaction import MASK, Redactor

__all__ = ["MASK", "JsonFormatter", "setup"]
MIN_SECRET = 4  # a shorter "secret" (a test's "k") would mask letters all over every line


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets=()):
        logging.Formatter.__init__(self)
        self.redactor = Redactor([secret for secret in secrets if secret and len(secret) >= MIN_SECRET])

    def mask(self, text):
        return self.redactor.text(text)

    def format(self, record):
        entry = dict(time=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
                     level=record.levelname, logger=record.name, message=self.mask(record.getMessage()))
        if record.exc_info:
            entry["error"] = self.mask(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def setup(level="INFO", secrets=(), stream=None):
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("waitress").setLevel("WARNING")
    return handler
