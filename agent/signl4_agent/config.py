"""The agent's YAML configuration: parsed, defaulted and validated at start.

Every error names the key (``manage.url: required``) on one line and never shows a secret: values
are echoed only when they are short words, and every secret the file or the environment holds is
masked. Secrets may be written in the file, read from ``<key>_file`` (a path) or taken from an
environment variable (``SECRET_ENV``); the file wins over ``_file``, which wins over the environment.
"""

import logging
import math
import os
import re
import socket
import stat
from urllib.parse import urlsplit

import yaml
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import DEFAULT_API_VERSION
from ansible_collections.signl4.connectwise.plugins.module_utils.redaction import Redactor
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import ALERTING_SCENARIOS

from signl4_agent import cutoff, routing
from signl4_agent.constants import DEFAULT_TENANT, NOTE_TYPE_FLAGS

OWNER_ASSIGNMENT = ("never", "acknowledge", "close", "both")
REOPEN_POLICIES = ("new_signl", "reopen", "ignore")
DETAILS = ("notes", "tasks", "company", "contact", "priority", "board", "configurations")
PLANS = ("free", "commercial")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

# Secret keys and the environment variables that may hold them (the modules use the same names).
SECRET_ENV = {
    "manage.private_key": "CW_PRIVATE_KEY",
    "manage.public_key": "CW_PUBLIC_KEY",
    "signl4.api_key": "SIGNL4_API_KEY",
    "signl4.team_secret": "SIGNL4_TEAM_SECRET",
    "listen.webhook_token": "SIGNL4_AGENT_WEBHOOK_TOKEN",
    "listen.callback_token": "SIGNL4_AGENT_CALLBACK_TOKEN",
    "state.password": "SIGNL4_AGENT_DB_PASSWORD",
}
REQUIRED = object()
MAX_CONFIG_BYTES = 1024 * 1024
MAX_SECRET_BYTES = 64 * 1024
_ECHOABLE = re.compile(r"[A-Za-z][A-Za-z0-9 _.-]{0,23}")  # a mistyped choice, shown back; nothing longer
# RFC 3986's unreserved characters: a token made of them is the same in every URL spelling, so the path
# SIGNL4 or Manage requests always matches it (no percent-encoding, '/', '?' or '#' to get in between).
_URL_TOKEN = re.compile(r"[A-Za-z0-9._~-]{16,}")


class ConfigError(ValueError):
    """The configuration is wrong; the message names the key."""


def _schema():
    """``{section: {key: (type, default, choices)}}``; ``REQUIRED`` marks keys without a default."""
    return {
        "manage": dict(url=(str, REQUIRED, None), company_id=(str, REQUIRED, None), public_key=(str, REQUIRED, None),
                       private_key=(str, REQUIRED, None), client_id=(str, REQUIRED, None), codebase=(str, None, None),
                       api_version=(str, DEFAULT_API_VERSION, None), validate_certs=(bool, True, None),
                       timeout=(float, 30.0, None)),
        "signl4": dict(api_url=(str, "https://connect.signl4.com/api", None), api_key=(str, REQUIRED, None),
                       team_secret=(str, REQUIRED, None), acting_user=(str, REQUIRED, None),
                       plan=(str, "commercial", PLANS), validate_certs=(bool, True, None), timeout=(float, 30.0, None),
                       poll_alerts=(bool, False, None), source_system=(str, "ConnectWise", None),
                       service=(str, None, None), alerting_scenario=(str, None, ALERTING_SCENARIOS)),
        "workflows": dict(trigger=(str, "SIGNL4 - Trigger Signls", None),
                          update_signls=(str, "SIGNL4 - Update Signls", None),
                          update_tickets=(str, "SIGNL4 - Update CW Tickets", None)),
        "custom_fields": dict(retrieved=(str, "Signl4Retrieved_c", None), status=(str, "Signl4Status_c", None),
                              user=(str, "Signl4User_c", None)),
        "status_mappings": dict(manage_acknowledge=(bool, True, None), manage_close=(bool, True, None),
                                signl4_acknowledge=(bool, True, None), signl4_close=(bool, True, None)),
        "notes": dict(detail_description=(bool, False, None), internal_analysis=(bool, True, None),
                      resolution=(bool, False, None), process_notifications=(bool, False, None),
                      to_signl4=(dict, {}, None)),  # a mapping of its own: NOTES_TO_SIGNL4
        "filters": dict(boards=(list, [], None), priorities=(list, [], None),
                        entered_after=(object, cutoff.FIRST_START, None)),  # checked by cutoff.parse_setting
        "trigger_query": dict(conditions=(str, None, None), custom_field_conditions=(str, None, None)),
        "escalations": dict(enabled=(bool, False, None), unacknowledged_after=(float, None, None), note=(bool, True, None),
                            priority=(str, None, None), detail_description=(bool, False, None),
                            internal_analysis=(bool, True, None), resolution=(bool, False, None),
                            process_notifications=(bool, False, None)),
        "listen": dict(host=(str, "127.0.0.1", None), port=(int, 8080, None), webhook_token=(str, REQUIRED, None),
                       callback_token=(str, None, None), max_body_bytes=(int, 65536, None),
                       channel_timeout=(int, 10, None), header_timeout=(float, 10.0, None),
                       body_timeout=(float, 30.0, None), max_connections=(int, 500, None)),
        "state": dict(path=(str, None, None), dsn=(str, None, None), password=(str, None, None),
                      lease_seconds=(float, 10.0, None)),
        "node": dict(id=(str, None, None)),
        "logging": dict(level=(str, "INFO", LOG_LEVELS)),
    }


