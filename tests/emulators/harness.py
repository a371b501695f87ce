"""Start an emulator as a real process on a free port and talk to its test controls.

Used by the pytest fixtures and by the demo; nothing here is imported by the collection.
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

from tests.emulators.common import CONTROL_PREFIX

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
READY = re.compile(r"emulator ready on (http://127\.0\.0\.1:\d+)")


class RunningEmulator:
    """A started emulator process: its base URL and its control endpoints."""

    def __init__(self, module, args=(), timeout=15):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, "--port", "0"] + list(args),
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            match = READY.search(line or "")
            if match:
                self.url = match.group(1)
                return
            if self.proc.poll() is not None:
                break
        self.stop()
        raise RuntimeError("%s did not start: %r %s" % (module, line, self.proc.stderr.read()))

    # ----- controls -----------------------------------------------------
    def control(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(self.url + CONTROL_PREFIX + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback only
            raw = resp.read()
        return json.loads(raw) if raw else None

    def reset(self):
        self.control("POST", "/reset")

    def requests(self):
        return self.control("GET", "/requests")

    def clear_requests(self):
        self.control("DELETE", "/requests")

    def writes(self):
        """The journal's mutating requests: what check mode must never send."""
        return [r for r in self.requests() if r["method"] in ("POST", "PUT", "PATCH", "DELETE")]

    def inject(self, status, count=1, retry_after=None, method=None, path=None, body=None):
        spec = {"status": status, "count": count}
        for key, value in (("retry_after", retry_after), ("method", method), ("path", path), ("body", body)):
            if value is not None:
                spec[key] = value
        self.control("POST", "/faults", spec)

    def set_latency(self, seconds):
        self.control("POST", "/latency", {"seconds": seconds})

    def use_manual_clock(self):
        """Freeze the emulator's clock; :meth:`advance` moves it (a reset returns to real time)."""
        return self.control("POST", "/clock", {"manual": True})

    def advance(self, seconds):
        """Move the manual clock on: due deliveries and retries go out, rate-limit windows roll."""
        return self.control("POST", "/clock", {"advance": seconds})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
