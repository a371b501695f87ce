"""roles/sync_agent through site.yml's agent play, into a sandbox (service manager ``none``): files and
modes, idempotence, no secret at -vvv, the unit accepted by ``systemd-analyze verify``, and the installed
agent (its own virtualenv and zipapp) running one cycle against both emulators."""

import getpass
import grp
import json
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys

import pytest
import yaml

from tests.agent import support
from tests.emulators.harness import REPO_ROOT
from tests.emulators.signl4.seed import DEFAULT_TEAM_ID, SECOND_TEAM_ID
from tests.support.modules import recap

sys.path.insert(0, os.path.join(REPO_ROOT, "agent"))
from build_zipapp import build as build_zipapp  # noqa: E402 - agent/ is no package

pytestmark = pytest.mark.slow

SITE = os.path.join("playbooks", "site.yml")
HOST = "agent1"
TENANT_HOST = "tenant1"
COLLECTIONS = os.path.join(REPO_ROOT, "build", "collections")
ROLE = pathlib.Path(REPO_ROOT, "roles", "sync_agent")
SECRETS = ("demoprivate", "demo-signl4-api-key", "demoteamsecret", support.WEBHOOK_TOKEN, support.CALLBACK_TOKEN)


# An agent host that is this machine, as this user, without systemd.
SANDBOX = dict(ansible_connection="local", ansible_python_interpreter=sys.executable, ansible_become=False,
               sync_agent_service_manager="none", sync_agent_create_user=False,
               sync_agent_user=getpass.getuser(), sync_agent_group=grp.getgrgid(os.getgid()).gr_name)


def role_vars(prefix, manage_server, signl4_server, **overrides):
    variables = dict(
        SANDBOX, sync_agent_install_dir=str(prefix / "opt"), sync_agent_config_dir=str(prefix / "etc"),
        sync_agent_state_dir=str(prefix / "state"), sync_agent_unit_dir=str(prefix / "systemd"),
        sync_agent_python=sys.executable,
        sync_agent_manage_url=manage_server.url, sync_agent_manage_company_id="signl4demo",
        sync_agent_manage_public_key="demopublic", sync_agent_manage_private_key="demoprivate",
        sync_agent_manage_client_id="00000000-0000-4000-8000-000000000001", sync_agent_manage_timeout=5,
        sync_agent_signl4_api_url=signl4_server.url + "/api", sync_agent_signl4_api_key="demo-signl4-api-key",
        sync_agent_signl4_team_secret="demoteamsecret", sync_agent_signl4_acting_user=support.ACTING_USER,
        sync_agent_signl4_timeout=5, sync_agent_webhook_token=support.WEBHOOK_TOKEN,
        sync_agent_callback_token=support.CALLBACK_TOKEN, sync_agent_listen_port=0, sync_agent_poll_interval=1)
    variables.update(overrides)
    return variables


def site_yml(inventory, args=(), collections=COLLECTIONS, timeout=600, **env):
    """ansible-playbook site.yml over ``inventory``; the CompletedProcess, whatever its exit code."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections,
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", ANSIBLE_RETRY_FILES_ENABLED="0", **env)
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", str(inventory), SITE] + list(args)
    return subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False)


def write_inventory(prefix, variables, tenant_vars=None):
    """The agent host (and, given ``tenant_vars``, a Manage tenant of the integration role) in prefix/hosts.yml."""
    groups = {"agent_hosts": {"hosts": {HOST: variables}}}
    if tenant_vars is not None:
        groups["manage_tenants"] = {"hosts": {TENANT_HOST: tenant_vars}}
    inventory = prefix / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": groups}}))
    return inventory


def play(prefix, variables, args=(), collections=COLLECTIONS, **env):
    result = site_yml(write_inventory(prefix, variables), args, collections, **env)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result


def changed(result):
    return recap(result.stdout, HOST)["changed"]


def assert_no_secret(output, secrets=SECRETS):
    for secret in secrets:
        assert secret not in output, secret


def installed_python(prefix):
    return [str(prefix / "opt" / "venv" / "bin" / "python"), str(prefix / "opt" / "signl4-agent.pyz")]


def run_agent(install_prefix, prefix, *command, secrets=SECRETS):
    """The agent installed under ``install_prefix`` with ``command`` and the config under ``prefix`` (its working
    directory): it exits 0 and shows none of ``secrets``; its JSON answer."""
    run = subprocess.run(installed_python(install_prefix) + list(command) + ["--config", str(prefix / "etc" / "agent.yml")],
                         capture_output=True, text=True, timeout=120, check=False, cwd=str(prefix),
                         env={"PATH": os.environ["PATH"]})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    assert_no_secret(run.stdout + run.stderr, secrets)
    return json.loads(run.stdout)


def verify_unit(path):
    """``systemd-analyze verify`` accepts the unit file, without a word on stderr."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd), so the unit cannot be verified here")
    verified = subprocess.run([analyze, "verify", str(path)], capture_output=True, text=True, check=False)
    assert verified.returncode == 0 and verified.stderr.strip() == "", verified.stderr


