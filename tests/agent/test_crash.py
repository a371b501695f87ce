"""kill -9 at random points while the agent syncs many tickets, restarted each time: in the end
exactly one Signl per ticket and every transition applied once.

The machinery (Killer) is the chaos suite's, tests/bench/chaos.py, which adds faults, outages and
duplicated deliveries. CI runs a modest version; the full one is
``AGENT_CRASH_TICKETS=200 AGENT_CRASH_KILLS=25 pytest -s tests/agent/test_crash.py``.
Outbound webhooks sent while the agent is down are lost after SIGNL4's retries, so the agent
polls SIGNL4 too (``signl4.poll_alerts``): that is the path which catches up.
"""

import collections
import json
import os
import random
import urllib.request

import pytest

from tests.agent import support
from tests.bench.chaos import Killer

TICKETS = int(os.environ.get("AGENT_CRASH_TICKETS", "16"))
KILLS = int(os.environ.get("AGENT_CRASH_KILLS", "4"))
SEED = int(os.environ.get("AGENT_CRASH_SEED", str(random.randrange(1 << 30))))
FINAL_WAIT = float(os.environ.get("AGENT_CRASH_WAIT", "240"))


def _kill_moments(rng, kills):
    """Seconds from the start at which to kill: 0.3 to 2.5 s apart."""
    moments, moment = [], 0.0
    for unused in range(kills):
        moment += rng.uniform(0.3, 2.5)
        moments.append(moment)
    return moments


def _wait(what, predicate):
    assert support.wait_for(predicate, timeout=FINAL_WAIT, interval=0.5), "timed out waiting for " + what


def _tickets(cw, ids):
    by_id = dict((t["id"], t) for t in cw.list("/service/tickets", conditions="id >= %d" % min(ids)))
    return [by_id[i] for i in ids]


def _journal(emulator):
    """The emulator's journal, checked complete (it drops its oldest entries past a byte budget)."""
    with urllib.request.urlopen(emulator.url + "/__emulator__/requests", timeout=30) as response:  # noqa: S310
        assert response.headers["X-Journal-Evicted"] == "0", "the journal lost entries; counts would be wrong"
        return json.loads(response.read())


def _tally(manage, signl4):
    """From the emulators' journals: alerts per external id, successful acknowledges and closes per
    alert id, webhook events accepted, ticket status PATCHes per ticket (since the Signls were raised)."""
    alerts = collections.Counter(a.get("externalId") for a in support.alerts(signl4))
    journal = _journal(signl4)
    acks = collections.Counter(r["path"].split("/")[-2] for r in journal
                               if r["path"].endswith("/acknowledge") and r["status"] == 200)
    closes = collections.Counter(r["path"].split("/")[-2] for r in journal if r["path"].endswith("/close") and r["status"] == 200)
    raised = sum(1 for r in journal if r["path"].startswith("/webhook/") and r["status"] == 201)
    status_patches = collections.Counter()
    for request in _journal(manage):
        if request["method"] == "PATCH" and "/service/tickets/" in request["path"]:
            for op in request["request_json"] or []:
                if op.get("path") == "status":
                    status_patches[int(request["path"].rstrip("/").split("/")[-1])] += 1
    return alerts, acks, closes, raised, status_patches


@pytest.mark.slow  # agent processes killed and restarted
def test_kill_9_loses_nothing_and_duplicates_nothing(provisioned, cw, tmp_path):
    crash_run(provisioned, cw, tmp_path)


def crash_run(provisioned, cw, tmp_path, **overrides):
    """The crash test; ``overrides`` change the agent's config (tests/ha runs it on PostgreSQL)."""
    manage, signl4 = provisioned
    rng = random.Random(SEED)
    print("\ncrash test: %d tickets, %d kills, seed %d" % (TICKETS, KILLS, SEED))
    port = support.free_port()
    raw = support.config(tmp_path, manage, signl4, port=port, signl4={"poll_alerts": True}, poll_interval=1)
    raw.update(overrides)
    path = support.write_config(tmp_path, raw)
    support.subscribe(signl4, "http://127.0.0.1:%d/signl4/%s" % (port, support.WEBHOOK_TOKEN))
    ids = [support.new_ticket(cw, summary="Crash test %03d" % n)["id"] for n in range(TICKETS)]
    from_signl4, from_manage = ids[::2], ids[1::2]
    chaos = Killer(path, port, _kill_moments(rng, KILLS))
    try:
        # Each phase also waits for its share of the kills, so that every kill happens however fast the
        # agent is (kills come at random moments; a phase may be done before its share has fallen).
        _wait("a Signl for every ticket", lambda: chaos.kills >= KILLS // 3 and all(support.alerts(signl4, i) for i in ids))
        manage.clear_requests()  # the transitions are counted from here on (the journal has a byte budget)
        for ticket_id in from_signl4:
            support.act(signl4, "acknowledge", ticket_id)
        for ticket_id in from_manage:
            support.set_status(cw, ticket_id, "In Progress")
        _wait("the acknowledgements", lambda: chaos.kills >= 2 * KILLS // 3 and all(t["status"]["name"] == "In Progress" for t in _tickets(cw, from_signl4))
              and all(support.alerts(signl4, i)[0]["status"]["statusCode"] == 2 for i in from_manage))
        for ticket_id in from_signl4:
            support.act(signl4, "close", ticket_id)
        for ticket_id in from_manage:
            support.set_status(cw, ticket_id, "Closed (resolved)")
        _wait("the closes", lambda: chaos.kills >= KILLS and all(t["status"]["name"] == "Closed (resolved)" for t in _tickets(cw, from_signl4))
              and all(support.alerts(signl4, i)[0]["status"]["statusCode"] == 4 for i in from_manage))
        _wait("the status field", lambda: all(support.custom(t, "Signl4Status_c") == "Resolved" for t in _tickets(cw, ids)))
    finally:
        code, err = chaos.finish()
    assert code == 0, err[-2000:]

    alerts, acks, closes, raised, status_patches = _tally(manage, signl4)
    print("kills: %d; Signls raised: %d for %d tickets (max per ticket %d); acknowledged/closed in SIGNL4 by the "
          "agent: %d/%d; ticket status PATCHes by the agent: %d for %d tickets (max per ticket %d)"
          % (chaos.kills, raised, len(ids), max(alerts[str(i)] for i in ids), sum(acks.values()), sum(closes.values()),
             sum(status_patches[i] for i in from_signl4), len(from_signl4),
             max([status_patches[i] for i in from_signl4] or [0])))
    assert chaos.kills == KILLS
    assert all(alerts[str(i)] == 1 for i in ids)  # exactly one Signl per ticket
    assert all(count == 1 for count in alerts.values())  # and for the seeded tickets the trigger selects
    for ticket in _tickets(cw, ids):
        assert support.custom(ticket, "Signl4Retrieved_c") is True
        assert ticket["status"]["name"] == "Closed (resolved)"
    manage_alerts = dict((a["externalId"], a["id"]) for a in support.alerts(signl4))
    for ticket_id in from_manage:  # Manage -> SIGNL4: one acknowledge and one close per Signl
        alert_id = manage_alerts[str(ticket_id)]
        assert (acks[alert_id], closes[alert_id]) == (1, 1), ticket_id
    for ticket_id in from_signl4:  # SIGNL4 -> Manage: one status change per transition (a close polled
        assert 1 <= status_patches[ticket_id] <= 2, ticket_id  # together with its acknowledge makes one)
