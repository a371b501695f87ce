"""The sync's observers, as plain functions over a :class:`Context` (config, clients, store, metrics).

A cycle reads what Manage says now (``GET .../events/{id}/test`` of each workflow event in use, narrowed
by the filters, or by ``id`` for a callback) and the SIGNL4 poll what SIGNL4 says; each looks up what
that means in the decision table (``decisions``), against what the store knows, and records the intent
the row names (``intents``), executed at once for a ticket a cycle just read. The webhooks' observer is
``inbound``. Every record is worked on under ``guarded``: one that fails is quarantined, the cycle goes on.
"""

import contextlib
import datetime
import logging
import time

from ansible_collections.signl4.connectwise.plugins.module_utils.cache import LookupCache
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import all_of, condition
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError, NotFoundError

from signl4_agent import alerts, cutoff, decisions, intents, records, routing
from signl4_agent.constants import ESCALATED_FLAGS, HAS_ANNOTATIONS, STATUS_WORDS, TRANSITION_NAMES, TRANSITIONS
from signl4_agent.decisions import (
    ACKNOWLEDGE,
    APPLY,
    CLOSE,
    ESCALATE,
    NOTE,
    READ_ESCALATIONS,
    RAISE,
    RAISE_AGAIN,
    REOPEN,
    REPAIR_FLAG,
    REPAIR_STATUS,
    Seen,
    decide,
)
from signl4_agent.manage import classify_trigger, classify_update
from signl4_agent.quarantine import Quarantine, guarded, record_ident
from signl4_agent.records import custom_value, mapping, record_id

log = logging.getLogger("signl4_agent.sync")

USER_TTL = 600.0  # seconds a SIGNL4 user's name and e-mail are kept
MAX_USERS = 256
MAX_POLLED = 5000  # alerts read per poll (a SIGNL4 whose pages never end does not hold the cycle)


class Context:
    """Everything the sync functions use. ``pace(scope)`` waits for SIGNL4's rate windows."""

    def __init__(self, config, desk, signl4, store, metrics, limiters=None, clock=time.time, stopping=None, router=None):
        self.config = config
        self.stopping = stopping  # an Event the agent sets on SIGTERM: no new side effect is started after it
        self.desk = desk
        self.signl4 = signl4
        self.store = store
        self.metrics = metrics
        self.limiters = limiters or {}
        self.clock = clock
        self.quarantine = Quarantine(store, metrics)
        self.in_doubt = intents.NOTHING_IN_DOUBT  # (leases) the intents a former holder may still be sending
        self._acting_user = None
        self._users = LookupCache(USER_TTL, MAX_USERS, clock)  # user id -> (name, e-mail)
        self._teams = LookupCache(USER_TTL, MAX_USERS, clock)  # team id -> name
        # which team a Signl is raised in, and the client of each team's webhook secret (``signl4`` is the default's)
        self.router = router or routing.Router(config, {config["signl4"]["team_secret"]: signl4})

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
        return self._users.get_or_load(user_id, lambda: self._read(lambda: records.user(self.signl4.user(user_id)),
                                                                   (None, None)))

    def team_name(self, team_id):
        """A SIGNL4 team's name (read once per ``USER_TTL``); None for no id or an unknown team."""
        if records.identifier(team_id) is None:
            return None
        return self._teams.get_or_load(team_id, lambda: self._read(
            lambda: records.one_line(mapping(self.signl4.team(team_id)).get("name"), 200), None))

    def _read(self, read, unknown):
        """``read()``: one request, paced; ``unknown`` when SIGNL4 answers 404."""
        self.pace("rest")
        try:
            return read()
        except NotFoundError:
            return unknown

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
        raise InputError(f"workflow rule {rule.get('name')!r} has no event whose condition tests {ctx.fields['retrieved']}")
    conditions = filter_conditions(ctx.config)
    after = cutoff.cut_off(ctx)  # tickets entered before it (say, before the first start) raise no Signl
    fresh = all_of(conditions, cutoff.conditions(after))
    _each_ticket(ctx, rule, events["trigger"], ticket_id, fresh, on_trigger, after=after)
    query = ctx.config["trigger_query"]
    if query["conditions"] or query["custom_field_conditions"]:
        with guarded(ctx, "query", "trigger_query"):
            found = ctx.desk.query(all_of(query["conditions"], fresh), query["custom_field_conditions"], ticket_id)
            for ticket in cutoff.since(after, found):
                with guarded(ctx, "ticket", record_ident(ticket)):
                    if custom_value(ticket, ctx.fields["retrieved"]) is not True:  # the query's own selection
                        on_trigger(ctx, checked_ticket(ticket))
    if ctx.config["reopen"] != "ignore" and "after_close" in events:
        _each_ticket(ctx, rule, events["after_close"], ticket_id, conditions, on_reentry)