COLLECTION_PARTS = ("galaxy.yml", "meta", "plugins", "roles", "agent")


def read_only_collection(root):
    """A copy of the collection as ``ansible-galaxy`` installs it, every file and folder read-only."""
    target = root / "ansible_collections" / "signl4" / "connectwise"
    target.mkdir(parents=True)
    for part in COLLECTION_PARTS:
        source = os.path.join(REPO_ROOT, part)
        if os.path.isdir(source):
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, target / part)
    for folder, folders, files in os.walk(root, topdown=False):
        for name in files + folders:
            os.chmod(os.path.join(folder, name), 0o555 if name in folders else 0o444)
    return root


def snapshot(root):
    """Every path below ``root`` with its size and modification time (root ignores modes: this shows a write)."""
    return sorted((os.path.join(folder, name), os.lstat(os.path.join(folder, name)).st_size,
                   os.lstat(os.path.join(folder, name)).st_mtime_ns)
                  for folder, folders, files in os.walk(root) for name in folders + files)


@pytest.fixture(scope="module")
def installed(tmp_path_factory, manage_server, signl4_server):
    """The role run twice into one sandbox from a read-only collection (the zipapp built on the controller
    in a private temporary directory): the first time at -vvv with --diff, the second to show it converged."""
    prefix = tmp_path_factory.mktemp("sync-agent")
    collections = read_only_collection(tmp_path_factory.mktemp("read-only"))
    before = snapshot(collections)
    controller_tmp = tmp_path_factory.mktemp("controller-tmp")
    variables = role_vars(prefix, manage_server, signl4_server)
    runs = [play(prefix, variables, args=args, collections=str(collections), TMPDIR=str(controller_tmp))
            for args in (["-vvv", "--diff"], [])]
    yield dict(prefix=prefix, variables=variables, first=runs[0], second=runs[1], collections=collections,
               collection_unchanged=snapshot(collections) == before, controller_tmp=controller_tmp)
    for folder, folders, files in os.walk(collections):
        for name in folders:
            os.chmod(os.path.join(folder, name), 0o755)  # pytest may remove it later


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_installs_code_venv_config_and_unit_with_tight_modes(installed):
    prefix = installed["prefix"]
    assert changed(installed["first"]) > 0
    config = prefix / "etc" / "agent.yml"
    assert mode(config) == 0o600 and os.stat(config).st_uid == os.getuid()
    assert mode(prefix / "etc") == 0o700 and mode(prefix / "state") == 0o700
    fresh = build_zipapp(str(prefix.parent / ("%s-fresh.pyz" % prefix.name)))
    assert (prefix / "opt" / "signl4-agent.pyz").read_bytes() == open(fresh, "rb").read()  # a repeatable build
    rendered = yaml.safe_load(config.read_text())
    assert rendered["listen"] == {"host": "127.0.0.1", "port": 0, "webhook_token": support.WEBHOOK_TOKEN,
                                  "callback_token": support.CALLBACK_TOKEN}
    assert rendered["manage"]["timeout"] == 5 and rendered["manage"]["validate_certs"] is True
    assert rendered["state"] == {"path": str(prefix / "state" / "state.db")}
    frozen = subprocess.run([str(prefix / "opt" / "venv" / "bin" / "python"), "-m", "pip", "freeze"],
                            capture_output=True, text=True, check=True).stdout.lower().splitlines()
    for pin in pins(os.path.join(REPO_ROOT, "agent", "requirements.txt")):
        assert re.sub(r"\[.*\]", "", pin).lower() in frozen  # pip freeze names psycopg[binary] psycopg (and psycopg-binary)


def test_the_zipapp_is_built_outside_the_read_only_collection_and_the_build_is_removed(installed):
    assert installed["collection_unchanged"]
    assert "signl4-agent-build." in installed["first"].stdout  # the private build directory, under TMPDIR
    assert list(installed["controller_tmp"].glob("signl4-agent-build.*")) == []


def test_second_run_changes_nothing(installed):
    assert changed(installed["second"]) == 0, installed["second"].stdout[-4000:]


def test_no_secret_in_the_output_at_vvv_with_diff(installed):
    output = installed["first"].stdout + installed["first"].stderr
    assert "agent.yml" in output  # the -vvv output is there, with the config task in it
    assert_no_secret(output)


def test_a_config_change_notifies_the_restart_handler(installed):
    variables = dict(installed["variables"], sync_agent_poll_interval=2)
    result = play(installed["prefix"], variables)
    assert changed(result) == 1
    assert "RUNNING HANDLER [signl4.connectwise.sync_agent : Restart the sync agent]" in result.stdout
    assert yaml.safe_load((installed["prefix"] / "etc" / "agent.yml").read_text())["poll_interval"] == 2
    assert "RUNNING HANDLER" not in play(installed["prefix"], variables).stdout  # nothing changed, no restart


HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "PrivateMounts=yes", "ProcSubset=pid",
             "MemoryDenyWriteExecute=yes", "Restart=on-failure")


def test_the_unit_is_hardened_bounded_and_systemd_accepts_it(installed):
    path = installed["prefix"] / "systemd" / "signl4-agent.service"
    unit = path.read_text()
    for directive in HARDENING + ("ReadWritePaths=%s" % (installed["prefix"] / "state"), "CapabilityBoundingSet=\n",
                                  "PrivateUsers=yes", "MemoryMax=512M\n", "TasksMax=64\n"):
        assert directive in unit
    verify_unit(path)


def render_unit(tmp_path, manage_server, signl4_server, **overrides):
    """The role's unit template rendered by ``ansible -m template`` with the role's variables and ``overrides``."""
    variables = role_vars(tmp_path, manage_server, signl4_server, **overrides)
    for name, value in yaml.safe_load((ROLE / "defaults" / "main.yml").read_text()).items():
        variables.setdefault(name, value)
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-m", "ansible.builtin.template",
         "-a", "src=%s dest=%s" % (ROLE / "templates" / "signl4-agent.service.j2", tmp_path / "unit"),
         "-e", json.dumps(dict(variables, sync_agent_venv="/opt/v", sync_agent_zipapp="/opt/a.pyz",
                               sync_agent_config_file="/etc/a.yml"))],
        env=dict(os.environ, ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0"),
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
    return (tmp_path / "unit").read_text()


def test_systemd_rates_the_default_unit_as_the_readme_says(tmp_path, manage_server, signl4_server):
    """1.1 ("OK") for the unit as the role writes it by default (the sandboxed install runs as the test's user)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd), so the unit cannot be rated here")
    render_unit(tmp_path, manage_server, signl4_server, sync_agent_user="signl4-agent", sync_agent_group="signl4-agent",
                sync_agent_state_dir="/var/lib/signl4-agent", sync_agent_listen_port=8080)
    unit = tmp_path / "signl4-agent.service"  # systemd-analyze wants the unit's name
    (tmp_path / "unit").rename(unit)
    rated = subprocess.run([analyze, "security", "--offline=true", "--threshold=11", "--no-pager", str(unit)],
                           capture_output=True, text=True, check=False)
    if "--offline" in rated.stderr or "--threshold" in rated.stderr:  # systemd before 250
        pytest.skip("this systemd-analyze cannot rate a unit file offline: %s" % rated.stderr.strip())
    exposed = [line for line in rated.stdout.splitlines() if line.startswith("\u2717")]
    assert rated.returncode == 0, "\n".join(exposed) + rated.stdout[-200:] + rated.stderr


def test_the_unit_under_var_lib_uses_state_directory(tmp_path, manage_server, signl4_server):
    unit = render_unit(tmp_path, manage_server, signl4_server, sync_agent_state_dir="/var/lib/signl4-agent")
    assert "StateDirectory=signl4-agent\nStateDirectoryMode=0700\n" in unit and "ReadWritePaths" not in unit


def test_the_unit_bounds_are_variables_and_a_low_port_keeps_the_host_user_namespace(tmp_path, manage_server, signl4_server):
    unit = render_unit(tmp_path, manage_server, signl4_server, sync_agent_memory_max="1G", sync_agent_tasks_max=32,
                       sync_agent_listen_port=443)
    assert "MemoryMax=1G\n" in unit and "TasksMax=32\n" in unit
    assert "AmbientCapabilities=CAP_NET_BIND_SERVICE" in unit and "PrivateUsers" not in unit
    assert all(directive in unit for directive in HARDENING)


def test_the_installed_agent_runs_one_cycle_against_the_emulators(installed, manage, signl4):
    """Its first start pages none of the seed's old tickets; a ticket entered after it pages."""
    support.provision(manage)
    prefix = installed["prefix"]
    assert run_agent(prefix, prefix, "once")["ok"] is True
    assert support.alerts(signl4) == []
    with support.manage_client(manage) as client:
        ticket = support.new_ticket(client)
    assert run_agent(prefix, prefix, "once")["ok"] is True
    assert len(support.alerts(signl4, ticket["id"])) == 1 and len(support.alerts(signl4)) == 1


def pins(path):
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip() and not line.startswith("#")]


def test_the_roles_requirements_are_the_agents():
    assert pins(os.path.join(REPO_ROOT, "roles", "sync_agent", "files", "requirements.txt")) == \
        pins(os.path.join(REPO_ROOT, "agent", "requirements.txt"))


