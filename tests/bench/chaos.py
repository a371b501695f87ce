"""Chaos suite of the sync agent (issue 12): kill -9 at random moments while Manage answers 429 and
5xx in bursts, SIGNL4 is down for minutes and deliveries both ways are duplicated, delayed and
reordered; afterwards exactly one Signl per ticket, every transition applied once, every note once.
With issue 22's features on: each Signl in the team of the ticket's route, each Manage note one
annotation, each annotation one note, nothing echoed back, each escalation one ticket note and the
priority set.

    python -m tests.bench.chaos [--seed N] [--tickets 500] [--kills 20] [--signl4-down 120] [--quick]

One seed (printed; random by default) drives everything random: the tickets' plans, when they are
created and acted on, the kill moments, the fault bursts, the delivery settings (the emulators'
duplicate/delay/jitter draws are seeded from it too). Thread timing still varies between runs, so
a seed reproduces the workload and the faults, not every interleaving.

How it works:
- both emulators run as processes; the agent (``python -m signl4_agent run``, SIGNL4 polling on,
  Manage callbacks registered, ``owner_assignment: both``) reaches each through a recording proxy
  (tests/bench/proxy.py): its writes are counted there, exactly, whatever the emulators' journals
  keep. The workload talks to the emulators directly.
- the ledger: for every ticket a seeded plan of transitions, each made by one side (a SIGNL4 user
  acknowledging/closing through the emulator's ``/act``, or a Manage status change to "In
  Progress"/"Closed (resolved)"), and annotations written in SIGNL4. A transition is made once
  the previous one of that ticket has synced; annotations come at any time.
- issue 22: the agent has two routes to the SIGNL4 emulator's second team (Priority 1 tickets,
  company Tailspin; the tickets' priority and company are drawn), ``notes.to_signl4`` on
  (Discussion notes) and ``escalations`` on (a note, priority 1). While its Signl is open, a
  ticket gets Discussion notes in Manage and SIGNL4 escalates it (the emulator's ``/escalate``, to
  the manager or to the other team; not while SIGNL4 is down), each at a seeded moment; its close
  waits until they have travelled (a note added after the close stays in Manage, by design). The
  SIGNL4 user who acts is a member of the ticket's team.
- SIGNL4 down: its proxy closes its listening socket and cuts open connections for
  ``--signl4-down`` seconds (connection refused, as a stopped server; the emulator keeps its state,
  which a restarted emulator process would lose). SIGNL4 users cannot act meanwhile (the workload
  defers their actions); outbound webhooks already queued are still delivered.
- Manage faults: bursts of 429 (with Retry-After) and 500/502/503 through the emulator's
  ``/faults`` (count, method, path), at seeded moments, each cleared after a window of 1 to 8 s;
  they hit whoever calls, the workload too.
- kills: SIGKILL at seeded moments, the agent restarted at once each time.
- at the end the suite waits (at most ``--final-wait`` seconds) until every expected state is
  reached, the agent is healthy (``/healthz`` 200: a full cycle succeeded lately) with no pending
  intents, and both emulators' delivery queues are empty, waits
  out the longest delivery delay for late duplicates, then compares the ledger with the final state
  of both emulators and the counts at the proxies. Exit 1 on any mismatch.
"""

import argparse
import collections
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.bench import common, results
from tests.agent import support  # noqa: E402 - after common, which puts the agent and the collection on sys.path
from tests.bench.proxy import RecordingProxy  # noqa: E402
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import ManageClient  # noqa: E402
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import OutcomeUnknownError  # noqa: E402
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import RetryPolicy  # noqa: E402
from tests.emulators.signl4.seed import DEFAULT_TEAM_ID, SECOND_TEAM_ID, SECOND_TEAM_SECRET  # noqa: E402

NEW, IN_PROGRESS, CLOSED = "New (not responded)", "In Progress", "Closed (resolved)"
WORD = {IN_PROGRESS: "Acknowledged", CLOSED: "Resolved"}
ALERT_CODE = {IN_PROGRESS: 2, CLOSED: 4}
ACT_STATUS = {"acknowledge": IN_PROGRESS, "close": CLOSED}
ACTORS = (support.OLIVIA, "nick@example.com")  # SIGNL4 users who act; rene@ is the agent's own user
P1, P2, P3 = "Priority 1 - Emergency Response", "Priority 2 - Quick Response", "Priority 3 - Normal Response"
# issue 22: routes to two teams (the acting user rene@ is a member of both), notes both ways, escalations
ROUTES = [dict(name="netops", priority=P1, team_secret=SECOND_TEAM_SECRET, service="ConnectWise"),
          dict(name="tailspin", company="Tailspin", team_secret=SECOND_TEAM_SECRET, alerting_scenario="emergency")]
# how a ticket is created: (weight, priority, company, the team its route raises in)
KINDS = ((60, P3, "Fabrikam", DEFAULT_TEAM_ID), (25, P1, "Fabrikam", SECOND_TEAM_ID), (15, P2, "Tailspin", SECOND_TEAM_ID))
TEAM_NAME = {DEFAULT_TEAM_ID: "Service Desk", SECOND_TEAM_ID: "Network Operations"}
TEAM_ACTOR = {DEFAULT_TEAM_ID: ACTORS[0], SECOND_TEAM_ID: ACTORS[1]}  # a member of the team acts on its Signls
ESCALATION_PRIORITY = P1
ESCALATION_NOTE = "SIGNL4: the Signl was escalated"
NOTES_READ_EVERY = 3.0  # seconds: a ticket's notes are read this seldom while the workload waits for them
NOTE_MARKER, REF_MARKER = "[CW note ", "[SIGNL4 ref "  # the agent's lines: an annotation from a note, a note of its own
# plans: transitions in order, each (side, target status); weights of how often each plan is drawn
PLANS = (
    (10, ()),
    (15, (("s4", IN_PROGRESS),)),
    (10, (("cw", IN_PROGRESS),)),
    (15, (("s4", IN_PROGRESS), ("s4", CLOSED))),
    (15, (("s4", IN_PROGRESS), ("cw", CLOSED))),
    (15, (("cw", IN_PROGRESS), ("s4", CLOSED))),
    (10, (("cw", IN_PROGRESS), ("cw", CLOSED))),
    (5, (("s4", CLOSED),)),
    (5, (("cw", CLOSED),)),
)
FAULT_PATHS = (None, r"/service/tickets", r"/events/\d+/test", r"/notes", r"/system/workflows", r"/priorities")