def update_cycle(ctx, ticket_id=None):
    """Tickets selected by the events of the Update Signls rule acknowledge or close their Signl."""
    wanted = [code for code in TRANSITIONS if ctx.config["status_mappings"][f"manage_{TRANSITION_NAMES[code]}"]]
    if not wanted:
        return
    rule = ctx.desk.rule(ctx.config["workflows"]["update_signls"])
    events = classify_update(rule["events"], ctx.fields["status"])
    for code in wanted:
        if TRANSITION_NAMES[code] in events:
            _each_ticket(ctx, rule, events[TRANSITION_NAMES[code]], ticket_id, None, on_manage_status, code)


def on_trigger(ctx, ticket):
    """The trigger selects a ticket: a new one raises its Signl; a raised one whose retrieved flag
    someone cleared gets it back."""
    ctx.metrics.tickets_seen.inc()
    record = ctx.store.ticket(ticket["id"])
    flagged = custom_value(ticket, ctx.fields["retrieved"]) is True
    raising = not decisions.raised(record) and ctx.store.intent(intents.Raise(ticket["id"], 1).key) is not None
    seen = Seen.TRIGGERED_FLAGGED if flagged else Seen.TRIGGERED
    _act(ctx, decide(seen, decisions.signl(record, raising)), ticket, record)


def on_reentry(ctx, ticket):
    """A ticket re-enters the trigger after its Signl was closed: the ``reopen`` policy."""
    record = ctx.store.ticket(ticket["id"])
    seen = Seen.REENTERED_NEW_SIGNL if ctx.config["reopen"] == "new_signl" else Seen.REENTERED_REOPEN
    _act(ctx, decide(seen, decisions.signl(record)), ticket, record)


def on_manage_status(ctx, ticket, code):
    """An Update Signls event selects a ticket: its Signl is acknowledged or closed in SIGNL4."""
    record = ctx.store.ticket(ticket["id"])
    _act(ctx, decide(decisions.MANAGE_SAYS[code], decisions.signl(record)), ticket, record, code)


def _act(ctx, action, ticket, record, code=None):
    """What a row of the decision table names for a ticket: its intent, recorded and run at once, or a
    repair of a field (one PATCH, repeatable)."""
    if action is REPAIR_FLAG:
        ctx.desk.update(ticket, custom={ctx.fields["retrieved"]: True})
    elif action is REPAIR_STATUS:
        ctx.desk.update(ticket, custom={ctx.fields["status"]: STATUS_WORDS[code]})  # SIGNL4 is there already
    elif action in (RAISE, RAISE_AGAIN, REOPEN, ACKNOWLEDGE, CLOSE):
        generation = record["generation"] if decisions.raised(record) else 0
        if action is REOPEN:
            payload = intents.Reopen(ticket["id"], generation)
        elif action in (ACKNOWLEDGE, CLOSE):
            payload = intents.Signl4Status(ticket["id"], code, generation, record["reopened"])
        else:  # the route is chosen now, from the ticket as the cycle read it, and kept with the raise
            payload = intents.Raise(ticket["id"], generation + 1, intents.new_marker(), ctx.router.choose(ticket).name)
        intents.start(ctx, payload, ticket)


# ----- escalations: a Signl nobody acknowledged in time -------------------------------------------