# ``notes.to_signl4``: ticket notes of these types (as Manage's UI names them) become annotations of the Signl.
NOTES_TO_SIGNL4 = dict(enabled=(bool, False, None), note_types=(list, ["discussion"], tuple(NOTE_TYPE_FLAGS)))

# Sections and keys that belong to the agent process, not to a tenant: a ``tenants:`` entry may not set them.
GLOBAL_SECTIONS = ("state", "node", "logging")
TENANT_LISTEN_KEYS = ("webhook_token", "callback_token")
TENANT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
NODE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


TOP_LEVEL = dict(owner_assignment=(str, "acknowledge", OWNER_ASSIGNMENT), reopen=(str, "new_signl", REOPEN_POLICIES),
                 details=(list, ["company", "contact", "priority", "board"], DETAILS), poll_interval=(float, 30.0, None),
                 stale_after=(float, None, None), routes=(list, [], None))


def _shown(value, quoted=True):
    """``value`` as an error message may show it: short words only (a pasted secret is not shown)."""
    if isinstance(value, str) and _ECHOABLE.fullmatch(value):
        return repr(value) if quoted else value
    return "the value given" if quoted else "(a value not shown)"


def _number(key, kind, value):
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            value = float(value)
        except OverflowError:
            raise ConfigError("%s: number out of range" % key)
    if kind is float and isinstance(value, float) and not math.isfinite(value):
        raise ConfigError("%s: must be a finite number" % key)
    return value


def _typed(key, kind, value, choices):
    value = _number(key, kind, value)
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError("%s: expected %s, got %s" % (key, kind.__name__, type(value).__name__))
    if choices and kind is list:
        bad = [item for item in value if not isinstance(item, str) or item not in choices]
        if bad:
            shown = ", ".join(_shown(item, quoted=False) for item in bad[:5])
            raise ConfigError("%s: unknown value(s) %s; choose from %s" % (key, shown, ", ".join(choices)))
    elif choices and value not in choices:
        raise ConfigError("%s: %s is not one of %s" % (key, _shown(value), ", ".join(choices)))
    if kind in (int, float) and value < 0:
        raise ConfigError("%s: must not be negative" % key)
    return value


