"""JSON log lines on stderr; every secret of the config is masked, raw, URL-encoded and base64."""

import base64
import json
import logging
import sys
import time
from urllib.parse import quote, quote_plus

MASK = "********"


def variants(secret):
    forms = {secret, quote(secret, safe=""), quote_plus(secret), base64.b64encode(secret.encode()).decode()}
    return sorted((form for form in forms if len(form) >= 4), key=len, reverse=True)


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets=()):
        logging.Formatter.__init__(self)
        self.secrets = [form for secret in secrets if secret for form in variants(secret)]

    def mask(self, text):
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def format(self, record):
        entry = dict(time=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
                     level=record.levelname, logger=record.name, message=record.getMessage())
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return self.mask(json.dumps(entry, default=str))


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