def test_check_mode_on_a_fresh_host_reports_changes_and_writes_nothing_there(tmp_path, manage_server, signl4_server):
    result = play(tmp_path, role_vars(tmp_path, manage_server, signl4_server), args=["--check", "--diff"])
    assert changed(result) > 0
    assert [p.name for p in tmp_path.iterdir() if p.name != "hosts.yml"] == []
    assert_no_secret(result.stdout + result.stderr)


# ----- the PostgreSQL store, tenants, several agents --------------------------------------------------

DB_PASSWORD = "pg-secret-'quote' and space\\9f3"  # a quote, a space and a backslash: no DSN may carry it
TENANT_SECRETS = ("tenant-b-private-key", "tenant-b-api-key", "tenant-b-team-secret", "tenant-b-webhook-0123456789",
                  "tenant-b-callback-0123456789")
CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n"


def tenants():
    """Two tenants: ``a`` with the top level's keys and tokens, ``b`` with its own, and a setting of its own."""
    return [{"id": "tenant-a"},
            {"id": "tenant-b",
             "manage": {"company_id": "tenantb", "public_key": "tenant-b-public", "private_key": TENANT_SECRETS[0]},
             "signl4": {"api_key": TENANT_SECRETS[1], "team_secret": TENANT_SECRETS[2], "acting_user": "noc@b.example"},
             "listen": {"webhook_token": TENANT_SECRETS[3], "callback_token": TENANT_SECRETS[4]},
             "filters": {"boards": ["Network Operations"]}, "poll_interval": 60}]


def postgresql_vars(prefix, manage_server, signl4_server, **overrides):
    ca = prefix.parent / ("%s-ca.pem" % prefix.name)
    ca.write_text(CA_PEM)
    settings = dict(sync_agent_store="postgresql", sync_agent_db_host="127.0.0.1", sync_agent_db_port=6543,
                    sync_agent_db_password=DB_PASSWORD, sync_agent_db_sslrootcert_src=str(ca),
                    sync_agent_db_options={"application_name": "signl4 agent a", "connect_timeout": 5},
                    sync_agent_node_id="agent-a", sync_agent_lease_seconds=7, sync_agent_tenants=tenants())
    return role_vars(prefix, manage_server, signl4_server, **dict(settings, **overrides))


@pytest.fixture(scope="module")
def postgresql_installed(tmp_path_factory, manage_server, signl4_server):
    """The role in PostgreSQL mode with two tenants, at -vvv with --diff, then again (converged)."""
    prefix = tmp_path_factory.mktemp("sync-agent-pg")
    variables = postgresql_vars(prefix, manage_server, signl4_server)
    runs = [play(prefix, variables, args=args) for args in (["-vvv", "--diff"], [])]
    return dict(prefix=prefix, variables=variables, first=runs[0], second=runs[1],
                config=yaml.safe_load((prefix / "etc" / "agent.yml").read_text()))


def test_postgresql_mode_writes_the_dsn_lease_node_and_tenants(postgresql_installed):
    prefix, config = postgresql_installed["prefix"], postgresql_installed["config"]
    assert config["state"] == {
        "dsn": "host=127.0.0.1 port=6543 dbname=signl4 user=signl4 sslmode=verify-full sslrootcert=%s "
               "application_name='signl4 agent a' connect_timeout=5" % (prefix / "etc" / "postgresql-root.crt"),
        "password_file": str(prefix / "etc" / "db.password"), "lease_seconds": 7}
    assert config["node"] == {"id": "agent-a"}
    assert config["tenants"] == tenants()
    # the top level holds what the tenants share: today's single-tenant keys
    assert config["manage"]["company_id"] == "signl4demo" and config["listen"]["webhook_token"] == support.WEBHOOK_TOKEN
    assert mode(prefix / "etc" / "postgresql-root.crt") == 0o644
    assert (prefix / "etc" / "postgresql-root.crt").read_text() == CA_PEM
    assert changed(postgresql_installed["second"]) == 0, postgresql_installed["second"].stdout[-4000:]


def test_the_dsn_reads_back_as_its_parts_in_libpq(postgresql_installed):
    """libpq's own parser (through psycopg) reads the DSN the role wrote: the quoted value stays one value."""
    conninfo = pytest.importorskip("psycopg.conninfo")
    parts = conninfo.conninfo_to_dict(postgresql_installed["config"]["state"]["dsn"])
    assert parts == {"host": "127.0.0.1", "port": "6543", "dbname": "signl4", "user": "signl4", "sslmode": "verify-full",
                     "sslrootcert": str(postgresql_installed["prefix"] / "etc" / "postgresql-root.crt"),
                     "application_name": "signl4 agent a", "connect_timeout": "5"}