def _secret_from_file(key, path):
    if not isinstance(path, str) or not path or "\0" in path:
        raise ConfigError("%s_file: expected a path" % key)
    try:
        with open(path, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise ConfigError("%s_file: %s is not a regular file" % (key, path))
            data = handle.read(MAX_SECRET_BYTES + 1)
    except OSError as exc:
        raise ConfigError("%s_file: cannot read %s (%s)" % (key, path, exc.strerror))
    if len(data) > MAX_SECRET_BYTES:
        raise ConfigError("%s_file: %s is larger than %d bytes" % (key, path, MAX_SECRET_BYTES))
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigError("%s_file: %s is not UTF-8 text" % (key, path))


def _value(key, section, name, spec, env):
    kind, default, choices = spec
    if name in section and section[name] is not None:
        return _typed(key, kind, section[name], choices)
    if name + "_file" in section:
        return _secret_from_file(key, section[name + "_file"])
    if key in SECRET_ENV and env.get(SECRET_ENV[key]):
        return env[SECRET_ENV[key]]
    if default is REQUIRED:
        hint = " (or %s_file, or the environment variable %s)" % (name, SECRET_ENV[key]) if key in SECRET_ENV else ""
        raise ConfigError("%s: required%s" % (key, hint))
    return list(default) if isinstance(default, list) else default


def _section(name, raw, specs, env):
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError("%s: expected a mapping" % name)
    known = set(specs) | set(key + "_file" for key in specs if "%s.%s" % (name, key) in SECRET_ENV)
    unknown = sorted(set(raw) - known, key=str)
    if unknown:
        raise ConfigError("%s.%s: unknown key; known: %s" % (name, _key_name(unknown[0]), ", ".join(sorted(known))))
    return dict((key, _value("%s.%s" % (name, key), raw, key, spec, env)) for key, spec in specs.items())


def _key_name(key):
    """An unknown key as an error names it: a string key cut to 40 characters, else its type."""
    return key[:40] if isinstance(key, str) else "(a %s key)" % type(key).__name__


def _secret_values(raw, env):
    """The secrets ``raw`` and ``env`` hold at their own keys: masked in every error message."""
    values = [env.get(name) for name in SECRET_ENV.values()]
    entries = raw.get("tenants") if isinstance(raw, dict) else None
    for holder_of_sections in [raw] + (entries if isinstance(entries, list) else []):
        for key in SECRET_ENV:
            section, name = key.split(".")
            holder = holder_of_sections.get(section) if isinstance(holder_of_sections, dict) else None
            if isinstance(holder, dict):
                values.append(holder.get(name))
        values.extend(_route_secret_values(holder_of_sections, env))
    state = raw.get("state") if isinstance(raw, dict) else None
    if isinstance(state, dict) and isinstance(state.get("dsn"), str):
        values.extend(_dsn_words(state["dsn"]))
    return [value for value in values if isinstance(value, str) and len(value) >= 4]


def _dsn_words(dsn):
    """What may be a password in a connection string that did not parse: each value after ``password=``
    and each ``user:password@`` (an error message masks them all)."""
    return re.findall(r"password\s*=\s*'?([^\s']+)", dsn) + re.findall(r"://[^:/@]*:([^@/]+)@", dsn)


def _masked(message, secrets):
    return Redactor(secrets).text(message)


def validate(raw, env=None):
    """A complete config dict from the parsed YAML ``raw``; raises :class:`ConfigError`."""
    env = os.environ if env is None else env
    try:
        return _validate(raw, env)
    except ConfigError as exc:
        raise ConfigError(_masked(" ".join(str(exc).split()), _secret_values(raw, env))) from None


def _validate(raw, env):
    if not isinstance(raw, dict):
        raise ConfigError("(top level): expected a mapping of sections")
    schema = _schema()
    known = set(schema) | set(TOP_LEVEL) | {"tenants"}
    unknown = sorted(set(raw) - known, key=str)
    if unknown:
        raise ConfigError("%s: unknown key; known: %s" % (_key_name(unknown[0]), ", ".join(sorted(known))))
    if "tenants" not in raw:
        # Today's file: the whole of it is the tenant "default", served at the paths without a tenant too.
        config = _tenant(raw, env, schema)
        config.update(id=DEFAULT_TENANT, tenanted=False)
        config["tenants"] = [dict(config)]
        return config
    entries = raw["tenants"]
    if not isinstance(entries, list) or not entries:
        raise ConfigError("tenants: expected a list of tenants (each a mapping with an id)")
    base = dict((key, value) for key, value in raw.items() if key != "tenants")
    tenants = [_tenant_entry(index, entry, base, env, schema) for index, entry in enumerate(entries)]
    seen = set()
    for index, tenant in enumerate(tenants):
        if tenant["id"] in seen:
            raise ConfigError("tenants[%d].id: %s is the id of an earlier tenant" % (index, tenant["id"]))
        seen.add(tenant["id"])
    first = tenants[0]
    return dict(tenanted=True, tenants=tenants, state=first["state"], node=first["node"], logging=first["logging"],
                listen=dict(first["listen"], webhook_token=None, callback_token=None))


def _tenant(raw, env, schema):
    """One tenant's complete configuration from its keys (a tenant entry merged over the top level)."""
    config = dict((name, _section(name, raw.get(name), specs, env)) for name, specs in schema.items())
    config["notes"]["to_signl4"] = _section("notes.to_signl4", config["notes"]["to_signl4"], NOTES_TO_SIGNL4, env)
    for key, spec in TOP_LEVEL.items():
        config[key] = _value(key, raw, key, spec, env)
    config["routes"] = _routes(config["routes"], env)
    _check_semantics(config)
    return config


def _tenant_entry(index, entry, base, env, schema):
    where = "tenants[%d]" % index
    if not isinstance(entry, dict):
        raise ConfigError("%s: expected a mapping" % where)
    tenant_id = entry.get("id")
    if not isinstance(tenant_id, str) or not TENANT_ID.fullmatch(tenant_id):
        raise ConfigError("%s.id: required: 1 to 32 characters of a-z, 0-9 and -, the first a letter or digit" % where)
    for key in entry:
        if key in GLOBAL_SECTIONS or key == "tenants":
            raise ConfigError("%s.%s: the agent's setting, not a tenant's: set it at the top level" % (where, _key_name(key)))
        if key != "id" and key not in schema and key not in TOP_LEVEL:
            raise ConfigError("%s.%s: unknown key" % (where, _key_name(key)))
    listen = entry.get("listen") or {}
    for key in listen if isinstance(listen, dict) else ():
        if key not in TENANT_LISTEN_KEYS and _base_name(key) not in TENANT_LISTEN_KEYS:
            raise ConfigError("%s.listen.%s: a tenant sets only webhook_token and callback_token; the rest of listen "
                              "is the agent's (top level)" % (where, _key_name(key)))
    try:
        config = _tenant(_merged(base, entry), env, schema)
    except ConfigError as exc:
        key = str(exc).split(":", 1)[0]
        if _sets(entry, key) or not _sets(base, key):
            raise ConfigError("%s.%s" % (where, exc)) from None
        raise
    config["id"] = tenant_id
    return config


def _base_name(key):
    return key[:-len("_file")] if isinstance(key, str) and key.endswith("_file") else key


def _merged(base, entry):
    """A tenant entry over the top level: a section's keys one by one (a secret the entry gives, as the value or
    as ``<key>_file``, replaces both forms of it), other keys whole."""
    merged = dict(base)
    for key, value in entry.items():
        if key == "id":
            continue
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merged_section(base[key], value)
        else:
            merged[key] = value
    return merged


def _merged_section(base, section):
    """A tenant's section over the top level's, key by key; a mapping within it (``notes.to_signl4``) key by key too."""
    given = set(_base_name(name) for name in section)
    merged = dict((name, item) for name, item in base.items() if _base_name(name) not in given)
    for name, item in section.items():
        below = base.get(name)
        merged[name] = {**below, **item} if isinstance(item, dict) and isinstance(below, dict) else item
    return merged


def _sets(raw, key):
    """Whether ``raw`` (a file's or a tenant entry's keys) gives ``key`` (``manage.url``, ``poll_interval``,
    ``notes.to_signl4.enabled``, ``routes[2].board``: a list is given whole)."""
    *sections, name = key.split(".")
    holder = raw
    for section in sections:
        section = section.split("[", 1)[0]
        if isinstance(holder, dict) and isinstance(holder.get(section), list):
            return section in holder
        holder = holder.get(section) if isinstance(holder, dict) else None
    name = name.split("[", 1)[0]
    return isinstance(holder, dict) and (name in holder or name + "_file" in holder)


def _check_url(key, url):
    """An http(s) URL with a host and a valid port (the URL itself is not shown: it may hold a password)."""
    if not url.startswith(("http://", "https://")):
        raise ConfigError("%s: must start with http:// or https://" % key)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        raise ConfigError("%s: not a valid URL (host or port)" % key)
    if not parts.hostname or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise ConfigError("%s: not a valid URL (host or port)" % key)


def _check_ranges(config):
    if not 1 <= config["poll_interval"] <= 86400:
        raise ConfigError("poll_interval: must be at least 1 second and at most 86400 (a day)")
    if config["stale_after"] is not None and config["stale_after"] <= 0:
        raise ConfigError("stale_after: must be more than 0 seconds")
    for section in ("manage", "signl4"):
        if not 0 < config[section]["timeout"] <= 3600:
            raise ConfigError("%s.timeout: must be more than 0 and at most 3600 seconds" % section)


def _check_semantics(config):
    _check_ranges(config)
    for key in ("boards", "priorities"):
        if not all(isinstance(item, str) and item for item in config["filters"][key]):
            raise ConfigError("filters.%s: expected a list of names" % key)
    try:
        config["filters"]["entered_after"] = cutoff.parse_setting(config["filters"]["entered_after"])
    except ValueError as exc:
        raise ConfigError("filters.entered_after: %s" % exc)
    _check_url("manage.url", config["manage"]["url"])
    _check_url("signl4.api_url", config["signl4"]["api_url"])
    if not config["notes"]["to_signl4"]["note_types"]:
        raise ConfigError("notes.to_signl4.note_types: name at least one of %s" % ", ".join(NOTE_TYPE_FLAGS))
    if not any(config["notes"][flag] for flag in ("detail_description", "internal_analysis", "resolution")):
        raise ConfigError("notes: at least one of detail_description, internal_analysis, resolution must be true "
                          "(Manage files every note under one of them)")
    _check_escalations(config["escalations"])
    _check_listen(config["listen"])
    _check_state(config["state"])
    _check_node(config["node"])
    if config["stale_after"] is None:
        config["stale_after"] = 3 * config["poll_interval"] + 30


def _check_state(state):
    """SQLite (``path``) or PostgreSQL (``dsn``, a libpq connection string; the password apart)."""
    if (state["path"] is None) == (state["dsn"] is None):
        raise ConfigError("state: set path (the SQLite state file of a single agent) or dsn (PostgreSQL, shared by "
                          "several agents), not both" if state["path"] else "state.path: required (or state.dsn)")
    if state["path"] is not None and state["password"] is not None:
        raise ConfigError("state.password: only with state.dsn (PostgreSQL)")
    if not 1 <= state["lease_seconds"] <= 3600:
        raise ConfigError("state.lease_seconds: must be at least 1 and at most 3600 seconds")
    if state["dsn"] is not None:
        _check_dsn(state["dsn"])


def _check_dsn(dsn):
    """A connection string libpq accepts (never shown: it may hold a password)."""
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:
        raise ConfigError("state.dsn: the PostgreSQL store needs psycopg (agent/requirements.txt) in the agent's Python")
    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # noqa: BLE001 - psycopg's ProgrammingError: libpq refused to parse it
        raise ConfigError("state.dsn: not a PostgreSQL connection string (key=value pairs, or a postgresql:// URI)")
    for key in ("host", "dbname"):
        if not parts.get(key) and not (key == "host" and parts.get("hostaddr")):
            raise ConfigError("state.dsn: must name the %s" % key)


def _check_node(node):
    """The node id: given, or the host name (made to fit); it tags the agent's requests and its leases."""
    if node["id"] is None:
        node["id"] = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())[:64].lstrip("._-") or "agent"
    elif not NODE_ID.fullmatch(node["id"]):
        raise ConfigError("node.id: 1 to 64 characters of letters, digits and . _ -, the first a letter or digit")


