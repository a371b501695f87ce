"""What a ticket/alert state pair means: ONE table, read by the cycles, the receiver, the SIGNL4 poll and
the executors' reconcile steps.

A row is (what was observed, what the store knows of the ticket's Signl, what the store knows of the
observed alert) -> the action; ``None`` in a column matches anything; the first matching row wins. The
observers look the row up and record the intent its action names (or make the one-PATCH repair it
names); nothing else decides. ``table_lines()`` prints the table (the agent README holds its output).
"""

import enum
from dataclasses import dataclass

from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import AlertStatus


class Seen(enum.Enum):
    """What was observed."""

    TRIGGERED = "trigger (flag unset)"  # the trigger's event or trigger_query selects the ticket
    TRIGGERED_FLAGGED = "trigger (flag set)"  # the trigger's event selects a ticket whose retrieved flag is set
    REENTERED_NEW_SIGNL = "re-entry (new_signl)"  # the trigger's re-entry event selects it; reopen: new_signl
    REENTERED_REOPEN = "re-entry (reopen)"  # ... reopen: reopen
    MANAGE_ACKNOWLEDGED = "Manage: Acknowledged"  # the Update Signls event testing "Acknowledged" selects it
    MANAGE_RESOLVED = "Manage: Resolved"  # ... testing only "Resolved"
    SIGNL4_ACKNOWLEDGED = "webhook: acknowledged"  # a hint: the executor reads the alert
    SIGNL4_CLOSED = "webhook: closed"
    POLLED_ACKNOWLEDGED = "poll: acknowledged"  # read from SIGNL4's alert list
    POLLED_CLOSED = "poll: closed"
    ANNOTATED = "webhook: annotated"
    POLLED_ANNOTATION = "poll: annotation"  # on the alert's timeline, read (the read proves whose alert it is)
    ESCALATED = "webhook: escalated"  # a hint (202): the executor reads the alert's escalations
    READ_ESCALATION = "read: escalation"  # in the alert's escalations, read (by the poll, or for a 202)
    UNACKNOWLEDGED = "timeout: unacknowledged"  # the store: open longer than escalations.unacknowledged_after
    OWN_ANNOTATION = "annotation by the agent"  # webhook or poll: one it wrote from a ticket note (id or marker line)
    MANAGE_NOTE = "Manage: note"  # a ticket note of a type notes.to_signl4 sends
    MANAGE_NOTE_OTHER_TYPE = "Manage: note of another type"
    MANAGE_OWN_NOTE = "Manage: note by the agent"  # one it wrote (from an annotation or a workflow action)


class Signl(enum.Enum):
    """What the store knows of the ticket's Signl."""

    NONE = "none"  # no Signl raised (nor a raise recorded, where that matters)
    RAISING = "raising"  # its raise is recorded, not sent yet
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class Alert(enum.Enum):
    """What the store knows of the observed alert."""

    CURRENT = "current"  # the ticket's Signl: its recorded id, or the raise's event id
    UNPROVEN = "unproven"  # maybe the Signl: neither id recorded yet to compare (the executor proves it)
    EARLIER = "earlier"  # an earlier Signl of the ticket (before a re-entry raised a new one)
    OTHER = "other"  # not a Signl of the ticket (another system's, or the ticket has none)


@dataclass(frozen=True)
class Action:
    name: str
    reason: str = ""

    def __str__(self):
        return f"Ignore ({self.reason})" if self.reason else self.name


RAISE = Action("Raise")
RAISE_AGAIN = Action("RaiseAgain")
REOPEN = Action("Reopen")
ACKNOWLEDGE = Action("Acknowledge in SIGNL4")
CLOSE = Action("Close in SIGNL4")
APPLY = Action("Apply to ticket")
NOTE = Action("Note")
REPAIR_FLAG = Action("RepairRetrievedFlag")
REPAIR_STATUS = Action("RepairStatusField")
READ_ESCALATIONS = Action("ReadEscalations")
ESCALATE = Action("Escalate on ticket")
ANNOTATE = Action("Annotate in SIGNL4")


def ignore(reason):
    return Action("Ignore", reason)


TRIGGERS = {Seen.TRIGGERED, Seen.TRIGGERED_FLAGGED}
REENTRIES = {Seen.REENTERED_NEW_SIGNL, Seen.REENTERED_REOPEN}
MANAGE_CHANGES = {Seen.MANAGE_ACKNOWLEDGED, Seen.MANAGE_RESOLVED}
STATUS_READS = {Seen.POLLED_ACKNOWLEDGED, Seen.POLLED_CLOSED}
STATUS_CHANGES = {Seen.SIGNL4_ACKNOWLEDGED, Seen.SIGNL4_CLOSED} | STATUS_READS
ANNOTATIONS = {Seen.ANNOTATED, Seen.POLLED_ANNOTATION}
ESCALATIONS = {Seen.ESCALATED, Seen.READ_ESCALATION}
RAISED = {Signl.OPEN, Signl.ACKNOWLEDGED, Signl.CLOSED}
# What a transition (an AlertStatus) is when Manage's update events, a webhook or the poll say it.
MANAGE_SAYS = {AlertStatus.ACKNOWLEDGED: Seen.MANAGE_ACKNOWLEDGED, AlertStatus.CLOSED: Seen.MANAGE_RESOLVED}
SIGNL4_SAYS = {AlertStatus.ACKNOWLEDGED: Seen.SIGNL4_ACKNOWLEDGED, AlertStatus.CLOSED: Seen.SIGNL4_CLOSED}
POLL_SAYS = {AlertStatus.ACKNOWLEDGED: Seen.POLLED_ACKNOWLEDGED, AlertStatus.CLOSED: Seen.POLLED_CLOSED}