class Killer:
    """Kills the agent with SIGKILL at given moments (seconds after ``start``), restarting it each time."""

    def __init__(self, path, port, moments):
        self.path, self.port = path, port
        self.moments = sorted(moments)
        self.kills = 0
        self.agent = support.AgentProcess(path, port)
        self.done = threading.Event()
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for moment in self.moments:
            if self.done.wait(max(0.0, self.started + moment - time.monotonic())):
                return
            self.agent.proc.send_signal(signal.SIGKILL)
            self.agent.proc.wait()
            self.kills += 1
            self.agent = support.AgentProcess(self.path, self.port)

    def all_done(self):
        return self.kills == len(self.moments)

    def finish(self):
        """Stop the agent with SIGTERM: ``(exit code, its output)``. An agent that does not stop in 15 s
        gets SIGABRT, whose thread dump (``PYTHONFAULTHANDLER``, set by the suite) ends its output."""
        self.done.set()
        self.thread.join()
        self.agent.wait_ready()  # a just restarted agent has not installed its SIGTERM handler yet
        return common.terminate(self.agent)


class AgentLedger:
    """What the agent sent through the proxies: ticket status PATCHes, notes, SIGNL4 status changes, events."""

    def __init__(self):
        self.lock = threading.Lock()
        self.status_patches = collections.Counter()  # (ticket id, status name) -> 2xx PATCHes setting it
        self.notes_posted = collections.Counter()  # ticket id -> 2xx note POSTs (from annotations)
        self.escalation_notes = collections.Counter()  # ticket id -> 2xx note POSTs of escalations
        self.priority_patches = collections.Counter()  # ticket id -> 2xx PATCHes setting the priority
        self.annotations_posted = collections.Counter()  # alert id -> 2xx annotation POSTs (from ticket notes)
        self.signl4_changes = collections.Counter()  # (alert id, acknowledge|close) -> 200s
        self.signl4_refused = collections.Counter()  # (alert id, action) -> 409s (already done)
        self.events_sent = 0
        self.faults_seen = collections.Counter()  # status -> injected faults the agent got
        self.calls = collections.Counter()  # api -> requests
        self.status_ids = {}  # status name -> id on the Service Desk board

    def manage(self, method, path, status, sent):
        with self.lock:
            self.calls["manage"] += 1
            if status in (429, 500, 502, 503):
                self.faults_seen[status] += 1
            if not 200 <= status < 300:
                return
            parts = path.split("?")[0].rstrip("/").split("/")
            if method == "PATCH" and parts[-2:-1] == ["tickets"]:
                for op in sent or []:
                    if op.get("path") == "status":
                        self.status_patches[(int(parts[-1]), _status_key(op.get("value")))] += 1
                    elif op.get("path") == "priority":
                        self.priority_patches[int(parts[-1])] += 1
            elif method == "POST" and parts[-1] == "notes":
                escalation = str((sent or {}).get("text") or "").startswith(ESCALATION_NOTE)
                (self.escalation_notes if escalation else self.notes_posted)[int(parts[-2])] += 1

    def signl4(self, method, path, status, sent):
        with self.lock:
            self.calls["signl4"] += 1
            parts = path.split("?")[0].rstrip("/").split("/")
            if method == "POST" and parts[-1] in ("acknowledge", "close"):
                target = self.signl4_changes if status == 200 else self.signl4_refused
                target[(parts[-2], parts[-1])] += status in (200, 409)
            elif method == "POST" and "webhook" in parts and status == 201:
                self.events_sent += 1
            elif method == "POST" and parts[-1] == "annotate" and 200 <= status < 300:
                self.annotations_posted[parts[-2]] += 1


def _status_key(value):
    """A status reference by name or id (the agent sends the workflow action's status id)."""
    if isinstance(value, dict):
        return value.get("name") if value.get("name") is not None else value.get("id")
    return value


class Ticket:
    def __init__(self, number, plan, annotations, kind=(P3, "Fabrikam", DEFAULT_TEAM_ID), notes=(), escalations=()):
        self.number = number
        self.plan = list(plan)  # [(side, status, actor)]
        self.annotations = annotations  # [(delay after the Signl, actor, text)]
        self.priority, self.company, self.team = kind  # the team: the one its route raises in
        self.notes = list(notes)  # Discussion notes added in Manage: [(delay after the Signl, text)]
        self.escalations = list(escalations)  # SIGNL4 escalates the Signl: [(delay after the Signl, manager|team)]
        self.note_ids = []  # the notes added so far
        self.escalated = 0
        self.extras_synced = False  # its notes travelled and its escalations were noted (seen once: kept)
        self.caught_up = False  # the same, at the end (_caught_up)
        self.next_notes_read = 0.0  # the workload reads the ticket's notes at most every NOTES_READ_EVERY s
        self.id = None
        self.step = 0
        self.waiting = "signl"  # signl | ready | sync | done
        self.ready_at = 0.0
        self.signl_seen = None
        self.done_annotations = []  # (actor, text)


