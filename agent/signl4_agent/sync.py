"""The sync, as plain functions over a :class:`Context` (clients, store, config, metrics).

Exactly once: every side effect is an *intent* recorded in the store under a unique key before
it is attempted and marked done after. ``run_pending`` executes pending intents; after a crash
it finds them again and each executor reconciles before acting (a Signl whose raise may have
happened is looked for by the marker the raise sent; PATCHes set values, so repeating one is
harmless; notes carry a reference that is looked for before writing again).

Alert status as the agent knows it (store ``alert_status``) only moves forward (1 open ->
2 acknowledged -> 4 closed) per alert: an outbound notification or a polled status that does
not move it forward is stale or the echo of the agent's own change, and is ignored. A webhook is
a hint: what is applied is what SIGNL4's API says (status, who acted, the annotation's text).

Every record is worked on under ``guarded``: one that fails is quarantined, the cycle goes on.
"""

import contextlib
import logging
import math
import secrets
import time

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import all_of, condition
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import (
    ApiError,
    CancelledError,
    ConflictError,
    InputError,
    NotFoundError,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import AlertStatus, event_payload

from signl4_agent import alerts, cutoff, records
from signl4_agent import details as ticket_details
from signl4_agent.manage import ACKNOWLEDGED, RESOLVED, classify_trigger, classify_update
from signl4_agent.quarantine import OUTAGES, Quarantine, guarded, record_ident
from signl4_agent.records import custom_value, mapping, objects, record_id, text
from signl4_agent.store import DONE, IGNORED

log = logging.getLogger("signl4_agent.sync")

WORDS = {AlertStatus.ACKNOWLEDGED: ACKNOWLEDGED, AlertStatus.CLOSED: RESOLVED}
KINDS = {AlertStatus.ACKNOWLEDGED: "acknowledge", AlertStatus.CLOSED: "close"}
OWNER_WHEN = {AlertStatus.ACKNOWLEDGED: ("acknowledge", "both"), AlertStatus.CLOSED: ("close", "both")}
FORGET = "forget"  # an executor's answer: nothing was done and the intent is deleted, its key free again
USER_TTL = 600.0  # seconds a SIGNL4 user's name and e-mail are kept
MAX_USERS = 256
_SKIP = object()


class Context:
    """Everything the sync functions use. ``pace(scope)`` waits for SIGNL4's rate windows."""

    def __init__(self, config, desk, signl4, store, metrics, limiters=None, clock=time.time, stopping=None):
        self.config = config
        self.stopping = stopping  # an Event the agent sets on SIGTERM: no new side effect is started after it
        self.desk = desk
        self.signl4 = signl4
        self.store = store
        self.metrics = metrics
        self.limiters = limiters or {}
        self.clock = clock
        self.quarantine = Quarantine(store, metrics)
        self._acting_user = None
        self._users = {}

    def pace(self, scope):
        limiter = self.limiters.get(scope)
        if limiter:
            limiter.acquire()

    def paced(self, scope):
        """``with ctx.paced(scope):`` around one request: waits like ``pace`` and counts the request
        from its answer, so a slow request cannot push the next window's first one past SIGNL4's count."""
        limiter = self.limiters.get(scope)
        return limiter.slot() if limiter else contextlib.nullcontext()

    @property
    def acting_user(self):
        """The SIGNL4 user id the agent reads and acts as (``signl4.acting_user``, e-mail or id)."""
        if self._acting_user is None:
            self.pace("rest")
            user_id = records.identifier(self.signl4.user(self.config["signl4"]["acting_user"]).get("id"))
            if user_id is None:
                raise InputError("SIGNL4 answered the acting user (signl4.acting_user) without a usable id")
            self._acting_user = user_id
        return self._acting_user

    def user(self, user_id):
        """``(name, e-mail)`` of a SIGNL4 user as SIGNL4 has it (read at most every ``USER_TTL`` seconds);
        ``(None, None)`` for an unknown user or no id."""
        if records.identifier(user_id) is None:
            return None, None
        cached = self._users.get(user_id)
        if cached and self.clock() - cached[0] < USER_TTL:
            return cached[1]
        self.pace("rest")
        try:
            found = records.user(self.signl4.user(user_id))
        except NotFoundError:
            found = (None, None)
        if len(self._users) >= MAX_USERS:
            self._users.pop(next(iter(self._users)))
        self._users[user_id] = (self.clock(), found)
        return found

    @property
    def fields(self):
        return self.config["custom_fields"]


# ----- cycles: what Manage says now ----------------------------------------------------------

def filter_conditions(config):
    """The board/priority filters as a condition string (None: no filter)."""
    parts = []
    if config["filters"]["boards"]:
        parts.append(condition("board/name", "in", config["filters"]["boards"]))
    if config["filters"]["priorities"]:
        parts.append(condition("priority/name", "in", config["filters"]["priorities"]))
    return all_of(*parts) or None


def checked_ticket(ticket):
    """A ticket from Manage with its ``id`` checked (a record id), or :class:`InputError`."""
    ticket_id = record_id(mapping(ticket).get("id"))
    if ticket_id is None:
        raise InputError("Manage listed a ticket without a usable id")
    return dict(ticket, id=ticket_id)


def _each_ticket(ctx, rule, event, ticket_id, conditions, consider, *args, after=None):
    """``consider(ctx, ticket, *args)`` for each ticket the workflow event selects (entered at or after
    ``after``, when given); the event and each ticket guarded on their own."""
    with guarded(ctx, "event", record_ident(event)):
        for ticket in cutoff.since(after, ctx.desk.matching(rule, event, ticket_id, conditions)):
            with guarded(ctx, "ticket", record_ident(ticket)):
                consider(ctx, checked_ticket(ticket), *args)


def trigger_cycle(ctx, ticket_id=None):
    """New tickets raise a Signl; tickets re-entering after a close follow the reopen policy."""
    rule = ctx.desk.rule(ctx.config["workflows"]["trigger"])
    events = classify_trigger(rule["events"], ctx.fields["retrieved"])
    if "trigger" not in events:
        raise InputError("workflow rule %r has no event whose condition tests %s" % (rule.get("name"), ctx.fields["retrieved"]))
    conditions = filter_conditions(ctx.config)
    after = cutoff.cut_off(ctx)  # tickets entered before it (say, before the first start) raise no Signl
    fresh = all_of(conditions, cutoff.conditions(after))
    _each_ticket(ctx, rule, events["trigger"], ticket_id, fresh, consider_new, after=after)
    query = ctx.config["trigger_query"]
    if query["conditions"] or query["custom_field_conditions"]:
        with guarded(ctx, "query", "trigger_query"):
            found = ctx.desk.query(all_of(query["conditions"], fresh), query["custom_field_conditions"], ticket_id)
            for ticket in cutoff.since(after, found):
                with guarded(ctx, "ticket", record_ident(ticket)):
                    if custom_value(ticket, ctx.fields["retrieved"]) is not True:
                        consider_new(ctx, checked_ticket(ticket))
    if ctx.config["reopen"] != "ignore" and "after_close" in events:
        _each_ticket(ctx, rule, events["after_close"], ticket_id, conditions, consider_reopen)


def update_cycle(ctx, ticket_id=None):
    """Tickets selected by the events of the Update Signls rule acknowledge or close their Signl."""
    mappings = ctx.config["status_mappings"]
    wanted = [(kind, code) for kind, code, on in (("acknowledge", AlertStatus.ACKNOWLEDGED, mappings["manage_acknowledge"]),
                                                  ("close", AlertStatus.CLOSED, mappings["manage_close"])) if on]
    if not wanted:
        return
    rule = ctx.desk.rule(ctx.config["workflows"]["update_signls"])
    events = classify_update(rule["events"], ctx.fields["status"])
    for kind, code in wanted:
        if kind in events:
            _each_ticket(ctx, rule, events[kind], ticket_id, None, consider_transition, code)


def new_marker():
    """The per-raise marker (see ``alerts``): unguessable, stored with the intent before the raise."""
    return secrets.token_hex(16)


def consider_new(ctx, ticket):
    ctx.metrics.tickets_seen.inc()
    key = "raise:%d:1" % ticket["id"]
    if ctx.store.intent(key) is not None:
        record = ctx.store.ticket(ticket["id"])
        if record and record["generation"] >= 1 and custom_value(ticket, ctx.fields["retrieved"]) is not True:
            ctx.desk.update(ticket, custom={ctx.fields["retrieved"]: True})  # a retrieved flag someone cleared
        return
    intent_id = ctx.store.add_intent(key, "raise", ticket["id"], {"generation": 1, "marker": new_marker()})
    if intent_id is not None:
        execute(ctx, ctx.store.intent(key), ticket=ticket)


def consider_reopen(ctx, ticket):
    record = ctx.store.ticket(ticket["id"])
    if not record or record["alert_status"] != AlertStatus.CLOSED:
        return
    generation = record["generation"]
    if ctx.config["reopen"] == "new_signl":
        key, kind = "raise:%d:%d" % (ticket["id"], generation + 1), "raise"
        payload = {"generation": generation + 1, "marker": new_marker()}
    else:
        key, kind, payload = "reopen:%d:%d" % (ticket["id"], generation), "reopen", {"generation": generation}
    if ctx.store.add_intent(key, kind, ticket["id"], payload) is not None:
        execute(ctx, ctx.store.intent(key), ticket=ticket)


def consider_transition(ctx, ticket, code):
    record = ctx.store.ticket(ticket["id"])
    if not record or record["generation"] < 1:
        return  # not a Signl this agent raised
    if record["alert_status"] >= code:
        ctx.desk.update(ticket, custom={ctx.fields["status"]: WORDS[code]})  # SIGNL4 is there already
        return
    key = "signl4_%s:%d:%d:%d" % (KINDS[code], ticket["id"], record["generation"], record["reopened"])
    if ctx.store.add_intent(key, "signl4_status", ticket["id"], {"status": code, "generation": record["generation"]}):
        execute(ctx, ctx.store.intent(key), ticket=ticket)


# ----- executing intents ----------------------------------------------------------------------

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
    for intent in ctx.store.pending_intents(limit):
        if intent["ticket_id"] in held:
            continue
        try:
            with guarded(ctx, "intent", intent["key"]) as outcome:
                execute(ctx, intent)
            failed_in_a_row = 0
            if outcome.unexpected:
                held.add(intent["ticket_id"])
        except OUTAGES as exc:
            failed_in_a_row += 1
            if intent["error"] is None or failed_in_a_row > 1:
                raise
            held.add(intent["ticket_id"])
            log.warning("intent %s failed again (%s); ticket %s waits, the others go on", intent["key"], exc,
                        intent["ticket_id"])
    remaining = len(ctx.store.pending_intents(limit))
    ctx.metrics.queue_depth.set(remaining)
    return remaining


def execute(ctx, intent, ticket=None):
    """Run one intent. An error leaves it pending (retried next cycle). An outage (no answer,
    5xx, 429 after the retries) ends the cycle, so the agent backs off; an error about this one
    record (4xx) is recorded on the intent and raised for the caller's guard, which quarantines it."""
    if ctx.stopping is not None and ctx.stopping.is_set():
        # stopping: the rest of the cycle's work stays pending for the next start (it is recorded)
        raise CancelledError("the agent is stopping")
    executor = EXECUTORS.get(intent["kind"])
    if executor is None:
        raise InputError("intent %s of an unknown kind" % intent["key"])
    try:
        state = executor(ctx, intent, ticket)
    except (ApiError, InputError) as exc:
        ctx.store.update_intent(intent["id"], error=str(exc)[:500])
        if not isinstance(exc, OUTAGES):
            ctx.metrics.errors.labels(kind=type(exc).__name__).inc()
        raise
    if state == FORGET:
        ctx.store.forget_intent(intent["id"])
    else:
        ctx.store.update_intent(intent["id"], state=state or DONE)
    return True


def _ticket(ctx, ticket_id, ticket):
    return ticket if ticket is not None else ctx.desk.ticket(ticket_id)


def raise_signl(ctx, intent, ticket=None):
    """Intent ``raise``: send the Signl once, then mark the ticket retrieved."""
    ticket_id, payload = intent["ticket_id"], dict(intent["payload"])
    record = ctx.store.ticket(ticket_id) or {}
    if record.get("generation", 0) < payload["generation"]:
        if record.get("generation") and not record.get("alert_id"):
            alert_of(ctx, ticket_id)  # the earlier Signl must be known, or it would pass for the new one
            record = ctx.store.ticket(ticket_id)
        ticket = _ticket(ctx, ticket_id, ticket)
        if ticket is None:
            return IGNORED
        _send_signl(ctx, intent, ticket, record, payload)
    ticket = _ticket(ctx, ticket_id, ticket)
    if ticket is None:
        return IGNORED
    custom = {ctx.fields["retrieved"]: True}
    if payload["generation"] > 1:
        custom[ctx.fields["status"]] = ""  # a new Signl starts the status over
    ctx.desk.update(ticket, custom=custom)
    return DONE


def _marker(ctx, intent, payload):
    """The raise's marker; a raise recorded before markers existed gets one now, stored before the send."""
    if not payload.get("marker"):
        payload["marker"] = new_marker()
        ctx.store.update_intent(intent["id"], payload=payload)
    return payload["marker"]


def _send_signl(ctx, intent, ticket, record, payload):
    """Raise the Signl, unless an earlier attempt (whose outcome is unknown: a 5xx, a timeout, a crash)
    raised it: that alert is adopted only when it carries this raise's marker. An alert that merely
    has the ticket's number as external id is another system's, or another raise's."""
    known = set(record.get("old_alerts") or []) | ({record["alert_id"]} if record.get("alert_id") else set())
    found = None
    if intent["attempts"] > 0:
        if payload.get("marker"):
            found = alerts.find_own_alert(ctx, ticket["id"], known, payload["marker"])
        else:
            log.warning("ticket %s: a raise of an earlier version may have happened; it cannot be told from another "
                        "system's alert, so the Signl is raised (again)", ticket["id"])
    if found is None:
        marker = _marker(ctx, intent, payload)
        ctx.store.update_intent(intent["id"], attempt=True)  # from here on, the Signl may exist
        with ctx.paced("events"):
            answer = ctx.signl4.webhook_event(signl_payload(ctx, ticket, marker))
        event_id, alert_id = records.identifier(answer.get("eventId")), None
        ctx.metrics.signls_raised.inc()
    else:
        event_id, alert_id = found.event_id, found.id
    ctx.store.save_ticket(ticket["id"], generation=payload["generation"], event_id=event_id, alert_id=alert_id,
                          alert_status=AlertStatus.OPEN, old_alerts=sorted(known))
    log.info("ticket %s: Signl raised (generation %s)", ticket["id"], payload["generation"])


def signl_payload(ctx, ticket, marker):
    title = "Ticket #%s: %s" % (ticket["id"], text(ticket.get("summary"), 255) or "")
    parameters = ticket_details.collect(ctx.desk, ticket, ctx.config["details"])
    message = "\n".join("%s: %s" % (name, value) for name, value in parameters.items()) or title
    parameters[records.MARKER_PARAMETER] = marker
    return event_payload(title=title[:255], message=message, external_id=str(ticket["id"]), status="new",
                         service=ctx.config["signl4"]["service"], source_system=ctx.config["signl4"]["source_system"],
                         parameters=parameters)


def alert_of(ctx, ticket_id):
    """The current generation's alert id, looked up in SIGNL4 (by event id, else by marker) when not known yet."""
    record = ctx.store.ticket(ticket_id)
    if record is None or record["alert_id"]:
        return record and record["alert_id"]
    found = alerts.current_alert(ctx, ticket_id, record)
    if found is None:
        raise NotFoundError("no SIGNL4 alert found for ticket %s (event %s) yet" % (ticket_id, record["event_id"]),
                            api="SIGNL4")
    ctx.store.save_ticket(ticket_id, alert_id=found)
    return found


def signl4_status(ctx, intent, ticket=None):
    """Intent ``signl4_status``: acknowledge or close the Signl as the acting user, then record it
    in the ticket's status field. The store moves first, so the echo of this change is stale."""
    code, ticket_id = intent["payload"]["status"], intent["ticket_id"]
    record = ctx.store.ticket(ticket_id)
    if record is None or record["generation"] != intent["payload"]["generation"]:
        return IGNORED  # a newer Signl replaced this one
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
        log.info("ticket %s: Signl %s already past %s in SIGNL4", ticket_id, alert_id, KINDS[code])
    ticket = _ticket(ctx, ticket_id, ticket)
    if ticket is not None:
        ctx.desk.update(ticket, custom={ctx.fields["status"]: WORDS[code]})
    ctx.metrics.transitions.labels(direction="manage_to_signl4", kind=KINDS[code]).inc()
    return DONE


def reopen_signl(ctx, intent, ticket=None):
    """Intent ``reopen``: undo the close of the Signl (SIGNL4 puts it back to open or acknowledged)."""
    ticket_id = intent["ticket_id"]
    alert_id = alert_of(ctx, ticket_id)
    ctx.pace("rest")
    try:
        answer = records.alert(ctx.signl4.undo_close(alert_id, ctx.acting_user))
        status = answer.status if answer and answer.status in (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED) \
            else AlertStatus.OPEN
    except ApiError as exc:
        if exc.status != 403:  # 403: not closed any more (done before a crash, or by a user)
            raise
        status = AlertStatus.OPEN
    record = ctx.store.ticket(ticket_id)
    ctx.store.save_ticket(ticket_id, alert_status=status, reopened=record["reopened"] + 1)
    ticket = _ticket(ctx, ticket_id, ticket)
    if ticket is not None:
        ctx.desk.update(ticket, custom={ctx.fields["status"]: ""})
    return DONE


# ----- SIGNL4 -> Manage -------------------------------------------------------------------------

def _confirmed_status(ctx, payload, record, ticket_id):
    """``(status, id of the user who made it)`` of the alert as SIGNL4's API has it, when it is the
    ticket's current Signl and acknowledged or closed; None otherwise. A polled intent carries what
    the poll read; a webhook's is read now (one request)."""
    if payload.get("verified"):
        return payload["status"], mapping(payload.get("user")).get("id")
    alert = alerts.read_alert(ctx, payload["alert_id"])
    if alert is None or alert.status not in alerts.TRANSITIONS or not alerts.owns(ctx, ticket_id, record, alert):
        return None
    return alert.status, alert.acted_by(alert.status)


def manage_status(ctx, intent, ticket=None):
    """Intent ``manage_status``: a Signl acknowledged or closed in SIGNL4 updates its ticket once, as
    SIGNL4 has it: a notification whose claim SIGNL4 does not confirm changes nothing."""
    payload, ticket_id = intent["payload"], intent["ticket_id"]
    record = ctx.store.ticket(ticket_id)
    if not alerts.may_be_current(record, payload["alert_id"], payload.get("event_id")) or \
            record["alert_status"] >= payload["status"]:
        return IGNORED  # not this ticket's Signl, or stale, a duplicate, the echo of the agent's own change
    confirmed = _confirmed_status(ctx, payload, record, ticket_id)
    if confirmed is None:
        log.info("ticket %s: SIGNL4 does not confirm the notification about alert %s; nothing done", ticket_id,
                 payload["alert_id"])
        return FORGET
    code, user_id = confirmed
    record = ctx.store.ticket(ticket_id)
    if record["alert_status"] >= code:
        return IGNORED
    if not record["alert_id"]:
        ctx.store.save_ticket(ticket_id, alert_id=payload["alert_id"])
    if ctx.config["status_mappings"]["signl4_%s" % KINDS[code]]:
        apply_to_ticket(ctx, ticket_id, code, user_id, payload["alert_id"])
        ctx.metrics.transitions.labels(direction="signl4_to_manage", kind=KINDS[code]).inc()
    ctx.store.save_ticket(ticket_id, alert_status=code)
    return DONE


def apply_to_ticket(ctx, ticket_id, code, user_id, reference):
    ticket = ctx.desk.ticket(ticket_id)
    if ticket is None:
        log.warning("ticket %s is gone from Manage; SIGNL4 %s not applied", ticket_id, KINDS[code])
        return
    if custom_value(ticket, ctx.fields["status"]) == WORDS[code]:
        return  # applied before a crash: the status field travels in the same PATCH
    rule = ctx.desk.rule(ctx.config["workflows"]["update_tickets"], with_actions=True)
    event = classify_update(rule["events"], ctx.fields["status"]).get(KINDS[code])
    fields, custom, notes = plan_actions(ctx, mapping(event).get("actions"), ticket_id)
    custom[ctx.fields["status"]] = WORDS[code]
    if ctx.config["owner_assignment"] in OWNER_WHEN[code]:
        _assign_owner(ctx, ticket_id, user_id, fields, custom)
    ctx.desk.update(ticket, fields, custom)
    for number, (note_text, flags) in enumerate(notes):
        write_note(ctx, ticket_id, note_text, flags, reference="%s/%s/%d" % (reference, KINDS[code], number))


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


def _reference_id(action, key):
    return record_id(mapping(action.get(key)).get("id"))


def plan_actions(ctx, actions, ticket_id):
    """Ticket changes for the workflow actions: ``(fields, custom values, notes)``. Action kinds
    the agent cannot apply through the ticket API are logged, never guessed; so are actions Manage
    sent without what they need (a status without an id, a note without text)."""
    fields, custom, notes = {}, {}, []
    for action in objects(actions):
        kind = (text(mapping(action.get("notifyType")).get("name"), 100) or "").lower()
        if kind == "update status" and _reference_id(action, "boardStatus"):
            fields["status"] = {"id": _reference_id(action, "boardStatus")}
        elif kind == "update priority" and _reference_id(action, "servicePriority"):
            fields["priority"] = {"id": _reference_id(action, "servicePriority")}
        elif kind == "update custom field":
            custom.update(_action_values(action))
        elif kind == "add note" and text(action.get("notes")):
            notes.append((text(action.get("notes")), dict(detailDescriptionFlag=action.get("detailNotesFlag") is True,
                                                          internalAnalysisFlag=action.get("internalNotesFlag") is True)))
        else:
            ctx.metrics.errors.labels(kind="unsupported_action").inc()
            log.warning("ticket %s: workflow action %r is not applied by the agent", ticket_id, kind or "?")
    return fields, custom, notes


def _action_values(action):
    values = {}
    for value in objects(action.get("customFields")):
        caption = text(value.get("caption"), 200)
        typed = _typed(value.get("value"), (text(value.get("fieldTypeId"), 50) or "").lower())
        if caption and typed is not _SKIP:
            values[caption] = typed
    return values


def _typed(raw, kind):
    """A workflow action's custom field value as the field's type wants it (``_SKIP``: not usable)."""
    if kind == "checkbox":
        return raw is True or isinstance(raw, str) and raw.strip().lower() == "true"
    if kind in ("number", "percent", "currency"):
        try:
            number = float(raw) if isinstance(raw, (str, int, float)) and not isinstance(raw, bool) else math.nan
        except (ValueError, OverflowError):
            number = math.nan
        return number if math.isfinite(number) else _SKIP
    if raw is None or isinstance(raw, (str, bool, int)):
        return raw
    return raw if isinstance(raw, float) and math.isfinite(raw) else _SKIP


def _annotation(ctx, payload, record, ticket_id):
    """``(text, user id)`` of the annotation as SIGNL4's timeline has it, when it is on this ticket's
    Signl (or an earlier one); None otherwise."""
    if payload.get("verified"):
        return payload["text"], mapping(payload.get("user")).get("id")
    alert = alerts.read_alert(ctx, payload["alert_id"])
    if alert is None or (alert.id not in record["old_alerts"] and not alerts.owns(ctx, ticket_id, record, alert)):
        return None
    return alert.annotations.get(payload["annotation_id"])


def annotation_note(ctx, intent, ticket=None):
    """Intent ``note``: a SIGNL4 annotation becomes one ticket note with the configured flags, with the
    text and the user SIGNL4's timeline has (a notification naming an annotation that is not there
    writes nothing)."""
    payload, ticket_id = intent["payload"], intent["ticket_id"]
    record = ctx.store.ticket(ticket_id)
    if not alerts.may_be_ours(record, payload["alert_id"], payload.get("event_id")):
        return IGNORED
    found = _annotation(ctx, payload, record, ticket_id)
    if found is None:
        log.info("ticket %s: annotation %s is not on the timeline of alert %s; no note", ticket_id,
                 payload["annotation_id"], payload["alert_id"])
        return FORGET
    body, user_id = found
    flags = ctx.config["notes"]
    note_text = "%s (SIGNL4): %s" % (ctx.user(user_id)[0] or "SIGNL4 user", body)
    write_note(ctx, ticket_id, note_text, dict(detailDescriptionFlag=flags["detail_description"],
                                               internalAnalysisFlag=flags["internal_analysis"],
                                               resolutionFlag=flags["resolution"],
                                               processNotifications=flags["process_notifications"]),
               reference=payload["annotation_id"])
    return DONE


def reference_line(reference):
    return "[SIGNL4 ref %s]" % reference


def carries_reference(note_text, reference):
    """Whether a note is the one written for ``reference``: its last line is the reference line, alone.
    A reference quoted anywhere else (an annotation's text is copied into its note) does not count."""
    lines = (note_text if isinstance(note_text, str) else "").rstrip().splitlines()
    return bool(lines) and lines[-1].strip() == reference_line(reference)


def write_note(ctx, ticket_id, note_text, flags, reference):
    """Add a note unless the ticket has it already (written before a crash): the note ends with a
    reference line (annotation id, or alert and transition), looked for before writing. Only the
    reference is compared: the same annotation may arrive by webhook or by poll, whose texts differ."""
    if any(carries_reference(note.get("text"), reference) for note in ctx.desk.notes(ticket_id)):
        return
    try:
        ctx.desk.add_note(ticket_id, "%s\n%s" % (note_text, reference_line(reference)), flags)
    except NotFoundError:
        log.warning("ticket %s is gone from Manage; note not written", ticket_id)
        return
    ctx.metrics.notes.inc()


EXECUTORS = {"raise": raise_signl, "signl4_status": signl4_status, "reopen": reopen_signl,
             "manage_status": manage_status, "note": annotation_note}