TABLE = (
    (TRIGGERS, {Signl.NONE}, None, RAISE),
    (TRIGGERS, {Signl.RAISING}, None, ignore("its raise runs with the pending work")),
    ({Seen.TRIGGERED}, RAISED, None, REPAIR_FLAG),
    ({Seen.TRIGGERED_FLAGGED}, RAISED, None, ignore("raised, and marked so")),
    ({Seen.REENTERED_NEW_SIGNL}, {Signl.CLOSED}, None, RAISE_AGAIN),
    ({Seen.REENTERED_REOPEN}, {Signl.CLOSED}, None, REOPEN),
    (REENTRIES, None, None, ignore("its Signl is not closed")),
    ({Seen.MANAGE_ACKNOWLEDGED}, {Signl.OPEN}, None, ACKNOWLEDGE),
    ({Seen.MANAGE_RESOLVED}, {Signl.OPEN, Signl.ACKNOWLEDGED}, None, CLOSE),
    (MANAGE_CHANGES, RAISED, None, REPAIR_STATUS),
    (MANAGE_CHANGES, None, None, ignore("no Signl of this agent")),
    ({Seen.MANAGE_OWN_NOTE}, None, None, ignore("the agent's own note: never sent back")),
    ({Seen.MANAGE_NOTE_OTHER_TYPE}, None, None, ignore("a note type notes.to_signl4 does not send")),
    ({Seen.MANAGE_NOTE}, {Signl.OPEN, Signl.ACKNOWLEDGED}, None, ANNOTATE),
    ({Seen.MANAGE_NOTE}, None, None, ignore("no open Signl")),
    ({Seen.OWN_ANNOTATION}, None, None, ignore("the agent's own annotation: never written back")),
    (STATUS_CHANGES | ANNOTATIONS | ESCALATIONS, None, {Alert.OTHER}, ignore("not a Signl of the ticket")),
    (STATUS_CHANGES | ESCALATIONS, None, {Alert.EARLIER}, ignore("an earlier Signl")),
    (STATUS_READS | {Seen.POLLED_ANNOTATION, Seen.READ_ESCALATION}, None, {Alert.UNPROVEN},
     ignore("not proven the ticket's Signl")),
    ({Seen.SIGNL4_ACKNOWLEDGED, Seen.POLLED_ACKNOWLEDGED}, {Signl.OPEN}, None, APPLY),
    ({Seen.SIGNL4_CLOSED, Seen.POLLED_CLOSED}, {Signl.OPEN, Signl.ACKNOWLEDGED}, None, APPLY),
    (STATUS_CHANGES, None, None, ignore("stale, a duplicate or the agent's own echo")),
    (ANNOTATIONS, None, None, NOTE),
    ({Seen.ESCALATED}, None, None, READ_ESCALATIONS),
    ({Seen.READ_ESCALATION}, None, None, ESCALATE),
    ({Seen.UNACKNOWLEDGED}, {Signl.OPEN}, None, ESCALATE),
    ({Seen.UNACKNOWLEDGED}, None, None, ignore("acknowledged, closed or not raised")),
)


def decide(seen, signl, alert=None):
    """The action of the first row matching the observation and what the store knows."""
    for seen_in, signl_in, alert_in, action in TABLE:
        if seen in seen_in and (signl_in is None or signl in signl_in) and (alert_in is None or alert in alert_in):
            return action
    raise LookupError(f"no row for {seen}, {signl}, {alert}")  # the table covers every pair (a test checks)


# ----- what the store knows -------------------------------------------------------------------

def raised(record):
    """Whether the store records a Signl this agent raised for the ticket."""
    return bool(record) and record["generation"] >= 1


def signl(record, raise_recorded=False):
    """The ticket's Signl as the store knows it (``raise_recorded``: a raise intent waits to be sent)."""
    if not raised(record):
        return Signl.RAISING if raise_recorded else Signl.NONE
    if record["alert_status"] >= AlertStatus.CLOSED:
        return Signl.CLOSED
    return Signl.ACKNOWLEDGED if record["alert_status"] >= AlertStatus.ACKNOWLEDGED else Signl.OPEN


def alert(record, alert_id, event_id):
    """An alert (its id, and the event id a notification or a list gave) as the store knows it: the
    ticket's recorded alert, or (that id not learnt yet) one with the recorded event id; with neither
    recorded (the raise is in flight, or SIGNL4 answered it without an event id), unproven."""
    if not raised(record):
        return Alert.OTHER
    if alert_id in record["old_alerts"]:
        return Alert.EARLIER
    if record["alert_id"]:
        return Alert.CURRENT if record["alert_id"] == alert_id else Alert.OTHER
    if record["event_id"]:
        return Alert.CURRENT if record["event_id"] == event_id else Alert.OTHER
    return Alert.UNPROVEN


def table_lines():
    """The table as Markdown rows (for the agent README)."""
    def cell(values, kind):
        return "any" if values is None else "; ".join(value.value for value in kind if value in values)
    lines = ["| Observed | Signl (store) | Alert (store) | Action |", "|---|---|---|---|"]
    lines += [f"| {cell(seen, Seen)} | {cell(known, Signl)} | {cell(alert_in, Alert)} | {action} |"
              for seen, known, alert_in, action in TABLE]
    return lines
