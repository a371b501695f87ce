"""What every benchmark script shares: the conditions of a run and its section of ``RESULTS.md``.

Each script owns one section of ``tests/bench/RESULTS.md``, between ``<!-- BEGIN name -->`` and
``<!-- END name -->``; :func:`write_section` replaces only that section, so the scripts can be rerun
one at a time (``make bench`` and ``make chaos`` run them all) and the others' figures stay.
"""

import datetime as dt
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.emulators.harness import REPO_ROOT

RESULTS = os.path.join(REPO_ROOT, "tests", "bench", "RESULTS.md")
HEADER = """# Benchmark results

Written by the scripts in `tests/bench/` (`make bench`; `make chaos` for the reliability and security suite).
Each section names its script and the conditions of its run. A figure without its script is not a result:
rerun it and compare side by side; these machines are shared and noisy.
"""
# The order sections appear in, whichever script writes first.
ORDER = (
    "provisioning", "agent-latency", "agent-idle", "features-idle", "agent-burst", "agent-scale", "chaos", "bad-input", "secrets")


def _ansible_version():
    binary = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False, timeout=60).stdout
    except OSError:
        return "not installed"
    return (out.splitlines() or ["unknown"])[0].strip()


def conditions():
    """Machine, load, versions and commit: printed and written with every result."""
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": "%s %s, nproc %d" % (platform.system(), platform.machine(), os.cpu_count() or 0),
        "load": "%.2f %.2f %.2f" % os.getloadavg(),
        "python": platform.python_version(),
        "ansible": _ansible_version(),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                                 text=True, check=False).stdout.strip() or "unknown",
    }


def conditions_lines(cond):
    """The conditions as Markdown list lines (``load_end`` too when the caller recorded it)."""
    lines = ["- date: %s; commit: %s" % (cond["date"], cond["commit"]),
             "- machine: %s; load average at start: %s%s" % (
                 cond["machine"], cond["load"], "; at end: %s" % cond["load_end"] if cond.get("load_end") else ""),
             "- Python %s; %s" % (cond["python"], cond["ansible"])]
    return lines + ["- %s: %s" % (key, value) for key, value in cond.items()
                    if key not in ("date", "commit", "machine", "load", "load_end", "python", "ansible")]


def start(quick, heading=None, load_note="", **extra):
    """The conditions of a run, ``mode`` (quick or full) and ``extra`` among them, printed (after ``heading``).
    ``load_note`` follows the load average: what else shares the machine."""
    cond = dict(conditions(), mode="quick" if quick else "full", **extra)
    cond["load"] += load_note
    print("\n".join(([heading] if heading else []) + conditions_lines(cond)), flush=True)
    return cond


def end(cond):
    """``cond`` with the load average at the end of the run."""
    cond["load_end"] = "%.2f %.2f %.2f" % os.getloadavg()
    return cond


def run_parts(script, prefix, parts, args, parameters, load_note=""):
    """Each of ``parts`` that ``args.part`` names (all by default), with conditions of its own, in one scratch
    directory; prints whether every part's correctness conditions held and returns the exit status."""
    ok = True
    with tempfile.TemporaryDirectory(prefix=script.replace("_", "-") + "-") as tmp:
        for part, run in parts.items():
            if args.part in (part, "all"):
                cond = start(args.quick, "== %s-%s ==" % (prefix, part), load_note, parameters=parameters)
                ok = run(args, Path(tmp), cond) and ok
    print("%s: %s" % (script, "OK" if ok else "FAILED (a correctness condition failed, see above)"))
    return 0 if ok else 1


def sized_args(parser, full, quick, argv):
    """Parse ``argv`` with ``--quick`` and one option per size in ``full``: each defaults to ``full``'s value,
    or ``quick``'s with ``--quick``."""
    parser.add_argument("--quick", action="store_true", help="a smoke run: %s" % quick)
    for name, value in full.items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(value), default=None,
                            help="default %s (quick: %s)" % (value, quick[name]))
    args = parser.parse_args(argv)
    for name, value in (quick if args.quick else full).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def section(title, intro, cond, body):
    """A section's Markdown: ``## title``, the ``intro`` lines (its script, what it does), its conditions, ``body``."""
    return "\n".join(["## " + title, "", *intro, "", "### Conditions", "", *conditions_lines(cond), "", *body]) + "\n"


def table(header, rows):
    """A Markdown table's lines: the ``header`` cells, then a line per row (a sequence of cells)."""
    return ["| %s |" % " | ".join(header), "|" + "---|" * len(header)] + ["| %s |" % " | ".join(map(str, row)) for row in rows]


def _sections(text):
    found = {}
    for match in re.finditer(r"<!-- BEGIN (\S+) -->\n(.*?)<!-- END \1 -->\n", text, re.S):
        found[match.group(1)] = match.group(2)
    return found


def write_section(name, markdown, path=RESULTS):
    """Replace section ``name`` of the results file with ``markdown`` (keeping every other section)."""
    try:
        with open(path, encoding="utf-8") as handle:
            sections = _sections(handle.read())
    except FileNotFoundError:
        sections = {}
    sections[name] = markdown.rstrip("\n") + "\n"
    names = [n for n in ORDER if n in sections] + sorted(n for n in sections if n not in ORDER)
    body = "".join("\n<!-- BEGIN %s -->\n%s<!-- END %s -->\n" % (n, sections[n], n) for n in names)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(HEADER + body)
    return path


def percentile(values, fraction):
    """Nearest-rank percentile (``fraction`` 0.95 = p95) of a list; NaN for an empty one."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered), int(-(-fraction * len(ordered) // 1))) - 1)]
