"""Malformed configuration -> a clear error naming the key; secrets from files and the environment."""

import pytest
import yaml

from signl4_agent import config as config_module
from signl4_agent.config import ConfigError, validate


def minimal(**overrides):
    raw = {"manage": dict(url="https://na.myconnectwise.net", company_id="contoso", public_key="pub",
                          private_key="priv", client_id="00000000-0000-4000-8000-000000000001"),
           "signl4": dict(api_key="key", team_secret="secret", acting_user="ops@example.com"),
           "listen": dict(webhook_token="0123456789abcdef0123"),
           "state": dict(path="/tmp/state.db")}
    for key, value in overrides.items():
        section, name = key.split("__", 1) if "__" in key else (key, "")
        if name:
            raw.setdefault(section, {})[name] = value
        else:
            raw[section] = value
    return raw


def test_defaults_mirror_the_connector_app():
    config = validate(minimal(), env={})
    assert config["workflows"] == {"trigger": "SIGNL4 - Trigger Signls", "update_signls": "SIGNL4 - Update Signls",
                                   "update_tickets": "SIGNL4 - Update CW Tickets"}
    assert config["custom_fields"] == {"retrieved": "Signl4Retrieved_c", "status": "Signl4Status_c", "user": "Signl4User_c"}
    assert config["status_mappings"] == dict(manage_acknowledge=True, manage_close=True, signl4_acknowledge=True,
                                             signl4_close=True)
    assert (config["owner_assignment"], config["reopen"], config["poll_interval"]) == ("acknowledge", "new_signl", 30.0)
    assert config["signl4"]["api_url"] == "https://connect.signl4.com/api"
    assert config["stale_after"] == 120.0
    assert (config["listen"]["header_timeout"], config["listen"]["body_timeout"], config["listen"]["max_connections"]) \
        == (10.0, 30.0, 500)


@pytest.mark.parametrize("overrides, message", [
    (dict(manage__url=None), "manage.url: required"),
    (dict(manage__private_key=None), "manage.private_key: required (or private_key_file, or the environment variable CW_PRIVATE_KEY)"),
    (dict(manage__url="na.myconnectwise.net"), "manage.url: must start with http:// or https://"),
    (dict(manage__timeout="fast"), "manage.timeout: expected float, got str"),
    (dict(manage__colour="blue"), "manage.colour: unknown key"),
    (dict(signl4__plan="gold"), "signl4.plan: 'gold' is not one of free, commercial"),
    (dict(signl4__poll_alerts="yes"), "signl4.poll_alerts: expected bool, got str"),
    (dict(owner_assignment="sometimes"), "owner_assignment: 'sometimes' is not one of never, acknowledge, close, both"),
    (dict(reopen="maybe"), "reopen: 'maybe' is not one of new_signl, reopen, ignore"),
    (dict(details=["company", "weather"]), "details: unknown value(s) weather"),
    (dict(details="company"), "details: expected list, got str"),
    (dict(poll_interval=0), "poll_interval: must be at least 1 second"),
    (dict(poll_interval=True), "poll_interval: expected float, got bool"),
    (dict(listen__port=70000), "listen.port: must be between 0"),
    (dict(listen__port="80"), "listen.port: expected int, got str"),
    (dict(listen__webhook_token="short"), "listen.webhook_token: must be at least 16 characters"),
    (dict(listen__header_timeout=0), "listen.header_timeout: must be between 1 and 300 seconds"),
    (dict(listen__header_timeout=301), "listen.header_timeout: must be between 1 and 300 seconds"),
    (dict(listen__header_timeout="10"), "listen.header_timeout: expected float, got str"),
    (dict(listen__header_timeout=20, listen__body_timeout=15), "listen.body_timeout: must be at least listen.header_timeout"),
    (dict(listen__body_timeout=3601), "listen.body_timeout: must be at least listen.header_timeout and at most 3600"),
    (dict(listen__max_connections=9), "listen.max_connections: must be between 10 and 10000"),
    (dict(listen__max_connections=10001), "listen.max_connections: must be between 10 and 10000"),
    (dict(listen__max_connections=1.5), "listen.max_connections: expected int, got float"),
    (dict(filters__boards=[1]), "filters.boards: expected a list of names"),
    (dict(status_mappings__signl4_close="no"), "status_mappings.signl4_close: expected bool, got str"),
    (dict(notes__internal_analysis=False), "notes: at least one of"),
    (dict(workflows=["a"]), "workflows: expected a mapping"),
    (dict(colour="blue"), "colour: unknown key"),
    (dict(state__path=None), "state.path: required"),
])
def test_malformed_config_names_the_key(overrides, message):
    with pytest.raises(ConfigError) as caught:
        validate(minimal(**overrides), env={})
    assert message in str(caught.value)


