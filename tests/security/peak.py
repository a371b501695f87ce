"""``python tests/security/peak.py <file> <command...>``: run the command, write the peak resident memory of
its process tree (``ru_maxrss`` in KiB, the largest process's) to ``<file>``, exit with the command's code.

Measured from this small process on purpose: Linux keeps a process's memory high-water mark across fork
and exec, so a child's ``ru_maxrss`` counts the memory of the process that started it too. A benchmark
holding a 64 MiB answer in memory would read its own size as its children's."""

import os
import subprocess
import sys


def main(argv):
    report, command = argv[0], argv[1:]
    proc = subprocess.Popen(command)  # pylint: disable=consider-using-with
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(report, "w", encoding="ascii") as handle:
        handle.write("%d\n" % usage.ru_maxrss)
    return proc.returncode if proc.returncode >= 0 else 128 - proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