def _check_listen(listen):
    if not 0 <= listen["port"] < 65536:
        raise ConfigError("listen.port: must be between 0 (any free port) and 65535")
    if not 1024 <= listen["max_body_bytes"] <= 16 * 1024 * 1024:
        raise ConfigError("listen.max_body_bytes: must be between 1024 and 16777216")
    if not 1 <= listen["channel_timeout"] <= 3600:
        raise ConfigError("listen.channel_timeout: must be between 1 and 3600 seconds")
    if not 1 <= listen["header_timeout"] <= 300:
        raise ConfigError("listen.header_timeout: must be between 1 and 300 seconds")
    if not listen["header_timeout"] <= listen["body_timeout"] <= 3600:
        raise ConfigError("listen.body_timeout: must be at least listen.header_timeout and at most 3600 seconds")
    if not 10 <= listen["max_connections"] <= 10000:
        raise ConfigError("listen.max_connections: must be between 10 and 10000")
    for key in ("webhook_token", "callback_token"):
        token = listen[key]
        if token is not None and not _URL_TOKEN.fullmatch(token):
            raise ConfigError("listen.%s: must be at least 16 characters, each a letter, a digit or one of - . _ ~ "
                              "(it is a URL path segment sent as is)" % key)


# ----- routes and escalations ---------------------------------------------------------------------

