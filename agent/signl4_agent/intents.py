"""Every intent kind in one place: its payload, its key, its reconcile step and its executor.

Exactly once: a side effect is an *intent*, recorded in the store under its unique key before it is
attempted and marked done after. ``run_pending`` executes the pending ones; after a crash it finds them
again, and each kind's reconcile step checks what the store (and, where the side effect may have
happened, SIGNL4) says before anything is repeated (the agent README's "Exactly once" lists them). A
webhook's intent is a hint: its executor reads the alert from SIGNL4 and applies what the API says; a
polled one carries what the poll read (``verified``).
"""

import dataclasses
import logging
import re
import secrets
import time
from dataclasses import dataclass
from collections.abc import Callable
from typing import ClassVar

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import (
    ApiError,
    CancelledError,
    ConflictError,
    InputError,
    NotFoundError,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import AlertStatus, event_payload

from signl4_agent import alerts, decisions, records, routing
from signl4_agent import details as ticket_details
from signl4_agent.constants import DONE, FORGET, IGNORED, STATUS_WORDS, TRANSITION_NAMES, TRANSITIONS
from signl4_agent.decisions import APPLY, ESCALATE, NOTE, READ_ESCALATIONS, Alert, Seen, decide
from signl4_agent.manage import classify_update, plan_actions
from signl4_agent.quarantine import OUTAGES, guarded
from signl4_agent.records import custom_value, mapping, text

log = logging.getLogger("signl4_agent.intents")

UNDO_CLOSE_REFUSED = 403  # SIGNL4's answer to undoing the close of an alert that is not closed (any more)
MAX_ERROR = 500


class BadIntent(ValueError):
    """A stored intent that does not parse: quarantined, and its ticket's later intents wait with it."""


# ----- payloads: what each kind carries, its key, and what a stored one must look like -----------------

def _whole(minimum):
    return lambda value: value if isinstance(value, int) and not isinstance(value, bool) and value >= minimum else None


PARSERS = {"generation": _whole(1), "round": _whole(0),
           "status": lambda value: value if value in TRANSITIONS and not isinstance(value, bool) else None,
           "marker": records.identifier, "alert_id": records.identifier, "event_id": records.identifier,
           "annotation_id": records.identifier, "user_id": records.identifier, "text": records.text,
           "verified": lambda value: value if isinstance(value, bool) else None,
           "route": lambda value: value if isinstance(value, str) and routing.ROUTE_NAME.fullmatch(value) else None,
           "delivery_id": records.identifier, "timestamp": records.identifier, "team_id": records.identifier,
           "target": lambda value: value if value in ("manager", "team") else None,
           "team_name": lambda value: records.text(value, 200), "note_id": _whole(1), "notes_after": _whole(0)}


@dataclass(frozen=True)
class Payload:
    """What an intent carries. ``kind`` names it in the store; ``key`` is its unique key (``KEY`` filled in
    with the fields, and ``transition``: the name of ``status``)."""

    kind: ClassVar[str]
    KEY: ClassVar[str]
    ticket_id: int

    @property
    def key(self):
        return self.KEY.format(transition=TRANSITION_NAMES.get(getattr(self, "status", None)), **vars(self))

    def to_json(self):
        return {name: value for name, value in dataclasses.asdict(self).items() if name != "ticket_id" and value is not None}

    @classmethod
    def from_json(cls, ticket_id, data):
        """The payload of a stored intent, each field checked; :class:`BadIntent` otherwise."""
        data = mapping(data)
        values = {"ticket_id": records.record_id(ticket_id)}
        if values["ticket_id"] is None:
            raise BadIntent(f"{cls.kind} intent without a usable ticket id")
        for field in dataclasses.fields(cls)[1:]:
            raw = data.get(field.name)
            if raw is None and field.name == "user_id":
                raw = mapping(data.get("user")).get("id")  # as polled intents were written before user_id
            if raw is None and field.default is not dataclasses.MISSING:
                continue
            values[field.name] = PARSERS[field.name](raw)
            if values[field.name] is None:
                raise BadIntent(f"{cls.kind} intent with a bad or missing {field.name}")
        return cls(**values)


@dataclass(frozen=True)
class Raise(Payload):
    """Raise the ticket's Signl of one generation (1; the next after a re-entry, ``reopen: new_signl``)."""

    kind, KEY = "raise", "raise:{ticket_id}:{generation}"
    generation: int
    marker: str | None = None  # sent with the Signl (``records.MARKER_PARAMETER``); see ``alerts``
    route: str | None = None  # the route chosen when the raise was recorded (``routing``): its team, always
    notes_after: int | None = None  # (notes.to_signl4) the newest note id before the raise: the note baseline


@dataclass(frozen=True)
class Reopen(Payload):
    """Undo the close of the ticket's Signl (``reopen: reopen``)."""

    kind, KEY = "reopen", "reopen:{ticket_id}:{generation}"
    generation: int


@dataclass(frozen=True)
class Signl4Status(Payload):
    """Manage -> SIGNL4: acknowledge or close the ticket's Signl (per re-open round)."""

    kind, KEY = "signl4_status", "signl4_{transition}:{ticket_id}:{generation}:{round}"
    status: int
    generation: int
    round: int = 0


@dataclass(frozen=True)
class ManageStatus(Payload):
    """SIGNL4 -> Manage: a Signl acknowledged or closed in SIGNL4 (per re-open round; webhook and poll share it)."""

    kind, KEY = "manage_status", "manage_status:{alert_id}:{status}:{round}"
    status: int
    alert_id: str
    event_id: str | None = None
    round: int = 0
    verified: bool = False  # read by the poll: ``user_id`` is who SIGNL4 says acted
    user_id: str | None = None


@dataclass(frozen=True)
class Note(Payload):
    """A SIGNL4 annotation as a ticket note (webhook and poll share it)."""

    kind, KEY = "note", "note:{annotation_id}"
    alert_id: str
    annotation_id: str
    event_id: str | None = None
    verified: bool = False  # read by the poll from the alert's timeline: ``text`` and ``user_id`` are SIGNL4's
    text: str | None = None
    user_id: str | None = None

    def __post_init__(self):
        if self.verified and self.text is None:
            raise BadIntent("a polled note intent without its text")


@dataclass(frozen=True)
class Escalated(Payload):
    """SIGNL4 notified an escalation of the Signl (202): a hint. Its executor reads the alert and records an
    :class:`Escalation` for each escalation SIGNL4 shows on it (the notification does not say which one)."""

    kind, KEY = "escalated", "escalated:{alert_id}:{delivery_id}"
    alert_id: str
    delivery_id: str
    event_id: str | None = None


@dataclass(frozen=True)
class Escalation(Payload):
    """One escalation SIGNL4's API shows on the ticket's Signl (read by the poll or for a 202): the ticket's
    escalation note and priority (``escalations``)."""

    kind, KEY = "escalation", "escalation:{alert_id}:{target}:{timestamp}"
    alert_id: str
    target: str  # manager, team
    timestamp: str  # as SIGNL4 has it
    team_id: str | None = None
    team_name: str | None = None
    event_id: str | None = None


@dataclass(frozen=True)
class Unacknowledged(Payload):
    """Nobody acknowledged the Signl within ``escalations.unacknowledged_after``: once per generation."""

    kind, KEY = "unacknowledged", "unacknowledged:{ticket_id}:{generation}"
    generation: int


@dataclass(frozen=True)
class Annotate(Payload):
    """Manage -> SIGNL4: a ticket note (``notes.to_signl4``) as an annotation of the ticket's Signl of ``generation``;
    ``text`` is what the cycle read from Manage (author and note), the marker line is added when it is sent."""

    kind, KEY = "annotate", "annotate:{note_id}"
    note_id: int
    generation: int
    text: str


@dataclass(frozen=True)
class Intent:
    """A recorded intent as the executors see it."""

    id: int
    key: str
    payload: Payload
    attempts: int = 0
    error: str | None = None

    @classmethod
    def from_row(cls, row):
        kind = KINDS.get(row["kind"])
        if kind is None:
            raise BadIntent(f"intent {row['key']} of an unknown kind")
        return cls(row["id"], row["key"], kind.payload.from_json(row["ticket_id"], row["payload"]), row["attempts"],
                   row["error"])


def new_marker():
    """The per-raise marker (see ``alerts``): unguessable, stored with the intent before the raise."""
    return secrets.token_hex(16)


def raise_marker(store, ticket_id, generation):
    """The marker the raise of this generation sent (None for a raise made before markers existed)."""
    intent = store.intent(Raise(ticket_id, generation).key)
    marker = mapping(intent and intent["payload"]).get("marker")
    return marker if isinstance(marker, str) and marker else None


def proven(ctx, ticket_id, record, alert):
    """What SIGNL4's API proves an alert read from it to be (``decisions.Alert``)."""
    return alerts.proven(ctx, ticket_id, record, alert, raise_marker(ctx.store, ticket_id, record["generation"]))


# ----- running intents ------------------------------------------------------------------------------

@dataclass(frozen=True)
class InDoubt:
    """Intents up to ``last_id`` wait until ``until`` (monotonic): after a takeover, the former holder's request
    for one of them may still be on the wire (``agent.Agent._in_doubt``)."""

    last_id: int
    until: float

    def holds(self, intent_id, now):
        return intent_id <= self.last_id and now < self.until


NOTHING_IN_DOUBT = InDoubt(0, 0.0)


def start(ctx, payload, ticket=None):
    """Record an intent and execute it at once (with the ticket the cycle just read); a key recorded
    before is left to ``run_pending`` (or was done)."""
    if ctx.store.add_intent(payload) is not None:
        execute(ctx, Intent.from_row(ctx.store.intent(payload.key)), ticket)


def run_pending(ctx, limit=100):
    """Execute pending intents, oldest first; returns how many are still pending.

    An outage ends the cycle (the agent backs off), with one exception so that one bad record cannot
    stop the sync of all others: an intent that failed before and fails again with an outage-like
    error (say a 500 for one ticket's note) while the intent after it goes through is that record's
    problem. It stays pending, its ticket's later intents wait with it (their order matters), and the
    rest go on. Two such failures in a row are an outage and end the cycle as before. An intent that
    fails in any other way is quarantined and stays pending (when no API refused it but its data did
    not parse, its ticket's later intents wait with it)."""
    held, failed_in_a_row = set(), 0
    in_doubt, now = getattr(ctx, "in_doubt", NOTHING_IN_DOUBT), time.monotonic()
    for row in ctx.store.pending_intents(limit):
        if row["ticket_id"] in held or in_doubt.holds(row["id"], now):
            held.add(row["ticket_id"])  # its ticket's later intents wait with it
            continue
        try:
            with guarded(ctx, "intent", row["key"]) as outcome:
                execute(ctx, Intent.from_row(row))
            failed_in_a_row = 0
            if outcome.unexpected:
                held.add(row["ticket_id"])
        except OUTAGES as exc:
            failed_in_a_row += 1
            if row["error"] is None or failed_in_a_row > 1:
                raise
            held.add(row["ticket_id"])
            log.warning("intent %s failed again (%s); ticket %s waits, the others go on", row["key"], exc, row["ticket_id"])
    remaining = len(ctx.store.pending_intents(limit))
    ctx.metrics.queue_depth.set(remaining)
    return remaining


def execute(ctx, intent, ticket=None):
    """Reconcile, then run one intent. An error leaves it pending (retried next cycle). An outage (no
    answer, 5xx, 429 after the retries) ends the cycle, so the agent backs off; an error about this one
    record (4xx) is recorded on the intent and raised for the caller's guard, which quarantines it."""
    if ctx.stopping is not None and ctx.stopping.is_set():
        # stopping: the rest of the cycle's work stays pending for the next start (it is recorded)
        raise CancelledError("the agent is stopping")
    kind = KINDS[intent.payload.kind]
    try:
        state = kind.reconcile(ctx, intent) or kind.run(ctx, intent, ticket)
    except (ApiError, InputError) as exc:
        ctx.store.update_intent(intent.id, error=str(exc)[:MAX_ERROR])
        if not isinstance(exc, OUTAGES):
            ctx.metrics.errors.labels(kind=type(exc).__name__).inc()
        raise
    if state == FORGET:
        ctx.store.forget_intent(intent.id)
    else:
        ctx.store.update_intent(intent.id, state=state)


def _ticket(ctx, ticket_id, ticket):
    return ticket if ticket is not None else ctx.desk.ticket(ticket_id)


# ----- raise ------------------------------------------------------------------------------------------

def _known_alerts(record):
    return set(record.get("old_alerts") or []) | ({record["alert_id"]} if record.get("alert_id") else set())


def reconcile_raise(ctx, intent):
    """Before a raise is sent: the earlier Signl must be known, or it would pass for this one. After an
    attempt whose outcome is unknown (a 5xx, a timeout, a crash), the alert carrying this raise's marker
    is adopted; an alert that merely has the ticket's number as external id is another system's, or
    another raise's."""
    payload = intent.payload
    record = ctx.store.ticket(payload.ticket_id) or {}
    if record.get("generation", 0) >= payload.generation:
        return None  # sent and recorded: the executor marks the ticket
    if record.get("generation") and not record.get("alert_id"):
        alert_of(ctx, payload.ticket_id)
        record = ctx.store.ticket(payload.ticket_id)
    if intent.attempts and not payload.marker:
        log.warning("ticket %s: a raise of an earlier version may have happened; it cannot be told from another "
                    "system's alert, so the Signl is raised (again)", payload.ticket_id)
    elif intent.attempts:
        found = alerts.find_own_alert(ctx, payload.ticket_id, _known_alerts(record), payload.marker)
        if found is not None:
            _raised(ctx, payload, record, found.event_id, found.id)
    return None


def raise_signl(ctx, intent, ticket=None):
    """Send the Signl unless it is recorded sent, then mark the ticket retrieved."""
    payload = intent.payload
    ticket = _ticket(ctx, payload.ticket_id, ticket)
    if ticket is None:
        return IGNORED
    record = ctx.store.ticket(payload.ticket_id) or {}
    if record.get("generation", 0) < payload.generation:
        route = _route(ctx, payload, ticket)
        # a raise recorded before markers (or routes) existed gets them, stored before the send
        payload = dataclasses.replace(payload, marker=payload.marker or new_marker(), route=route.name)
        if payload.notes_after is None and ctx.config["notes"]["to_signl4"]["enabled"]:
            # the notes there before the Signl stay in Manage; fixed with the first attempt, like the marker
            payload = dataclasses.replace(payload, notes_after=ctx.desk.newest_note_id(payload.ticket_id))
        ctx.store.update_intent(intent.id, payload=payload, attempt=True)  # from here on, the Signl may exist
        with ctx.paced("events"):
            answer = ctx.router.client(route).webhook_event(signl_payload(ctx, ticket, payload.marker, route))
        ctx.metrics.signls_raised.inc()
        _raised(ctx, payload, record, records.identifier(mapping(answer).get("eventId")), None)
    custom = {ctx.fields["retrieved"]: True}
    if payload.generation > 1:
        custom[ctx.fields["status"]] = ""  # a new Signl starts the status over
    ctx.desk.update(ticket, custom=custom)
    return DONE


def _route(ctx, payload, ticket):
    """The route the raise recorded; chosen now for a raise recorded before routes, or whose route is gone
    from the configuration."""
    route = ctx.router.get(payload.route)
    if route is None:
        route = ctx.router.choose(ticket)
        if payload.route:
            log.warning("ticket %s: route %s is not configured any more; the Signl is raised by route %s",
                        payload.ticket_id, payload.route, route.name)
    return route


def _raised(ctx, payload, record, event_id, alert_id):
    ctx.store.save_ticket(payload.ticket_id, generation=payload.generation, event_id=event_id, alert_id=alert_id,
                          alert_status=AlertStatus.OPEN, old_alerts=sorted(_known_alerts(record)), route=payload.route,
                          raised_at=ctx.clock(), notes_after=payload.notes_after)
    log.info("ticket %s: Signl raised (generation %s, route %s)", payload.ticket_id, payload.generation, payload.route)


def signl_payload(ctx, ticket, marker, route):
    title = f"Ticket #{ticket['id']}: {text(ticket.get('summary'), 255) or ''}"
    parameters = ticket_details.collect(ctx.desk, ticket, ctx.config["details"])
    message = "\n".join(f"{name}: {value}" for name, value in parameters.items()) or title
    parameters[records.MARKER_PARAMETER] = marker
    return event_payload(title=title[:255], message=message, external_id=str(ticket["id"]), status="new",
                         service=route.service, alerting_scenario=route.alerting_scenario,
                         source_system=ctx.config["signl4"]["source_system"], parameters=parameters)


def alert_of(ctx, ticket_id):
    """The current generation's alert id, looked up in SIGNL4 (by event id, else by marker) when not known yet."""
    record = ctx.store.ticket(ticket_id)
    if record is None or record["alert_id"]:
        return record and record["alert_id"]
    found = alerts.current_alert(ctx, ticket_id, record, raise_marker(ctx.store, ticket_id, record["generation"]))
    if found is None:
        raise NotFoundError(f"no SIGNL4 alert found for ticket {ticket_id} (event {record['event_id']}, route "
                            f"{record['route']}) yet; signl4.acting_user must be a member of the route's team", api="SIGNL4")
    ctx.store.save_ticket(ticket_id, alert_id=found)
    return found


# ----- Manage -> SIGNL4 ---------------------------------------------------------------------------------

def reconcile_generation(ctx, intent):
    """A newer Signl replaced the one this intent is about (or the ticket is unknown): nothing to do."""
    record = ctx.store.ticket(intent.payload.ticket_id)
    return IGNORED if record is None or record["generation"] != intent.payload.generation else None


def signl4_status(ctx, intent, ticket=None):
    """Acknowledge or close the Signl as the acting user, then record it in the ticket's status field.
    The store moves first, so the echo of this change is stale."""
    code, ticket_id = intent.payload.status, intent.payload.ticket_id
    alert_id = alert_of(ctx, ticket_id)
    record = ctx.store.ticket(ticket_id)
    ctx.store.save_ticket(ticket_id, alert_status=max(code, record["alert_status"]))
    ctx.pace("rest")
    try:
        if code == AlertStatus.ACKNOWLEDGED:
            ctx.signl4.acknowledge(alert_id, ctx.acting_user)
        else:
            ctx.signl4.close_alert(alert_id, ctx.acting_user)
    except ConflictError:
        log.info("ticket %s: Signl %s already past %s in SIGNL4", ticket_id, alert_id, TRANSITION_NAMES[code])
    ticket = _ticket(ctx, ticket_id, ticket)
    if ticket is not None:
        ctx.desk.update(ticket, custom={ctx.fields["status"]: STATUS_WORDS[code]})
    ctx.metrics.transitions.labels(direction="manage_to_signl4", kind=TRANSITION_NAMES[code]).inc()
    return DONE


def reopen_signl(ctx, intent, ticket=None):
    """Undo the close of the Signl (SIGNL4 puts it back to open or acknowledged)."""
    ticket_id = intent.payload.ticket_id
    alert_id = alert_of(ctx, ticket_id)
    ctx.pace("rest")
    try:
        answer = records.alert(ctx.signl4.undo_close(alert_id, ctx.acting_user))
        status = answer.status if answer and answer.status in (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED) \
            else AlertStatus.OPEN
    except ApiError as exc:
        if exc.status != UNDO_CLOSE_REFUSED:  # not closed any more (done before a crash, or by a user)
            raise
        status = AlertStatus.OPEN
    record = ctx.store.ticket(ticket_id)
    # open again: an unacknowledged timeout not recorded yet counts from now
    ctx.store.save_ticket(ticket_id, alert_status=status, reopened=record["reopened"] + 1, raised_at=ctx.clock())
    ticket = _ticket(ctx, ticket_id, ticket)
    if ticket is not None:
        ctx.desk.update(ticket, custom={ctx.fields["status"]: ""})
    return DONE


# ----- SIGNL4 -> Manage ---------------------------------------------------------------------------------

def _decided(ctx, payload, seen, wanted):
    """None when the decision table, on what the store knows now, still names ``wanted``; else IGNORED."""
    record = ctx.store.ticket(payload.ticket_id)
    action = decide(seen, decisions.signl(record), decisions.alert(record, payload.alert_id, payload.event_id))
    return None if action is wanted else IGNORED


def reconcile_manage_status(ctx, intent):
    """Not the ticket's Signl, or the store has that status already (stale, a duplicate, the echo of the
    agent's own change): nothing to do, and no request."""
    payload = intent.payload
    said = decisions.POLL_SAYS if payload.verified else decisions.SIGNL4_SAYS
    return _decided(ctx, payload, said[payload.status], APPLY)


def _confirmed_status(ctx, payload):
    """``(status, id of the user who made it)`` of the alert as SIGNL4's API has it, when it is the
    ticket's current Signl and acknowledged or closed; None otherwise. A polled intent carries what
    the poll read; a webhook's is read now (one request)."""
    if payload.verified:
        return payload.status, payload.user_id
    alert = alerts.read_alert(ctx, payload.alert_id)
    record = ctx.store.ticket(payload.ticket_id)
    if alert is None or alert.status not in TRANSITIONS or proven(ctx, payload.ticket_id, record, alert) is not Alert.CURRENT:
        return None
    return alert.status, alert.acted_by(alert.status)


def manage_status(ctx, intent, ticket=None):
    """A Signl acknowledged or closed in SIGNL4 updates its ticket once, as SIGNL4 has it: a notification
    whose claim SIGNL4 does not confirm changes nothing."""
    payload = intent.payload
    confirmed = _confirmed_status(ctx, payload)
    if confirmed is None:
        log.info("ticket %s: SIGNL4 does not confirm the notification about alert %s; nothing done", payload.ticket_id,
                 payload.alert_id)
        return FORGET
    code, user_id = confirmed
    record = ctx.store.ticket(payload.ticket_id)
    if decide(decisions.SIGNL4_SAYS[code], decisions.signl(record), Alert.CURRENT) is not APPLY:
        return IGNORED
    if not record["alert_id"]:
        ctx.store.save_ticket(payload.ticket_id, alert_id=payload.alert_id)
    if ctx.config["status_mappings"][f"signl4_{TRANSITION_NAMES[code]}"]:
        apply_to_ticket(ctx, intent, code, user_id)
        ctx.metrics.transitions.labels(direction="signl4_to_manage", kind=TRANSITION_NAMES[code]).inc()
    ctx.store.save_ticket(payload.ticket_id, alert_status=code)
    return DONE


def apply_to_ticket(ctx, intent, code, user_id):
    """The Update CW Tickets rule's actions for the transition, the status field and (per ``owner_assignment``)
    the owner, in one PATCH; then the rule's notes."""
    name, ticket_id, reference = TRANSITION_NAMES[code], intent.payload.ticket_id, intent.payload.alert_id
    ticket = ctx.desk.ticket(ticket_id)
    if ticket is None:
        log.warning("ticket %s is gone from Manage; SIGNL4 %s not applied", ticket_id, name)
        return
    rule = ctx.desk.rule(ctx.config["workflows"]["update_tickets"], with_actions=True)
    event = classify_update(rule["events"], ctx.fields["status"]).get(name)
    plan = plan_actions(mapping(event).get("actions"), ticket_id)
    # applied before a crash when the status field has it (it travels in the same PATCH): only the notes may be missing
    if custom_value(ticket, ctx.fields["status"]) != STATUS_WORDS[code]:
        if plan.unsupported:
            ctx.metrics.errors.labels(kind="unsupported_action").inc(plan.unsupported)
        custom = dict(plan.custom, **{ctx.fields["status"]: STATUS_WORDS[code]})
        if ctx.config["owner_assignment"] in (name, "both"):
            _assign_owner(ctx, ticket_id, user_id, plan.fields, custom)
        ctx.desk.update(ticket, plan.fields, custom)
    first = bool(plan.notes) and first_attempt(ctx, intent)  # counted only when there is a note to write
    for number, (note_text, flags) in enumerate(plan.notes):
        write_note(ctx, ticket_id, note_text, flags, reference=f"{reference}/{name}/{number}", first=first)


def _assign_owner(ctx, ticket_id, user_id, fields, custom):
    """The member whose office e-mail is the acting SIGNL4 user's (as SIGNL4 has it) becomes the owner."""
    email = ctx.user(user_id)[1]
    if not email:
        log.info("ticket %s: no SIGNL4 user with an e-mail acted; owner unchanged", ticket_id)
        return
    member = ctx.desk.member_by_email(email)
    if member is None:
        ctx.metrics.errors.labels(kind="owner_unmatched").inc()
        log.warning("ticket %s: no active Manage member has the office e-mail of the SIGNL4 user; owner unchanged",
                    ticket_id)
        return
    fields["owner"] = {"id": member["id"]}
    custom[ctx.fields["user"]] = email


# ----- notes ------------------------------------------------------------------------------------------------

def reconcile_note(ctx, intent):
    """Not one of the ticket's Signls, or an annotation the agent wrote: nothing to do, and no request (the
    note's reference line is looked for when it is written)."""
    payload = intent.payload
    seen = annotation_seen(ctx.store, payload.annotation_id, payload.text if payload.verified else None, payload.verified)
    return _decided(ctx, payload, seen, NOTE)


def _annotation(ctx, payload):
    """``(text, user id)`` of the annotation as SIGNL4's timeline has it, when it is on this ticket's
    Signl (or an earlier one); None otherwise."""
    if payload.verified:
        return payload.text, payload.user_id
    alert = alerts.read_alert(ctx, payload.alert_id)
    record = ctx.store.ticket(payload.ticket_id)
    if alert is None or proven(ctx, payload.ticket_id, record, alert) not in (Alert.CURRENT, Alert.EARLIER):
        return None
    return alert.annotations.get(payload.annotation_id)


def annotation_note(ctx, intent, ticket=None):
    """A SIGNL4 annotation becomes one ticket note with the configured flags, with the text and the user
    SIGNL4's timeline has (a notification naming an annotation that is not there writes nothing)."""
    payload = intent.payload
    found = _annotation(ctx, payload)
    if found is None:
        log.info("ticket %s: annotation %s is not on the timeline of alert %s; no note", payload.ticket_id,
                 payload.annotation_id, payload.alert_id)
        return FORGET
    body, user_id = found
    if _decided(ctx, payload, annotation_seen(ctx.store, payload.annotation_id, body, payload.verified), NOTE):
        return IGNORED  # the agent's own annotation (from a ticket note): never written back
    write_note(ctx, payload.ticket_id, f"{ctx.user(user_id)[0] or 'SIGNL4 user'} (SIGNL4): {body}",
               note_flags(ctx.config["notes"]), reference=payload.annotation_id, first=first_attempt(ctx, intent))
    return DONE


def note_flags(settings):
    """Manage's flags of a note the agent writes, as a section (``notes``, ``escalations``) sets them."""
    return dict(detailDescriptionFlag=settings["detail_description"], internalAnalysisFlag=settings["internal_analysis"],
                resolutionFlag=settings["resolution"], processNotifications=settings["process_notifications"])


def reference_line(reference):
    return f"[SIGNL4 ref {reference}]"


_REFERENCE_LINE = re.compile(r"\[SIGNL4 ref [^\]]+\]")
_NOTE_MARKER = re.compile(r"\[CW note ([0-9]{1,10})\]")


def _last_line(text):
    lines = (text if isinstance(text, str) else "").rstrip().splitlines()
    return lines[-1].strip() if lines else ""


def note_marker(note_id):
    """The last line of an annotation the agent wrote from the Manage note ``note_id``."""
    return f"[CW note {note_id}]"


def marked_note(text):
    """The note id of an annotation's marker line (its last line, alone), or None."""
    found = _NOTE_MARKER.fullmatch(_last_line(text))
    return int(found.group(1)) if found else None


def annotation_seen(store, annotation_id, text, polled):
    """What an annotation is: one the agent wrote (its id recorded, or its text, when known, ends with a marker
    line), else a webhook's or the poll's annotation."""
    if store.written("annotation", annotation_id) or marked_note(text) is not None:
        return Seen.OWN_ANNOTATION
    return Seen.POLLED_ANNOTATION if polled else Seen.ANNOTATED


def note_by_the_agent(store, note_id, text):
    """Whether a ticket note is one the agent wrote: its id recorded, or its last line a reference line, alone."""
    return store.written("note", note_id) or _REFERENCE_LINE.fullmatch(_last_line(text)) is not None


def carries_reference(note_text, reference):
    """Whether a note is the one written for ``reference``: its last line is the reference line, alone.
    A reference quoted anywhere else (an annotation's text is copied into its note) does not count."""
    return _last_line(note_text) == reference_line(reference)


def first_attempt(ctx, intent):
    """Record that ``intent`` is attempted (from here on its side effect may exist); True when no attempt was
    recorded before, so nothing it writes can exist yet."""
    ctx.store.update_intent(intent.id, attempt=True)
    return intent.attempts == 0


def write_note(ctx, ticket_id, note_text, flags, reference, first=False):
    """Add a note unless the ticket has it already (written before a crash): the note ends with a
    reference line (annotation id, or alert and transition), looked for before writing, except on the
    first attempt of its intent (``first``), which saves reading every note of the ticket. Only the
    reference is compared: the same annotation may arrive by webhook or by poll, whose texts differ."""
    notes = () if first else ctx.desk.notes(ticket_id)
    written = next((note for note in notes if carries_reference(note.get("text"), reference)), None)
    if written is None:
        try:
            written = ctx.desk.add_note(ticket_id, f"{note_text}\n{reference_line(reference)}", flags)
        except NotFoundError:
            log.warning("ticket %s is gone from Manage; note not written", ticket_id)
            return
        ctx.metrics.notes.inc()
    note_id = records.record_id(mapping(written).get("id"))
    if note_id is not None:
        ctx.store.remember_written("note", note_id, ticket_id)  # never sent back (its reference line says so too)


# ----- Manage notes -> SIGNL4 annotations (notes.to_signl4) ------------------------------------------------

def reconcile_annotate(ctx, intent):
    """A newer Signl replaced the one the note was for: nothing to do. After an attempt whose outcome is unknown
    (a crash, a timeout), the alert's timeline is read for the annotation carrying this note's marker line."""
    state = reconcile_generation(ctx, intent)
    if state or not intent.attempts:
        return state
    alert = alerts.read_alert(ctx, alert_of(ctx, intent.payload.ticket_id))
    for annotation_id, (body, _user_id) in (alert.annotations.items() if alert else ()):
        if marked_note(body) == intent.payload.note_id:
            ctx.store.remember_written("annotation", annotation_id, intent.payload.ticket_id)
            return DONE
    return None


def annotate_signl(ctx, intent, ticket=None):
    """Annotate the ticket's Signl as the acting user; the text ends with the note's marker line, alone."""
    payload = intent.payload
    alert_id = alert_of(ctx, payload.ticket_id)
    ctx.store.update_intent(intent.id, attempt=True)  # from here on, the annotation may exist
    ctx.pace("rest")
    answer = ctx.signl4.annotate(alert_id, ctx.acting_user, f"{payload.text}\n{note_marker(payload.note_id)}")
    annotation_id = records.identifier(mapping(answer).get("id"))
    if annotation_id is not None:
        ctx.store.remember_written("annotation", annotation_id, payload.ticket_id)  # its echo is never written back
    ctx.metrics.annotations.inc()
    return DONE


# ----- escalations -----------------------------------------------------------------------------------------

def reconcile_escalated(ctx, intent):
    """Not the ticket's current Signl (by what the store knows): nothing to read."""
    return _decided(ctx, intent.payload, Seen.ESCALATED, READ_ESCALATIONS)


def read_escalations(ctx, intent, ticket=None):
    """A 202 is a hint: the escalations SIGNL4's API shows on the ticket's Signl each become an
    :class:`Escalation` (keyed by alert, target and time: one per escalation however many notifications
    name it), run at once; a notification SIGNL4 does not back with an escalation writes nothing."""
    payload = intent.payload
    alert = alerts.read_alert(ctx, payload.alert_id)
    record = ctx.store.ticket(payload.ticket_id)
    found = escalations_of(payload.ticket_id, alert) if alert and proven(ctx, payload.ticket_id, record, alert) \
        is Alert.CURRENT else []
    if not found:
        log.info("ticket %s: SIGNL4 shows no escalation of alert %s; nothing done", payload.ticket_id, payload.alert_id)
        return FORGET
    for escalation in found:
        start(ctx, escalation)
    return DONE


def escalations_of(ticket_id, alert):
    """The :class:`Escalation` intents of an alert read from SIGNL4 (its details)."""
    return [Escalation(ticket_id, alert.id, found.target, found.timestamp, found.team_id, found.team_name, alert.event_id)
            for found in alert.escalations]


def reconcile_escalation(ctx, intent):
    return _decided(ctx, intent.payload, Seen.READ_ESCALATION, ESCALATE)


def escalation_note(ctx, intent, ticket=None):
    """The ticket's note and priority for one escalation SIGNL4's API showed (who, which team, when)."""
    payload = intent.payload
    team = payload.team_name or payload.team_id or "?"
    what = f"the manager of team {team}" if payload.target == "manager" else f"team {team}"
    return escalate_ticket(ctx, intent, f"escalated to {what} at {shown_time(payload.timestamp)}",
                           f"{payload.alert_id}/escalation/{payload.target}/{payload.timestamp}", payload.target, ticket)


def reconcile_unacknowledged(ctx, intent):
    """A newer Signl replaced this one, or the store knows it acknowledged or closed: nothing to do."""
    record = ctx.store.ticket(intent.payload.ticket_id)
    if record is None or record["generation"] != intent.payload.generation:
        return IGNORED
    return None if decide(Seen.UNACKNOWLEDGED, decisions.signl(record)) is ESCALATE else IGNORED


def unacknowledged_note(ctx, intent, ticket=None):
    """The ticket's note and priority when SIGNL4's API confirms that nobody acknowledged the Signl (it is open
    and its history has no acknowledgement); a Signl acknowledged or closed in SIGNL4 in the meantime: nothing."""
    payload = intent.payload
    alert = alerts.read_alert(ctx, alert_of(ctx, payload.ticket_id))
    if alert is None or alert.status != AlertStatus.OPEN or alert.acknowledged_by:
        log.info("ticket %s: SIGNL4 has the Signl acknowledged or closed; no unacknowledged escalation", payload.ticket_id)
        return IGNORED
    record = ctx.store.ticket(payload.ticket_id)
    after = ctx.config["escalations"]["unacknowledged_after"]
    team = ctx.team_name(alert.team_id) or alert.team_id or "?"
    raised_at = record["raised_at"]
    when = "" if raised_at is None else f", raised at {shown_time(raised_at)}"
    return escalate_ticket(ctx, intent, f"not acknowledged within {shown_duration(after)} (team {team}, "
                           f"route {record['route'] or routing.DEFAULT_ROUTE}{when})", f"{alert.id}/unacknowledged",
                           "unacknowledged", ticket)


def escalate_ticket(ctx, intent, what, reference, kind, ticket=None):
    """What ``escalations`` asks for: a note (its last line the reference, looked for before writing) and the
    ticket's priority (set only when it differs: a repeat after a crash changes nothing)."""
    settings, ticket_id = ctx.config["escalations"], intent.payload.ticket_id
    ticket = _ticket(ctx, ticket_id, ticket)
    if ticket is None:
        log.warning("ticket %s is gone from Manage; its escalation is not recorded", ticket_id)
        return IGNORED
    if settings["note"]:
        priority = f" Priority set to {settings['priority']}." if settings["priority"] else ""
        write_note(ctx, ticket_id, f"SIGNL4: the Signl was {what}.{priority}", note_flags(settings), reference=reference,
                   first=first_attempt(ctx, intent))
    if settings["priority"]:
        ctx.desk.set_priority(ticket, settings["priority"])
    ctx.metrics.escalations.labels(kind=kind).inc()
    log.info("ticket %s: Signl %s", ticket_id, what)
    return DONE


def shown_time(moment):
    """A moment for a note: unix seconds or SIGNL4's ISO 8601 UTC as ``2026-03-01 10:15:02 UTC`` (else as it is)."""
    if isinstance(moment, (int, float)):
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(moment))
    found = _ISO_UTC.match(moment)
    return f"{found[1]} {found[2]} UTC" if found else moment


def shown_duration(seconds):
    if seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min" if seconds % 60 == 0 else f"{seconds:g} s"


_ISO_UTC = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?(?:Z|[+-]00:?00)$")


# ----- the registry -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    """One kind of intent: its payload type; ``reconcile(ctx, intent)``: a final state when nothing is
    (left) to do, else None; ``run(ctx, intent, ticket)``: the side effect, returning the final state."""

    payload: type
    reconcile: Callable
    run: Callable


KINDS = {kind.payload.kind: kind for kind in (
    Kind(Raise, reconcile_raise, raise_signl),
    Kind(Signl4Status, reconcile_generation, signl4_status),
    Kind(Reopen, reconcile_generation, reopen_signl),
    Kind(ManageStatus, reconcile_manage_status, manage_status),
    Kind(Note, reconcile_note, annotation_note),
    Kind(Escalated, reconcile_escalated, read_escalations),
    Kind(Escalation, reconcile_escalation, escalation_note),
    Kind(Unacknowledged, reconcile_unacknowledged, unacknowledged_note),
    Kind(Annotate, reconcile_annotate, annotate_signl))}