class Workload:
    """Creates the tickets at their moments and walks each through its plan (the ledger)."""

    def __init__(self, rng, manage, signl4, cw, tickets, duration, signl4_proxy):
        self.rng, self.manage, self.signl4, self.cw = rng, manage, signl4, cw
        self.signl4_proxy = signl4_proxy
        self.started = time.monotonic()
        self.tickets = []
        for number in range(tickets):
            plan = rng.choices([p for _w, p in PLANS], weights=[w for w, _p in PLANS])[0]
            kind = rng.choices([k[1:] for k in KINDS], weights=[k[0] for k in KINDS])[0]
            actor = TEAM_ACTOR[kind[2]]
            plan = [(side, status, actor) for side, status in plan]
            annotations = [(rng.uniform(0, 30), actor, "chaos annotation [a:%d-%d-%d]"
                            % (number, k, rng.randrange(10 ** 6))) for k in range(rng.choice((0, 0, 1, 1, 2)))]
            notes = [(rng.uniform(0, 20), "chaos note from Manage [n:%d-%d-%d]" % (number, k, rng.randrange(10 ** 6)))
                     for k in range(rng.choice((0, 0, 1, 1, 2)))]
            escalations = [(rng.uniform(0, 20), rng.choice(("manager", "team"))) for _k in range(rng.choice((0, 0, 0, 1, 1, 2)))]
            self.tickets.append(Ticket(number, plan, annotations, kind, sorted(notes), sorted(escalations)))
        self.create_at = sorted(rng.uniform(0, duration) for _n in range(tickets))
        self.created = 0
        self.actions = collections.Counter()

    def elapsed(self):
        return time.monotonic() - self.started

    def finished(self):
        return self.created == len(self.tickets) and all(t.waiting == "done" and _extras_done(t) for t in self.tickets)

    def tick(self):
        while self.created < len(self.tickets) and self.create_at[self.created] <= self.elapsed():
            self._create(self.tickets[self.created])
            self.created += 1
        live = [t for t in self.tickets[:self.created] if t.waiting != "done" or not _extras_done(t)]
        if not live:
            return
        alerts = _alerts_by_external_id(self.signl4)
        tickets = _read_tickets(self.cw, [t.id for t in live if t.waiting in ("signl", "sync")])
        for ticket in live:
            self._advance(ticket, alerts.get(str(ticket.id)) or [], tickets.get(ticket.id))

    def _create(self, ticket):
        summary = "Chaos %04d" % ticket.number
        while ticket.id is None:
            try:
                ticket.id = support.new_ticket(self.cw, summary=summary, priority=ticket.priority, company=ticket.company)["id"]
            except OutcomeUnknownError:  # a 5xx burst caught the POST: it may have been applied
                time.sleep(0.2)
                found = self.cw.list("/service/tickets", conditions='summary = "%s"' % summary)
                ticket.id = found[0]["id"] if found else None
        self.actions["tickets created"] += 1

    def _advance(self, ticket, alerts, current):
        now = self.elapsed()
        if alerts and ticket.signl_seen is None:
            ticket.signl_seen = now
        if ticket.signl_seen is not None and not self.signl4_proxy.is_down:
            self._annotate(ticket, now)
        if ticket.signl_seen is not None and not _closing(ticket):
            self._notes_and_escalations(ticket, now)
        if ticket.waiting == "signl":
            if alerts and current and support.custom(current, "Signl4Retrieved_c") is True:
                self._next(ticket, now)
        elif ticket.waiting == "sync":
            if current and _synced(ticket.plan[ticket.step - 1], alerts, current):
                self._next(ticket, now)
        elif ticket.waiting == "ready" and now >= ticket.ready_at:
            if ticket.plan[ticket.step][1] != CLOSED or self._extras_synced(ticket, alerts):
                self._act(ticket)

    def _annotate(self, ticket, now):
        for delay, actor, text in ticket.annotations[len(ticket.done_annotations):]:
            if now < ticket.signl_seen + delay:
                break
            support.act(self.signl4, "annotate", ticket.id, user=actor, text=text)
            ticket.done_annotations.append((actor, text))
            self.actions["annotations in SIGNL4"] += 1

    def _notes_and_escalations(self, ticket, now):
        """While the Signl is open: Discussion notes in Manage, and SIGNL4 escalating the Signl (not while SIGNL4
        is down), each at its moment."""
        for delay, text in ticket.notes[len(ticket.note_ids):]:
            if now < ticket.signl_seen + delay:
                break
            ticket.note_ids.append(_add_note(self.cw, ticket.id, text))
            self.actions["notes in Manage"] += 1
        for delay, to in ticket.escalations[ticket.escalated:]:
            if now < ticket.signl_seen + delay or self.signl4_proxy.is_down:
                break
            body = {"external_id": str(ticket.id), "to": to}
            if to == "team":
                body["team"] = TEAM_NAME[SECOND_TEAM_ID if ticket.team == DEFAULT_TEAM_ID else DEFAULT_TEAM_ID]
            self.signl4.control("POST", "/escalate", body)
            ticket.escalated += 1
            self.actions["escalations in SIGNL4"] += 1

    def _extras_synced(self, ticket, alerts):
        """A Signl is closed only once its ticket's notes are annotations and its escalations notes (a note added
        after the close stays in Manage, by design; the ledger wants each one to travel)."""
        if ticket.extras_synced:
            return True
        if not _extras_done(ticket) or not alerts or min(_annotations_per_note(alerts[0], ticket) or [1]) < 1:
            return False
        if ticket.escalations:
            if self.elapsed() < ticket.next_notes_read:
                return False
            ticket.next_notes_read = self.elapsed() + NOTES_READ_EVERY
            if _escalation_notes(self.cw.list("/service/tickets/%d/notes" % ticket.id)) < len(ticket.escalations):
                return False
        ticket.extras_synced = True
        return True

    def _next(self, ticket, now):
        if ticket.step >= len(ticket.plan):
            ticket.waiting = "done"
        else:
            ticket.waiting, ticket.ready_at = "ready", now + self.rng.uniform(0.2, 4.0)

    def _act(self, ticket):
        side, status, actor = ticket.plan[ticket.step]
        if side == "s4":
            if self.signl4_proxy.is_down:
                return  # the SIGNL4 app is down for its users too
            support.act(self.signl4, "acknowledge" if status == IN_PROGRESS else "close", ticket.id, user=actor)
            self.actions["transitions in SIGNL4"] += 1
        else:
            support.set_status(self.cw, ticket.id, status)
            self.actions["transitions in Manage"] += 1
        ticket.step += 1
        ticket.waiting = "sync"


