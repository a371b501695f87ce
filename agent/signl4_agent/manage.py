"""Ticket-level Manage operations the sync needs, built on the collection's ``ManageClient``.

Workflow rules are read by name and their events classified by what their conditions test (the
seed's rules: the trigger event tests ``Signl4Retrieved_c`` false, the update events test
``Signl4Status_c`` against "Acknowledged" / "Resolved"). Rules are cached for ``RULES_TTL``
seconds, so an idle cycle costs one ``/test`` per event in use and nothing else.

Ids that go into a path (rule, event, action, ticket) are checked to be Manage record ids first:
a record whose id is ``"1/../../system/members"`` or ``10**40`` fails here, not in a request.
"""

import json
import re
import time

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import all_of, condition
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError, NotFoundError

from signl4_agent.records import mapping, record_id, text

RULES_PATH = "/system/workflows"
TICKETS = "/service/tickets"
MEMBERS = "/system/members"
CUSTOM_FIELDS = "/system/userDefinedFields"
RULES_TTL = 300.0
# Tickets per page of a /test or a query: a thousand full tickets are megabytes of JSON held at
# once; a hundred keep the agent's memory flat and cost extra calls only when that many match.
PAGE_SIZE = 100
ACKNOWLEDGED, RESOLVED = "Acknowledged", "Resolved"
API_LICENSE = "A"  # licenseClass of API members


def _mentions(condition_text, word):
    return re.search(r"\b%s\b" % re.escape(word), condition_text or "", re.IGNORECASE) is not None


def _condition(event):
    """An event's ``eventCondition`` (the empty string for one without a usable condition or id)."""
    if not isinstance(event, dict) or record_id(event.get("id")) is None:
        return ""
    return text(event.get("eventCondition"), 10000) or ""


def classify_trigger(events, retrieved):
    """``{"trigger": event, "after_close": event, "after_acknowledge": event}`` (absent keys: none)."""
    found = {}
    for event in events:
        condition_text = _condition(event)
        if not _mentions(condition_text, retrieved):
            continue
        if _mentions(condition_text, RESOLVED):
            found.setdefault("after_close", event)
        elif _mentions(condition_text, ACKNOWLEDGED):
            found.setdefault("after_acknowledge", event)
        else:
            found.setdefault("trigger", event)
    return found


def classify_update(events, status_field):
    """``{"acknowledge": event, "close": event}``: an event testing the status field against
    "Acknowledged" acknowledges (it may test "Resolved" too), one testing only "Resolved" closes."""
    found = {}
    for event in events:
        condition_text = _condition(event)
        if not _mentions(condition_text, status_field):
            continue
        if _mentions(condition_text, ACKNOWLEDGED):
            found.setdefault("acknowledge", event)
        elif _mentions(condition_text, RESOLVED):
            found.setdefault("close", event)
    return found


def _id(record, what):
    """The record id of ``record`` (a rule, event or action), or :class:`InputError`."""
    found = record_id(mapping(record).get("id"))
    if found is None:
        raise InputError("%s without a usable id" % what)
    return found