ROUTE_KEYS = ("name",) + routing.MATCH_KEYS + ("team_secret", "team_secret_file", "team_secret_env", "service",
                                               "alerting_scenario")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
MAX_UNACKNOWLEDGED = 30 * 86400


def _routes(entries, env):
    """The ``routes`` list, each entry checked (errors name ``routes[<n>].<key>``); the names unique."""
    routes = []
    for index, entry in enumerate(entries):
        route = _route("routes[%d]" % index, entry, env)
        if any(route["name"] == earlier["name"] for earlier in routes):
            raise ConfigError("routes[%d].name: %s is the name of an earlier route" % (index, route["name"]))
        routes.append(route)
    return routes


def _route(where, entry, env):
    if not isinstance(entry, dict):
        raise ConfigError("%s: expected a mapping (name, match keys, team_secret, service, alerting_scenario)" % where)
    unknown = sorted(set(entry) - set(ROUTE_KEYS), key=str)
    if unknown:
        raise ConfigError("%s.%s: unknown key; known: %s" % (where, _key_name(unknown[0]), ", ".join(ROUTE_KEYS)))
    name = entry.get("name")
    if not isinstance(name, str) or not routing.ROUTE_NAME.fullmatch(name) or name == routing.DEFAULT_ROUTE:
        raise ConfigError("%s.name: required: 1 to 64 characters of letters, digits, . _ and -, the first a letter or "
                          "digit, not %s (the default route's)" % (where, routing.DEFAULT_ROUTE))
    route = dict(name=name, team_secret=_route_secret(where, entry, env))
    for key, choices in (("service", None), ("alerting_scenario", ALERTING_SCENARIOS)):
        value = entry.get(key)
        route[key] = None if value is None else _typed("%s.%s" % (where, key), str, value, choices)
        if route[key] == "":
            raise ConfigError("%s.%s: must not be empty" % (where, key))
    for key in routing.MATCH_KEYS:
        route[key] = _names("%s.%s" % (where, key), entry.get(key))
    return route