def test_the_database_password_is_only_in_its_0600_file(postgresql_installed):
    prefix = postgresql_installed["prefix"]
    password_file = prefix / "etc" / "db.password"
    assert password_file.read_text() == DB_PASSWORD
    assert mode(password_file) == 0o600 and os.stat(password_file).st_uid == os.getuid()
    assert DB_PASSWORD not in (prefix / "etc" / "agent.yml").read_text()
    output = "".join(run.stdout + run.stderr for run in (postgresql_installed["first"], postgresql_installed["second"]))
    assert "TASK [signl4.connectwise.sync_agent : The database password" in output  # the -vvv output, with that task
    assert_no_secret(output, (DB_PASSWORD, "pg-secret") + TENANT_SECRETS + SECRETS)


def test_the_unit_in_postgresql_mode_is_the_hardened_one(postgresql_installed):
    unit = (postgresql_installed["prefix"] / "systemd" / "signl4-agent.service").read_text()
    assert all(directive in unit for directive in HARDENING)
    assert "TasksMax=66\n" in unit  # a thread for each of the two tenants it may have to drive
    verify_unit(postgresql_installed["prefix"] / "systemd" / "signl4-agent.service")


def failed_play(prefix, variables):
    result = site_yml(write_inventory(prefix, variables), ["--check"], timeout=300)
    assert result.returncode != 0, result.stdout[-3000:]
    return result.stdout + result.stderr


