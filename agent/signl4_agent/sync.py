"""The sync, as plain functions over a :class:`Context` (clients, store, config, metrics).

Exactly once: every side effect is an *intent* recorded in the store under a unique key before
it is attempted and marked done after. ``run_pending`` executes pending intents; after a crash
it finds them again and each executor reconciles before acting (a Signl is looked up by its
external id before it is raised again; PATCHes set values, so repeating one is harmless; notes
carry a reference that is looked for before writing again).

Alert status as the agent knows it (store ``alert_status``) only moves forward (1 open ->
2 acknowledged -> 4 closed) per alert: an outbound notification or a polled status that does
not move it forward is stale or the echo of the agent's own change, and is ignored.
"""

import contextlib
import datetime
import logging
import time

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import all_of, condition
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import (
    ApiError,
    CancelledError,
    ConflictError,
    InputError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import AlertStatus, event_payload

from signl4_agent import cutoff
from signl4_agent import details as ticket_details
from signl4_agent.manage import ACKNOWLEDGED, RESOLVED, classify_trigger, classify_update, custom_value
from signl4_agent.store import DONE, IGNORED

log = logging.getLogger("signl4_agent.sync")

WORDS = {AlertStatus.ACKNOWLEDGED: ACKNOWLEDGED, AlertStatus.CLOSED: RESOLVED}
KINDS = {AlertStatus.ACKNOWLEDGED: "acknowledge", AlertStatus.CLOSED: "close"}
OUTAGES = (TransportError, ServerError, RateLimitedError, OutcomeUnknownError)  # 5xx of a write: outcome unknown
HAS_ANNOTATIONS = 2  # bit of an alert's ``flags``
OWNER_WHEN = {AlertStatus.ACKNOWLEDGED: ("acknowledge", "both"), AlertStatus.CLOSED: ("close", "both")}


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
        self._acting_user = None

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
            user = self.signl4.user(self.config["signl4"]["acting_user"])
            self._acting_user = user["id"]
        return self._acting_user

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


def trigger_cycle(ctx, ticket_id=None):
    """New tickets raise a Signl; tickets re-entering after a close follow the reopen policy."""
    rule = ctx.desk.rule(ctx.config["workflows"]["trigger"])
    events = classify_trigger(rule["events"], ctx.fields["retrieved"])
    if "trigger" not in events:
        raise InputError("workflow rule %r has no event whose condition tests %s" % (rule["name"], ctx.fields["retrieved"]))
    conditions = filter_conditions(ctx.config)
    after = cutoff.cut_off(ctx)  # tickets entered before it (say, before the first start) raise no Signl
    fresh = all_of(conditions, cutoff.conditions(after))
    for ticket in cutoff.since(after, ctx.desk.matching(rule, events["trigger"], ticket_id, fresh)):
        consider_new(ctx, ticket)
    query = ctx.config["trigger_query"]
    if query["conditions"] or query["custom_field_conditions"]:
        found = ctx.desk.query(all_of(query["conditions"], fresh), query["custom_field_conditions"], ticket_id)
        for ticket in cutoff.since(after, found):
            if custom_value(ticket, ctx.fields["retrieved"]) is not True:
                consider_new(ctx, ticket)
    if ctx.config["reopen"] != "ignore" and "after_close" in events:
        for ticket in ctx.desk.matching(rule, events["after_close"], ticket_id, conditions):
            consider_reopen(ctx, ticket)


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
            for ticket in ctx.desk.matching(rule, events[kind], ticket_id):
                consider_transition(ctx, ticket, code)


def consider_new(ctx, ticket):
    ctx.metrics.tickets_seen.inc()
    key = "raise:%d:1" % ticket["id"]
    if ctx.store.intent(key) is not None:
        record = ctx.store.ticket(ticket["id"])
        if record and record["generation"] >= 1 and custom_value(ticket, ctx.fields["retrieved"]) is not True:
            ctx.desk.update(ticket, custom={ctx.fields["retrieved"]: True})  # a retrieved flag someone cleared
        return
    intent_id = ctx.store.add_intent(key, "raise", ticket["id"], {"generation": 1})
    if intent_id is not None:
        execute(ctx, ctx.store.intent(key), ticket=ticket)


def consider_reopen(ctx, ticket):
    record = ctx.store.ticket(ticket["id"])
    if not record or record["alert_status"] != AlertStatus.CLOSED:
        return
    generation = record["generation"]
    if ctx.config["reopen"] == "new_signl":
        key, kind, payload = "raise:%d:%d" % (ticket["id"], generation + 1), "raise", {"generation": generation + 1}
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
    rest go on. Two such failures in a row are an outage and end the cycle as before."""
    held, failed_in_a_row = set(), 0
    for intent in ctx.store.pending_intents(limit):
        if intent["ticket_id"] in held:
            continue
        try:
            execute(ctx, intent)
            failed_in_a_row = 0
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
    record (4xx) is logged and counted, and the cycle goes on with the others."""
    if ctx.stopping is not None and ctx.stopping.is_set():
        # stopping: the rest of the cycle's work stays pending for the next start (it is recorded)
        raise CancelledError("the agent is stopping")
    executor = EXECUTORS[intent["kind"]]
    try:
        state = executor(ctx, intent, ticket)
    except (ApiError, InputError) as exc:
        ctx.store.update_intent(intent["id"], error=str(exc)[:500])
        if isinstance(exc, OUTAGES):
            raise
        ctx.metrics.errors.labels(kind=type(exc).__name__).inc()
        log.warning("intent %s failed, will retry: %s", intent["key"], exc)
        return False
    ctx.store.update_intent(intent["id"], state=state or DONE)
    return True


def _ticket(ctx, ticket_id, ticket):
    return ticket if ticket is not None else ctx.desk.ticket(ticket_id)


def _alerts_for(ctx, ticket_id):
    ctx.pace("rest")
    return list(ctx.signl4.alerts(user_id=ctx.acting_user, external_id=str(ticket_id)))


def find_new_alert(ctx, ticket_id, known):
    """The newest alert raised with this ticket's external id that is none of ``known``."""
    fresh = [a for a in _alerts_for(ctx, ticket_id) if a.get("id") not in known]
    fresh.sort(key=lambda a: (a.get("history") or {}).get("created") or "")
    return fresh[-1] if fresh else None


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
    custom = {ctx.fields["retrieved"]: True}
    if payload["generation"] > 1:
        custom[ctx.fields["status"]] = ""  # a new Signl starts the status over
    ctx.desk.update(ticket, custom=custom)
    return DONE


def _send_signl(ctx, intent, ticket, record, payload):
    known = list(record.get("old_alerts") or []) + ([record["alert_id"]] if record.get("alert_id") else [])
    found = find_new_alert(ctx, ticket["id"], set(known)) if intent["attempts"] > 0 else None
    if found is None:
        ctx.store.update_intent(intent["id"], attempt=True)  # from here on, the Signl may exist
        with ctx.paced("events"):
            event_id = ctx.signl4.webhook_event(signl_payload(ctx, ticket)).get("eventId")
        alert_id = None
        ctx.metrics.signls_raised.inc()
    else:
        event_id, alert_id = found.get("eventId"), found.get("id")
    ctx.store.save_ticket(ticket["id"], generation=payload["generation"], event_id=event_id, alert_id=alert_id,
                          alert_status=AlertStatus.OPEN, old_alerts=known)
    log.info("ticket %s: Signl raised (generation %s)", ticket["id"], payload["generation"])


def signl_payload(ctx, ticket):
    title = "Ticket #%s: %s" % (ticket["id"], ticket.get("summary") or "")
    parameters = ticket_details.collect(ctx.desk, ticket, ctx.config["details"])
    text = "\n".join("%s: %s" % (name, value) for name, value in parameters.items()) or title
    return event_payload(title=title[:255], message=text, external_id=str(ticket["id"]), status="new",
                         service=ctx.config["signl4"]["service"], source_system=ctx.config["signl4"]["source_system"],
                         parameters=parameters)


def alert_of(ctx, ticket_id):
    """The current generation's alert id, looked up by external id and event id when not known yet."""
    record = ctx.store.ticket(ticket_id)
    if record is None or record["alert_id"]:
        return record and record["alert_id"]
    for alert in _alerts_for(ctx, ticket_id):
        if alert.get("eventId") == record["event_id"] and alert.get("id") not in record["old_alerts"]:
            ctx.store.save_ticket(ticket_id, alert_id=alert["id"])
            return alert["id"]
    raise NotFoundError("no SIGNL4 alert found for ticket %s (event %s) yet" % (ticket_id, record["event_id"]),
                        api="SIGNL4")


def signl4_status(ctx, intent, ticket=None):
    """Intent ``signl4_status``: acknowledge or close the Signl as the acting user, then record it
    in the ticket's status field. The store moves first, so the echo of this change is stale."""
    code, ticket_id = intent["payload"]["status"], intent["ticket_id"]
    if ctx.store.ticket(ticket_id)["generation"] != intent["payload"]["generation"]:
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
        alert = ctx.signl4.undo_close(alert_id, ctx.acting_user)
        status = ((alert or {}).get("status") or {}).get("statusCode") or AlertStatus.OPEN
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

def transition_key(alert_id, code, record):
    """One SIGNL4 -> Manage transition of one alert (per re-open round): webhook and poll share it."""
    return "manage_status:%s:%d:%d" % (alert_id, code, record["reopened"])


def belongs(record, alert_id, event_id):
    """Whether an alert is the current Signl of the ticket ``record``."""
    if not record or record["generation"] < 1 or alert_id in record["old_alerts"]:
        return False
    if record["alert_id"]:
        return record["alert_id"] == alert_id
    return bool(event_id) and record["event_id"] == event_id


def manage_status(ctx, intent, ticket=None):
    """Intent ``manage_status``: a Signl acknowledged or closed in SIGNL4 updates its ticket once."""
    payload, ticket_id = intent["payload"], intent["ticket_id"]
    code = payload["status"]
    record = ctx.store.ticket(ticket_id)
    if not belongs(record, payload["alert_id"], payload.get("event_id")):
        return IGNORED
    if not record["alert_id"]:
        ctx.store.save_ticket(ticket_id, alert_id=payload["alert_id"])
    if record["alert_status"] >= code:
        return IGNORED  # stale, a duplicate or the echo of the agent's own change
    if ctx.config["status_mappings"]["signl4_%s" % KINDS[code]]:
        apply_to_ticket(ctx, ticket_id, code, payload.get("user") or {}, payload["alert_id"])
        ctx.metrics.transitions.labels(direction="signl4_to_manage", kind=KINDS[code]).inc()
    ctx.store.save_ticket(ticket_id, alert_status=code)
    return DONE


def apply_to_ticket(ctx, ticket_id, code, user, reference):
    ticket = ctx.desk.ticket(ticket_id)
    if ticket is None:
        log.warning("ticket %s is gone from Manage; SIGNL4 %s not applied", ticket_id, KINDS[code])
        return
    if custom_value(ticket, ctx.fields["status"]) == WORDS[code]:
        return  # applied before a crash: the status field travels in the same PATCH
    rule = ctx.desk.rule(ctx.config["workflows"]["update_tickets"], with_actions=True)
    event = classify_update(rule["events"], ctx.fields["status"]).get(KINDS[code])
    fields, custom, notes = plan_actions(ctx, (event or {}).get("actions") or [], ticket_id)
    custom[ctx.fields["status"]] = WORDS[code]
    if ctx.config["owner_assignment"] in OWNER_WHEN[code]:
        _assign_owner(ctx, ticket_id, user, fields, custom)
    ctx.desk.update(ticket, fields, custom)
    for number, (text, flags) in enumerate(notes):
        write_note(ctx, ticket_id, text, flags, reference="%s/%s/%d" % (reference, KINDS[code], number))


def _assign_owner(ctx, ticket_id, user, fields, custom):
    email = user.get("mailaddress") or user.get("mail")
    if not email and user.get("id"):
        ctx.pace("rest")
        try:
            email = ctx.signl4.user(user["id"]).get("mail")
        except NotFoundError:
            email = None
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


def plan_actions(ctx, actions, ticket_id):
    """Ticket changes for the workflow actions: ``(fields, custom values, notes)``. Action kinds
    the agent cannot apply through the ticket API are logged, never guessed."""
    fields, custom, notes = {}, {}, []
    for action in actions:
        kind = ((action.get("notifyType") or {}).get("name") or "").lower()
        if kind == "update status" and action.get("boardStatus"):
            fields["status"] = {"id": action["boardStatus"]["id"]}
        elif kind == "update priority" and action.get("servicePriority"):
            fields["priority"] = {"id": action["servicePriority"]["id"]}
        elif kind == "update custom field":
            custom.update(_action_values(action))
        elif kind == "add note" and action.get("notes"):
            notes.append((action["notes"], dict(detailDescriptionFlag=bool(action.get("detailNotesFlag")),
                                                internalAnalysisFlag=bool(action.get("internalNotesFlag")))))
        else:
            ctx.metrics.errors.labels(kind="unsupported_action").inc()
            log.warning("ticket %s: workflow action %r is not applied by the agent", ticket_id, kind or "?")
    return fields, custom, notes


def _action_values(action):
    values = {}
    for value in action.get("customFields") or []:
        text = value.get("value")
        kind = (value.get("fieldTypeId") or "").lower()
        if kind == "checkbox":
            text = str(text).lower() == "true"
        elif kind in ("number", "percent", "currency"):
            text = float(text)
        values[value["caption"]] = text
    return values


def annotation_note(ctx, intent, ticket=None):
    """Intent ``note``: a SIGNL4 annotation becomes one ticket note with the configured flags."""
    payload, ticket_id = intent["payload"], intent["ticket_id"]
    record = ctx.store.ticket(ticket_id)
    if not record or record["generation"] < 1:
        return IGNORED
    flags = ctx.config["notes"]
    text = "%s (SIGNL4): %s" % (_user_name(ctx, payload.get("user") or {}), payload["text"])
    write_note(ctx, ticket_id, text, dict(detailDescriptionFlag=flags["detail_description"],
                                          internalAnalysisFlag=flags["internal_analysis"],
                                          resolutionFlag=flags["resolution"],
                                          processNotifications=flags["process_notifications"]),
               reference=payload["annotation_id"])
    return DONE


def _user_name(ctx, user):
    """The annotating user's name: from the webhook, or (a polled annotation has only the id) from SIGNL4."""
    if user.get("username"):
        return user["username"]
    if user.get("id"):
        ctx.pace("rest")
        try:
            return ctx.signl4.user(user["id"]).get("name") or "SIGNL4 user"
        except NotFoundError:
            pass
    return "SIGNL4 user"


def write_note(ctx, ticket_id, text, flags, reference):
    """Add a note unless the ticket has it already (written before a crash): the note carries a
    reference (annotation id, or alert and transition), looked for before writing. Only the
    reference is compared: the same annotation may arrive by webhook or by poll, whose texts differ."""
    marker = "[SIGNL4 ref %s]" % reference
    if any(marker in (note.get("text") or "") for note in ctx.desk.notes(ticket_id)):
        return
    try:
        ctx.desk.add_note(ticket_id, "%s\n%s" % (text, marker), flags)
    except NotFoundError:
        log.warning("ticket %s is gone from Manage; note not written", ticket_id)
        return
    ctx.metrics.notes.inc()


EXECUTORS = {"raise": raise_signl, "signl4_status": signl4_status, "reopen": reopen_signl,
             "manage_status": manage_status, "note": annotation_note}


# ----- SIGNL4 polling fallback ---------------------------------------------------------------

def poll_alerts(ctx, since):
    """Alerts modified since ``since`` (unix time) whose status moved past what the store knows
    become the same intents an outbound webhook would have recorded (same keys: no double work);
    so do their annotations (timeline entries), which a webhook lost while the agent was down
    would otherwise never bring."""
    ctx.pace("rest")
    modified = datetime.datetime.fromtimestamp(since, datetime.timezone.utc)
    for alert in ctx.signl4.alerts(user_id=ctx.acting_user, modified_since=modified):
        external_id = str(alert.get("externalId") or "")
        if not external_id.isdigit():
            continue
        record = ctx.store.ticket(int(external_id))
        if not record or record["generation"] < 1:
            continue
        if (alert.get("flags") or 0) & HAS_ANNOTATIONS and _raised_by_agent(record, alert):
            poll_annotations(ctx, int(external_id), alert["id"])
        _poll_status(ctx, int(external_id), record, alert)


def _raised_by_agent(record, alert):
    return belongs(record, alert.get("id"), alert.get("eventId")) or alert.get("id") in record["old_alerts"]


def _poll_status(ctx, ticket_id, record, alert):
    code = (alert.get("status") or {}).get("statusCode")
    if code not in (AlertStatus.ACKNOWLEDGED, AlertStatus.CLOSED):
        return
    if not belongs(record, alert.get("id"), alert.get("eventId")) or record["alert_status"] >= code:
        return
    history = alert.get("history") or {}
    user_id = history.get("closedBy") if code == AlertStatus.CLOSED else (history.get("acknowledgements") or [None])[-1]
    payload = dict(status=code, alert_id=alert["id"], event_id=alert.get("eventId"),
                   user={"id": user_id} if user_id else {})
    ctx.store.add_intent(transition_key(alert["id"], code, record), "manage_status", ticket_id, payload)


def poll_annotations(ctx, ticket_id, alert_id):
    """The alert's annotations as ``note`` intents (key ``note:<annotation id>``, as the webhook's)."""
    ctx.pace("rest")
    details = ctx.signl4.alert_details(alert_id, user_id=ctx.acting_user)
    for entry in details.get("timelineEntries") or []:
        kind = str(entry.get("entryType") or entry.get("entrytype") or "").lower()
        if kind != "annotation" or not entry.get("id") or not str(entry.get("text") or "").strip():
            continue
        payload = dict(alert_id=alert_id, annotation_id=entry["id"], text=entry["text"],
                       user={"id": entry["userId"]} if entry.get("userId") else {})
        ctx.store.add_intent("note:%s" % entry["id"], "note", ticket_id, payload)
