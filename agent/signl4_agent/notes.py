"""Ticket notes -> annotations of the ticket's Signl (``notes.to_signl4``): the observer.

Which tickets' notes are read, and what each new note means (its row of the decision table, ``decisions``);
the intent it names (``intents.Annotate``) is recorded and run at once. Cost:

- no Signl open (the store says so): no request;
- Signls open: one request a cycle, ``GET /service/tickets?conditions=lastUpdated >= [<the newest
  _info.lastUpdated seen>] AND id in (<the open Signls' tickets>)`` (without the ids above ``ID_LIST_MAX`` open
  Signls) with ``fields=id,_info/lastUpdated``; then the notes newer than each changed ticket's baseline
  (``GET .../notes?conditions=id > <baseline>``), for the tickets whose ``lastUpdated`` moved. Manage's times are
  to the second, and a note added later in the second of a ticket's ``lastUpdated`` leaves it as it was: so a
  ticket's notes are read again in each cycle until a read starts a second after its ``lastUpdated`` was first
  seen (or another ticket's later ``lastUpdated`` shows that second had ended);
- a Manage callback for a ticket with an open Signl reads that ticket's notes at once.

A ticket's baseline (``notes_after``) is the newest note id before its Signl was raised (read by the raise), or,
for a Signl raised while ``notes.to_signl4`` was off, the newest note id when the agent first looks: notes from
before either stay in Manage. Turning ``notes.to_signl4`` on forgets every baseline, so the notes written while it
was off are not sent either. Notes the agent wrote itself (from annotations or workflow actions) are never sent.
"""

import datetime
import logging
import time

from signl4_agent import cutoff, decisions, intents
from signl4_agent.constants import NOTE_TYPE_FLAGS
from signl4_agent.decisions import ANNOTATE, Seen, Signl, decide
from signl4_agent.quarantine import guarded
from signl4_agent.records import MAX_TEXT, mapping, name, record_id, text

log = logging.getLogger("signl4_agent.notes")

ID_LIST_MAX = 100  # open Signls whose ticket ids the query names (beyond: every ticket changed since the watermark)
SWITCH_KEY = "notes_to_signl4"  # store: whether notes.to_signl4 was on in the last cycle
WATERMARK_KEY = "notes_checked"  # store: the newest ``_info.lastUpdated`` seen (seconds, Manage's clock)


class Watch:
    """What the cycles saw of each open Signl's ticket: ``{ticket id: (lastUpdated, first seen, settled)}``;
    first seen: when (``clock``, seconds) a query first answered that ``lastUpdated``; settled: the ticket's notes
    were read after the second of that ``lastUpdated`` had ended."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.looked = {}

    def settled(self, ticket_id, updated):
        seen = self.looked.get(ticket_id)
        return seen is not None and seen[0] == updated and seen[2]

    def first_seen(self, ticket_id, updated, now):
        seen = self.looked.get(ticket_id)
        return seen[1] if seen is not None and seen[0] == updated else now

    def read(self, ticket_id, updated, newest, answered, started):
        """Its notes were read (from ``started``) after a query answered ``updated`` (at ``answered``)."""
        first = self.first_seen(ticket_id, updated, answered)
        self.looked[ticket_id] = (updated, first, updated < newest or started - first >= 1.0)

    def keep(self, ticket_ids):
        self.looked = {ticket_id: seen for ticket_id, seen in self.looked.items() if ticket_id in ticket_ids}


def _switched(ctx):
    """Whether notes.to_signl4 is on; turned on since the last cycle, every note baseline is forgotten."""
    enabled, was = ctx.config["notes"]["to_signl4"]["enabled"], ctx.store.get(SWITCH_KEY)
    if enabled and was is not True:
        ctx.store.clear_notes_baselines()
        ctx.store.put(SWITCH_KEY, True)
        log.info("notes.to_signl4 is on: ticket notes written from now on become annotations of open Signls")
    elif not enabled and was:
        ctx.store.put(SWITCH_KEY, False)
    return enabled


def notes_cycle(ctx, watch):
    """The new notes of the tickets with an open Signl that changed since the last cycle."""
    if not _switched(ctx):
        return
    open_signls = {row["ticket_id"] for row in ctx.store.tickets_with_open_signls()}
    watch.keep(open_signls)
    if not open_signls:
        return
    since = ctx.store.get(WATERMARK_KEY)
    with guarded(ctx, "query", "notes.to_signl4") as outcome:
        changed = _changed(ctx, open_signls, since)
    if outcome.failed:
        return
    answered = watch.clock()  # each lastUpdated in the answer was written before this
    stamps = [stamp for stamp in map(_stamp, changed) if stamp[0] in open_signls and stamp[1] is not None]
    newest = max([updated for _ticket_id, updated in stamps] + [since or 0])
    failed = [updated for ticket_id, updated in stamps if not _read(ctx, watch, ticket_id, (updated, newest, answered))]
    watermark = min(failed) if failed else newest
    if watermark and watermark != since:
        ctx.store.put(WATERMARK_KEY, watermark)


def _stamp(ticket):
    """``(id, _info.lastUpdated in seconds)`` of a ticket Manage listed (None for what is not usable)."""
    ticket = mapping(ticket)
    return record_id(ticket.get("id")), cutoff.parse_timestamp(mapping(ticket.get("_info")).get("lastUpdated"))


def _changed(ctx, open_signls, since):
    """``id`` and ``_info.lastUpdated`` of the open Signls' tickets changed at or after ``since`` (one request; the
    first time, one per ``ID_LIST_MAX`` of them)."""
    moment = None if since is None else datetime.datetime.fromtimestamp(since, datetime.timezone.utc)
    if moment is not None and len(open_signls) > ID_LIST_MAX:
        return ctx.desk.changed_tickets(None, moment)
    ordered = sorted(open_signls)
    found = []
    for start in range(0, len(ordered), ID_LIST_MAX):
        found.extend(ctx.desk.changed_tickets(ordered[start:start + ID_LIST_MAX], moment))
    return found


def _read(ctx, watch, ticket_id, answer):
    """Read the ticket's new notes unless they were read after its last change (``answer``: its lastUpdated, the
    newest of the query's answer, when the answer came); False when that failed."""
    if watch.settled(ticket_id, answer[0]):
        return True
    started = watch.clock()
    with guarded(ctx, "ticket", ticket_id) as outcome:
        ticket_notes(ctx, ticket_id)
    if outcome.failed:
        return False
    watch.read(ticket_id, *answer, started)
    return True


