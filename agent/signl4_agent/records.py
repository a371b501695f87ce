"""Values read from Manage and SIGNL4, parsed defensively.

An API record may be hostile or absurd: an id that is a list, a 4,300-digit number, digits of
another script, a nested object that is a string, a status code of ``true``. Every value the sync
uses goes through one of these functions, which return a usable value or ``None`` (an empty
container for collections) and never raise. What is left is checked where it is used, and a record
that still fails is quarantined (``sync.guarded``), never allowed to stop the agent.
"""

import collections

from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import AlertStatus

MAX_RECORD_ID = 2 ** 31 - 1  # Manage record ids are 32-bit
MAX_IDENTIFIER = 200  # SIGNL4 ids are ``<19 digits>_<guid>`` (56 characters); anything longer is not one
MAX_TEXT = 10000  # characters of a SIGNL4 annotation copied into a ticket note
STATUSES = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.CLOSED)
# The parameter (a tile of the alert) that carries the agent's per-raise marker: SIGNL4 turns every
# non-control field of an inbound event into an alert parameter, and the alert's details return them.
MARKER_PARAMETER = "SyncRef"
# ``V2.AlertEscalationType`` -> what the sync calls the target; ``V2.AlertEscalationStatus`` 0 Ok and 1 InProgress
# are escalations that happened (2 TargetInvalid, 3 TargetPrivate, 4 Filtered, 5 Suppressed did not).
ESCALATION_TARGETS = {1: "manager", 2: "team", "manager": "manager", "team": "team"}
ESCALATED_STATUSES = (0, 1, "ok", "inprogress")
Escalation = collections.namedtuple("Escalation", "target timestamp team_id team_name")


def record_id(value):
    """A Manage record id (ticket, rule, event, member): an int or ASCII digits, 1 .. 2**31-1."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not 0 < len(value) <= 10 or not value.isascii() or not value.isdigit():
            return None
        value = int(value)
    if isinstance(value, int) and 0 < value <= MAX_RECORD_ID:
        return value
    return None


def identifier(value):
    """A SIGNL4 id (alert, event, annotation, user): a printable string of at most 200 characters."""
    if isinstance(value, str) and 0 < len(value) <= MAX_IDENTIFIER and value.isprintable():
        return value
    return None


def text(value, limit=MAX_TEXT):
    """A string, cut to ``limit`` characters; anything else is None."""
    return value[:limit] if isinstance(value, str) else None


def one_line(value, limit):
    """A name for one line of a note: its whitespace (line breaks too) collapsed, cut to ``limit``; None if none."""
    return " ".join(value.split())[:limit] or None if isinstance(value, str) else None


def mapping(value):
    """A JSON object, or an empty one for anything else."""
    return value if isinstance(value, dict) else {}


def objects(value):
    """The JSON objects of a list (anything else in it, or a list that is not one, is left out)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def status_code(value):
    """An alert status SIGNL4 documents for the life cycle (1 open, 2 acknowledged, 4 closed), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value in STATUSES:
        return value
    return None


def flag_set(value, bit):
    """Whether the bit flag ``bit`` is set in an alert's ``flags`` (anything but an int: no flags)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0 and bool(value & bit)


def name(reference, key="name"):
    """The name of a Manage reference (``{"id": 1, "name": "..."}``); None when there is none."""
    reference = mapping(reference)
    return text(reference.get(key), 500) or text(reference.get("identifier"), 500) or None


def custom_value(ticket, caption):
    """The value of the ticket's custom field ``caption`` (case-insensitive); None when absent."""
    wanted = caption.lower()
    for field in objects(mapping(ticket).get("customFields")):
        if isinstance(field.get("caption"), str) and field["caption"].lower() == wanted:
            return field.get("value")
    return None


class Alert:
    """What the sync uses of a SIGNL4 alert (``V2.AlertInfo`` or ``V2.AlertDetails``), parsed once.
    ``marker`` and ``annotations`` are only known from the details (``GET /v2/alerts/{id}/details``)."""

    __slots__ = ("id", "event_id", "external_id", "status", "flags", "created", "acknowledged_by", "closed_by",
                 "marker", "annotations", "team_id", "escalations")

    def __init__(self, record):
        history = mapping(record.get("history"))
        self.id = identifier(record.get("id"))
        self.event_id = identifier(record.get("eventId"))
        external = record.get("externalId")
        self.external_id = external if isinstance(external, str) and len(external) <= MAX_IDENTIFIER else None
        self.status = status_code(mapping(record.get("status")).get("statusCode"))
        self.flags = record.get("flags")
        self.created = text(history.get("created"), 64) or ""
        acknowledged = [user for user in history.get("acknowledgements") or [] if identifier(user)] \
            if isinstance(history.get("acknowledgements"), list) else []
        self.acknowledged_by = acknowledged[-1] if acknowledged else None
        self.closed_by = identifier(history.get("closedBy"))
        self.marker = _parameter(record.get("parameters"), MARKER_PARAMETER)
        self.annotations = _annotations(record.get("timelineEntries"))
        self.team_id = identifier(record.get("teamId"))
        self.escalations = _escalations(record.get("escalations"))

    def acted_by(self, code):
        """The id of the user who made the alert ``code`` (the last to acknowledge, the one who closed)."""
        return self.closed_by if code == AlertStatus.CLOSED else self.acknowledged_by


def alert(record):
    """An :class:`Alert`, or None for a record without a usable id."""
    if not isinstance(record, dict):
        return None
    parsed = Alert(record)
    return parsed if parsed.id else None


def _parameter(parameters, wanted):
    for parameter in objects(parameters):
        if parameter.get("name") == wanted:
            return text(parameter.get("value"), MAX_IDENTIFIER)
    return None


def _annotations(entries):
    """``{annotation id: (text, user id or None)}`` of a timeline's text annotations."""
    found = {}
    for entry in objects(entries):
        kind = entry.get("entryType", entry.get("entrytype"))
        entry_id, body = identifier(entry.get("id")), text(entry.get("text"))
        if not isinstance(kind, str) or kind.lower() != "annotation" or not entry_id or not (body or "").strip():
            continue
        found[entry_id] = (body, identifier(entry.get("userId")))
    return found


def _escalations(entries):
    """The escalations that happened (``V2.AlertEscalationDetails``), as :class:`Escalation`; an entry without a
    usable type or timestamp (the key of its intent) is left out."""
    found = []
    for entry in objects(entries):
        target, timestamp = _escalation_target(entry.get("escType"), entry.get("status", 0)), identifier(entry.get("timestamp"))
        if target and timestamp:
            found.append(Escalation(target, timestamp, identifier(entry.get("teamId")), one_line(entry.get("teamName"), 200)))
    return tuple(found)


def _escalation_target(kind, status):
    """``manager`` or ``team`` for an escalation that happened (type and status as ints or names), else None."""
    kind, status = (value.lower() if isinstance(value, str) else value for value in (kind, status))
    if type(kind) not in (int, str) or type(status) not in (int, str) or status not in ESCALATED_STATUSES:
        return None
    return ESCALATION_TARGETS.get(kind)


def user(record):
    """``(name, e-mail)`` of a SIGNL4 user (``V2.UserDetails``), each None when unusable."""
    record = mapping(record)
    mail = text(record.get("mail"), 320)
    return text(record.get("name"), 200) or None, mail if mail and "@" in mail else None
