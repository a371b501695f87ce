"""``check-config`` and ``once`` test every workflow event the agent uses as a cycle does (Manage's
``/test``, one ticket a page) and name a failing one by rule and event with Manage's message; every
error names the agent's own keys (``manage.public_key``), never the modules' options (``cw_public_key``)."""

import json

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from tests.agent import support

from signl4_agent import __main__ as cli
from signl4_agent import config as config_module
from signl4_agent.agent import build_manage, build_signl4

TRIGGER, UPDATE = "SIGNL4 - Trigger Signls", "SIGNL4 - Update Signls"
UNPARSEABLE = 'Signl4Retrieved_c = True AND (Signl4Status_c = "Resolved"'


@pytest.fixture
def agent_config(tmp_path, provisioned):
    """``agent_config(**overrides)``: the validated agent config (``support.config``) for the provisioned emulators."""
    manage, signl4 = provisioned
    return lambda **overrides: config_module.validate(support.config(tmp_path, manage, signl4, **overrides), env={})


def event_of(cw, rule_name, event_name):
    rule = cw.list("/system/workflows", conditions='name = "%s"' % rule_name)[0]
    event = [e for e in cw.list("/system/workflows/%d/events" % rule["id"]) if e["name"] == event_name][0]
    return "/system/workflows/%d/events/%d" % (rule["id"], event["id"])


def break_condition(cw, rule_name, event_name, text=UNPARSEABLE):
    cw.patch(event_of(cw, rule_name, event_name), [{"op": "replace", "path": "eventCondition", "value": text}])


def run(command, config, capsys):
    code = command(config)
    return code, json.loads(capsys.readouterr().out)


def event_tests(manage):
    return [r for r in manage.requests() if r["path"].endswith("/test")]


def test_every_event_in_use_is_tested_with_one_ticket_a_page(agent_config, manage, capsys):
    config = agent_config(filters={"boards": ["Service Desk"]})
    before = len(event_tests(manage))
    code, report = run(cli.cmd_check_config, config, capsys)
    assert code == 0 and report["ok"] is True, report
    sent = event_tests(manage)[before:]
    assert [r["query"]["pageSize"] for r in sent] == [["1"]] * 4  # new, after close, acknowledge, close
    assert all(r["method"] == "GET" for r in sent)
    trigger_query = sent[0]["query"]["conditions"][0]
    assert 'board/name in ("Service Desk")' in trigger_query and "dateEntered >= [2000-01-01T00:00:00Z]" in trigger_query


def test_an_event_condition_manage_cannot_parse_fails_check_config_naming_rule_and_event(agent_config, cw, capsys):
    break_condition(cw, UPDATE, "Close Signl")
    code, report = run(cli.cmd_check_config, agent_config(), capsys)
    assert code == 1 and report["ok"] is False
    assert report["signl4"]["ok"] is True
    [failing] = report["manage"]["failing_events"]
    assert (failing["rule"], failing["event"]) == (UPDATE, "Close Signl")
    assert "HTTP 400 (ApiFindCondition)" in failing["error"]
    assert "rule 'SIGNL4 - Update Signls', event 'Close Signl': ConnectWise Manage returned HTTP 400 (ApiFindCondition)" \
        in report["manage"]["error"]


def test_events_the_agent_does_not_use_are_not_tested(agent_config, manage, cw, capsys):
    """The reserved re-entry event, and the close event when manage_close is off, may hold anything."""
    break_condition(cw, TRIGGER, "Re-entry after acknowledge (reserved)",
                    'Signl4Retrieved_c = True AND Signl4Status_c = "Acknowledged')
    break_condition(cw, UPDATE, "Close Signl")
    config = agent_config(status_mappings={"manage_close": False})
    code, report = run(cli.cmd_check_config, config, capsys)
    assert code == 0 and report["ok"] is True, report
    config = agent_config(status_mappings={"manage_close": False}, reopen="ignore")
    before = len(event_tests(manage))
    assert run(cli.cmd_check_config, config, capsys)[0] == 0
    assert len(event_tests(manage)) - before == 2  # the new-ticket and the acknowledge event only


def test_a_broken_trigger_query_is_reported_too(agent_config, capsys):
    config = agent_config(trigger_query={"conditions": "no_such_field = 1"})
    code, report = run(cli.cmd_check_config, config, capsys)
    assert code == 1
    assert [(f["rule"], f["event"]) for f in report["manage"]["failing_events"]] == [("trigger_query", None)]


def test_once_names_the_event_that_fails_the_cycle(agent_config, cw, capsys):
    break_condition(cw, TRIGGER, "New ticket", 'Signl4Retrieved_c = False AND status/name = "New')
    code, report = run(cli.cmd_once, agent_config(), capsys)
    assert code == 1 and report["ok"] is False
    assert [(f["rule"], f["event"]) for f in report["failing_events"]] == [(TRIGGER, "New ticket")]
    assert "ApiFindCondition" in report["failing_events"][0]["error"]


def test_once_that_succeeds_tests_nothing_more(agent_config, manage, capsys):
    code, report = run(cli.cmd_once, agent_config(), capsys)
    assert code == 0 and "failing_events" not in report
    assert all(r["query"]["pageSize"] != ["1"] for r in event_tests(manage))


def test_refused_keys_are_named_by_the_agents_keys(agent_config, capsys):
    config = agent_config(manage={"private_key": "wrong-private-key"},
                          signl4={"api_key": "wrong-signl4-key"})
    code, report = run(cli.cmd_check_config, config, capsys)
    assert code == 1
    manage_error, signl4_error = report["manage"]["error"], report["signl4"]["error"]
    assert "check manage.company_id, manage.public_key, manage.private_key and manage.client_id" in manage_error
    assert "check signl4.api_key" in signl4_error
    text = json.dumps(report)
    assert "cw_" not in text and "CW_" not in text and "signl4_api_key" not in text
    assert "wrong-private-key" not in text and "wrong-signl4-key" not in text


def test_the_clients_name_the_agents_keys_for_what_the_configuration_check_cannot_see(agent_config):
    config = agent_config()
    for section, key, value, expected in (("manage", "company_id", " ", "manage.company_id is required"),
                                          ("manage", "url", "ftp://cw.example.com", "manage.url"),
                                          ("manage", "timeout", -1, "manage.timeout"),
                                          ("signl4", "api_url", "ftp://signl4.example.com", "signl4.api_url"),
                                          ("signl4", "timeout", -1, "signl4.timeout")):
        broken = dict(config, **{section: dict(config[section], **{key: value})})
        with pytest.raises(InputError) as failure:
            (build_manage if section == "manage" else build_signl4)(broken, None)
        assert expected in str(failure.value) and "cw_" not in str(failure.value) and "signl4_" not in str(failure.value)
    signl4_client = build_signl4(dict(config, signl4=dict(config["signl4"], api_key="", team_secret="")), None)
    for call, expected in ((signl4_client.teams, "set signl4.api_key or SIGNL4_API_KEY"),
                           (lambda: signl4_client.webhook_event({"Title": "x"}), "set signl4.team_secret or SIGNL4_TEAM_SECRET")):
        with pytest.raises(InputError) as failure:
            call()
        assert expected in str(failure.value)
