"""The cut-off of new tickets (``filters.entered_after``): tickets entered before it raise no Signl.

A Manage with years of tickets whose ``Signl4Retrieved_c`` was never set would page for each of them
on the agent's first cycle. So on its first start (an empty state) the agent records the time, and
tickets entered before it (``_info.dateEntered``) never raise a Signl; ``filters.entered_after``
sets another cut-off. Manage filters by it (``dateEntered >= [...]`` joins the filters' conditions)
and the agent checks ``_info.dateEntered`` of what comes back too. Re-entries (a ticket whose Signl
the agent raised coming back) are not cut off.
"""

import datetime
import logging
import re

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import condition

log = logging.getLogger("signl4_agent")

FIRST_START = "first_start"
STATE_KEY = "first_start"  # seconds since the epoch of the first start; 0: a state older than the cut-off
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")
_DAY = re.compile(r"^\d{4}-\d\d-\d\d$")
SETTING_HELP = "expected first_start or a date and time such as 2026-01-31T08:00:00Z (UTC unless an offset is given)"


def _utc(value):
    """A datetime in UTC (a naive one is taken to be UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc)


def parse_timestamp(text):
    """Seconds since the epoch of an ISO 8601 date and time (``Z``, an offset, or none: UTC), or None."""
    match = _STAMP.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    day, clock, _fraction, zone = match.groups()
    try:
        moment = datetime.datetime.fromisoformat(f"{day}T{clock}")
        if zone and zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            hours, minutes = int(zone[1:3]), int(zone[-2:])
            moment = moment.replace(tzinfo=datetime.timezone(sign * datetime.timedelta(hours=hours, minutes=minutes)))
        return _utc(moment).timestamp()
    except ValueError:
        return None


def parse_setting(value):
    """``filters.entered_after`` as the agent keeps it: ``first_start`` or seconds since the epoch.
    YAML gives an unquoted timestamp as a datetime and a date as a date; raises ValueError."""
    if value == FIRST_START:
        return FIRST_START
    if isinstance(value, datetime.datetime):
        return _utc(value).timestamp()
    if isinstance(value, datetime.date):
        return _utc(datetime.datetime(value.year, value.month, value.day)).timestamp()
    seconds = None
    if isinstance(value, str):
        text = value.strip()
        seconds = parse_timestamp(text + "T00:00:00Z" if _DAY.match(text) else text)
    if seconds is None:
        raise ValueError(SETTING_HELP)
    return seconds


def first_start(store, clock):
    """When this agent first started: recorded once, when the state is empty. A state with tickets,
    intents or a good cycle (an agent from before the cut-off existed) records 0: no cut-off."""
    recorded = store.get(STATE_KEY)
    if recorded is None:
        counts = store.counts()
        fresh = not counts["tickets"] and not counts["intents"] and store.get("last_good_cycle") is None
        recorded = float(int(clock())) if fresh else 0.0
        store.put(STATE_KEY, recorded)
        if fresh:
            log.info("first start: tickets entered before %s raise no Signl (filters.entered_after)", stamp(recorded))
    return recorded


def cut_off(ctx):
    """Seconds since the epoch before which new tickets raise no Signl, or None (no cut-off)."""
    setting = ctx.config["filters"]["entered_after"]
    recorded = first_start(ctx.store, ctx.clock)
    return (recorded if setting == FIRST_START else setting) or None


def stamp(seconds):
    return datetime.datetime.fromtimestamp(int(seconds), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def conditions(seconds):
    """The Manage condition of tickets entered at or after ``seconds`` (None: no cut-off)."""
    if not seconds:
        return None
    return condition("dateEntered", ">=", datetime.datetime.fromtimestamp(int(seconds), datetime.timezone.utc))


def entered_before(ticket, seconds):
    """Whether ``ticket`` says it was entered before the cut-off (a ticket without a readable
    ``_info.dateEntered`` is left to Manage's filter)."""
    if not seconds:
        return False
    info = ticket.get("_info") if isinstance(ticket, dict) else None
    entered = parse_timestamp(info.get("dateEntered")) if isinstance(info, dict) else None
    return entered is not None and entered < int(seconds)


def since(seconds, tickets):
    """The ``tickets`` not entered before the cut-off."""
    for ticket in tickets:
        if entered_before(ticket, seconds):
            log.debug("ticket %s was entered before the cut-off %s: no Signl", ticket.get("id"), stamp(seconds))
            continue
        yield ticket