def _names(key, value):
    """A match key: a name or a non-empty list of names (absent: the route does not test it)."""
    names = [value] if isinstance(value, str) else value
    if value is None:
        return []
    if not isinstance(names, list) or not names or not all(isinstance(name, str) and name.strip() for name in names):
        raise ConfigError("%s: expected a name or a non-empty list of names" % key)
    return names


def _route_secret(where, entry, env):
    """A route's team secret: ``team_secret``, else ``team_secret_file``, else the environment variable that
    ``team_secret_env`` names; None (the default route's team) when the route gives none of them."""
    key = where + ".team_secret"
    if entry.get("team_secret") is not None:
        secret = _typed(key, str, entry["team_secret"], None)
    elif "team_secret_file" in entry:
        secret = _secret_from_file(key, entry["team_secret_file"])
    elif entry.get("team_secret_env") is not None:
        name = entry["team_secret_env"]
        if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
            raise ConfigError("%s_env: expected the name of an environment variable" % key)
        secret = env.get(name)
        if not secret:
            raise ConfigError("%s_env: the environment variable %s is not set" % (key, name))
    else:
        return None
    if not secret:
        raise ConfigError("%s: must not be empty" % key)
    return secret


def _route_secret_values(holder, env):
    """The team secrets of a file's (or a tenant entry's) ``routes``, given or named in the environment."""
    entries = holder.get("routes") if isinstance(holder, dict) else None
    found = []
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, dict):
            name = entry.get("team_secret_env")
            found += [entry.get("team_secret"), env.get(name) if isinstance(name, str) else None]
    return found