def _extras_done(ticket):
    """The workload made every annotation, note and escalation of the ticket."""
    return (len(ticket.done_annotations) == len(ticket.annotations) and len(ticket.note_ids) == len(ticket.notes)
            and ticket.escalated == len(ticket.escalations))


def _closing(ticket):
    """The ticket's close step was made (its Signl closed, or being closed)."""
    return any(status == CLOSED for _side, status, _actor in ticket.plan[:ticket.step])


def _add_note(cw, ticket_id, text):
    """A Discussion note added in Manage (by a member, as a technician does); a POST a 5xx burst caught may have
    been applied: looked for by its text before it is sent again."""
    path = "/service/tickets/%d/notes" % ticket_id
    while True:
        try:
            return cw.create(path, dict(text=text, member={"identifier": "asmith"}, detailDescriptionFlag=True))["id"]
        except OutcomeUnknownError:
            time.sleep(0.2)
            found = [n["id"] for n in cw.list(path) if n.get("text") == text]
            if found:
                return found[0]


def _synced(step, alerts, current):
    side, status, _actor = step
    if support.custom(current, "Signl4Status_c") != WORD[status]:
        return False
    if side == "s4":
        return current["status"]["name"] == status
    return bool(alerts) and alerts[0]["status"]["statusCode"] == ALERT_CODE[status]


def _alerts_by_external_id(signl4):
    found = collections.defaultdict(list)
    for alert in signl4.control("GET", "/state")["alerts"]:
        found[alert.get("externalId")].append(alert)
    return found


def _read_tickets(cw, ids, batch=100):
    found = {}
    for first in range(0, len(ids), batch):
        chunk = ids[first:first + batch]
        if chunk:
            for ticket in cw.list("/service/tickets", conditions="id in (%s)" % ", ".join(str(i) for i in chunk)):
                found[ticket["id"]] = ticket
    return found


class FaultBursts:
    """Bursts of 429 and 5xx from Manage at seeded moments (the emulator's ``/faults``): each burst is
    up to ``count`` faulty answers within a window of 1 to 8 s, what is left of it cleared at the
    window's end (a fault count alone would wait, however long, for requests to consume it)."""

    def __init__(self, rng, manage, until):
        self.manage = manage
        self.schedule, moment = [], rng.uniform(2, 10)
        while moment < until:
            status = rng.choice((429, 429, 500, 502, 503))
            spec = dict(status=status, count=rng.randint(2, 10))
            if status == 429:
                spec["retry_after"] = rng.randint(1, 3)
            method, path = rng.choice((None, "GET", "GET", "PATCH", "POST")), rng.choice(FAULT_PATHS)
            if method:
                spec["method"] = method
            if path:
                spec["path"] = path
            window = rng.uniform(1, 8)
            self.schedule.append((moment, window, spec))
            moment += window + rng.uniform(3, 15)
        self.injected = collections.Counter()
        self.done = threading.Event()
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for moment, window, spec in self.schedule:
            if self.done.wait(max(0.0, self.started + moment - time.monotonic())):
                return
            self.manage.control("POST", "/faults", spec)
            self.injected[spec["status"]] += spec["count"]
            if self.done.wait(window):
                return
            self.manage.control("DELETE", "/faults")

    def stop(self):
        self.done.set()
        self.thread.join()
        self.manage.control("DELETE", "/faults")


class Signl4Outage:
    """SIGNL4 unreachable (its proxy down) for ``seconds`` from ``start`` seconds on."""

    def __init__(self, proxy, start, seconds):
        self.proxy, self.start, self.seconds = proxy, start, seconds
        self.began = self.ended = None
        self.t0 = time.monotonic()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        time.sleep(self.start)
        self.proxy.down()
        self.began = time.monotonic() - self.t0
        print("%7.1f s  SIGNL4 down (connections refused) for %.0f s" % (self.began, self.seconds), flush=True)
        time.sleep(self.seconds)
        self.proxy.up()
        self.ended = time.monotonic() - self.t0
        print("%7.1f s  SIGNL4 up again" % self.ended, flush=True)


def _delivery_settings(rng):
    return dict(duplicates=rng.choice((2, 2, 3)), delay=round(rng.uniform(0.0, 1.0), 2),
                jitter=round(rng.uniform(2.0, 5.0), 2), seed=rng.randrange(1 << 30))


# ----- the end: catch up, then compare -----------------------------------------------------------

def _expected(ticket):
    """Final state a ticket must reach: (ticket status, status field, alert code, SIGNL4 user or None)."""
    status, word, code, user = NEW, None, 1, None
    for side, target, actor in ticket.plan:
        status, word, code = target, WORD[target], ALERT_CODE[target]
        if side == "s4":
            user = actor  # owner_assignment: both
    return status, word, code, user


def _note_counts(cw, ticket, notes=None):
    """Notes per SIGNL4 annotation (its text in the note), and the ticket's notes in all."""
    notes = cw.list("/service/tickets/%d/notes" % ticket.id) if notes is None else notes
    counts = [sum(1 for n in notes if text in (n.get("text") or "")) for _delay, _actor, text in ticket.annotations]
    return counts, len(notes)


def _escalation_notes(notes):
    return sum(1 for n in notes if (n.get("text") or "").startswith(ESCALATION_NOTE))


def _annotations_per_note(alert, ticket):
    """Annotations of the Signl per Manage note of the ticket (the marker line naming the note)."""
    texts = [a.get("text") or "" for a in alert.get("annotations") or []]
    return [sum(1 for t in texts if t.endswith("%s%d]" % (NOTE_MARKER, note_id))) for note_id in ticket.note_ids]


