"""Issue 18's attacks on the agent and the modules, each run black-box and judged by what is observed.

Every attack is a function of a :class:`~tests.security.lab.Lab` that returns a
:class:`~tests.security.lab.Result`: what it tried, what it observed (answers, the emulators'
journals, what a decoy "elsewhere" received, the agent's log, metrics, ``status`` and memory, a task's
output) and whether it was refused. The agent runs as ``python -m signl4_agent`` with a config file,
the modules through ``ansible`` (quick: as the process Ansible starts); nothing here imports the agent's
code, so the attacks hold while its insides change. ``ATTACKS`` lists them in the issue's order;
``lab.quick`` picks the small sizes.
"""

import fcntl
import json
import os
import shutil
import time
from urllib.parse import quote

from tests.agent import support
from tests.bench.secrets_scan import forms
from tests.emulators.manage.callback_delivery import sign
from tests.emulators.receiver import Receiver
from tests.emulators.signl4 import DEFAULT_API_KEY
from tests.integration.raw_server import Answer, zeros_compressed
from tests.security.lab import Result, histogram, settled

ATTACKER_KEY = "attacker-chosen-signing-key"
KEY_PATH = "/system/callbackkey/index.rails"
KEY_READS_A_MINUTE = 5  # agent/README.md, Security model: "at most 5 keys are read a minute"
MALLORY = "mallory@example.com"
MIB = 1024 * 1024
MEMORY_BOUND_MIB = 128  # the agent or a task with its libraries, plus the 16 MiB read bound; far below a bomb
CALLBACK_WAIT = 30.0


def callback_path(ticket_id):
    return "/manage/%s/callback?recordId=%d" % (support.CALLBACK_TOKEN, ticket_id)


def forged_callback(ticket_id, key_url, message_id):
    """A ticket callback shaped as Manage sends one, signed with the attacker's key: ``(body, headers)``."""
    payload = {"MessageId": message_id, "FromUrl": "127.0.0.1", "CompanyId": "signl4demo", "MemberId": "x",
               "Action": "updated", "Type": "ticket", "ID": ticket_id, "CallbackObjectRecId": 1, "Entity": "{}",
               "Metadata": {"key_url": key_url}}
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return body, {"x-content-signature": sign(body, ATTACKER_KEY)}


def captured_callback(lab, ticket_id):
    """A callback Manage really sent about ``ticket_id`` (to a receiver of the test's), as it was sent:
    ``(body bytes, headers, key_url)``."""
    box = Receiver(path="/callback?recordId=")
    try:
        with lab.cw() as cw:
            made = cw.create("/system/callbacks", {"url": box.url, "objectId": 1, "type": "ticket", "level": "owner",
                                                   "description": "capture"})
            cw.patch("/service/tickets/%d" % ticket_id, [{"op": "replace", "path": "summary", "value": "Captured"}])
            lab.manage.control("POST", "/callbacks/drain", {"timeout": 10})
            cw.delete("/system/callbacks/%d" % made["id"])
        delivery = box.requests()[-1]
    finally:
        box.stop()
    return delivery["raw"], {"x-content-signature": delivery["headers"]["x-content-signature"]}, \
        delivery["body"]["Metadata"]["key_url"]


def callback_target(lab, name, *summaries):
    """Fresh emulators, tickets with ``summaries``, and an agent that cycles only when a callback wakes it."""
    lab.fresh()
    with lab.cw() as cw:
        ticket_ids = [support.new_ticket(cw, summary=summary)["id"] for summary in summaries]
    return lab.agent(name, poll_interval=3600), ticket_ids


def raised(lab, cw, name, summary, subscribe=True, **overrides):
    """A new ticket and an agent (subscribed to SIGNL4's outbound webhooks) that has raised its Signl."""
    ticket_id = support.new_ticket(cw, summary=summary)["id"]
    agent = lab.agent(name, **overrides)
    if subscribe:
        support.subscribe(lab.signl4, agent.url + support.WEBHOOK_PATH)
    support.wait_for(lambda: support.custom(cw.get("/service/tickets/%d" % ticket_id), "Signl4Retrieved_c"))
    return agent, ticket_id


def key_reads(requests):
    return [r for r in requests if r["path"].lower().endswith(KEY_PATH)]


def writes(lab):
    """The writes in both emulators' journals since they were cleared (SIGNL4's alert search is a POST, no write)."""
    return lab.manage.writes() + [r for r in lab.signl4.writes() if not r["path"].endswith("/alerts/paged")]


def nothing_written(result, lab):
    """Neither emulator's journal holds a write (what was cleared before the attack is not counted)."""
    found = writes(lab)
    result.expect("writes in Manage and SIGNL4", "%d%s" % (len(found), "".join(
        " %s %s" % (r["method"], r["path"]) for r in found[:4])), not found)


def clear_journals(lab):
    lab.manage.clear_requests()
    lab.signl4.clear_requests()


def notes_of(cw, ticket_id):
    return cw.list("/service/tickets/%d/notes" % ticket_id)


def ticket_state(cw, ticket_id):
    ticket = cw.get("/service/tickets/%d" % ticket_id)
    notes = notes_of(cw, ticket_id)
    owner = (ticket.get("owner") or {}).get("identifier")
    return "status %r, owner %s, %d note(s)" % (ticket["status"]["name"], owner, len(notes))


def drain_outbound(lab):
    lab.signl4.control("POST", "/outbound/drain", {"timeout": 10})


