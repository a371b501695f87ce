"""A process's memory as the kernel reports it; no imports beyond the standard library, so the agent
worker (tests/bench/agent_worker.py) can use it without weighing more than the agent."""


def memory_kb(pid="self"):
    """``(VmRSS, VmHWM)`` of a process in kB from ``/proc/<pid>/status``: resident now, and at its peak."""
    with open("/proc/%s/status" % pid, encoding="utf-8") as handle:
        fields = dict(line.split(":", 1) for line in handle if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