class TicketDesk:
    """What the sync does in Manage: evaluate workflow events, read and change tickets, notes, members."""

    def __init__(self, client, config, clock=time.monotonic):
        self.client = client
        self.config = config
        self.clock = clock
        self._rules = {}
        self._members = {}

    # ----- workflow rules ---------------------------------------------------------------
    def rule(self, name, with_actions=False):
        """The rule named ``name`` with its ``events`` (and their ``actions``); cached."""
        cached = self._rules.get(name)
        if cached and self.clock() - cached[0] < RULES_TTL:
            return cached[1]
        rules = self.client.list(RULES_PATH, conditions=condition("name", "=", name))
        if len(rules) != 1:
            raise InputError("workflow rule %r: %s" % (name, "not found in Manage" if not rules else "%d rules share that name" % len(rules)))
        rule = dict(rules[0], id=_id(rules[0], "workflow rule %r" % name))
        rule["events"] = self.client.list("%s/%d/events" % (RULES_PATH, rule["id"]))
        if with_actions:
            for event in rule["events"]:
                if record_id(event.get("id")) is not None:
                    event["actions"] = self._actions(rule["id"], record_id(event["id"]))
        self._rules[name] = (self.clock(), rule)
        return rule

    def forget_rules(self):
        self._rules = {}

    def _actions(self, rule_id, event_id):
        actions = self.client.list("%s/%d/events/%d/actions" % (RULES_PATH, rule_id, event_id))
        for action in actions:
            action_id = record_id(action.get("id"))
            action["customFields"] = [] if action_id is None else self.client.list(
                "%s/userdefinedfields/events/%d/actions/%d" % (RULES_PATH, event_id, action_id))
        return actions

    def matching(self, rule, event, ticket_id=None, conditions=None):
        """Tickets the event's condition selects now (``GET .../events/{id}/test``): each item's
        ``ticket`` object (or the item itself); whatever that holds, the sync checks."""
        extra = all_of(condition("id", "=", int(ticket_id)) if ticket_id is not None else None, conditions)
        path = "%s/%d/events/%d/test" % (RULES_PATH, _id(rule, "workflow rule"), _id(event, "workflow event"))
        for item in self.client.iterate(path, conditions=extra or None, page_size=PAGE_SIZE):
            yield item.get("ticket", item) if isinstance(item, dict) else item

    def query(self, conditions, custom_field_conditions, ticket_id=None):
        """The REST trigger source: tickets matching the configured conditions."""
        extra = all_of(condition("id", "=", int(ticket_id)) if ticket_id is not None else None, conditions)
        return self.client.iterate(TICKETS, conditions=extra or None, custom_field_conditions=custom_field_conditions,
                                   page_size=PAGE_SIZE)

    # ----- tickets ----------------------------------------------------------------------
    def ticket(self, ticket_id):
        """The ticket as Manage has it now, or None when it is gone. Its ``id`` must be the one asked for."""
        try:
            ticket = self.client.get("%s/%d" % (TICKETS, int(ticket_id)))
        except NotFoundError:
            return None
        if record_id(ticket.get("id")) != int(ticket_id):
            raise InputError("Manage answered ticket %s with a record whose id is not %s" % (ticket_id, ticket_id))
        return ticket

    def update(self, ticket, fields=None, custom=None):
        """One PATCH: top-level ``fields`` and custom field values by caption (Manage replaces the
        whole ``customFields`` array, so every entry is sent back). Returns the new ticket."""
        ticket_id = record_id(ticket.get("id"))
        if ticket_id is None:
            raise InputError("a ticket without a usable id cannot be changed")
        operations = [{"op": "replace", "path": key, "value": value} for key, value in (fields or {}).items()]
        if custom:
            operations.append({"op": "replace", "path": "customFields", "value": _custom_fields(ticket_id, ticket, custom)})
        if not operations:
            return ticket
        return self.client.patch("%s/%d" % (TICKETS, ticket_id), operations)

    def notes(self, ticket_id):
        try:
            return self.client.list("%s/%d/notes" % (TICKETS, int(ticket_id)))
        except NotFoundError:
            return []

    def add_note(self, ticket_id, note_text, flags):
        body = dict(text=note_text, **flags)
        return self.client.create("%s/%d/notes" % (TICKETS, int(ticket_id)), body)

    def related(self, ticket_id, what):
        """``tasks`` or ``configurations`` of a ticket; an endpoint Manage lacks reads as none."""
        try:
            return self.client.list("%s/%d/%s" % (TICKETS, int(ticket_id), what))
        except NotFoundError:
            return []

    # ----- members ----------------------------------------------------------------------
    def member_by_email(self, email):
        """The active member whose office e-mail is ``email`` (case-insensitive), or None. API members
        (licenseClass "A", listed by /system/members too) are no people: never a ticket owner."""
        key = (email or "").strip().lower()
        if not key:
            return None
        if key not in self._members:
            found = self.client.list(MEMBERS, conditions=all_of(condition("officeEmail", "=", key),
                                                                condition("inactiveFlag", "=", False)))
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
        raise InputError("ticket %s: Manage sent its custom fields malformed; not changed" % ticket_id)
    wanted = dict((caption.lower(), value) for caption, value in custom.items())
    result = []
    for entry in entries:
        entry = dict((k, v) for k, v in entry.items() if k in ("id", "caption", "value"))
        caption = entry.get("caption")
        if isinstance(caption, str) and caption.lower() in wanted:
            entry["value"] = wanted.pop(caption.lower())
        result.append(entry)
    if wanted:
        raise InputError("ticket %s has no custom field(s) %s" % (ticket_id, ", ".join(sorted(wanted))))
    try:
        json.dumps(result, allow_nan=False)
    except (ValueError, RecursionError):  # NaN or Infinity (Python's JSON parser takes them) or absurd nesting
        raise InputError("ticket %s: Manage sent custom field values that are not JSON; not changed" % ticket_id)
    return result
