"""``python -m signl4_agent {run,once,check-config,status} --config FILE``."""

import argparse
import json
import logging
import os
import signal
import stat
import sys

from signl4_agent import config as config_module
from signl4_agent import logs
from signl4_agent.schema import SchemaError

log = logging.getLogger("signl4_agent")


def _parser():
    parser = argparse.ArgumentParser(prog="signl4-agent", description="ConnectWise Manage <-> SIGNL4 sync agent")
    parser.add_argument("command", choices=("run", "once", "check-config", "status"))
    parser.add_argument("--config", required=True, help="the YAML configuration file")
    return parser


def _agent(config):
    from signl4_agent.agent import Agent
    return Agent(config)


def cmd_run(config):
    agent = _agent(config)
    signal.signal(signal.SIGTERM, agent.stop)
    signal.signal(signal.SIGINT, agent.stop)
    agent.run()
    return 0


def cmd_once(config):
    """One cycle. When it fails, or a workflow event went into quarantine (Manage refused to evaluate
    it), the workflow events in use are tested one by one, so a condition Manage cannot evaluate is
    named by rule and event (the cycle's error names neither)."""
    agent = _agent(config)
    try:
        ok = agent.safe(agent.cycle) and not any(entry["kind"] == "event" for entry in agent.store.quarantined())
        report = dict(ok=ok, **agent.store.counts())
        if not ok:
            report.update(_failing_events(config, agent.desk))
        print(json.dumps(report))
        return 0 if ok else 1
    finally:
        agent.close()


def _failing_events(config, desk):
    from signl4_agent.checks import describe, failing_events
    from ansible_collections.signl4.connectwise.plugins.module_utils.errors import ApiError, InputError
    try:
        failing = failing_events(config, desk)
    except (ApiError, InputError) as exc:
        return dict(error=str(exc))
    if not failing:
        return {}
    log.error("%s", describe(failing))
    return dict(failing_events=failing)


def cmd_check_config(config):
    """Reach both APIs read-only: the three workflow rules, the custom fields, every workflow event
    in use tested as a cycle tests it, the acting user."""
    from signl4_agent.checks import check
    report = check(config)
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


def cmd_status(config):
    from signl4_agent.store import SqliteStore
    store = SqliteStore(config["state"]["path"])
    try:
        report = dict(store.counts(), last_good_cycle=store.get("last_good_cycle"),
                      tickets=[dict(ticket=t["ticket_id"], generation=t["generation"], alert=t["alert_id"],
                                    status=t["alert_status"]) for t in store.tickets()[-50:]],
                      pending=[dict(key=i["key"], attempts=i["attempts"], error=i["error"]) for i in store.pending_intents()],
                      quarantine=[dict(record=q["key"], reason=q["reason"], failures=q["failures"],
                                       first_seen=q["first_seen"], last_seen=q["last_seen"])
                                  for q in store.quarantined()[:100]])
    finally:
        store.close()
    print(json.dumps(report, indent=2))
    return 0


def private_files(config, config_path):
    """What the agent creates (the state database, its WAL and SHM) is for its user alone, whatever
    the umask it was started with; an existing state file is narrowed, a config file open to others
    is reported (it holds the secrets)."""
    os.umask(0o077)
    path = config["state"]["path"]
    for name in (path, path + "-wal", path + "-shm"):
        try:
            mode = stat.S_IMODE(os.stat(name).st_mode)
            if mode & 0o077:
                os.chmod(name, mode & 0o700)
        except OSError:
            pass
    try:
        mode = stat.S_IMODE(os.stat(config_path).st_mode)
    except OSError:
        return
    if mode & 0o077:
        log.warning("the configuration file %s is open to other users (mode %s): it holds secrets, chmod 600 it",
                    config_path, oct(mode))


COMMANDS = {"run": cmd_run, "once": cmd_once, "check-config": cmd_check_config, "status": cmd_status}


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        config = config_module.load(args.config)
    except config_module.ConfigError as exc:
        print("signl4-agent: configuration error: %s" % exc, file=sys.stderr)
        return 2
    logs.setup(config["logging"]["level"], config_module.secrets(config))
    config_module.log_insecure_settings(config)
    private_files(config, args.config)
    try:
        return COMMANDS[args.command](config)
    except SchemaError as exc:
        print(f"signl4-agent: state error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
