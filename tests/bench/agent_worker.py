"""The sync agent in a process of its own, for tests/bench/agent_load.py: ``Agent.cycle()`` on
command, with the cycle's wall and CPU time, peak resident memory and API calls.

    python -m tests.bench.agent_worker CONFIG      # reads ``cycle`` / ``quit`` lines, answers JSON lines

It imports only the agent (not pytest, not the benchmark), so its memory is the agent's: the agent
without its HTTP receiver (waitress is not imported).
"""

import json
import sys
import time
from pathlib import Path

from tests.bench.procfs import memory_kb


def worker_main(config_path):
    """Read ``cycle`` / ``quit`` lines, answer one JSON line each."""
    import yaml
    from signl4_agent import config as config_module
    from signl4_agent.agent import Agent

    with open(config_path, encoding="utf-8") as handle:
        agent = Agent(config_module.validate(yaml.safe_load(handle), env={}))
    rss, peak = memory_kb()
    print(json.dumps(dict(rss=rss, peak=peak)), flush=True)
    for line in sys.stdin:
        if line.strip() != "cycle":
            break
        print(json.dumps(_timed_cycle(agent)), flush=True)
    agent.close()


def _timed_cycle(agent):
    def total(name):
        return sum(s.value for m in agent.metrics.registry.collect() for s in m.samples if s.name == name)
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM starts over: the peak of this cycle alone
    calls, raised, moved = agent.metrics.calls(), total("signl4_agent_signls_raised_total"), \
        total("signl4_agent_transitions_total")
    wall, cpu = time.monotonic(), time.process_time()
    error = None
    try:
        agent.cycle()
    except Exception as exc:  # noqa: BLE001 - reported to the benchmark, which fails the run
        error = "%s: %s" % (type(exc).__name__, exc)
    rss, peak = memory_kb()
    return dict(wall=time.monotonic() - wall, cpu=time.process_time() - cpu, rss=rss, peak=peak, error=error,
                calls=agent.metrics.calls() - calls, raised=total("signl4_agent_signls_raised_total") - raised,
                transitions=total("signl4_agent_transitions_total") - moved,
                pending=len(agent.store.pending_intents()))


if __name__ == "__main__":
    worker_main(sys.argv[1])