@pytest.mark.parametrize("overrides, message", [
    (dict(sync_agent_tenants=[{"id": "Tenant_A"}, {"id": "b"}]), "found ['Tenant_A', 'b']"),
    (dict(sync_agent_tenants=[{"id": "a"}, {"id": "a"}]), "found ['a', 'a']"),
    (dict(sync_agent_tenants=[{"id": "a"}, {"manage": {}}]), "found ['a', '']"),
    (dict(sync_agent_tenants=[{"id": "a", "listen": {"webhook_token": "short/secret-x"}}]), "Each tenant needs a webhook token"),
    (dict(sync_agent_db_password=""), "sync_agent_store=postgresql needs sync_agent_db_host and sync_agent_db_password"),
    (dict(sync_agent_node_id="agent a"), 'it is "agent a"'),
    (dict(sync_agent_db_options={"password": "pg-secret-in-options"}), "none of host, hostaddr, port, dbname, user, password"),
    (dict(sync_agent_tenants=[], sync_agent_manage_url=""), "Without sync_agent_tenants, sync_agent_manage_url"),
])
def test_bad_tenants_and_database_settings_fail_before_anything_is_written(tmp_path, manage_server, signl4_server, overrides,
                                                                           message):
    output = failed_play(tmp_path, postgresql_vars(tmp_path, manage_server, signl4_server, **overrides))
    assert message in output, output[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hosts.yml"]
    assert_no_secret(output, ("short/secret-x", "pg-secret") + TENANT_SECRETS)


def test_the_sqlite_store_removes_a_database_password_left_behind(postgresql_installed):
    variables = dict(postgresql_installed["variables"], sync_agent_store="sqlite", sync_agent_tenants=[])
    prefix = postgresql_installed["prefix"]
    play(prefix, variables)
    config = yaml.safe_load((prefix / "etc" / "agent.yml").read_text())
    assert not (prefix / "etc" / "db.password").exists()
    assert config["state"] == {"path": str(prefix / "state" / "state.db")} and "node" not in config and "tenants" not in config


EXAMPLE = os.path.join(REPO_ROOT, "playbooks", "inventory", "example")
EXAMPLE_AGENTS = ("sync-a.contoso-msp.com", "sync-b.contoso-msp.com")


@pytest.fixture(scope="module")
def example_installed(tmp_path_factory):
    """site.yml's agent play over the example inventory's two agent hosts, each into its own sandbox (one
    virtualenv and zipapp shared), at -vvv: the inventory as documented, only connection and paths overridden."""
    prefix = tmp_path_factory.mktemp("example-agents")
    zipapp = build_zipapp(str(prefix / "signl4-agent.pyz"))
    host_dir = str(prefix) + "/{{ inventory_hostname }}"
    overrides = dict(
        SANDBOX, sync_agent_install_dir=str(prefix / "opt"), sync_agent_zipapp_src=zipapp, sync_agent_python=sys.executable,
        sync_agent_config_dir=host_dir + "/etc", sync_agent_state_dir=host_dir + "/state",
        sync_agent_unit_dir=host_dir + "/systemd")
    result = site_yml(EXAMPLE, ["--limit", "agent_hosts", "-e", json.dumps(overrides), "-vvv"], timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return dict(prefix=prefix, result=result, configs={
        host: yaml.safe_load((prefix / host / "etc" / "agent.yml").read_text()) for host in EXAMPLE_AGENTS})


def vault_values(path):
    return yaml.safe_load(pathlib.Path(EXAMPLE, path).read_text())


def test_the_example_inventory_installs_two_agents_on_one_database(example_installed):
    a, b = (example_installed["configs"][host] for host in EXAMPLE_AGENTS)
    assert (a["state"]["dsn"], a["state"]["lease_seconds"]) == (b["state"]["dsn"], 10) and a["state"]["dsn"] == (
        "host=pg.contoso-msp.com port=5432 dbname=signl4 user=signl4 sslmode=verify-full "
        "sslrootcert=/etc/ssl/certs/contoso-msp-root-ca.pem")
    assert (a["node"], b["node"]) == ({"id": EXAMPLE_AGENTS[0]}, {"id": EXAMPLE_AGENTS[1]})
    assert a["tenants"] == b["tenants"] and [t["id"] for t in a["tenants"]] == ["fabrikam", "northwind"]
    for tenant in a["tenants"]:
        vault = vault_values("host_vars/%s/vault.yml" % tenant["id"])
        assert tenant["listen"] == {"webhook_token": vault["vault_agent_webhook_token"],
                                    "callback_token": vault["vault_agent_callback_token"]}
        assert tenant["signl4"]["team_secret"] == vault["vault_signl4_team_secret"]
        integration = yaml.safe_load(pathlib.Path(EXAMPLE, "host_vars", tenant["id"], "main.yml").read_text())
        assert integration["integration_agent_url"].endswith("/t/%s" % tenant["id"])  # the tenant's paths on the agents
    password = vault_values("group_vars/agent_hosts/vault.yml")["vault_sync_agent_db_password"]
    for host in EXAMPLE_AGENTS:
        password_file = example_installed["prefix"] / host / "etc" / "db.password"
        assert password_file.read_text() == password and mode(password_file) == 0o600


def test_the_example_inventory_leaks_no_secret_at_vvv(example_installed):
    output = example_installed["result"].stdout + example_installed["result"].stderr
    secrets = [vault_values("group_vars/agent_hosts/vault.yml")["vault_sync_agent_db_password"]]
    for tenant in ("fabrikam", "northwind"):
        vault = vault_values("host_vars/%s/vault.yml" % tenant)
        secrets += [vault[key] for key in ("vault_agent_webhook_token", "vault_agent_callback_token",
                                           "vault_signl4_team_secret", "vault_signl4_api_key")]
    assert_no_secret(output, secrets)


def test_site_yml_rolls_the_agents_out_one_host_at_a_time(example_installed):
    """serial: 1 - every task of the first agent host (its restart and /healthz wait included) before any task of
    the second, so a rolling restart never has both agents down."""
    lines = example_installed["result"].stdout.splitlines()
    first = [n for n, line in enumerate(lines) if "[%s]" % EXAMPLE_AGENTS[0] in line]
    second = [n for n, line in enumerate(lines) if "[%s]" % EXAMPLE_AGENTS[1] in line]
    assert first and second and max(first) < min(second)


def test_the_installed_agent_runs_a_cycle_on_postgresql_with_its_password_file(tmp_path, manage, signl4):
    """The role's PostgreSQL mode end to end: its virtualenv has the driver, its DSN and password file reach a real
    server (a throwaway cluster), and the agent's first start (it records the cut-off) and a cycle work."""
    postgres = pytest.importorskip("tests.support.postgres")
    try:
        cluster = postgres.Cluster().start()
    except postgres.Unavailable as exc:
        pytest.skip("no PostgreSQL server binaries here (make test-ha needs them): %s" % exc)
    try:
        dbname = cluster.database("role")
        support.provision(manage)
        variables = role_vars(tmp_path, manage, signl4, sync_agent_store="postgresql", sync_agent_db_host="127.0.0.1",
                              sync_agent_db_port=cluster.port, sync_agent_db_name=dbname,
                              sync_agent_db_user=postgres.SUPERUSER, sync_agent_db_password=postgres.PASSWORD,
                              sync_agent_db_sslmode="disable", sync_agent_node_id="role-test")
        play(tmp_path, variables)
        assert run_agent(tmp_path, tmp_path, "once", secrets=[postgres.PASSWORD])["ok"] is True
        with support.manage_client(manage) as client:
            ticket = support.new_ticket(client)
        assert run_agent(tmp_path, tmp_path, "once", secrets=[postgres.PASSWORD])["ok"] is True
        assert len(support.alerts(signl4, ticket["id"])) == 1
        assert cluster.sql("SELECT count(*) FROM tickets WHERE ticket_id = %d" % ticket["id"], dbname) == "1"
    finally:
        cluster.destroy()


# ----- routes, escalations, notes to SIGNL4 ------------------------------------------------------------------

ROUTE_SECRETS = ("netops42", "Tenant-B-route-secret-77")  # the emulator's second team's, and one more


def integration_routes():
    """A tenant's integration_routes as the integration role takes them: agent routes plus `team`."""
    return [{"name": "network", "team": "Network Operations", "company": "AdventureWorks", "team_secret": ROUTE_SECRETS[0],
             "service": "ConnectWise", "alerting_scenario": "emergency"},
            {"name": "urgent", "priority": ["Priority 1 - Emergency Response", "Priority 2 - Quick Response"]}]


def play_with_tenant(prefix, variables, tenant_vars, args=()):
    """site.yml's agent play with a Manage tenant of the integration role in the inventory (its play is left out:
    --limit), whose variables the agent's routes may default to."""
    return site_yml(write_inventory(prefix, variables, tenant_vars), ["--limit", HOST] + list(args))


def test_the_tenants_integration_routes_reach_the_agent_which_raises_in_the_routes_team(installed, tmp_path, manage, signl4):
    """site.yml: the Manage tenant's integration_routes (the host with the agent's webhook token) become the agent's
    routes without `team`; escalations and notes to SIGNL4 as set; no route secret in the -vvv --diff output; the
    installed agent accepts the file and raises a routed ticket's Signl in the second team."""
    support.provision(manage)
    variables = role_vars(tmp_path, manage, signl4, sync_agent_install_dir=str(installed["prefix"] / "opt"),
                          sync_agent_escalations_enabled=True, sync_agent_escalations_unacknowledged_after=900,
                          sync_agent_escalations_priority="Priority 1 - Emergency Response",
                          sync_agent_notes_to_signl4_enabled=True, sync_agent_notes_to_signl4_note_types=["discussion", "internal"],
                          sync_agent_signl4_service="ConnectWise", sync_agent_signl4_alerting_scenario="single_ack")
    tenant = dict(integration_signl4_sync_mode="agent", integration_agent_webhook_token=support.WEBHOOK_TOKEN,
                  integration_routes=integration_routes())
    result = play_with_tenant(tmp_path, variables, tenant, args=["-vvv", "--diff"])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert_no_secret(result.stdout + result.stderr, ROUTE_SECRETS[:1] + SECRETS)
    config = yaml.safe_load((tmp_path / "etc" / "agent.yml").read_text())
    assert config["routes"] == [{key: value for key, value in route.items() if key != "team"} for route in integration_routes()]
    assert config["escalations"] == {"enabled": True, "unacknowledged_after": 900, "note": True,
                                     "priority": "Priority 1 - Emergency Response", "detail_description": False,
                                     "internal_analysis": True, "resolution": False, "process_notifications": False}
    assert config["notes"] == {"to_signl4": {"enabled": True, "note_types": ["discussion", "internal"]}}
    assert (config["signl4"]["service"], config["signl4"]["alerting_scenario"]) == ("ConnectWise", "single_ack")

    def agent(command):
        return run_agent(installed["prefix"], tmp_path, command, secrets=ROUTE_SECRETS[:1] + SECRETS)

    checked = agent("check-config")
    assert checked["ok"] and checked["signl4"]["routes"] == ["network", "urgent", "default"], checked
    assert {"Service Desk", "Network Operations"} <= set(checked["signl4"]["acting_user_teams"])
    assert checked["manage"]["escalation_priority"], checked  # the priority's id: the name was found in Manage
    agent("once")  # the first start records its cut-off
    with support.manage_client(manage) as client:
        routed = support.new_ticket(client, summary="Core switch down", company="AdventureWorks")
        unrouted = support.new_ticket(client, summary="Printer jam")
    agent("once")
    teams = {alert["externalId"]: alert["teamId"] for alert in support.alerts(signl4)}
    assert teams == {str(routed["id"]): SECOND_TEAM_ID, str(unrouted["id"]): DEFAULT_TEAM_ID}


def test_routes_per_tenant_in_postgresql_mode_are_what_the_agent_accepts(installed, tmp_path, manage_server, signl4_server):
    """Several tenants: an entry's own routes (checked, `team` dropped), an entry without routes taking the
    integration_routes of the host with its webhook token, one with neither keeping the top level's; the file as
    the installed agent's own parser reads it at start."""
    own = [{"name": "b-network", "team": "Network Operations", "board": "Network Operations",
            "team_secret": ROUTE_SECRETS[1]}]
    entries = [{"id": "tenant-a"},
               dict(tenants()[1], routes=own),
               {"id": "tenant-c", "listen": {"webhook_token": "tenant-c-webhook-0123456789"}}]
    variables = postgresql_vars(tmp_path, manage_server, signl4_server, sync_agent_tenants=entries,
                                sync_agent_install_dir=str(installed["prefix"] / "opt"),
                                sync_agent_routes=[{"name": "shared", "type": "Incident"}])
    tenant = dict(integration_signl4_sync_mode="agent", integration_agent_webhook_token="tenant-c-webhook-0123456789",
                  integration_routes=integration_routes())
    result = play_with_tenant(tmp_path, variables, tenant, args=["-vvv", "--diff"])
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert_no_secret(result.stdout + result.stderr, ROUTE_SECRETS + TENANT_SECRETS + (DB_PASSWORD,))
    path = tmp_path / "etc" / "agent.yml"
    config = yaml.safe_load(path.read_text())
    assert config["routes"] == [{"name": "shared", "type": "Incident"}]
    assert [tenant.get("routes") for tenant in config["tenants"]] == [
        None, [{key: value for key, value in own[0].items() if key != "team"}],
        [{key: value for key, value in route.items() if key != "team"} for route in integration_routes()]]
    python, zipapp = installed_python(installed["prefix"])
    parsed = subprocess.run([python, "-c", (
        "import json, sys; sys.path.insert(0, sys.argv[1]); from signl4_agent import config\n"
        "loaded = config.load(sys.argv[2], env={})\n"
        "print(json.dumps({t['id']: [r['name'] for r in t['routes']] for t in loaded['tenants']}))"),
        zipapp, str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert parsed.returncode == 0, parsed.stderr[-3000:]
    assert json.loads(parsed.stdout) == {"tenant-a": ["shared"], "tenant-b": ["b-network"], "tenant-c": ["network", "urgent"]}


BAD_ROUTE = {"name": "n", "team_secret": ROUTE_SECRETS[1]}


@pytest.mark.parametrize("overrides, tenant_routes, message", [
    (dict(sync_agent_routes=[dict(BAD_ROUTE, name="default")]), None, "sync_agent_routes[0].name: required"),
    (dict(sync_agent_routes=[BAD_ROUTE, BAD_ROUTE]), None, "sync_agent_routes[1].name: n is the name of an earlier route"),
    (dict(sync_agent_routes=[dict(BAD_ROUTE, board=[])]), None,
     "sync_agent_routes[0].board: expected a name or a non-empty list of names"),
    (dict(sync_agent_routes=[dict(BAD_ROUTE, company=["Contoso", " "])]), None, "sync_agent_routes[0].company: expected a name"),
    (dict(sync_agent_routes=[dict(BAD_ROUTE, colour="red")]), None, "sync_agent_routes.colour"),
    (dict(sync_agent_routes=[dict(BAD_ROUTE, alerting_scenario="loud")]), None, "found in sync_agent_routes"),
    (dict(sync_agent_routes=[dict(BAD_ROUTE, team_secret_env="1-NOT-A-NAME")]), None,
     "sync_agent_routes[0].team_secret_env: expected the name of an environment variable"),
    (dict(sync_agent_tenants=[{"id": "a", "routes": [dict(BAD_ROUTE, status=5)]}]), None,
     "sync_agent_tenants[0].routes[0].status: expected a name or a non-empty list of names"),
    (dict(sync_agent_tenants=[{"id": "a", "routes": "network"}]), None, "sync_agent_tenants[0].routes: expected a list of routes"),
    ({}, [dict(BAD_ROUTE, team="")], "integration_routes of %s (sync_agent_routes)[0].team: expected a non-empty string" % TENANT_HOST),
    (dict(sync_agent_tenants=[{"id": "a", "listen": {"webhook_token": "tenant-a-webhook-0123456789"}}]), [dict(BAD_ROUTE, board=7)],
     "integration_routes of %s (for sync_agent_tenants[0])[0].board" % TENANT_HOST),
    (dict(sync_agent_escalations_enabled=True, sync_agent_escalations_note=False), None,
     "sync_agent_escalations_note false needs a sync_agent_escalations_priority"),
    (dict(sync_agent_escalations_unacknowledged_after=2592001), None, "sync_agent_escalations_unacknowledged_after is 0 (off)"),
    (dict(sync_agent_escalations_internal_analysis=False), None, "sync_agent_escalations_note needs one of"),
    (dict(sync_agent_notes_to_signl4_note_types=[]), None, "sync_agent_notes_to_signl4_note_types names at least one"),
    (dict(sync_agent_notes_to_signl4_note_types=["discussion", "timeentry"]), None, "sync_agent_notes_to_signl4_note_types"),
])
def test_a_bad_route_or_setting_fails_before_anything_is_written_naming_the_variable(
        tmp_path, manage_server, signl4_server, overrides, tenant_routes, message):
    tenant = dict(integration_agent_webhook_token="tenant-a-webhook-0123456789" if "sync_agent_tenants" in overrides
                  else support.WEBHOOK_TOKEN, integration_routes=tenant_routes or [])
    result = play_with_tenant(tmp_path, role_vars(tmp_path, manage_server, signl4_server, **overrides), tenant, args=["--check"])
    output = result.stdout + result.stderr
    assert result.returncode != 0 and message in output, output[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hosts.yml"]
    assert_no_secret(output, ROUTE_SECRETS + SECRETS)