def test_not_a_mapping():
    with pytest.raises(ConfigError, match=r"\(top level\): expected a mapping"):
        validate(["manage"], env={})


def test_secrets_from_files_and_environment(tmp_path):
    key_file = tmp_path / "cw.key"
    key_file.write_text("from-file\n")
    raw = minimal(manage__private_key=None, signl4__api_key=None)
    raw["manage"]["private_key_file"] = str(key_file)
    config = validate(raw, env={"SIGNL4_API_KEY": "from-env"})
    assert config["manage"]["private_key"] == "from-file"
    assert config["signl4"]["api_key"] == "from-env"
    assert "from-file" in config_module.secrets(config) and "from-env" in config_module.secrets(config)
    raw["manage"]["private_key_file"] = str(tmp_path / "missing")
    with pytest.raises(ConfigError, match="manage.private_key_file: cannot read"):
        validate(raw, env={})


def test_load_reports_yaml_errors(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("manage: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        config_module.load(str(path), env={})
    with pytest.raises(ConfigError, match="cannot read"):
        config_module.load(str(tmp_path / "none.yml"), env={})


@pytest.mark.parametrize("written, seconds", [
    (None, "first_start"),
    ("first_start", "first_start"),
    ('"2026-01-31T08:00:00Z"', 1769846400.0),
    ("2026-01-31T08:00:00Z", 1769846400.0),  # YAML reads it as a datetime
    ("2026-01-31T10:00:00+02:00", 1769846400.0),
    ('"2026-01-31T08:00:00"', 1769846400.0),  # no offset: UTC
    ("2026-01-31 08:00:00", 1769846400.0),
    ("2026-01-31", 1769817600.0),  # YAML reads it as a date: midnight UTC
    ('"2026-01-31"', 1769817600.0),
])
def test_entered_after_takes_first_start_or_a_moment(tmp_path, written, seconds):
    path = tmp_path / "agent.yml"
    text = yaml.safe_dump(minimal())
    path.write_text(text + ("filters: {entered_after: %s}\n" % written if written is not None else ""))
    assert config_module.load(str(path), env={})["filters"]["entered_after"] == seconds


@pytest.mark.parametrize("value", ["yesterday", "first start", 1769846400, True, "2026-13-01T00:00:00Z",
                                   "2026-01-31T08:00", ["2026-01-31"]])
def test_entered_after_refuses_anything_else(value):
    with pytest.raises(ConfigError) as caught:
        validate(minimal(filters={"entered_after": value}), env={})
    assert str(caught.value) == ("filters.entered_after: expected first_start or a date and time such as "
                                 "2026-01-31T08:00:00Z (UTC unless an offset is given)")


URL_SAFE_ERROR = "must be at least 16 characters, each a letter, a digit or one of - . _ ~"


@pytest.mark.parametrize("token", [
    "\u00e9t\u00e9-token-0123456789",  # non-ASCII: a sender percent-encodes it, the path never matches
    "token-0123456789?x", "token-0123456789#x", "token-01234567/89", "token 0123456789ab", "token%200123456789",
    "token+0123456789ab", "token-0123456789\u00a0",
])
@pytest.mark.parametrize("key", ["webhook_token", "callback_token"])
def test_a_token_that_cannot_be_a_url_path_segment_as_is_is_refused_without_showing_it(key, token):
    with pytest.raises(ConfigError) as caught:
        validate(minimal(**{"listen__" + key: token}), env={})
    assert str(caught.value).startswith("listen.%s: %s" % (key, URL_SAFE_ERROR))
    assert token not in str(caught.value)


def test_a_token_from_the_environment_is_checked_the_same_way():
    raw = minimal()
    del raw["listen"]["webhook_token"]
    with pytest.raises(ConfigError, match="listen.webhook_token: " + URL_SAFE_ERROR):
        validate(raw, env={"SIGNL4_AGENT_WEBHOOK_TOKEN": "from-the-env?0123456789"})
    assert validate(raw, env={"SIGNL4_AGENT_WEBHOOK_TOKEN": "Az09-._~Az09-._~"})["listen"]["webhook_token"] == "Az09-._~Az09-._~"


# ----- tenants, the PostgreSQL store, the node id -------------------------------------------------

def with_tenants(*entries, **overrides):
    raw = minimal(**overrides)
    raw["tenants"] = list(entries)
    return raw


def test_todays_file_is_the_tenant_default():
    config = validate(minimal(), env={})
    assert config["tenanted"] is False and [tenant["id"] for tenant in config["tenants"]] == ["default"]
    assert config["tenants"][0]["manage"] == config["manage"] and config["node"]["id"]


def test_a_tenant_entry_overrides_the_top_level_key_by_key():
    config = validate(with_tenants(
        dict(id="contoso", manage=dict(company_id="contoso-2"), poll_interval=60),
        dict(id="fabrikam", manage=dict(public_key="fab-pub"),
             listen=dict(webhook_token="fabrikam-token-0123456789"))), env={})
    contoso, fabrikam = config["tenants"]
    assert (contoso["manage"]["company_id"], contoso["manage"]["public_key"], contoso["poll_interval"]) == \
        ("contoso-2", "pub", 60.0)
    assert (fabrikam["manage"]["company_id"], fabrikam["poll_interval"]) == ("contoso", 30.0)
    assert fabrikam["listen"]["webhook_token"] == "fabrikam-token-0123456789"
    assert contoso["listen"]["webhook_token"] == "0123456789abcdef0123" and contoso["listen"]["port"] == 8080
    assert config["tenanted"] is True and config["listen"]["webhook_token"] is None


def test_a_secret_a_tenant_gives_as_a_file_replaces_the_top_levels_value(tmp_path):
    key = tmp_path / "contoso.key"
    key.write_text("from-the-file\n")
    config = validate(with_tenants(dict(id="contoso", manage=dict(private_key_file=str(key)))), env={})
    assert config["tenants"][0]["manage"]["private_key"] == "from-the-file"


@pytest.mark.parametrize("raw, message", [
    (with_tenants(dict(id="ok"), dict(id="x", manage=dict(url="ftp://x"))), "tenants[1].manage.url: must start with http"),
    (with_tenants(dict(id="Contoso")), "tenants[0].id: required: 1 to 32 characters of a-z, 0-9 and -"),
    (with_tenants(dict(id="-x")), "tenants[0].id: required"),
    (with_tenants(dict(id="a" * 33)), "tenants[0].id: required"),
    (with_tenants(dict(manage={})), "tenants[0].id: required"),
    (with_tenants(dict(id="a"), dict(id="a")), "tenants[1].id: a is the id of an earlier tenant"),
    (with_tenants(dict(id="a", state=dict(path="/x"))), "tenants[0].state: the agent's setting, not a tenant's"),
    (with_tenants(dict(id="a", listen=dict(port=1))), "tenants[0].listen.port: a tenant sets only webhook_token"),
    (with_tenants(dict(id="a", colour="blue")), "tenants[0].colour: unknown key"),
    (with_tenants(dict(id="a"), manage__url="ftp://x"), "manage.url: must start with http"),  # wrong at the top level
    (with_tenants(dict(id="a", signl4=dict(api_key=None)), signl4__api_key=None), "tenants[0].signl4.api_key: required"),
    (dict(minimal(), tenants=[]), "tenants: expected a list of tenants"),
    (dict(minimal(), tenants=["a"]), "tenants[0]: expected a mapping"),
    (minimal(state=dict(path="/x", dsn="host=pg dbname=s")), "state: set path (the SQLite state file"),
    (minimal(state=dict()), "state.path: required (or state.dsn)"),
    (minimal(state=dict(dsn="host=pg dbname=s", lease_seconds=0.5)), "state.lease_seconds: must be at least 1"),
    (minimal(state=dict(path="/x", password="secret-pw")), "state.password: only with state.dsn"),
    (minimal(state=dict(dsn="host=pg password=hunter22 dbname")), "state.dsn: not a PostgreSQL connection string"),
    (minimal(state=dict(dsn="host=pg")), "state.dsn: must name the dbname"),
    (minimal(node=dict(id="agent a")), "node.id: 1 to 64 characters"),
])
def test_tenant_state_and_node_errors_name_the_key(raw, message):
    with pytest.raises(ConfigError) as caught:
        validate(raw, env={})
    assert str(caught.value).startswith(message), str(caught.value)
    assert "hunter22" not in str(caught.value)


def test_the_database_settings_and_their_secrets():
    config = validate(minimal(state=dict(dsn="host=pg dbname=signl4 user=s password=in-the-dsn", lease_seconds=3),
                              node=dict(id="agent-a")), env={"SIGNL4_AGENT_DB_PASSWORD": "from-the-env"})
    assert config["state"] == dict(path=None, dsn="host=pg dbname=signl4 user=s password=in-the-dsn",
                                   password="from-the-env", lease_seconds=3.0)
    assert {"from-the-env", "in-the-dsn"} <= set(config_module.secrets(config))
