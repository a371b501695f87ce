"""``python -m signl4_agent {run,once,check-config,status} --config FILE``;
``python -m signl4_agent migrate-state --from STATE_FILE --to DSN``."""

import argparse
import contextlib
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
COMMANDS_WITH_CONFIG = ("run", "once", "check-config", "status")


def _parser():
    parser = argparse.ArgumentParser(prog="signl4-agent", description="ConnectWise Manage <-> SIGNL4 sync agent")
    parser.add_argument("command", choices=COMMANDS_WITH_CONFIG + ("migrate-state",))
    parser.add_argument("--config", help="the YAML configuration file (every command but migrate-state)")
    parser.add_argument("--from", dest="source", help="migrate-state: the SQLite state file (state.path) to copy")
    parser.add_argument("--to", dest="target", help="migrate-state: the PostgreSQL connection string (state.dsn); "
                        "the password from the environment variable SIGNL4_AGENT_DB_PASSWORD or ~/.pgpass")
    return parser


def _node(config):
    from signl4_agent.node import Node
    return Node(config)


def cmd_run(config):
    node = _node(config)
    signal.signal(signal.SIGTERM, node.stop)
    signal.signal(signal.SIGINT, node.stop)
    node.run()
    return 0


def _per_tenant(config, reports):
    """A command's report: today's shape for a file without ``tenants:``, else ``{ok, tenants: {id: report}}``."""
    if not config["tenanted"]:
        return next(iter(reports.values()))
    return dict(ok=all(report.get("ok", True) for report in reports.values()), tenants=reports)


def cmd_once(config):
    """One cycle of each tenant. When one fails, or a workflow event went into quarantine (Manage refused to
    evaluate it), the workflow events in use are tested one by one, so a condition Manage cannot evaluate is
    named by rule and event (the cycle's error names neither). With the PostgreSQL store a tenant that a running
    agent drives is left to it (``held_elsewhere``)."""
    node = _node(config)
    try:
        reports = {tenant: _once(node, agent) for tenant, agent in node.agents.items()}
    finally:
        node.close()
    report = _per_tenant(config, reports)
    print(json.dumps(report))
    return 0 if report["ok"] else 1


def _once(node, agent):
    lease = None
    if node.database is not None:
        from signl4_agent.leases import acquire_for_once, release
        lease = acquire_for_once(node.database, node.holder, agent.tenant)
        if lease is None:
            return dict(ok=True, held_elsewhere=True)
        agent.lease = agent.store.lease = lease
    try:
        ok = agent.safe(agent.cycle) and not any(entry["kind"] == "event" for entry in agent.store.quarantined())
        report = dict(ok=ok, **agent.store.counts())
        if not ok:
            report.update(_failing_events(agent.config, agent.desk))
        return report
    finally:
        if lease is not None:
            release(agent.store.session, lease)


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
    """Reach both APIs of each tenant read-only: the three workflow rules, the custom fields, every workflow event
    in use tested as a cycle tests it, the acting user."""
    from signl4_agent.checks import check
    report = _per_tenant(config, {tenant["id"]: check(tenant) for tenant in config["tenants"]})
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


def _status(store):
    return dict(store.counts(), last_good_cycle=store.get("last_good_cycle"),
                tickets=[dict(ticket=t["ticket_id"], generation=t["generation"], alert=t["alert_id"],
                              status=t["alert_status"], route=t["route"]) for t in store.tickets()[-50:]],
                pending=[dict(key=i["key"], attempts=i["attempts"], error=i["error"]) for i in store.pending_intents()],
                quarantine=[dict(record=q["key"], reason=q["reason"], failures=q["failures"],
                                 first_seen=q["first_seen"], last_seen=q["last_seen"])
                            for q in store.quarantined()[:100]])


def cmd_status(config):
    """What the state holds for each tenant; no API call (and no lease: it only reads)."""
    tenants = [tenant["id"] for tenant in config["tenants"]]
    if config["state"]["dsn"]:
        from signl4_agent.pgstore import Database, PostgresStore
        database = Database(config["state"], config["node"]["id"])
        try:
            reports = {tenant: _status(PostgresStore(database.intake, tenant)) for tenant in tenants}
        finally:
            database.close()
    else:
        from signl4_agent.store import SqliteStore
        reports = {}
        for tenant in tenants:
            with contextlib.closing(SqliteStore(config["state"]["path"], tenant=tenant)) as store:
                reports[tenant] = _status(store)
    print(json.dumps(_per_tenant(config, reports), indent=2))
    return 0


def cmd_migrate_state(args):
    """Copy every tenant's state from a SQLite state file into an empty PostgreSQL database (``migrate``)."""
    from signl4_agent import migrate
    if not args.source or not args.target:
        print("signl4-agent: migrate-state needs --from STATE_FILE and --to DSN", file=sys.stderr)
        return 2
    try:
        report = migrate.migrate_state(args.source, args.target, os.environ.get("SIGNL4_AGENT_DB_PASSWORD"))
    except migrate.MigrationError as exc:
        print(f"signl4-agent: migrate-state: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report))
    return 0


def private_files(config, config_path):
    """What the agent creates (the state database, its WAL and SHM) is for its user alone, whatever
    the umask it was started with; an existing state file is narrowed, a config file open to others
    is reported (it holds the secrets)."""
    os.umask(0o077)
    path = config["state"]["path"]
    for name in (path, path + "-wal", path + "-shm") if path else ():
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
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "migrate-state":
        logs.setup("INFO", [os.environ.get("SIGNL4_AGENT_DB_PASSWORD") or ""])
        try:
            return cmd_migrate_state(args)
        except SchemaError as exc:
            print(f"signl4-agent: state error: {exc}", file=sys.stderr)
            return 2
    if not args.config:
        parser.error(f"{args.command} needs --config")
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