def _extras_caught_up(cw, ticket, alert):
    """Its notes travelled, its annotations and escalations are notes (once seen, not read again: the comparison
    at the end reads everything)."""
    if ticket.caught_up:
        return True
    if min(_annotations_per_note(alert, ticket) or [1]) < 1:
        return False
    if ticket.annotations or ticket.escalations:
        notes = cw.list("/service/tickets/%d/notes" % ticket.id)
        if min(_note_counts(cw, ticket, notes)[0] or [1]) < 1 or _escalation_notes(notes) < len(ticket.escalations):
            return False
    ticket.caught_up = True
    return True


def states_reached(workload, signl4, cw):
    """The Signls by external id when every ticket and its Signl are in the states the ledger expects, else None."""
    alerts = _alerts_by_external_id(signl4)
    tickets = _read_tickets(cw, [t.id for t in workload.tickets])
    for ticket in workload.tickets:
        status, word, code, _user = _expected(ticket)
        current, found = tickets.get(ticket.id), alerts.get(str(ticket.id)) or []
        if not current or not found or current["status"]["name"] != status or found[0]["status"]["statusCode"] != code \
                or (word and support.custom(current, "Signl4Status_c") != word):
            return None
    return alerts


def _caught_up(workload, signl4, manage, cw, killer):
    alerts = states_reached(workload, signl4, cw)
    if alerts is None or not all(_extras_caught_up(cw, t, alerts[str(t.id)][0]) for t in workload.tickets):
        return False
    health = killer.agent.get("/healthz")  # 200: a full cycle succeeded lately (not backing off)
    if health[0] != 200 or json.loads(health[1] or b"{}").get("pending") != 0:
        return False
    return signl4.control("GET", "/outbound")["pending"] == 0 and manage.control("GET", "/callbacks")["pending"] == 0


def _compare(workload, signl4, cw, ledger, members):
    """Every mismatch between the ledger and the final state, as text; and the counts."""
    problems, counts = [], collections.Counter()
    state = signl4.control("GET", "/state")["alerts"]
    per_external = collections.Counter(a.get("externalId") for a in state)
    alert_of = dict((a.get("externalId"), a) for a in state)
    tickets = _read_tickets(cw, [t.id for t in workload.tickets])
    for ticket in workload.tickets:
        status, word, code, user = _expected(ticket)
        signls = per_external[str(ticket.id)]
        counts["tickets"] += 1
        counts["Signls"] += signls
        if signls != 1:
            problems.append("ticket %d: %d Signls" % (ticket.id, signls))
            continue
        alert, current = alert_of[str(ticket.id)], tickets[ticket.id]
        problems += _check_state(ticket, alert, current, (status, word, code, user), members)
        problems += _check_transitions(ticket, alert, ledger, counts)
        notes = cw.list("/service/tickets/%d/notes" % ticket.id)
        problems += _check_notes(cw, ticket, notes, ledger, counts)
        problems += _check_team(ticket, alert, counts)
        problems += _check_notes_to_signl4(ticket, alert, notes, ledger, counts)
        problems += _check_escalations(ticket, current, notes, ledger, counts)
    return problems, counts


def _check_state(ticket, alert, current, expected, members):
    status, word, code, user = expected
    found = (current["status"]["name"], support.custom(current, "Signl4Status_c") or None,
             alert["status"]["statusCode"], support.custom(current, "Signl4User_c") or None)
    problems = []
    if found != (status, word, code, user):
        problems.append("ticket %d: expected status/field/alert/user %r, found %r" % (ticket.id, (status, word, code, user), found))
    if support.custom(current, "Signl4Retrieved_c") is not True:
        problems.append("ticket %d: Signl4Retrieved_c not set" % ticket.id)
    if user and (current.get("owner") or {}).get("id") != members[user]:
        problems.append("ticket %d: owner %r, expected member %r" % (ticket.id, current.get("owner"), members[user]))
    return problems


def _check_transitions(ticket, alert, ledger, counts):
    problems = []
    expected_patches = collections.Counter(status for side, status, _a in ticket.plan if side == "s4")
    expected_changes = collections.Counter(("acknowledge" if status == IN_PROGRESS else "close")
                                           for side, status, _a in ticket.plan if side == "cw")
    for status in (IN_PROGRESS, CLOSED):
        applied = ledger.status_patches[(ticket.id, status)] + ledger.status_patches[(ticket.id, ledger.status_ids[status])]
        counts["transitions SIGNL4 -> Manage expected"] += expected_patches[status]
        counts["transitions SIGNL4 -> Manage applied"] += applied
        if applied != expected_patches[status]:
            problems.append("ticket %d: %d agent PATCHes to %r, expected %d" % (ticket.id, applied, status, expected_patches[status]))
    for action in ("acknowledge", "close"):
        applied = ledger.signl4_changes[(alert["id"], action)]
        counts["transitions Manage -> SIGNL4 expected"] += expected_changes[action]
        counts["transitions Manage -> SIGNL4 applied"] += applied
        counts["Manage -> SIGNL4 repeats refused (409)"] += ledger.signl4_refused[(alert["id"], action)]
        if applied != expected_changes[action]:
            problems.append("ticket %d: %d agent %ss in SIGNL4, expected %d" % (ticket.id, applied, action, expected_changes[action]))
    return problems


