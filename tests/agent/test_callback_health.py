"""Callbacks kept alive: each hour the agent finds its own Manage callback (by the callback token in the URL path),
switches an inactive one on again (or names the step in Manage's UI when the API member may not), reports a missing
or inactive one in /healthz, /metrics and the log, and never shows the URL. Callbacks are taken once per MessageId.
Against the emulators over real HTTP; the Manage emulator switches a callback off after three days of failures."""

import json
import logging
import urllib.request

import pytest

from tests.agent import support
from tests.support.clock import Clock

from signl4_agent import callback_health
from signl4_agent import config as config_module
from signl4_agent.metrics import Metrics

DAY = 86400


def callback_url(base, token=support.CALLBACK_TOKEN, tenant=None):
    return "%s%s/manage/%s/callback?recordId=" % (base, "/t/%s" % tenant if tenant else "", token)


def register(cw, url, **fields):
    body = dict(url=url, objectId=1, type="ticket", level="owner", description="SIGNL4 sync agent")
    return cw.create("/system/callbacks", dict(body, **fields))


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def callback_reads(manage):
    return [r for r in manage.requests() if r["method"] == "GET" and r["path"].endswith("/system/callbacks")]


def fail_for_three_days(manage, cw):
    """Every delivery to the callbacks fails (nothing listens at their URL) for three days of the emulator's
    clock: each ticket change is tried three times (2 s and 4 s apart), then counted a failure."""
    manage.use_manual_clock()
    for day in range(4):
        support.new_ticket(cw, summary="change on day %d" % day)
        for step in (0, 2, 4):
            manage.advance(step)
            manage.control("POST", "/callbacks/drain", {"timeout": 10})
        manage.advance(DAY)


def test_manage_switches_a_callback_off_after_three_days_of_failures(manage, cw):
    """The emulator: three days of failed deliveries turn a callback off; a success or switching it on starts anew."""
    dead = "http://127.0.0.1:%d" % support.free_port()
    callback = register(cw, callback_url(dead))
    fail_for_three_days(manage, cw)
    stored = cw.get("/system/callbacks/%d" % callback["id"])
    assert stored["inactiveFlag"] is True
    before = len(manage.control("GET", "/callbacks")["deliveries"])
    support.new_ticket(cw, summary="not delivered to an inactive callback")
    manage.control("POST", "/callbacks/drain", {"timeout": 10})
    assert len(manage.control("GET", "/callbacks")["deliveries"]) == before
    cw.patch("/system/callbacks/%d" % callback["id"], [{"op": "replace", "path": "inactiveFlag", "value": False}])
    support.new_ticket(cw, summary="the first failure after switching it on")
    for step in (0, 2, 4):
        manage.advance(step)
        manage.control("POST", "/callbacks/drain", {"timeout": 10})
    assert cw.get("/system/callbacks/%d" % callback["id"])["inactiveFlag"] is False  # three days anew


def test_an_inactive_callback_is_switched_on_again_and_reported(make_agent, manage, cw, caplog):
    agent = make_agent(subscribe=False)
    callback = register(cw, callback_url(agent.url))
    agent.server.close()  # the agent is away: every delivery fails ...
    agent.server = None
    fail_for_three_days(manage, cw)  # ... until Manage switches the callback off
    assert cw.get("/system/callbacks/%d" % callback["id"])["inactiveFlag"] is True
    agent.server = agent._start_server()  # back, on another port: the token in the path is what counts
    manage.control("POST", "/clock", {"manual": False})
    with caplog.at_level(logging.INFO, logger="signl4_agent"):
        agent.full_cycle()
    assert cw.get("/system/callbacks/%d" % callback["id"])["inactiveFlag"] is False
    report = agent.health()["callback"]
    assert {key: report[key] for key in ("ok", "state", "callbacks", "reactivated")} == \
        dict(ok=True, state="reactivated", callbacks=1, reactivated=1)
    url = "http://127.0.0.1:%s" % agent.server.effective_port
    status, body = get(url + "/healthz")
    assert status == 200 and json.loads(body)["callback"]["state"] == "reactivated"
    metrics = get(url + "/metrics")[1]
    assert "signl4_agent_callback_ok 1.0" in metrics and "signl4_agent_callback_reactivations_total 1.0" in metrics
    assert any("callback %d of this agent was inactive" % callback["id"] in r.getMessage() for r in caplog.records)
    shown = body + metrics + "\n".join(r.getMessage() for r in caplog.records)
    assert support.CALLBACK_TOKEN not in shown and "/callback?recordId" not in shown


def test_a_missing_callback_is_reported_with_how_to_register_it(make_agent, cw, caplog):
    agent = make_agent(subscribe=False)
    register(cw, callback_url(agent.url, token="another-token-0123456789"))  # another agent's
    register(cw, "%s/manage/callback?token=%s&recordId=" % (agent.url, support.CALLBACK_TOKEN))  # token not in the path
    register(cw, callback_url(agent.url) + "1", type="company")  # not a ticket callback
    with caplog.at_level(logging.WARNING, logger="signl4_agent"):
        agent.full_cycle()
    report = agent.health()
    assert report["healthy"] is True  # the cycles sync every ticket: reported, not unhealthy
    assert report["callback"]["ok"] is False and report["callback"]["state"] == "missing"
    assert "/manage/<listen.callback_token>/callback" in report["callback"]["hint"]
    assert "System > Callbacks" in report["callback"]["hint"] and "cw_callback" in report["callback"]["hint"]
    assert "signl4_agent_callback_ok 0.0" in get(agent.url + "/metrics")[1]
    assert any("no Manage callback of this agent" in r.getMessage() for r in caplog.records)
    assert support.CALLBACK_TOKEN not in json.dumps(report) + "".join(r.getMessage() for r in caplog.records)


