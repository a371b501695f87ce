"""Ticket-level Manage operations the sync needs, built on the collection's ``ManageClient``, its
paths (``cw_paths``), its PATCH bodies (``patch_operations``) and its reading of a rule's children
(``load_children``); and what a workflow event's actions do to a ticket (``plan_actions``).

Workflow rules are read by name and their events classified by what their conditions test (the
seed's rules: the trigger event tests ``Signl4Retrieved_c`` false, the update events test
``Signl4Status_c`` against "Acknowledged" / "Resolved"). Rules are cached for ``RULES_TTL``
seconds, so an idle cycle costs one ``/test`` per event in use and nothing else.

Ids that go into a path (rule, event, action, ticket) are checked to be Manage record ids first:
a record whose id is ``"1/../../system/members"`` or ``10**40`` fails here, not in a request.
"""

import json
import logging
import math
import re
import time
from dataclasses import dataclass, field

from ansible_collections.signl4.connectwise.plugins.module_utils import cw_paths
from ansible_collections.signl4.connectwise.plugins.module_utils.cache import LookupCache
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import (
    MAX_PAGE_SIZE,
    all_of,
    condition,
    load_children,
    patch_operations,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError, NotFoundError

from signl4_agent.constants import ACKNOWLEDGED, RESOLVED
from signl4_agent.records import mapping, objects, record_id, text

log = logging.getLogger("signl4_agent.manage")

RULES_TTL = 300.0
# Tickets per page of a /test or a query: a thousand full tickets are megabytes of JSON held at
# once; a hundred keep the agent's memory flat and cost extra calls only when that many match.
PAGE_SIZE = 100
API_LICENSE = "A"  # licenseClass of API members
RELATED = {"tasks": cw_paths.ticket_tasks, "configurations": cw_paths.ticket_configurations}
_SKIP = object()


def _mentions(condition_text, word):
    return re.search(rf"\b{re.escape(word)}\b", condition_text or "", re.IGNORECASE) is not None


def _condition(event):
    """An event's ``eventCondition`` (the empty string for one without a usable condition or id)."""
    if not isinstance(event, dict) or record_id(event.get("id")) is None:
        return ""
    return text(event.get("eventCondition"), 10000) or ""


def _classify(events, field, kinds, otherwise=None):
    """The first event of each kind among those whose condition mentions ``field``: ``kinds`` is
    ``((word, kind), ...)``, the first word the condition mentions names the kind, else ``otherwise``."""
    found = {}
    for event in events:
        condition_text = _condition(event)
        if not _mentions(condition_text, field):
            continue
        kind = next((kind for word, kind in kinds if _mentions(condition_text, word)), otherwise)
        if kind is not None:
            found.setdefault(kind, event)
    return found


def classify_trigger(events, retrieved):
    """``{"trigger": event, "after_close": event, "after_acknowledge": event}`` (absent keys: none)."""
    return _classify(events, retrieved, ((RESOLVED, "after_close"), (ACKNOWLEDGED, "after_acknowledge")), "trigger")


def classify_update(events, status_field):
    """``{"acknowledge": event, "close": event}``: an event testing the status field against
    "Acknowledged" acknowledges (it may test "Resolved" too), one testing only "Resolved" closes."""
    return _classify(events, status_field, ((ACKNOWLEDGED, "acknowledge"), (RESOLVED, "close")))


def _id(record, what):
    """The record id of ``record`` (a rule, event or action), or :class:`InputError`."""
    found = record_id(mapping(record).get("id"))
    if found is None:
        raise InputError(f"{what} without a usable id")
    return found


class TicketDesk:
    """What the sync does in Manage: evaluate workflow events, read and change tickets, notes, members."""

    def __init__(self, client, config, clock=time.monotonic):
        self.client = client
        self.config = config
        self._rules = LookupCache(RULES_TTL, clock=clock)  # (name, with_actions) -> the rule
        self._priorities = LookupCache(RULES_TTL, clock=clock)  # lower-case name -> id
        self._members = {}

    # ----- workflow rules ---------------------------------------------------------------
    def rule(self, name, with_actions=False):
        """The rule named ``name`` with its ``events`` (and their ``actions``, each with its ``customFields``
        values); cached. Read as the collection reads a rule's children (``load_children``), every id
        checked before it goes into a path."""
        # keyed with ``with_actions``: a rule read without its actions never stands in for one read with them
        return self._rules.get_or_load((name, with_actions), lambda: self._read_rule(name, with_actions))

    def _read_rule(self, name, with_actions):
        rules = self.client.list(cw_paths.WORKFLOWS, conditions=condition("name", "=", name))
        if len(rules) != 1:
            raise InputError(f"workflow rule {name!r}: " + ("not found in Manage" if not rules else f"{len(rules)} rules share that name"))
        rule = dict(rules[0], id=_id(rules[0], f"workflow rule {name!r}"))
        rule.pop("events", None)  # load_children reads only what is not there yet
        load_children(self.client, [(rule, cw_paths.workflow_events(rule["id"]), "events")])
        if with_actions:
            self._load_actions(rule)
        return rule

    def _load_actions(self, rule):
        """Each event's ``actions`` and each action's ``customFields`` (none for a record without a usable id)."""
        events = [(event, record_id(event.get("id"))) for event in rule["events"]]
        for event, _event_id in events:
            event.pop("actions", None)  # what Manage sent under these names is read anew
        load_children(self.client, [(event, cw_paths.workflow_actions(rule["id"], event_id), "actions")
                                    for event, event_id in events if event_id is not None])
        actions = [(event_id, action, record_id(action.get("id"))) for event, event_id in events
                   for action in event.get("actions", [])]
        for _event_id, action, action_id in actions:
            if action_id is None:
                action["customFields"] = []
            else:
                action.pop("customFields", None)
        load_children(self.client, [(action, cw_paths.workflow_action_values(event_id, action_id), "customFields")
                                    for event_id, action, action_id in actions if action_id is not None])

    def matching(self, rule, event, ticket_id=None, conditions=None, page_size=PAGE_SIZE):
        """Tickets the event's condition selects now (``GET .../events/{id}/test``): each item's
        ``ticket`` object (or the item itself); whatever that holds, the sync checks."""
        extra = all_of(condition("id", "=", int(ticket_id)) if ticket_id is not None else None, conditions)
        path = cw_paths.workflow_event_test(_id(rule, "workflow rule"), _id(event, "workflow event"))
        for item in self.client.iterate(path, conditions=extra or None, page_size=page_size):
            yield item.get("ticket", item) if isinstance(item, dict) else item

    def query(self, conditions, custom_field_conditions, ticket_id=None):
        """The REST trigger source: tickets matching the configured conditions."""
        extra = all_of(condition("id", "=", int(ticket_id)) if ticket_id is not None else None, conditions)
        return self.client.iterate(cw_paths.TICKETS, conditions=extra or None, custom_field_conditions=custom_field_conditions,
                                   page_size=PAGE_SIZE)

    # ----- tickets ----------------------------------------------------------------------
    def ticket(self, ticket_id):
        """The ticket as Manage has it now, or None when it is gone. Its ``id`` must be the one asked for."""
        try:
            ticket = self.client.get(cw_paths.ticket(int(ticket_id)))
        except NotFoundError:
            return None
        if record_id(ticket.get("id")) != int(ticket_id):
            raise InputError(f"Manage answered ticket {ticket_id} with a record whose id is not {ticket_id}")
        return ticket

    def update(self, ticket, fields=None, custom=None):
        """One PATCH: top-level ``fields`` and custom field values by caption (Manage replaces the
        whole ``customFields`` array, so every entry is sent back). Returns the new ticket."""
        ticket_id = record_id(ticket.get("id"))
        if ticket_id is None:
            raise InputError("a ticket without a usable id cannot be changed")
        changes = dict(fields or {})
        if custom:
            changes["customFields"] = _custom_fields(ticket_id, ticket, custom)
        if not changes:
            return ticket
        return self.client.patch(cw_paths.ticket(ticket_id), patch_operations(changes))

    def notes(self, ticket_id, after=None):
        """The ticket's notes (those with an id above ``after``, when given), oldest first."""
        conditions = condition("id", ">", int(after)) if after is not None else None
        try:
            return self.client.list(cw_paths.ticket_notes(int(ticket_id)), conditions=conditions)
        except NotFoundError:
            return []

    def newest_note_id(self, ticket_id):
        """The id of the ticket's newest note, 0 when it has none (one request: one record of one page)."""
        try:
            newest = next(self.client.iterate(cw_paths.ticket_notes(int(ticket_id)), fields=["id"], order_by="id desc",
                                              page_size=1), None)
        except NotFoundError:
            return 0
        return record_id(mapping(newest).get("id")) or 0

    def changed_tickets(self, ticket_ids, since):
        """``id`` and ``_info.lastUpdated`` of the tickets changed at or after ``since`` (a datetime; None: all),
        of ``ticket_ids`` (None: of any ticket); one request unless a page of ``MAX_PAGE_SIZE`` is full."""
        conditions = all_of(condition("id", "in", sorted(ticket_ids)) if ticket_ids is not None else None,
                            condition("lastUpdated", ">=", since) if since is not None else None)
        return self.client.list(cw_paths.TICKETS, conditions=conditions or None, fields=["id", "_info/lastUpdated"],
                                page_size=MAX_PAGE_SIZE)

    def add_note(self, ticket_id, note_text, flags):
        return self.client.create(cw_paths.ticket_notes(int(ticket_id)), dict(text=note_text, **flags))

    def related(self, ticket_id, what):
        """``tasks`` or ``configurations`` of a ticket; an endpoint Manage lacks reads as none."""
        try:
            return self.client.list(RELATED[what](int(ticket_id)))
        except NotFoundError:
            return []

    def priority(self, name):
        """The id of the service priority named ``name`` (case-insensitive), read once per ``RULES_TTL``;
        :class:`InputError` when Manage has none by that name."""
        return self._priorities.get_or_load(name.lower(), lambda: self._read_priority(name))

    def _read_priority(self, name):
        key = name.lower()
        found = [record_id(mapping(item).get("id")) for item in self.client.list(cw_paths.PRIORITIES, conditions=condition("name", "=", name))
                 if (text(mapping(item).get("name"), 500) or "").lower() == key]
        if len(found) != 1 or found[0] is None:
            raise InputError(f"service priority {name!r}: " + ("not found in Manage" if not found else "not one usable record"))
        return found[0]

    def set_priority(self, ticket, name):
        """The ticket's priority set to the one named ``name``, unless it has it already (no request then)."""
        current = mapping(ticket.get("priority")).get("name")
        if isinstance(current, str) and current.lower() == name.lower():
            return ticket
        return self.update(ticket, {"priority": {"id": self.priority(name)}})

    # ----- members ----------------------------------------------------------------------
    def member_by_email(self, email):
        """The active member whose office e-mail is ``email`` (case-insensitive), or None. API members
        (licenseClass "A", listed by /system/members too) are no people: never a ticket owner."""
        key = (email or "").strip().lower()
        if not key:
            return None
        if key not in self._members:
            active = all_of(condition("officeEmail", "=", key), condition("inactiveFlag", "=", False))
            found = self.client.list(cw_paths.MEMBERS, conditions=active)
            found = [member for member in found
                     if isinstance(member, dict) and str(member.get("licenseClass") or "").upper() != API_LICENSE]
            member_id = record_id(found[0].get("id")) if len(found) == 1 else None
            self._members[key] = {"id": member_id} if member_id else None
        return self._members[key]


def _custom_fields(ticket_id, ticket, custom):
    """The whole ``customFields`` array with the values of ``custom`` (by caption) set: Manage replaces
    the array, so every entry goes back. A ticket whose array Manage sent malformed is not changed."""
    entries = ticket.get("customFields") or []
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise InputError(f"ticket {ticket_id}: Manage sent its custom fields malformed; not changed")
    wanted = {caption.lower(): value for caption, value in custom.items()}
    result = []
    for entry in entries:
        entry = {k: v for k, v in entry.items() if k in ("id", "caption", "value")}
        caption = entry.get("caption")
        if isinstance(caption, str) and caption.lower() in wanted:
            entry["value"] = wanted.pop(caption.lower())
        result.append(entry)
    if wanted:
        raise InputError(f"ticket {ticket_id} has no custom field(s) {', '.join(sorted(wanted))}")
    try:
        json.dumps(result, allow_nan=False)
    except (ValueError, RecursionError):  # NaN or Infinity (Python's JSON parser takes them) or absurd nesting
        raise InputError(f"ticket {ticket_id}: Manage sent custom field values that are not JSON; not changed") from None
    return result


# ----- workflow actions -> ticket changes -------------------------------------------------------------

@dataclass
class ActionPlan:
    """What a workflow event's actions do to a ticket: top-level ``fields``, ``custom`` values by caption,
    ``notes`` (text, flags); ``unsupported``: how many actions the agent does not apply."""

    fields: dict = field(default_factory=dict)
    custom: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    unsupported: int = 0


def _reference_id(action, key):
    return record_id(mapping(action.get(key)).get("id"))


def plan_actions(actions, ticket_id):
    """Ticket changes for the workflow actions. Action kinds the agent cannot apply through the ticket
    API are logged, never guessed; so are actions Manage sent without what they need (a status without
    an id, a note without text)."""
    plan = ActionPlan()
    for action in objects(actions):
        kind = (text(mapping(action.get("notifyType")).get("name"), 100) or "").lower()
        if kind == "update status" and _reference_id(action, "boardStatus"):
            plan.fields["status"] = {"id": _reference_id(action, "boardStatus")}
        elif kind == "update priority" and _reference_id(action, "servicePriority"):
            plan.fields["priority"] = {"id": _reference_id(action, "servicePriority")}
        elif kind == "update custom field":
            plan.custom.update(_action_values(action))
        elif kind == "add note" and text(action.get("notes")):
            plan.notes.append((text(action.get("notes")), dict(detailDescriptionFlag=action.get("detailNotesFlag") is True,
                                                               internalAnalysisFlag=action.get("internalNotesFlag") is True)))
        else:
            plan.unsupported += 1
            log.warning("ticket %s: workflow action %r is not applied by the agent", ticket_id, kind or "?")
    return plan


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