def _check_notes(cw, ticket, notes, ledger, counts):
    """Each SIGNL4 annotation exactly one note; the ticket holds nothing else than those, its own Manage notes and
    its escalation notes (so no annotation the agent made from a note came back as a note)."""
    per_annotation, total = _note_counts(cw, ticket, notes)
    counts["notes expected"] += len(ticket.annotations)
    counts["notes written"] += total - len(ticket.note_ids) - _escalation_notes(notes)
    counts["note POSTs by the agent"] += ledger.notes_posted[ticket.id]
    problems = []
    if per_annotation != [1] * len(ticket.annotations) or ledger.notes_posted[ticket.id] != len(ticket.annotations):
        problems.append("ticket %d: notes per annotation %r (%d agent POSTs), expected one each"
                        % (ticket.id, per_annotation, ledger.notes_posted[ticket.id]))
    echoes = [n["id"] for n in notes if NOTE_MARKER in (n.get("text") or "")]
    counts["annotations echoed back as notes"] += len(echoes)
    if echoes:
        problems.append("ticket %d: notes %r are annotations the agent made, echoed back" % (ticket.id, echoes))
    expected_total = len(ticket.annotations) + len(ticket.note_ids) + len(ticket.escalations)
    if total != expected_total:
        problems.append("ticket %d: %d notes in all, expected %d" % (ticket.id, total, expected_total))
    return problems


def _check_team(ticket, alert, counts):
    """The Signl is in the team the ticket's route names."""
    counts["Signls in the second team (expected %s)" % ("yes" if ticket.team == SECOND_TEAM_ID else "no")] += \
        alert.get("teamId") == SECOND_TEAM_ID
    counts["tickets routed to the second team"] += ticket.team == SECOND_TEAM_ID
    if alert.get("teamId") != ticket.team:
        return ["ticket %d: Signl in team %s, its route's team is %s" % (ticket.id, alert.get("teamId"), ticket.team)]
    return []


def _check_notes_to_signl4(ticket, alert, notes, ledger, counts):
    """Each Manage note exactly one annotation; no note the agent wrote went to SIGNL4."""
    per_note = _annotations_per_note(alert, ticket)
    texts = [a.get("text") or "" for a in alert.get("annotations") or []]
    echoes = sum(1 for t in texts if REF_MARKER in t)
    counts["Manage notes expected to travel"] += len(ticket.note_ids)
    counts["annotations made from them"] += sum(per_note)
    counts["annotation POSTs by the agent"] += ledger.annotations_posted[alert["id"]]
    counts["agent notes echoed to SIGNL4"] += echoes
    problems = []
    if per_note != [1] * len(ticket.note_ids) or ledger.annotations_posted[alert["id"]] != len(ticket.note_ids):
        problems.append("ticket %d: annotations per Manage note %r (%d agent POSTs), expected one each"
                        % (ticket.id, per_note, ledger.annotations_posted[alert["id"]]))
    if echoes or len(texts) != len(ticket.annotations) + len(ticket.note_ids):
        problems.append("ticket %d: %d annotations (%d of the agent's notes echoed), expected %d"
                        % (ticket.id, len(texts), echoes, len(ticket.annotations) + len(ticket.note_ids)))
    return problems


def _check_escalations(ticket, current, notes, ledger, counts):
    """Each escalation exactly one ticket note, and the priority set (only when escalated)."""
    written, posted = _escalation_notes(notes), ledger.escalation_notes[ticket.id]
    counts["escalations"] += len(ticket.escalations)
    counts["escalation notes"] += written
    counts["escalation note POSTs by the agent"] += posted
    counts["priority PATCHes by the agent"] += ledger.priority_patches[ticket.id]
    priority = (current.get("priority") or {}).get("name")
    expected = ESCALATION_PRIORITY if ticket.escalations else ticket.priority
    counts["escalated tickets with the priority set"] += bool(ticket.escalations) and priority == ESCALATION_PRIORITY
    counts["escalated tickets not at that priority before"] += bool(ticket.escalations) and ticket.priority != ESCALATION_PRIORITY
    problems = []
    if written != len(ticket.escalations) or posted != len(ticket.escalations):
        problems.append("ticket %d: %d escalation notes (%d agent POSTs), expected %d"
                        % (ticket.id, written, posted, len(ticket.escalations)))
    if priority != expected:
        problems.append("ticket %d: priority %r, expected %r" % (ticket.id, priority, expected))
    if ledger.priority_patches[ticket.id] > (1 if ticket.escalations and ticket.priority != ESCALATION_PRIORITY else 0):
        problems.append("ticket %d: %d priority PATCHes" % (ticket.id, ledger.priority_patches[ticket.id]))
    return problems


# ----- the run -----------------------------------------------------------------------------------

def status_ids(cw):
    """Status name -> id on the Service Desk board."""
    board = cw.list("/service/boards", conditions='name = "Service Desk"')[0]
    return dict((s["name"], s["id"]) for s in cw.list("/service/boards/%d/statuses" % board["id"]))


def _members(cw):
    """Give two Manage members the SIGNL4 actors' e-mails (owner assignment); actor -> member id."""
    members = [m for m in cw.list("/system/members", conditions="inactiveFlag = false") if m["identifier"] != "apiautomation"]
    found = {}
    for actor, member in zip(ACTORS, members):
        cw.patch("/system/members/%d" % member["id"], [{"op": "replace", "path": "officeEmail", "value": actor}])
        found[actor] = member["id"]
    return found