def cycles_later(agent, count=2, timeout=30.0):
    """Wait until the agent's last good cycle is ``count`` seconds newer than now's (its metrics; with a poll
    interval of 1 s, about that many cycles more): what came in meanwhile has been acted on."""
    start = agent.metric("signl4_agent_last_good_cycle_timestamp")
    return support.wait_for(lambda: agent.metric("signl4_agent_last_good_cycle_timestamp") >= start + count,
                            timeout=timeout)


# ----- 1: callbacks: key_url elsewhere, bad signature floods, replays ---------------------------------

def key_url_elsewhere(lab):
    result = Result("key_url elsewhere", "callbacks signed with the attacker's key whose Metadata.key_url points "
                    "elsewhere (another port, host, scheme, user info, not a key path, a fragment, a header, "
                    "http where Manage is https); a decoy there answers with the attacker's key")
    agent, (ticket_id,) = callback_target(lab, "key-url", "A callback's target")
    decoy = lab.server([Answer(200, json.dumps({"signing_key": ATTACKER_KEY}))])
    decoy_port = int(decoy.url.rsplit(":", 1)[1])
    manage_port = int(lab.manage.url.rsplit(":", 1)[1])
    key = "/v2025_1" + KEY_PATH + "?companyName=signl4demo&id=1"
    forged = ["http://127.0.0.1:%d%s" % (decoy_port, key), "http://localhost:%d%s" % (decoy_port, key),
              "http://localhost:%d%s" % (manage_port, key), "https://127.0.0.1:%d%s" % (manage_port, key),
              "http://demopublic:demoprivate@127.0.0.1:%d%s" % (manage_port, key),
              "http://127.0.0.1:%d@127.0.0.1:%d%s" % (manage_port, decoy_port, key),
              "http://127.0.0.1:%d/v2025_1/apis/3.0/system/members" % manage_port,
              "http://127.0.0.1:%d%s#x" % (manage_port, key), "http://127.0.0.1:%d%s\r\nX-Injected: y" % (manage_port, key)]
    clear_journals(lab)
    answers = [agent.request("POST", callback_path(ticket_id), *forged_callback(ticket_id, url, "forged-%d" % n))[0]
               for n, url in enumerate(forged)]
    # Manage configured as https on the decoy's port: a key_url of plain http there is another origin
    downgraded = lab.agent("key-url-https", ready=False, poll_interval=3600,
                           manage={"url": "https://127.0.0.1:%d" % decoy_port, "codebase": "v2025_1/"})
    support.wait_for(lambda: downgraded.get("/healthz")[0] is not None)
    answers.append(downgraded.request("POST", callback_path(ticket_id), *forged_callback(
        ticket_id, "http://127.0.0.1:%d%s" % (decoy_port, key), "forged-http"))[0])
    settled(lambda: (len(decoy.requests), len(lab.manage.requests())), quiet=1.0)
    result.expect("answers to %d forged callbacks" % len(answers), histogram(answers), set(answers) == {401})
    result.expect("requests the decoy received (so no credentials)", len(decoy.requests), not decoy.requests)
    result.expect("key reads at Manage", len(key_reads(lab.manage.requests())), not key_reads(lab.manage.requests()))
    result.expect("Manage requests of any kind", len(lab.manage.requests()), not lab.manage.requests())
    nothing_written(result, lab)
    lab.survived(result, agent)
    lab.survived(result, downgraded, "agent with an https Manage")
    return result


OUTCOMES = ("queued", "accepted", "duplicate", "rejected", "throttled", "error")


