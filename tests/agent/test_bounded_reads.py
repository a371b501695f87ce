"""The agent reads every API answer up to a bound: a "gzip bomb" from a hostile or broken Manage
(before, one 0.4 MiB answer took the agent to 1.6 GiB) ends the cycle with one clear error line,
and the agent process stays small."""

import json
import subprocess
import sys

from tests.agent import support
from tests.emulators.harness import REPO_ROOT
from tests.integration.raw_server import Answer, RawServer, zeros_compressed

BOMB = 256 * 1024 * 1024  # decoded; about 256 KiB on the wire
# ``python -m signl4_agent`` that reports its peak resident memory on its last line of stderr.
MEASURED = """
import resource, runpy, sys
sys.argv[0] = "signl4_agent"
try:
    runpy.run_module("signl4_agent", run_name="__main__", alter_sys=True)
finally:
    print("maxrss_kib=%d" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def test_a_gzip_bomb_from_manage_is_one_clear_error_and_costs_little_memory(tmp_path, manage, signl4):
    with RawServer([Answer(200, zeros_compressed(BOMB), headers={"Content-Encoding": "gzip"})]) as hostile:
        raw = support.config(tmp_path, manage, signl4)
        raw["manage"].update(url=hostile.url, codebase="v2025_1/")
        env = support.agent_env()
        result = subprocess.run([sys.executable, "-c", MEASURED, "once", "--config", support.write_config(tmp_path, raw)],
                                cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    errors = [json.loads(line)["message"] for line in lines[:-1] if '"ERROR"' in line]
    assert any("sent an answer larger than the 16 MiB the client reads" in message for message in errors), errors
    assert "Traceback" not in result.stderr
    peak_mib = int(lines[-1].split("=")[1]) / 1024.0
    # the agent with its libraries takes about 40 MiB; the answer adds at most the 16 MiB bound (and the
    # 256 KiB it was sent as), far below the 256 MiB it would decode to
    assert peak_mib < 128, peak_mib