def _client(manage):
    c = manage.connection
    return ManageClient(c["cw_url"], c["cw_company_id"], c["cw_public_key"], c["cw_private_key"], c["cw_client_id"],
                        retry=RetryPolicy(max_retries=10, backoff_base=0.2, backoff_max=3.0))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None, help="drives everything random (default: a random one)")
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--signl4-down", type=float, default=120.0, help="seconds SIGNL4 is unreachable")
    parser.add_argument("--duration", type=float, default=None, help="seconds over which the tickets are created "
                        "(default: 0.8 s per ticket)")
    parser.add_argument("--final-wait", type=float, default=900.0, help="at most this long for the agent to catch up")
    parser.add_argument("--quick", action="store_true", help="40 tickets, 4 kills, SIGNL4 down 10 s")
    parser.add_argument("--no-results", action="store_true", help="do not write tests/bench/RESULTS.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.tickets, args.kills, args.signl4_down = 40, 4, 10.0
    if args.seed is None:
        args.seed = random.randrange(1 << 30)
    if args.duration is None:
        args.duration = max(30.0, 0.8 * args.tickets)
    return args


def main(argv=None):
    args = parse_args(argv)
    os.environ["PYTHONFAULTHANDLER"] = "1"  # the agents it starts dump their threads on SIGABRT (see Killer.finish)
    signal.signal(signal.SIGTERM, lambda *unused: sys.exit(143))  # stopped: still stop the emulators and the agent
    cond = results.start(args.quick, seed=args.seed)
    print("chaos: %d tickets over %.0f s, %d kills, SIGNL4 down %.0f s, seed %d"
          % (args.tickets, args.duration, args.kills, args.signl4_down, args.seed), flush=True)
    with tempfile.TemporaryDirectory(prefix="chaos-") as tmp:
        outcome = run(args, Path(tmp))
    _report(args, results.end(cond), outcome)
    return 0 if not outcome["problems"] else 1


def run(args, workdir):
    rng = random.Random(args.seed)
    emulators = common.Emulators()
    manage, signl4 = emulators.manage, emulators.signl4
    ledger = AgentLedger()
    manage_proxy = RecordingProxy(int(manage.url.rsplit(":", 1)[1]), ledger.manage)
    signl4_proxy = RecordingProxy(int(signl4.url.rsplit(":", 1)[1]), ledger.signl4)
    killer = None
    try:
        support.provision(manage)
        with _client(manage) as cw:
            members = _members(cw)
            ledger.status_ids = status_ids(cw)
            port = support.free_port()
            proxied = type("Proxied", (), {"url": manage_proxy.url})
            proxied_signl4 = type("Proxied", (), {"url": signl4_proxy.url})
            raw = support.config(workdir, proxied, proxied_signl4, port=port, signl4={"poll_alerts": True},
                                 poll_interval=1, owner_assignment="both", routes=ROUTES,
                                 notes={"to_signl4": {"enabled": True}},
                                 escalations=dict(enabled=True, note=True, priority=ESCALATION_PRIORITY))
            path = support.write_config(workdir, raw)
            emulators.register_agent("http://127.0.0.1:%d" % port, cw)
            outbound, callbacks = _delivery_settings(rng), _delivery_settings(rng)
            signl4.control("POST", "/outbound", outbound)
            manage.control("POST", "/callbacks", callbacks)
            print("SIGNL4 outbound webhooks: %s; Manage callbacks: %s" % (outbound, callbacks), flush=True)
            workload = Workload(rng, manage, signl4, cw, args.tickets, args.duration, signl4_proxy)
            active = args.duration + 30
            moments = [rng.uniform(3, active) for _k in range(args.kills)]
            outage = Signl4Outage(signl4_proxy, rng.uniform(0.2, 0.6) * args.duration, args.signl4_down)
            faults = FaultBursts(rng, manage, active)
            killer = Killer(path, port, moments)
            started = time.monotonic()
            last_print = 0
            while not (workload.finished() and killer.all_done() and outage.ended is not None):
                workload.tick()
                if time.monotonic() - last_print > 15:
                    last_print = time.monotonic()
                    done = sum(1 for t in workload.tickets if t.waiting == "done")
                    print("%7.1f s  tickets %d/%d created, %d through their plan; kills %d/%d; %s"
                          % (time.monotonic() - started, workload.created, args.tickets, done, killer.kills,
                             args.kills, dict(workload.actions)), flush=True)
                time.sleep(0.5)
            faults.stop()
            workload_seconds = time.monotonic() - started
            print("%7.1f s  workload done; waiting for the agent to catch up (at most %.0f s)"
                  % (workload_seconds, args.final_wait), flush=True)
            caught = support.wait_for(lambda: _caught_up(workload, signl4, manage, cw, killer),
                                      timeout=args.final_wait, interval=2)
            catch_up = time.monotonic() - started - workload_seconds
            settle = max(outbound["delay"] + outbound["jitter"], callbacks["delay"] + callbacks["jitter"]) + 8
            time.sleep(settle)  # late duplicates still land and must change nothing
            code, err = killer.finish()
            problems, counts = _compare(workload, signl4, cw, ledger, members)
            if not caught:
                problems.insert(0, "the agent did not catch up within %.0f s" % args.final_wait)
            if code != 0:
                problems.append("the agent exited %s on SIGTERM: %s" % (code, err[-500:]))
            return dict(problems=problems, counts=counts, kills=killer.kills, ledger=ledger, faults=faults,
                        outbound=signl4.control("GET", "/outbound")["counts"],
                        callbacks=manage.control("GET", "/callbacks")["counts"], outage=outage,
                        workload=dict(workload.actions), seconds=(workload_seconds, catch_up, settle),
                        refused=signl4_proxy.refused, deliveries=(outbound, callbacks))
    finally:
        if killer is not None and killer.agent.proc.poll() is None:
            killer.finish()
        manage_proxy.close()
        signl4_proxy.close()
        emulators.stop()


def _report(args, cond, outcome):
    counts, ledger, faults = outcome["counts"], outcome["ledger"], outcome["faults"]
    rows = [
        ("seed", args.seed),
        *ledger_rows(counts, outcome["problems"]),
        ("Signls raised by the agent (events sent; with the Manage seed's own new tickets)", ledger.events_sent),
        ("annotations -> notes: expected / written / agent POSTs", "%d / %d / %d" % (
            counts["notes expected"], counts["notes written"], counts["note POSTs by the agent"])),
        ("routes: tickets routed to the second team / their Signls there / Signls there of other tickets", "%d / %d / %d" % (
            counts["tickets routed to the second team"], counts["Signls in the second team (expected yes)"],
            counts["Signls in the second team (expected no)"])),
        ("Manage notes -> annotations: expected / made / agent POSTs", "%d / %d / %d" % (
            counts["Manage notes expected to travel"], counts["annotations made from them"],
            counts["annotation POSTs by the agent"])),
        ("echoes: annotations back as notes / agent notes to SIGNL4", "%d / %d" % (
            counts["annotations echoed back as notes"], counts["agent notes echoed to SIGNL4"])),
        ("escalations -> ticket notes: expected / written / agent POSTs", "%d / %d / %d" % (
            counts["escalations"], counts["escalation notes"], counts["escalation note POSTs by the agent"])),
        ("escalated tickets: with the priority set / not at it before / priority PATCHes by the agent", "%d / %d / %d" % (
            counts["escalated tickets with the priority set"], counts["escalated tickets not at that priority before"],
            counts["priority PATCHes by the agent"])),
        ("kills (SIGKILL)", "%d of %d" % (outcome["kills"], args.kills)),
        ("SIGNL4 down", "%.0f s (from %.0f s on); %d open connections cut" % (
            args.signl4_down, outcome["outage"].began or -1, outcome["refused"])),
        ("Manage fault bursts: how many, faulty answers at most", "%d, %s" % (len(faults.schedule), dict(faults.injected))),
        ("Manage faulty answers the agent got", dict(ledger.faults_seen)),
        ("SIGNL4 outbound webhooks: published / extra copies / delayed", "%(published)d / %(duplicated)d / %(delayed)d"
         % outcome["outbound"]),
        ("Manage callbacks: published / extra copies / delayed", "%(published)d / %(duplicated)d / %(delayed)d"
         % outcome["callbacks"]),
        ("workload actions", ", ".join("%s %d" % kv for kv in sorted(outcome["workload"].items()))),
        ("agent API calls (Manage, SIGNL4)", "%d, %d" % (ledger.calls["manage"], ledger.calls["signl4"])),
        ("wall: workload / catch-up / settle", "%.0f s / %.0f s / %.0f s" % outcome["seconds"]),
        ("mismatches", len(outcome["problems"])),
    ]
    outbound, callbacks = outcome["deliveries"]
    intro = [
        "Script: `tests/bench/chaos.py` (`make chaos`); reproduce with `python -m tests.bench.chaos --seed %d%s`."
        % (args.seed, " --quick" if args.quick else ""), "",
        "%d tickets created over %.0f s, each with a seeded plan of transitions made by one side at a time (SIGNL4 "
        "users acknowledging/closing through the emulator's `/act`, Manage status changes) and annotations in "
        "SIGNL4. Issue 22's features are on: two routes (Priority 1 tickets and company Tailspin) raise in the "
        "SIGNL4 emulator's second team, the rest in the default team; `notes.to_signl4` sends the Discussion notes "
        "added in Manage while a Signl is open (0 to 2 a ticket; a ticket is closed only once its notes travelled "
        "and its escalations were noted); SIGNL4 escalates some Signls (0 to 2 each, to the manager or the other "
        "team; `escalations` with a note and a priority). Meanwhile the agent is killed with SIGKILL %d times "
        "(restarted at once), Manage answers 429 "
        "(Retry-After) and 500/502/503 in bursts, SIGNL4 is unreachable for %.0f s (its proxy refuses "
        "connections; the emulator keeps its state), and both delivery queues duplicate, delay and reorder "
        "(SIGNL4 outbound: %s; Manage callbacks: %s). The agent's writes are counted at recording proxies; "
        "the final state is read from both emulators after the agent caught up (its pending intents 0, "
        "both delivery queues empty, every expected state reached; bounded by %.0f s) and late "
        "duplicates had %.0f s more to land." % (
            args.tickets, args.duration, args.kills, args.signl4_down, _settings_text(outbound),
            _settings_text(callbacks), args.final_wait, outcome["seconds"][2])]
    report_counts(args, "chaos", "Chaos (suite part: reliability)", intro, cond, rows, outcome["problems"])


def ledger_rows(counts, problems):
    """The rows of the counts that chaos.py and ha_chaos.py share: Signls per ticket, transitions both ways."""
    return [
        ("tickets", counts["tickets"]),
        ("Signls (in SIGNL4, for those tickets)", counts["Signls"]),
        ("Signls per ticket", "all 1" if counts["Signls"] == counts["tickets"] and not any(
            "Signls" in p for p in problems) else "NOT all 1"),
        ("transitions SIGNL4 -> Manage: expected / applied", "%d / %d" % (
            counts["transitions SIGNL4 -> Manage expected"], counts["transitions SIGNL4 -> Manage applied"])),
        ("transitions Manage -> SIGNL4: expected / applied", "%d / %d" % (
            counts["transitions Manage -> SIGNL4 expected"], counts["transitions Manage -> SIGNL4 applied"])),
        ("Manage -> SIGNL4 repeats SIGNL4 refused (409, harmless)", counts["Manage -> SIGNL4 repeats refused (409)"]),
    ]


def report_counts(args, name, title, intro, cond, rows, problems, more=()):
    """Print the counts (``rows``) and the first 50 mismatches; unless ``--no-results``, write them, ``more`` lines
    after the counts, as section ``name`` of the results file (also ha_chaos.py's)."""
    print()
    width = max(len(row[0]) for row in rows)
    for row in rows:
        print("%-*s %s" % (width, row[0], row[1]))
    for problem in problems[:50]:
        print("MISMATCH: " + problem)
    if args.no_results:
        return
    body = ["### Counts", "", *results.table(("what", "count"), rows), *more]
    if problems:
        body += ["", "### Mismatches", ""] + ["- " + p for p in problems[:50]]
    print("wrote the %s section of %s" % (name, results.write_section(name, results.section(title, intro, cond, body))))


def _settings_text(settings):
    return "%d copies, delay %.2f s + jitter up to %.2f s" % (settings["duplicates"], settings["delay"], settings["jitter"])


if __name__ == "__main__":
    sys.exit(main())
