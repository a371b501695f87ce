"""The agent's YAML configuration: parsed, defaulted and validated at start.

Every error names the key (``manage.url: required``). Secrets may be written in the file, read
from ``<key>_file`` (a path) or taken from an environment variable (``SECRET_ENV``); the file
wins over ``_file``, which wins over the environment.
"""

import os

import yaml

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
}
REQUIRED = object()


class ConfigError(ValueError):
    """The configuration is wrong; the message names the key."""


def _schema():
    """``{section: {key: (type, default, choices)}}``; ``REQUIRED`` marks keys without a default."""
    return {
        "manage": dict(url=(str, REQUIRED, None), company_id=(str, REQUIRED, None), public_key=(str, REQUIRED, None),
                       private_key=(str, REQUIRED, None), client_id=(str, REQUIRED, None), codebase=(str, None, None),
                       api_version=(str, "2019.1", None), validate_certs=(bool, True, None),
                       timeout=(float, 30.0, None)),
        "signl4": dict(api_url=(str, "https://connect.signl4.com/api", None), api_key=(str, REQUIRED, None),
                       team_secret=(str, REQUIRED, None), acting_user=(str, REQUIRED, None),
                       plan=(str, "commercial", PLANS), validate_certs=(bool, True, None), timeout=(float, 30.0, None),
                       poll_alerts=(bool, False, None), source_system=(str, "ConnectWise", None),
                       service=(str, None, None)),
        "workflows": dict(trigger=(str, "SIGNL4 - Trigger Signls", None),
                          update_signls=(str, "SIGNL4 - Update Signls", None),
                          update_tickets=(str, "SIGNL4 - Update CW Tickets", None)),
        "custom_fields": dict(retrieved=(str, "Signl4Retrieved_c", None), status=(str, "Signl4Status_c", None),
                              user=(str, "Signl4User_c", None)),
        "status_mappings": dict(manage_acknowledge=(bool, True, None), manage_close=(bool, True, None),
                                signl4_acknowledge=(bool, True, None), signl4_close=(bool, True, None)),
        "notes": dict(detail_description=(bool, False, None), internal_analysis=(bool, True, None),
                      resolution=(bool, False, None), process_notifications=(bool, False, None)),
        "filters": dict(boards=(list, [], None), priorities=(list, [], None)),
        "trigger_query": dict(conditions=(str, None, None), custom_field_conditions=(str, None, None)),
        "listen": dict(host=(str, "127.0.0.1", None), port=(int, 8080, None), webhook_token=(str, REQUIRED, None),
                       callback_token=(str, None, None), max_body_bytes=(int, 65536, None),
                       channel_timeout=(int, 10, None)),
        "state": dict(path=(str, REQUIRED, None)),
        "logging": dict(level=(str, "INFO", LOG_LEVELS)),
    }


TOP_LEVEL = dict(owner_assignment=(str, "acknowledge", OWNER_ASSIGNMENT), reopen=(str, "new_signl", REOPEN_POLICIES),
                 details=(list, ["company", "contact", "priority", "board"], DETAILS), poll_interval=(float, 30.0, None),
                 stale_after=(float, None, None))


def _typed(key, kind, value, choices):
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError("%s: expected %s, got %s" % (key, kind.__name__, type(value).__name__))
    if choices and kind is list:
        bad = [item for item in value if item not in choices]
        if bad:
            raise ConfigError("%s: unknown value(s) %s; choose from %s" % (key, ", ".join(map(str, bad)), ", ".join(choices)))
    elif choices and value not in choices:
        raise ConfigError("%s: %r is not one of %s" % (key, value, ", ".join(choices)))
    if kind in (int, float) and value < 0:
        raise ConfigError("%s: must not be negative" % key)
    return value


def _secret_from_file(key, path):
    if not isinstance(path, str):
        raise ConfigError("%s_file: expected a path" % key)
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    except OSError as exc:
        raise ConfigError("%s_file: cannot read %s (%s)" % (key, path, exc.strerror))


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
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError("%s.%s: unknown key; known: %s" % (name, unknown[0], ", ".join(sorted(known))))
    return dict((key, _value("%s.%s" % (name, key), raw, key, spec, env)) for key, spec in specs.items())


def validate(raw, env=None):
    """A complete config dict from the parsed YAML ``raw``; raises :class:`ConfigError`."""
    env = os.environ if env is None else env
    if not isinstance(raw, dict):
        raise ConfigError("(top level): expected a mapping of sections")
    schema = _schema()
    unknown = sorted(set(raw) - set(schema) - set(TOP_LEVEL))
    if unknown:
        raise ConfigError("%s: unknown key; known: %s" % (unknown[0], ", ".join(sorted(set(schema) | set(TOP_LEVEL)))))
    config = dict((name, _section(name, raw.get(name), specs, env)) for name, specs in schema.items())
    for key, spec in TOP_LEVEL.items():
        config[key] = _value(key, raw, key, spec, env)
    _check_semantics(config)
    return config


def _check_semantics(config):
    if config["poll_interval"] < 1:
        raise ConfigError("poll_interval: must be at least 1 second")
    for key in ("boards", "priorities"):
        if not all(isinstance(item, str) and item for item in config["filters"][key]):
            raise ConfigError("filters.%s: expected a list of names" % key)
    if not config["manage"]["url"].startswith(("http://", "https://")):
        raise ConfigError("manage.url: must start with http:// or https://")
    if not any(config["notes"][flag] for flag in ("detail_description", "internal_analysis", "resolution")):
        raise ConfigError("notes: at least one of detail_description, internal_analysis, resolution must be true "
                          "(Manage files every note under one of them)")
    _check_listen(config["listen"])
    if config["stale_after"] is None:
        config["stale_after"] = 3 * config["poll_interval"] + 30


def _check_listen(listen):
    if not 0 <= listen["port"] < 65536:
        raise ConfigError("listen.port: must be between 0 (any free port) and 65535")
    for key in ("webhook_token", "callback_token"):
        token = listen[key]
        if token is not None and (len(token) < 16 or "/" in token):
            raise ConfigError("listen.%s: must be at least 16 characters without '/'" % key)


def load(path, env=None):
    try:
        with open(path, encoding="utf-8") as handle:
            raw = yaml.safe_load(handle)
    except OSError as exc:
        raise ConfigError("%s: cannot read (%s)" % (path, exc.strerror))
    except yaml.YAMLError as exc:
        raise ConfigError("%s: not valid YAML (%s)" % (path, exc))
    return validate(raw, env)


def secrets(config):
    """Every secret value of ``config`` (for log masking)."""
    values = []
    for key in SECRET_ENV:
        section, name = key.split(".")
        if config[section].get(name):
            values.append(config[section][name])
    return values
