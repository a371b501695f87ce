"""The agent's JSON log lines: secrets masked before the line is serialised (a secret with a quote,
a backslash, a non-ASCII character or a newline was JSON-escaped first and then no longer matched),
in the message and in the exception text; certificate checks turned off are said once at start."""

import io
import json
import logging

import pytest

from signl4_agent import config as config_module
from signl4_agent import logs
from tests.agent import support

SECRETS = ['quo"te-secret-1234', "back\\slash-secret-1234", "n\u00f6n-\u00e4scii-s\u00e9cret-\u2603", "new\nline-secret-1234",
           'all"of\\them\u00e9\n-1234']


@pytest.fixture
def logged():
    stream = io.StringIO()
    handler = logs.setup("DEBUG", SECRETS, stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def escaped(secret):
    return json.dumps(secret)[1:-1]


@pytest.mark.parametrize("secret", SECRETS, ids=["quote", "backslash", "non-ascii", "newline", "all"])
def test_a_secret_with_characters_json_escapes_is_masked_in_message_and_exception(logged, secret):
    log = logging.getLogger("signl4_agent.test")
    log.warning("the API said: %s (and once more: %s)", secret, secret)
    try:
        raise ValueError("refused key %r, that is %s" % (secret, secret))
    except ValueError:
        log.exception("a request failed for %s", secret)
    text = logged.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 2 and lines[0]["message"] == "the API said: ******** (and once more: ********)"
    assert lines[1]["message"] == "a request failed for ********" and "refused key" in lines[1]["error"]
    shown = repr(secret)[1:-1]  # as %r puts it in the exception text
    for form in (secret, escaped(secret), json.dumps(escaped(secret))[1:-1], shown, escaped(shown)):
        assert form not in text
    assert lines[1]["error"].endswith("ValueError: refused key '********', that is ********"), lines[1]["error"]


def test_each_line_is_one_line_of_json(logged):
    logging.getLogger("signl4_agent.test").error("two\nlines with %s", SECRETS[3])
    [line] = logged.getvalue().splitlines()
    assert json.loads(line)["message"] == "two\nlines with ********"


def test_insecure_settings_are_logged_once_each_at_start(tmp_path, manage, signl4):
    raw = support.config(tmp_path, manage, signl4)
    raw["manage"]["validate_certs"] = False
    raw["signl4"]["validate_certs"] = False
    result = support.cli("once", "--config", support.write_config(tmp_path, raw))
    warnings = [json.loads(line)["message"] for line in result.stderr.splitlines() if '"WARNING"' in line]
    insecure = [message for message in warnings if "validate_certs is false" in message]
    assert [message.split(":")[0] for message in insecure] == ["manage.validate_certs is false",
                                                               "signl4.validate_certs is false"], result.stderr
    assert "TLS certificate of ConnectWise Manage is not checked" in insecure[0]


def test_nothing_is_said_when_certificates_are_checked(caplog):
    tenant = {"id": "default", "manage": {"validate_certs": True}, "signl4": {"validate_certs": True}}
    config = dict(tenant, tenants=[tenant], tenanted=False)
    with caplog.at_level(logging.WARNING):
        config_module.log_insecure_settings(config)
    assert caplog.records == []
