"""Security: issue 18's attacks run against the real agent and modules, each shown refused.

    python -m tests.bench.security [--quick] [--only NAME ...] [--keep]

Every attack of ``tests/security/attacks.py`` runs black-box against both emulators: the agent as a
process (``python -m signl4_agent run``, and ``once`` / ``check-config`` / ``status``), the modules
through ``ansible localhost -m`` (``--quick``: the module processes alone, as Ansible starts them), a
decoy server standing for "elsewhere". Full sizes: 200 slow connections held 30 s, a flood of 1,000
bad-signature callbacks, a 256 MiB gzip bomb, every planted directory, every unsafe token and framing.
Prints a table (attack, what was tried, result, evidence), writes the ``security`` section of
``tests/bench/RESULTS.md`` (``mode: quick`` with ``--quick``; not with ``--only``) and exits 1 when an
attack was not refused.
"""

import argparse
import sys
import time
import traceback

from tests.bench import common, results
from tests.security import attacks  # noqa: E402 - after common, which puts the collection on sys.path
from tests.security.lab import Lab, Result  # noqa: E402

ABOUT = ("Each attack of issue 18 runs black-box against both emulators: the agent as a process (`python -m "
         "signl4_agent run` with a config file; `once`, `check-config` and `status` where a command is the point), the "
         "modules as tasks (`ansible localhost -m ...`; in quick mode the module processes alone), the receiver over "
         "real sockets, a decoy server standing for \"elsewhere\". What counts is what is observed: the answers, both "
         "emulators' journals (writes, key reads, alert reads), what the decoy received, the agent's log, `/metrics`, "
         "`status` and peak memory (VmHWM; a task's ru_maxrss, Ansible's included), a task's output. The attacks are "
         "`tests/security/attacks.py`; `make test` runs them at quick sizes (`tests/security/test_security_quick.py`).")


def run(lab, attack, progress=print):
    """One attack; an exception is a result that was not refused (the attack could not show it)."""
    started = time.monotonic()
    try:
        result = attack(lab)
    except Exception as exc:  # noqa: BLE001 - a broken attack is reported, the others still run
        result = Result(attack.__name__.replace("_", " "), "(the attack stopped with an error)")
        result.expect("error", "%s: %s" % (type(exc).__name__, exc), False)
        traceback.print_exc()
    seconds = time.monotonic() - started
    progress("%-26s %-13s %5.1f s" % (result.name, "refused" if result.refused else "NOT REFUSED", seconds))
    return result, seconds


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(cond, rows):
    refused = [result for result, unused in rows if result.refused]
    attacked = [(cell(result.name), cell(result.tried), "refused" if result.refused else "**NOT REFUSED**",
                 "<br>".join(cell(("**%s**" % line) if line in result.problems else line) for line in result.evidence),
                 "%.1f" % seconds) for result, seconds in rows]
    lines = ["### Attacks", "", *results.table(("attack", "what was tried", "result", "evidence", "seconds"), attacked)]
    failed = [result.name for result, unused in rows if not result.refused]
    lines += ["", "**Result: %s**" % ("PASS: %d of %d refused" % (len(refused), len(rows)) if not failed else
                                      "FAIL: %d of %d refused; not refused: %s" % (len(refused), len(rows), ", ".join(failed)))]
    return results.section("Security: issue 18's attacks against the agent and the modules (chaos suite part)",
                           ["Script: `tests/bench/security.py` (`make chaos`)", "", ABOUT], cond, lines)


def main(argv=None):
    names = [attack.__name__ for attack in attacks.ATTACKS]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small sizes of make test (module processes alone)")
    parser.add_argument("--only", nargs="+", choices=names, metavar="NAME", help="only these attacks: " + ", ".join(names))
    parser.add_argument("--keep", action="store_true", help="keep the working directory (its path is printed)")
    args = parser.parse_args(argv)
    cond = results.start(args.quick)
    with common.scratch_dir("signl4-security-", args.keep) as workdir, Lab.started(workdir, args.quick) as lab:
        rows = [run(lab, attack) for attack in attacks.ATTACKS if not args.only or attack.__name__ in args.only]
    text = markdown(results.end(cond), rows)
    print(text)
    for result, unused in rows:
        if not result.refused:
            print(result.report())
    if not args.only:
        results.write_section("security", text)
    return 0 if all(result.refused for result, unused in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