def ticket_notes(ctx, ticket_id):
    """The ticket's notes newer than its baseline, each looked up in the decision table; an annotation intent
    for each the table sends. The baseline moves past every note decided."""
    record = ctx.store.ticket(ticket_id)
    if not decisions.raised(record):
        return
    after = record["notes_after"]
    if after is None:  # first look at a Signl raised while notes.to_signl4 was off: the notes there now stay
        ctx.store.save_ticket(ticket_id, notes_after=ctx.desk.newest_note_id(ticket_id))
        return
    known, newest = decisions.signl(record), after
    for note in ctx.desk.notes(ticket_id, after=after):
        note_id = record_id(mapping(note).get("id"))
        if note_id is None or note_id <= after:
            continue  # not a note id, or one Manage should not have answered
        if decide(_seen(ctx, note, note_id), known) is ANNOTATE:
            intents.start(ctx, intents.Annotate(ticket_id, note_id, record["generation"], annotation_text(note)))
        newest = max(newest, note_id)
    if newest > after:
        ctx.store.save_ticket(ticket_id, notes_after=newest)


def requested(ctx, ticket_id):
    """A Manage callback for the ticket: its new notes at once, when it has an open Signl."""
    if _switched(ctx) and decisions.signl(ctx.store.ticket(ticket_id)) in (Signl.OPEN, Signl.ACKNOWLEDGED):
        with guarded(ctx, "ticket", ticket_id):
            ticket_notes(ctx, ticket_id)


def _seen(ctx, note, note_id):
    """What a ticket note is: the agent's own, of a type ``notes.to_signl4`` sends, or of another type."""
    if intents.note_by_the_agent(ctx.store, note_id, note.get("text")):
        return Seen.MANAGE_OWN_NOTE
    types = ctx.config["notes"]["to_signl4"]["note_types"]
    return Seen.MANAGE_NOTE if any(note.get(NOTE_TYPE_FLAGS[kind]) is True for kind in types) else \
        Seen.MANAGE_NOTE_OTHER_TYPE


def annotation_text(note):
    """``<author> (ConnectWise): <the note>``: the member who wrote it, else the contact, else who created it."""
    author = name(note.get("member")) or name(note.get("contact")) or text(note.get("createdBy"), 100) or "ConnectWise"
    return f"{author} (ConnectWise): {text(note.get('text')) or ''}"[:MAX_TEXT]