def unacknowledged_cycle(ctx):
    """Signls the store knows open, raised longer than ``escalations.unacknowledged_after`` ago, each get their
    unacknowledged escalation once per generation (its executor reads the alert first). A query of the state,
    no request, while none is due."""
    settings = ctx.config["escalations"]
    if not settings["enabled"] or settings["unacknowledged_after"] is None:
        return
    for record in ctx.store.overdue_signls(ctx.clock() - settings["unacknowledged_after"]):
        with guarded(ctx, "ticket", str(record["ticket_id"])):
            if decide(Seen.UNACKNOWLEDGED, decisions.signl(record)) is ESCALATE:
                intents.start(ctx, intents.Unacknowledged(record["ticket_id"], record["generation"]))
            ctx.store.save_ticket(record["ticket_id"], overdue_checked=record["generation"])


# ----- SIGNL4 polling fallback ------------------------------------------------------------------

def poll_alerts(ctx, since):
    """Alerts modified since ``since`` (unix time) whose status moved past what the store knows
    become the same intents an outbound webhook would have recorded (same keys: no double work);
    so do their annotations (timeline entries), which a webhook lost while the agent was down
    would otherwise never bring. Each alert is guarded: one that fails is quarantined."""
    ctx.pace("rest")
    modified = datetime.datetime.fromtimestamp(since, datetime.timezone.utc)
    for number, item in enumerate(ctx.signl4.alerts(user_id=ctx.acting_user, modified_since=modified)):
        if number >= MAX_POLLED:
            log.warning("SIGNL4 listed more than %d alerts modified since the last poll; the rest wait", MAX_POLLED)
            return
        with guarded(ctx, "alert", record_ident(item)):
            _poll_one(ctx, item)


def _poll_one(ctx, item):
    alert = records.alert(item)
    if alert is None:
        raise InputError("SIGNL4 listed an alert without a usable id")
    ticket_id = record_id(alert.external_id)
    record = ctx.store.ticket(ticket_id) if ticket_id else None
    if not decisions.raised(record):
        return  # another system's alert, or a ticket this agent never raised a Signl for
    known, relation = decisions.signl(record), decisions.alert(record, alert.id, alert.event_id)
    annotated = records.flag_set(alert.flags, HAS_ANNOTATIONS) and decide(Seen.ANNOTATED, known, relation) is NOTE
    if annotated or _escalated(ctx, alert, known, relation):
        _poll_details(ctx, ticket_id, alert.id)
    if alert.status in TRANSITIONS and decide(decisions.POLL_SAYS[alert.status], known, relation) is APPLY:
        ctx.store.add_intent(intents.ManageStatus(ticket_id, alert.status, alert.id, alert.event_id, record["reopened"],
                                                  verified=True, user_id=alert.acted_by(alert.status)))


def _escalated(ctx, alert, known, relation):
    """Whether the alert's flags say it was escalated and its escalations are wanted (``escalations.enabled``).
    SIGNL4's flags may hold one value only: an annotated alert's details are read anyway, escalations and all."""
    return ctx.config["escalations"]["enabled"] and records.flag_set(alert.flags, ESCALATED_FLAGS) \
        and decide(Seen.ESCALATED, known, relation) is READ_ESCALATIONS


def _poll_details(ctx, ticket_id, alert_id):
    """The alert's annotations as note intents (the webhook's keys) and, with ``escalations.enabled``, its
    escalations as escalation intents, when SIGNL4's API proves the alert one of the ticket's Signls."""
    alert = alerts.read_alert(ctx, alert_id)
    if alert is None:
        return
    record = ctx.store.ticket(ticket_id)
    known, relation = decisions.signl(record), intents.proven(ctx, ticket_id, record, alert)
    for annotation_id, (body, user_id) in alert.annotations.items():
        if decide(intents.annotation_seen(ctx.store, annotation_id, body, polled=True), known, relation) is NOTE:
            ctx.store.add_intent(intents.Note(ticket_id, alert_id, annotation_id, alert.event_id, verified=True,
                                              text=body, user_id=user_id))
    if ctx.config["escalations"]["enabled"] and decide(Seen.READ_ESCALATION, known, relation) is ESCALATE:
        for escalation in intents.escalations_of(ticket_id, alert):
            ctx.store.add_intent(escalation)