def bad_signature_flood(lab):
    count = lab.size(100, 1000)
    result = Result("bad signature flood", "%d callbacks with a wrong signature: half with the real key_url (its key "
                    "cached), half naming key ids Manage does not know" % count)
    agent, (ticket_id,) = callback_target(lab, "flood", "Flooded")
    body, headers, key_url = captured_callback(lab, ticket_id)
    agent.request("POST", callback_path(ticket_id), body, headers)  # the key is read and cached, as it would be
    support.wait_for(lambda: agent.deliveries("manage", "accepted") >= 1, timeout=CALLBACK_WAIT)
    settled(lambda: len(lab.manage.requests()))
    clear_journals(lab)
    counted = agent.deliveries("manage")
    unknown = key_url.rsplit("=", 1)[0] + "=00000000-0000-4000-8000-%012d"
    started = time.monotonic()
    answers = [agent.request("POST", callback_path(ticket_id), *forged_callback(
        ticket_id, key_url if n % 2 else unknown % n, "flood-%d" % n))[0] for n in range(count)]
    # each callback is counted once when answered, and each one queued once more when the verifier is done
    support.wait_for(lambda: agent.deliveries("manage") >= counted + count + answers.count(202), timeout=CALLBACK_WAIT)
    minutes = 1 + int((time.monotonic() - started) // 60)
    requests = settled(lab.manage.requests, quiet=1.0)
    reads, others = key_reads(requests), [r for r in requests if r not in key_reads(requests)]
    result.expect("answers", histogram(answers), set(answers) <= {401, 202, 429})
    outcomes = dict((outcome, agent.deliveries("manage", outcome)) for outcome in OUTCOMES)
    result.expect("callback outcomes the agent counted (the real one's included)", ", ".join(
        "%s %d" % item for item in outcomes.items() if item[1]), outcomes["accepted"] == 1 and not outcomes["duplicate"])
    budget = "key reads at Manage (budget %d a minute, the real one's included; %d minute(s))" % (KEY_READS_A_MINUTE, minutes)
    result.expect(budget, "1 + %d (%s)" % (len(reads), histogram(r["status"] for r in reads)),
                  1 + len(reads) <= KEY_READS_A_MINUTE * minutes)
    result.expect("other Manage requests (a ticket read per callback taken)", len(others), not others)
    nothing_written(result, lab)
    lab.survived(result, agent)
    return result


def replayed_callback(lab):
    replays = lab.size(3, 20)
    result = Result("replayed callback", "a callback Manage signed, taken once, then sent again %d times; and once "
                    "with its ticket id changed under the same signature" % replays)
    agent, (ticket_id, other_id) = callback_target(lab, "replay", "Replayed", "Not in the callback")
    body, headers, unused = captured_callback(lab, ticket_id)
    clear_journals(lab)
    first = agent.request("POST", callback_path(ticket_id), body, headers)
    taken = support.wait_for(lambda: agent.deliveries("manage", "accepted") >= 1, timeout=CALLBACK_WAIT)
    caused = len(settled(lab.manage.requests))
    result.expect("the real callback", "HTTP %s %s, taken: %s, %d Manage requests (its ticket's cycle)" % (
        first[0], first[1].decode(), bool(taken), caused), first[0] in (200, 202) and taken)
    lab.manage.clear_requests()
    answers = [agent.request("POST", callback_path(ticket_id), body, headers) for unused in range(replays)]
    tampered = body.replace(b'"ID":%d' % ticket_id, b'"ID":%d' % other_id)
    forged = agent.request("POST", callback_path(other_id), tampered, headers)
    result.expect("answers to the replays", histogram("%s %s" % (s, b.decode()) for s, b in answers),
                  all(answer == (200, b'{"outcome": "duplicate"}') for answer in answers))
    result.expect("answer to the tampered copy", "HTTP %s" % forged[0], forged[0] == 401 and tampered != body)
    result.expect("Manage requests after the first", len(settled(lab.manage.requests, quiet=1.0)),
                  not lab.manage.requests())
    nothing_written(result, lab)
    lab.survived(result, agent)
    return result


# ----- 2: absurd records never stop the agent ---------------------------------------------------------

ABSURD_EXTERNAL_IDS = ["9" * 20, "1" * 4400, "\u0661\u0662\u0663", "\u00b2", "-1", "0" * 30, "1e400", "NaN"]
HOSTILE_ALERTS = [{"id": ["x"], "externalId": 10 ** 30, "status": "2", "flags": "2", "history": [], "eventId": {"a": 1}},
                  "not an object",
                  {"id": "h" * 30, "externalId": "1" * 4400, "status": {"statusCode": True}, "flags": 10 ** 40,
                   "history": {"acknowledgements": "abc", "closedBy": 5}},
                  {"id": "hostile-2", "externalId": "\u0661\u0662", "status": {"statusCode": "NaN"}, "parameters": "x"}]
HOSTILE_TICKETS = [{"ticket": {"id": "1/../../system/members", "summary": 5}}, {"ticket": {"id": 10 ** 40}},
                   {"ticket": "a string"}, {"ticket": {"id": True}}]
ARABIC_INDIC = dict((ord(str(digit)), chr(0x0660 + digit)) for digit in range(10))


def absurd_records(lab):
    result = Result("absurd records", "alerts with external ids of 20 and 4,400 digits, Arabic-Indic digits, "
                    "superscripts, NaN; alert and ticket records of every wrong type between good ones")
    lab.fresh()
    with lab.cw() as cw:
        agent, first = raised(lab, cw, "absurd", "Absurd: first", subscribe=False, signl4={"poll_alerts": True},
                              poll_interval=1)
        with support.signl4_client(lab.signl4) as client:
            for external_id in ABSURD_EXTERNAL_IDS:
                client.webhook_event({"Title": "Another system's alert", "Message": "x", "X-S4-ExternalID": external_id})
        lab.signl4.inject(200, path="/alerts/paged", method="POST", body={"results": HOSTILE_ALERTS, "hasMore": False})
        alias = {"ticket": {"id": str(first).translate(ARABIC_INDIC)}}  # the first ticket's number in other digits
        lab.manage.inject(200, path="/events/[0-9]+/test$", method="GET", body=HOSTILE_TICKETS + [alias])
        support.wait_for(lambda: agent.metric("signl4_agent_quarantined_records", kind="alert") >= 1 and
                         agent.metric("signl4_agent_quarantined_records", kind="ticket") >= 1)
        status = json.loads(lab.agent_command("status", agent.config_path).stdout or "{}")
        quarantine = [entry["record"][:40] for entry in status.get("quarantine", [])]
        second = support.new_ticket(cw, summary="Absurd: second")["id"]
        clear_journals(lab)
        support.act(lab.signl4, "acknowledge", first)
        synced = support.wait_for(lambda: cw.get("/service/tickets/%d" % first)["status"]["name"] == "In Progress" and
                                  support.alerts(lab.signl4, second), timeout=30)
    result.expect("quarantined (agent status)", "%d: %s" % (len(quarantine), ", ".join(quarantine)),
                  len(quarantine) >= 2 and "ticket:%d" % first not in quarantine)
    result.expect("other tickets still sync", "acknowledge in SIGNL4 -> ticket %d: %s; ticket %d raised: %s" % (
        first, bool(synced), second, bool(support.alerts(lab.signl4, second))), bool(synced))
    touched = sorted({r["path"] for r in writes(lab)})
    wanted = {"/v2025_1/apis/3.0/service/tickets/%d" % ticket for ticket in (first, second)}
    result.expect("writes", ", ".join(t if "/webhook/" not in t else "POST /webhook/***" for t in touched),
                  all(t in wanted or t.startswith("/webhook/") for t in touched))
    lab.survived(result, agent)
    return result


# ----- 3: a foreign alert is never adopted as a ticket's Signl -------------------------------------------

def foreign_alert_adoption(lab):
    result = Result("foreign alert adoption", "the raise of a ticket's Signl answered 500 (outcome unknown), then "
                    "another system raises an alert with the ticket's number as external id; later it is closed "
                    "and annotated")
    lab.fresh()
    with lab.cw() as cw:
        agent, ticket_id, foreign = unknown_raise_then_foreign(lab, result, cw)
        raised = support.alerts(lab.signl4, ticket_id)
        own = [a for a in raised if a["id"] != foreign["id"]]
        marker = [p["name"] for a in own for p in a.get("parameters") or [] if p["name"] == "SyncRef"]
        result.expect("alerts with the ticket's number", "%d: %s" % (len(raised), "the foreign one and the ticket's own "
                                                                     "(SyncRef on it: %s)" % bool(marker) if own else
                                                                     "the foreign one, ADOPTED"),
                      len(raised) == 2 and len(own) == 1 and marker)
        if len(own) == 1:
            foreign_acted_on(lab, result, (cw, agent, ticket_id), foreign, own[0])
    lab.survived(result, agent)
    return result


def unknown_raise_then_foreign(lab, result, cw):
    """The ticket's raise answered 500 (``once``), a foreign alert with its number, then the agent running."""
    config = lab.config("adopt", port=0, poll_interval=1)
    lab.agent_command("once", config)  # the seed's tickets get their Signls: the next raise is the ticket's
    ticket_id = support.new_ticket(cw, summary="Adopt me not")["id"]
    lab.signl4.inject(500, method="POST", path="^/webhook/")
    lab.agent_command("once", config)
    failed = [r["status"] for r in lab.signl4.requests() if r["method"] == "POST" and r["path"].startswith("/webhook/")]
    result.expect("the ticket's raise", "answered %s (the seed tickets' raises before it)" % histogram(failed), 500 in failed)
    with support.signl4_client(lab.signl4) as client:
        client.webhook_event({"Title": "Another system's alert", "Message": "x", "X-S4-ExternalID": str(ticket_id)})
    foreign = support.alerts(lab.signl4, ticket_id)[0]
    agent = lab.agent("adopt", poll_interval=1)
    support.subscribe(lab.signl4, agent.url + support.WEBHOOK_PATH)
    support.wait_for(lambda: len(support.alerts(lab.signl4, ticket_id)) == 2 and support.custom(
        cw.get("/service/tickets/%d" % ticket_id), "Signl4Retrieved_c"))
    drain_outbound(lab)
    cycles_later(agent)
    return agent, ticket_id, foreign


def foreign_acted_on(lab, result, where, foreign, own):
    """The foreign alert annotated and closed changes nothing; the ticket's own Signl still syncs."""
    cw, agent, ticket_id = where
    before = ticket_state(cw, ticket_id)
    clear_journals(lab)
    lab.signl4.control("POST", "/act", {"action": "annotate", "alert_id": foreign["id"], "user": support.OLIVIA,
                                        "text": "closing it"})
    lab.signl4.control("POST", "/act", {"action": "close", "alert_id": foreign["id"], "user": support.OLIVIA})
    drain_outbound(lab)
    cycles_later(agent)
    after = ticket_state(cw, ticket_id)
    result.expect("the foreign alert annotated and closed -> ticket", "%s before, %s after" % (before, after),
                  before == after)
    nothing_written(result, lab)
    lab.signl4.control("POST", "/act", {"action": "acknowledge", "alert_id": own["id"], "user": support.OLIVIA})
    synced = support.wait_for(lambda: cw.get("/service/tickets/%d" % ticket_id)["status"]["name"] == "In Progress")
    result.expect("its own Signl acknowledged -> ticket", "In Progress" if synced else "NOT updated", bool(synced))


# ----- 4: forged webhook deliveries write nothing --------------------------------------------------------

def forged_webhooks(lab):
    notes = 20
    result = Result("forged webhooks", "a forged acknowledge naming Mallory (a Manage member: owner_assignment both) "
                    "of an open Signl, and %d forged annotations not on its timeline" % notes)
    lab.fresh()
    with lab.cw() as cw:
        support.member_with_email(cw, "asmith", MALLORY)
        agent, ticket_id = raised(lab, cw, "forged", "Forged deliveries", owner_assignment="both", poll_interval=1)
        alert = support.alerts(lab.signl4, ticket_id)[0]
        cycles_later(agent)
        before = ticket_state(cw, ticket_id)
        clear_journals(lab)
        part = {"id": alert["id"], "eventId": alert["eventId"], "externalEventId": str(ticket_id)}
        mallory = {"id": "mallory", "username": "Mallory", "mailaddress": MALLORY}
        bodies = [{"id": "forged-ack", "eventType": 201, "alert": dict(part, statusCode=2), "user": mallory}]
        bodies += [{"id": "forged-note-%d" % n, "eventType": 203, "alert": dict(part, statusCode=0), "user": mallory,
                    "annotation": {"id": "forged-%d" % n, "message": "Resolved, close it"}} for n in range(notes)]
        answers = [agent.request("POST", support.WEBHOOK_PATH, body)[0] for body in bodies]
        reads = settled(lambda: len([r for r in lab.signl4.requests() if r["path"].endswith("/details")]), quiet=1.5)
        cycles_later(agent)
        after = ticket_state(cw, ticket_id)
        result.expect("answers", histogram(answers), set(answers) == {200})
        result.expect("alert reads (what SIGNL4 says is what counts)", reads, reads >= 1)
        result.expect("ticket", "%s before, %s after" % (before, after), before == after)
        result.expect("the Signl in SIGNL4", "status %s" % support.alerts(lab.signl4, ticket_id)[0]["status"]["statusCode"],
                      support.alerts(lab.signl4, ticket_id)[0]["status"]["statusCode"] == 1)
        nothing_written(result, lab)
        support.act(lab.signl4, "acknowledge", ticket_id)
        synced = support.wait_for(lambda: cw.get("/service/tickets/%d" % ticket_id)["status"]["name"] == "In Progress")
        owner = (cw.get("/service/tickets/%d" % ticket_id).get("owner") or {}).get("identifier")
    result.expect("the real acknowledge afterwards -> ticket", "%s, owner %s" % (
        "In Progress" if synced else "NOT updated", owner), bool(synced) and owner != "asmith")
    lab.survived(result, agent)
    return result


# ----- 5: slow connections -----------------------------------------------------------------------------

def slow_connections(lab):
    senders, hold = 200, lab.size(3, 30)
    result = Result("slow connections", "%d connections each trickling a request that never ends (a header line every "
                    "2 s), held %d s; /healthz and a valid webhook asked every second meanwhile" % (senders, hold))
    lab.fresh()
    agent = lab.agent("slow")
    clear_journals(lab)
    probes = []
    with support.SlowSenders(agent.port, senders, support.WEBHOOK_PATH) as slow:
        time.sleep(slow.every)  # every sender has sent a line more
        ends = time.monotonic() + hold
        while time.monotonic() < ends:
            probes += probe(agent)
            time.sleep(1.0)
    slowest = max(seconds for unused, seconds in probes)
    result.expect("answers within 5 s", histogram(answer for answer, unused in probes) + "; slowest %.2f s" % slowest,
                  all(answer in ("healthz 200", "webhook 200 ignored") for answer, unused in probes))
    # the header deadline (listen.header_timeout, 10 s) ends each slow request; a quick run is over before it
    result.expect("slow requests the agent closed (then opened again)", slow.closed_by_agent,
                  slow.closed_by_agent > 0 or hold < 10)
    nothing_written(result, lab)
    lab.survived(result, agent)
    return result


NOT_ALERT = {"id": "duty-1", "eventType": 300, "team": {"id": "t"}}


def probe(agent):
    """``[("healthz 200", seconds), ("webhook 200 ignored", seconds)]``: one probe's answers, 5 s at most each."""
    answers = []
    for label, method, path, body in (("healthz", "GET", "/healthz", None), ("webhook", "POST", support.WEBHOOK_PATH, NOT_ALERT)):
        started = time.monotonic()
        try:
            status, text = agent.request(method, path, body, timeout=5.0)
            answer = "%s %s%s" % (label, status, " ignored" if b'"ignored"' in text else "")
        except OSError as exc:
            answer = "%s %s" % (label, type(exc).__name__)
        answers.append((answer, time.monotonic() - started))
    return answers


# ----- 6: oversized answers -----------------------------------------------------------------------------

def oversized_answers(lab):
    bomb, plain = lab.size(64, 256) * MIB, lab.size(17, 64) * MIB
    compressed = zeros_compressed(bomb)
    result = Result("oversized answers", "Manage answering a gzip bomb (%d MiB decoded, %d KiB sent) to the agent "
                    "and to a task; SIGNL4 answering %d MiB to a task" % (bomb // MIB, len(compressed) // 1024, plain // MIB))
    lab.fresh()
    bombing = lab.server([Answer(200, compressed, headers={"Content-Encoding": "gzip"})])
    agent = lab.agent("bomb", ready=False, manage={"url": bombing.url, "codebase": "v2025_1/"})
    said = support.wait_for(lambda: [e["message"] for e in agent.logs("ERROR") if "larger than" in e["message"]],
                            timeout=60)
    peak = agent.peak_mib()
    result.expect("agent's error", (said or ["NONE"])[0][:140], bool(said))
    result.expect("agent's peak memory (bound %d MiB)" % MEMORY_BOUND_MIB, "%.0f MiB" % peak, peak < MEMORY_BOUND_MIB)
    lab.survived(result, agent)
    task = lab.task("cw_custom_field_info", dict(lab.manage.connection, cw_url=bombing.url, cw_codebase="v2025_1/"))
    bounded(result, "task cw_custom_field_info", task)
    flooding = lab.server([Answer(200, b" " * plain)])
    task = lab.task("signl4_webhook_info", dict(signl4_api_url=flooding.url + "/api", signl4_api_key=DEFAULT_API_KEY))
    bounded(result, "task signl4_webhook_info", task)
    return result


def bounded(result, label, task):
    message = task.result.get("msg", "")
    result.expect(label, "%s: %s" % (task.outcome(), message[:110]), task.failed and "larger than the 16 MiB" in message)
    result.expect("%s peak memory of its largest process (bound %d MiB)" % (label, MEMORY_BOUND_MIB),
                  "%.0f MiB" % (task.peak_mib or 0), task.peak_mib is not None and task.peak_mib < MEMORY_BOUND_MIB)


# ----- 7: planted run cache and lock directories ------------------------------------------------------------

PLANTS = ("open to other users", "a symbolic link", "owned by another user")
NOBODY = 65534


def plant(path, how, elsewhere):
    """``path`` as another local user could leave it in a shared /tmp; the directory that holds its entries."""
    if how == "a symbolic link":
        elsewhere.mkdir(mode=0o700)
        path.symlink_to(elsewhere, target_is_directory=True)
        target = elsewhere
    else:
        path.mkdir(mode=0o700)
        target = path
    if how == "open to other users":
        path.chmod(0o777)
    return target


def give_away(how, *paths):
    """What the attacker made stays the attacker's (root can make it so; the plants that need it run only as root)."""
    if os.getuid() == 0 and how != "open to other users":
        for path in paths:
            os.lchown(path, NOBODY, NOBODY)


def shared_tmp(lab):
    """A sticky, world-writable temporary directory like /tmp; what a task run with it as TMPDIR leaves there."""
    shared = lab.dir("shared-tmp")
    shutil.rmtree(shared)
    shared.mkdir()
    shared.chmod(0o1777)
    env = lab.module_env(TMPDIR=str(shared))
    for name in ("SIGNL4_CONNECTWISE_RUN_CACHE", "SIGNL4_CONNECTWISE_LOCK_DIR", "SIGNL4_CONNECTWISE_LOCK_TIMEOUT",
                 "XDG_RUNTIME_DIR"):
        env.pop(name, None)
    return shared, env


def private_state_dirs(shared):
    """``(run cache directory, lock directory)`` tasks left in ``shared``: the one holding a codebase entry, the
    one holding lock files."""
    cache = locks = None
    for path in shared.iterdir():
        names = [entry.name for entry in path.iterdir()] if path.is_dir() else []
        entries = [json.loads((path / name).read_text()) for name in names if name.endswith(".json")]
        if any(isinstance(e.get("value"), dict) and "codebase" in e["value"] for e in entries):
            cache = path
        elif any(name.endswith(".lock") for name in names):
            locks = path
    return cache, locks


def planted_private_state(lab):
    hows = [how for how in PLANTS if os.getuid() == 0 or how != "owned by another user"]  # giving away takes root
    plants = [("cache", PLANTS[0]), ("locks", PLANTS[1])] if lab.quick else [(kind, how) for kind in ("cache", "locks")
                                                                             for how in hows]
    result = Result("planted private state", "the run cache and lock directories created first in a shared /tmp (%s); "
                    "the cache holding a codebase entry that sends every write to ticket 1; a lock held by another "
                    "run" % "; ".join("%s %s" % plant for plant in plants))
    lab.fresh()
    shared, env = shared_tmp(lab)
    field = dict(lab.manage.connection, pod_id=10, field_type="Text", entry_type="EntryField", sequence_number=30)
    probe_run = lab.task("cw_custom_field", dict(field, caption="Probe field"), env)
    cache, locks = private_state_dirs(shared)
    result.expect("what a task keeps in the shared /tmp", "%s, %s (%s)" % (
        cache and cache.name, locks and locks.name, probe_run.outcome()), cache is not None and locks is not None)
    if cache is None or locks is None:
        return result
    held_lock(lab, result, env, locks, dict(field, caption="Probe field"))
    entries = {entry.name: json.loads(entry.read_text()) for entry in cache.iterdir()}
    for number, (kind, how) in enumerate(plants):
        if kind == "cache":
            planted_cache(lab, result, (shared, env, cache, entries), how, dict(field, caption="Field %d" % number))
        else:
            planted_locks(lab, result, (shared, env, locks), how, dict(field, caption="Field %d" % number))
    return result


def planted_cache(lab, result, where, how, field):
    shared, env, cache, entries = where
    remove(cache)
    target = plant(cache, how, shared.parent / ("attacker-cache-%d" % time.monotonic_ns()))
    for name, entry in entries.items():
        if isinstance(entry.get("value"), dict) and "codebase" in entry["value"]:
            entry = dict(entry, expires=4102444800, value=dict(entry["value"], codebase="v2025_1/apis/3.0/service/tickets/1?"))
        (target / name).write_text(json.dumps(entry))
        (target / name).chmod(0o600)
        give_away(how, target / name)
    give_away(how, target, cache)
    planted = sorted(os.listdir(target))
    lab.manage.clear_requests()
    task = lab.task("cw_custom_field", field, env)
    writes = ["%s %s" % (r["method"], r["path"]) for r in lab.manage.writes()]
    warned = [w for w in task.warnings if "run cache directory" in w]
    result.expect("cache %s: the task" % how, "%s, writes %s, warned: %s" % (task.outcome(), writes, bool(warned)),
                  not task.failed and writes == ["POST /v2025_1/apis/3.0/system/userDefinedFields"] and warned)
    result.expect("cache %s: its entries" % how, "unchanged" if sorted(os.listdir(target)) == planted else "CHANGED",
                  sorted(os.listdir(target)) == planted)


def planted_locks(lab, result, where, how, field):
    shared, env, locks = where
    remove(locks)
    target = plant(locks, how, shared.parent / ("attacker-locks-%d" % time.monotonic_ns()))
    give_away(how, target, locks)
    lab.manage.clear_requests()
    task = lab.task("cw_custom_field", field, env, timeout=200)
    message = task.result.get("msg", "")
    result.expect("lock directory %s: the task" % how, "%s: %s" % (task.outcome(), message[:120]),
                  task.failed and message.startswith("the lock directory %s" % locks))
    result.expect("lock directory %s: written" % how, "Manage %d, files in it %d" % (
        len(lab.manage.writes()), len(os.listdir(target))), not lab.manage.writes() and not os.listdir(target))
    remove(locks)


def remove(path):
    if path.is_symlink():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def held_lock(lab, result, env, locks, field):
    """Another run of this user holds the field's lock: the task waits its timeout (1 s here), then fails."""
    holders = [open(path, "a", encoding="utf-8") for path in locks.iterdir()]  # pylint: disable=consider-using-with
    try:
        for holder in holders:
            fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
        task = lab.task("cw_custom_field", field, dict(env, SIGNL4_CONNECTWISE_LOCK_TIMEOUT="1"), timeout=200)
    finally:
        for holder in holders:
            holder.close()
    message = task.result.get("msg", "")
    result.expect("a lock held by another run", "%s: %s" % (task.outcome(), message[:100]),
                  task.failed and "another run has held the lock of custom field 'probe field' for 1 s" in message)


# ----- 8: note markers, certificate warnings, tokens, masking, request smuggling -----------------------------

def note_markers(lab):
    result = Result("note markers", "an annotation quoting the reference line of a later annotation that SIGNL4's "
                    "delivery lost; the later one redelivered (and redelivered again)")
    lab.fresh()
    with lab.cw() as cw:
        agent, ticket_id = raised(lab, cw, "notes", "Notes", poll_interval=1)
        lab.signl4.control("POST", "/outbound", {"drop": 1})
        later = support.act(lab.signl4, "annotate", ticket_id, text="the later annotation")["timelineEntries"][-1]["id"]
        lost = [d["payload"] for d in lab.signl4.control("GET", "/outbound")["deliveries"] if d["status"] == "dropped"][-1]
        reference = "[SIGNL4 ref %s]" % later
        support.act(lab.signl4, "annotate", ticket_id, text="quoting:\n%s\nabove" % reference)
        support.wait_for(lambda: len(notes_of(cw, ticket_id)) == 1)
        answers = [agent.request("POST", support.WEBHOOK_PATH, lost)[0]]
        written = support.wait_for(lambda: len(notes_of(cw, ticket_id)) == 2)
        answers.append(agent.request("POST", support.WEBHOOK_PATH, dict(lost, id="redelivered"))[0])
        cycles_later(agent)
        texts = [note["text"] for note in notes_of(cw, ticket_id)]
    last_lines = [text.rsplit("\n", 1)[-1] for text in texts]
    result.expect("answers to the redeliveries", histogram(answers), set(answers) == {200})
    result.expect("notes", "%d, last lines %s" % (len(texts), last_lines), bool(written) and len(texts) == 2 and
                  last_lines.count(reference) == 1)
    lab.survived(result, agent)
    return result


def certificate_checks_off(lab):
    result = Result("certificate checks off", "the agent with manage/signl4.validate_certs false; a task with "
                    "cw_validate_certs false")
    lab.fresh()
    config = lab.config("insecure", manage={"validate_certs": False}, signl4={"validate_certs": False})
    ran = lab.agent_command("once", config)
    said = [json.loads(line)["message"].split(":")[0] for line in ran.stderr.splitlines()
            if '"WARNING"' in line and "validate_certs is false" in line]
    expected = ["manage.validate_certs is false", "signl4.validate_certs is false"]
    result.expect("agent's warnings at start", said, said == expected)
    task = lab.task("cw_custom_field_info", dict(lab.manage.connection, cw_validate_certs=False))
    warned = [w[:70] for w in task.warnings if "validate_certs" in w]
    result.expect("task's warnings", warned, len(warned) == 1 and warned[0].startswith("cw_validate_certs is false"))
    return result


UNSAFE_TOKENS = ["tok/en-0123456789abcdef", "tok?en=0123456789abcdef", "tok%2Fen-0123456789abcdef",
                 "tok en-0123456789abcdef", "t\u00f6k\u00e9n-0123456789abcdef", "tok#en-0123456789abcdef",
                 "tok\nen-0123456789abcdef", "short-token"]


def unsafe_tokens(lab):
    tokens = UNSAFE_TOKENS[:3] if lab.quick else UNSAFE_TOKENS
    keys = ("webhook_token",) if lab.quick else ("webhook_token", "callback_token")
    result = Result("unsafe tokens", "agent configs whose listen.%s holds %s" % (
        " / listen.".join(keys), ", ".join(repr(token[:8]) for token in tokens)))
    lab.fresh()
    for key in keys:
        for token in tokens:
            ran = lab.agent_command("check-config", lab.config("tokens", listen={key: token}))
            lines = (ran.stdout + ran.stderr).strip().splitlines()
            shown = any(form in ran.stdout + ran.stderr for form in (token, token[:12]))
            result.expect("%s %r" % (key, token[:8]), "exit %d, %s" % (ran.returncode, (lines or [""])[0][:100]),
                          ran.returncode == 2 and len(lines) == 1 and "configuration error: listen.%s" % key in lines[0]
                          and not shown)
    return result


MANAGE_KEY = 'Pr1v/K3y+Zq9=Ab@c"d'  # characters URL-encoding and JSON change
TEAM_SECRET = "teamSecret-7f3a9c2e41d0"
RECEIVER_URL = "https://agent.example.com/signl4/" + support.WEBHOOK_TOKEN
SLASH_ESCAPED = "json-ascii-slash"  # JSON with "/" written "\\/", as JSON allows and some serialisers write it


def spellings(name, secret, slash_escaped):
    """The forms of ``secret`` (``tests/bench/secrets_scan.forms``): those with ``slash_escaped``, or all others."""
    return dict((form, text) for form, text in forms(name, secret).items() if (form == SLASH_ESCAPED) == slash_escaped)


def echo(spelled, url=None):
    """An API error body that echoes each of ``spelled``, and ``url`` (which holds a secret) as it is,
    percent-encoded as a whole, and that twice."""
    spelled = sorted(set(spelled))
    if url:
        spelled += [url, quote(url, safe=""), quote(quote(url, safe=""), safe="")]
    return {"code": 400, "message": "echo " + " ".join(spelled),
            "errors": [{"code": "Echo", "field": "f", "message": text} for text in spelled]}


def echoed_secrets(lab, result, slash_escaped=False):
    """The agent (at DEBUG) and tasks, each told a secret by an API in every form: none may show it."""
    manage_forms = spellings("manage private key", MANAGE_KEY, slash_escaped)
    tag = "-slash" if slash_escaped else ""
    lab.fresh()
    lab.manage.inject(400, count=50, path="/system/workflows$", method="GET", body=echo(manage_forms.values()))
    ran = lab.agent_command("once", lab.config("echo-manage" + tag, logging={"level": "DEBUG"},
                                               manage={"private_key": MANAGE_KEY, "codebase": "v2025_1/"}))
    masked(result, "agent log, Manage's echo", [ran.stderr] + log_strings(ran.stderr), manage_forms)
    lab.fresh()
    team_forms = spellings("SIGNL4 team secret", TEAM_SECRET, slash_escaped)
    inbound = "%s/webhook/%s" % (lab.signl4.url, TEAM_SECRET)
    lab.signl4.inject(400, count=50, method="POST", path="^/webhook/", body=echo(team_forms.values(), inbound))
    ran = lab.agent_command("once", lab.config("echo-signl4" + tag, logging={"level": "DEBUG"},
                                               signl4={"team_secret": TEAM_SECRET}))
    masked(result, "agent log, SIGNL4's echo", [ran.stderr] + log_strings(ran.stderr), team_forms)
    lab.manage.inject(400, path="/system/userDefinedFields", method="GET", body=echo(manage_forms.values()))
    task = lab.task("cw_custom_field_info", dict(lab.manage.connection, cw_private_key=MANAGE_KEY, cw_codebase="v2025_1/"))
    masked(result, "task output, Manage's echo", [task.output] + strings(task.result), manage_forms)
    token_forms = spellings("webhook token", support.WEBHOOK_TOKEN, slash_escaped)
    lab.signl4.inject(400, method="POST", path="/v2/webhooks", body=echo(token_forms.values(), RECEIVER_URL))
    task = lab.task("signl4_webhook", dict(signl4_api_url=lab.signl4.url + "/api", signl4_api_key=DEFAULT_API_KEY,
                                           name="Echoed hook", url=RECEIVER_URL, team="Service Desk"))
    masked(result, "task output, SIGNL4's echo of the receiver URL", [task.output] + strings(task.result), token_forms)
    return result


def secrets_in_echoes(lab):
    result = Result("secrets in echoes", "Manage echoing the private key, SIGNL4 the team secret and a receiver URL, "
                    "each raw, URL-encoded, base64, JSON-escaped (once, twice), cut short, the URLs percent-encoded as "
                    "a whole (and twice), to the agent at DEBUG and to tasks")
    return echoed_secrets(lab, result)


def slash_escaped_echo(lab):
    result = Result("slash-escaped echo", "the echoes above with each secret JSON-escaped and its \"/\" written "
                    "\"\\/\" (as JSON allows)")
    return echoed_secrets(lab, result, slash_escaped=True)


def strings(value):
    """Every string inside a JSON-like value (a log line's or a task result's text as it reads decoded)."""
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings(item)]
    return [value] if isinstance(value, str) else []


def log_strings(text):
    found = []
    for line in text.splitlines():
        try:
            found += strings(json.loads(line))
        except ValueError:
            found.append(line)
    return found


def masked(result, where, texts, spelled):
    """``texts`` (the output as written, then its strings decoded) hold no form of the secret, and a mask."""
    found = sorted(form for form, text in spelled.items() if any(text in shown for shown in texts))
    result.expect(where, "%d bytes, masked %d times, %s" % (len(texts[0]), texts[0].count("********"), (
        "forms of the secret shown: %s" % ", ".join(found)) if found else "no form of the secret"),
        not found and "********" in texts[0])


SMUGGLED = json.dumps(NOT_ALERT).encode()


def request_smuggling(lab):
    framings = support.SMUGGLING_FRAMINGS[:2] if lab.quick else support.SMUGGLING_FRAMINGS
    result = Result("request smuggling", "%d requests framed by both Content-Length and Transfer-Encoding, a valid "
                    "webhook behind each on the same connection" % len(framings))
    agent, unused = callback_target(lab, "smuggle")
    behind = b"POST %s HTTP/1.1\r\nHost: agent\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        support.WEBHOOK_PATH.encode(), len(SMUGGLED), SMUGGLED)
    seen = []
    for framing in framings:
        answer, closed = support.exchange(agent.port, b"POST %s " % support.WEBHOOK_PATH.encode() + framing % 5 + behind)
        seen.append("%s%s, %d answer(s)" % (answer.split(b"\r\n", 1)[0].decode(errors="replace"),
                                            ", closed" if closed else ", LEFT OPEN", answer.count(b"HTTP/1.")))
    result.expect("answers", histogram(seen), all(s == "HTTP/1.1 400 Bad Request, closed, 1 answer(s)" or
                                                  s == "HTTP/1.0 400 Bad Request, closed, 1 answer(s)" for s in seen))
    served = agent.deliveries("signl4")
    result.expect("webhooks served from behind them", served, served == 0)
    lab.survived(result, agent)
    return result


ATTACKS = [key_url_elsewhere, bad_signature_flood, replayed_callback, absurd_records, foreign_alert_adoption,
           forged_webhooks, slow_connections, oversized_answers, planted_private_state, note_markers,
           certificate_checks_off, unsafe_tokens, secrets_in_echoes, slash_escaped_echo, request_smuggling]