def _check_escalations(settings):
    after = settings["unacknowledged_after"]
    if after is not None and not 1 <= after <= MAX_UNACKNOWLEDGED:
        raise ConfigError("escalations.unacknowledged_after: must be at least 1 second and at most %d (30 days), or null"
                          % MAX_UNACKNOWLEDGED)
    if settings["priority"] is not None and not settings["priority"].strip():
        raise ConfigError("escalations.priority: a priority's name (as Manage shows it), or null")
    if settings["enabled"] and not settings["note"] and settings["priority"] is None:
        raise ConfigError("escalations: enabled with note false and priority null does nothing; set one of them")
    if settings["note"] and not any(settings[flag] for flag in ("detail_description", "internal_analysis", "resolution")):
        raise ConfigError("escalations: at least one of detail_description, internal_analysis, resolution must be true "
                          "(Manage files every note under one of them)")


def _read(path):
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError("%s: cannot read (%s)" % (path, exc.strerror))
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError("%s: larger than %d bytes" % (path, MAX_CONFIG_BYTES))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("%s: not UTF-8 (byte %d)" % (path, exc.start))


def _yaml_error(path, exc):
    """Where and what, without the quoted lines of the file (they may hold a secret)."""
    mark = getattr(exc, "problem_mark", None)
    where = " at line %d, column %d" % (mark.line + 1, mark.column + 1) if mark else ""
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return ConfigError("%s: not valid YAML%s: %s" % (path, where, problem))


def load(path, env=None):
    text = _read(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _yaml_error(path, exc)
    except RecursionError:
        raise ConfigError("%s: not valid YAML: nested too deeply" % path)
    return validate(raw, env)


def secrets(config):
    """Every secret value of ``config``, of every tenant (for log masking)."""
    values = []
    for tenant in config["tenants"]:
        for key in SECRET_ENV:
            section, name = key.split(".")
            if tenant[section].get(name):
                values.append(tenant[section][name])
        values.extend(route["team_secret"] for route in tenant["routes"] if route["team_secret"])
    values.extend(_dsn_password(config["state"]["dsn"]))
    return values


def _dsn_password(dsn):
    """The password written into a connection string, if any (better kept in state.password or its file)."""
    if not dsn:
        return []
    from psycopg.conninfo import conninfo_to_dict
    password = conninfo_to_dict(dsn).get("password")
    return [password] if password else []


def log_insecure_settings(config):
    """Warn (once, at start) for each API whose TLS certificate the agent does not check."""
    logger = logging.getLogger("signl4_agent.config")
    for tenant, section, api in ((tenant, section, api) for tenant in config["tenants"]
                                 for section, api in (("manage", "ConnectWise Manage"), ("signl4", "SIGNL4"))):
        if not tenant[section]["validate_certs"]:
            logger.warning("%s%s.validate_certs is false: the TLS certificate of %s is not checked, so anyone on the "
                           "network path can read the agent's credentials and change what it reads and writes; "
                           "turn it off only for a lab server", _where(config, tenant), section, api)


def _where(config, tenant):
    """How a message names a tenant's key: ``tenants[<id>].`` in a file with tenants, nothing in today's file."""
    return "tenant %s: " % tenant["id"] if config["tenanted"] else ""
