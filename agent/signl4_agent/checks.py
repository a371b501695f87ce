"""``check-config``: reach both APIs read-only and report what the sync will use.

Besides the rules, fields and the acting user, every workflow event a cycle evaluates is tested the
way a cycle does (``GET .../events/{id}/test`` with the filters' conditions, one ticket a page): an
event condition Manage cannot parse fails every cycle, so it is reported by rule and event name with
Manage's own message. ``once`` runs the same test to explain a cycle that failed.
"""

import itertools
import time

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import all_of
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_paths import CUSTOM_FIELDS
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import ApiError, AuthenticationError, InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.transport import RetryPolicy

from signl4_agent import cutoff, routing
from signl4_agent.agent import build_manage, build_signl4
from signl4_agent.constants import TRANSITION_NAMES
from signl4_agent.manage import TicketDesk, classify_trigger, classify_update
from signl4_agent.sync import filter_conditions


def events_in_use(config, desk, now=None):
    """``(rule, event, conditions)`` of every workflow event whose ``/test`` a cycle reads, with the
    conditions the cycle adds (the filters; for new tickets also the cut-off, ``now`` standing for
    the first start the state records)."""
    fields = config["custom_fields"]
    filters = filter_conditions(config)
    trigger = desk.rule(config["workflows"]["trigger"])
    found = classify_trigger(trigger["events"], fields["retrieved"])
    if "trigger" not in found:
        raise InputError(f"workflow rule {trigger['name']!r} has no event whose condition tests {fields['retrieved']}")
    setting = config["filters"]["entered_after"]
    after = (time.time() if now is None else now) if setting == cutoff.FIRST_START else setting
    used = [(trigger, found["trigger"], all_of(filters, cutoff.conditions(after)))]
    if config["reopen"] != "ignore" and "after_close" in found:
        used.append((trigger, found["after_close"], filters))
    update = desk.rule(config["workflows"]["update_signls"])
    found = classify_update(update["events"], fields["status"])
    for kind in TRANSITION_NAMES.values():
        if config["status_mappings"][f"manage_{kind}"] and kind in found:
            used.append((update, found[kind], None))
    return used


def failing_events(config, desk):
    """``[{rule, event, error}]``: the events in use whose test Manage refuses (its message)."""
    failing = []
    for rule, event, conditions in events_in_use(config, desk):
        try:
            list(itertools.islice(desk.matching(rule, event, conditions=conditions, page_size=1), 1))
        except ApiError as exc:
            failing.append(dict(rule=rule["name"], event=event.get("name"), error=str(exc)))
    query = config["trigger_query"]
    if query["conditions"] or query["custom_field_conditions"]:
        try:
            list(itertools.islice(desk.query(query["conditions"], query["custom_field_conditions"]), 1))
        except ApiError as exc:
            failing.append(dict(rule="trigger_query", event=None, error=str(exc)))
    return failing


def describe(failing):
    """One line naming each failing event."""
    return f"Manage cannot evaluate {len(failing)} workflow event(s): " + "; ".join(
        f"trigger_query: {item['error']}" if item["event"] is None else
        f"rule {item['rule']!r}, event {item['event']!r}: {item['error']}" for item in failing)


def _manage(config, desk):
    report = {}
    fields = config["custom_fields"]
    for key in ("trigger", "update_signls", "update_tickets"):
        rule = desk.rule(config["workflows"][key])
        classify = classify_trigger(rule["events"], fields["retrieved"]) if key == "trigger" else \
            classify_update(rule["events"], fields["status"])
        report[config["workflows"][key]] = {role: event["name"] for role, event in classify.items()}
    captions = {f.get("caption") for f in desk.client.list(CUSTOM_FIELDS, fields="caption")}
    missing = [name for name in fields.values() if name not in captions]
    if missing:
        raise InputError(f"custom field(s) missing in Manage: {', '.join(missing)}")
    failing = failing_events(config, desk)
    if failing:
        raise EventsFailing(failing)
    priority = config["escalations"]["priority"]
    if config["escalations"]["enabled"] and priority:
        try:
            report["escalation_priority"] = desk.priority(priority)
        except InputError as exc:
            raise InputError(f"escalations.priority: {exc}") from None
    return report


def _signl4(config, signl4):
    """The acting user, and the teams it is a member of: it reads and acts on the Signls of those teams only, so
    every team the routes raise in must be among them."""
    try:
        user_id = signl4.user(config["signl4"]["acting_user"])["id"]
        teams = sorted(str(team.get("name")) for team in signl4.teams() if user_id in (team.get("memberIds") or ()))
        return dict(acting_user=user_id, acting_user_teams=teams,
                    routes=[route.name for route in routing.routes(config)])
    except AuthenticationError as exc:
        raise AuthenticationError(f"{exc.message} - check signl4.api_key", status=exc.status, code=exc.code,
                                  method=exc.method, url=exc.url, api=exc.api) from None


class EventsFailing(InputError):
    """Workflow events whose test Manage refuses; ``failing`` lists them."""

    def __init__(self, failing):
        super().__init__(describe(failing))
        self.failing = failing


def check(config):
    retry = RetryPolicy(max_retries=1)
    report = dict(ok=True)
    with build_manage(config, retry) as manage, build_signl4(config, retry) as signl4:
        for side, probe in (("manage", lambda: _manage(config, TicketDesk(manage, config))),
                            ("signl4", lambda: _signl4(config, signl4))):
            try:
                report[side] = dict(ok=True, **probe())
            except (ApiError, InputError) as exc:
                report["ok"] = False
                report[side] = dict(ok=False, error=str(exc))
                if isinstance(exc, EventsFailing):
                    report[side]["failing_events"] = exc.failing
    return report