def test_a_refused_reactivation_names_the_step_in_manage(make_agent, manage, cw, caplog):
    agent = make_agent(subscribe=False)
    callback = register(cw, callback_url(agent.url), inactiveFlag=True)
    manage.inject(403, method="PATCH", path=r"/system/callbacks/\d+$")
    with caplog.at_level(logging.WARNING, logger="signl4_agent"):
        agent.full_cycle()
    report = agent.health()["callback"]
    assert report["ok"] is False and report["state"] == "inactive"
    assert "System > Callbacks" in report["hint"] and "(id %d)" % callback["id"] in report["hint"]
    assert cw.get("/system/callbacks/%d" % callback["id"])["inactiveFlag"] is True
    assert "signl4_agent_callback_ok 0.0" in get(agent.url + "/metrics")[1]
    assert any(r.levelno == logging.ERROR and "System > Callbacks" in r.getMessage() for r in caplog.records)


def test_the_check_costs_one_call_an_hour_and_none_without_a_callback_token(make_agent, manage, cw):
    clock = Clock()
    agent = make_agent(receiver=False, clock=clock)
    register(cw, callback_url("https://agent.example"))
    manage.clear_requests()
    agent.full_cycle()
    clock.now += 60
    agent.full_cycle()
    assert len(callback_reads(manage)) == 1
    assert agent.health()["callback"]["state"] == "active"
    assert "signl4_agent_callback_ok 1.0" in agent.metrics.render().decode()
    clock.now += callback_health.CHECK_EVERY
    agent.full_cycle()
    assert len(callback_reads(manage)) == 2
    quiet = make_agent(receiver=False, listen={"callback_token": None})
    manage.clear_requests()
    quiet.full_cycle()
    assert callback_reads(manage) == [] and "callback" not in quiet.health()
    assert "signl4_agent_callback_ok" not in quiet.metrics.render().decode()  # never checked: absent, not 0


def test_a_tenants_callback_is_found_by_its_own_token(provisioned, cw, tmp_path):
    manage, signl4 = provisioned
    token = "tenant-callback-token-0123456789"
    raw = support.config(tmp_path, manage, signl4)
    raw["tenants"] = [{"id": "contoso", "listen": {"callback_token": token}}]
    raw["listen"] = {"webhook_token": support.WEBHOOK_TOKEN}
    [tenant] = config_module.validate(raw, env={})["tenants"]
    with support.manage_client(manage) as client:
        checker = callback_health.CallbackHealth(tenant, client, Metrics(), Clock())
        checker.check_if_due()
        assert checker.state["state"] == "missing"
        assert "/t/contoso/manage/<listen.callback_token>/callback" in checker.state["hint"]
        register(cw, callback_url("https://agent.example", token=token, tenant="contoso"))
        checker.due = None
        checker.check_if_due()
    assert checker.state["state"] == "active"


@pytest.mark.parametrize("url, found", [
    ("https://agent.example/manage/%s/callback?recordId=" % support.CALLBACK_TOKEN, True),
    ("https://agent.example/t/contoso/manage/%s/callback?recordId=" % support.CALLBACK_TOKEN, True),
    ("https://agent.example/prefix/manage/%s/callback/?recordId=" % support.CALLBACK_TOKEN, True),
    ("https://agent.example/manage/%sX/callback?recordId=" % support.CALLBACK_TOKEN, False),
    ("https://agent.example/manage/callback?token=%s" % support.CALLBACK_TOKEN, False),
    ("https://agent.example/manage/%s/callback/extra" % support.CALLBACK_TOKEN, False),
    ("https://agent.example/manage/%s" % support.CALLBACK_TOKEN, False),
    ("http://[::1/manage/%s/callback" % support.CALLBACK_TOKEN, False),  # not a URL
    (["https://agent.example/manage/%s/callback" % support.CALLBACK_TOKEN], False),
    (None, False),
    ("https://agent.example/manage/\udcff/callback", False),
])
def test_which_callbacks_are_the_agents(url, found):
    assert callback_health.ours({"type": "Ticket", "url": url}, support.CALLBACK_TOKEN) is found
    assert callback_health.ours({"type": "company", "url": url}, support.CALLBACK_TOKEN) is False


def test_the_same_message_id_twice_is_taken_once(make_agent, manage, cw):
    """Manage's MessageId identifies a callback: the emulator delivers each one twice, the agent takes it once."""
    agent = make_agent(subscribe=False)
    register(cw, callback_url(agent.url))
    manage.control("POST", "/callbacks", {"duplicates": 2})
    ticket = support.new_ticket(cw)
    manage.control("POST", "/callbacks/drain", {"timeout": 10})
    deliveries = manage.control("GET", "/callbacks")["deliveries"]
    assert len(deliveries) == 2 and len({d["payload"]["MessageId"] for d in deliveries}) == 1
    assert all(d["status"] in (200, 202) for d in deliveries)
    counted = agent.metrics.deliveries.labels

    def outcomes():
        return counted(source="manage", outcome="accepted")._value.get(), \
            counted(source="manage", outcome="duplicate")._value.get()
    assert support.wait_for(lambda: outcomes() == (1, 1)), outcomes()
    assert agent.requested == {ticket["id"]}
