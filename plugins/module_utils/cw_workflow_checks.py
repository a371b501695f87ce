# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the plan of a workflow rule (``cw_workflow_plan``) refuses before any write, in check mode too:
options that contradict each other or Manage's ranges, duplicates, a custom-field value of the wrong
type or table type, and a condition Manage cannot parse (:mod:`cw_conditions`; only one that would be
written: a condition Manage holds already is its own)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_conditions import condition_problem
from ansible_collections.signl4.connectwise.plugins.module_utils.engine import same_name
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.validation import require_length

INT32_MAX = 2 ** 31 - 1
# Integer options and the range Manage accepts (int32 fields; a frequency of 0 never fires).
EVENT_RANGES = (("frequency", 1, INT32_MAX), ("max_executions", 1, INT32_MAX))
RULE_RANGES = (("batch_interval", 0, INT32_MAX),)
# What a custom-field value must look like, by the field's type.
CHECKBOX_VALUES = ("true", "false")
NUMERIC_FIELD_TYPES = ("Number", "Percent", "Currency")
# The frequency options each execution time takes (the spec's WorkflowEvent descriptions).
FREQUENCY_OPTIONS = {"Once": (), "MultipleTimes": ("frequency_unit", "frequency", "max_executions"),
                     "Continuously": ("frequency_unit", "frequency")}
# What an action of a notify type cannot do without (option names; a tuple means one of them).
# ``subject`` is the spec's rule (WorkflowAction.subject); the others follow from what the action does.
ACTION_TARGETS = {"update status": ("board_status",), "update priority": ("priority",), "add note": ("note",),
                  "update custom field": ("custom_fields",), "send email": ("subject", ("member", "email")),
                  "assign resource": ("subject", "member"), "create activity": ("subject",)}


def check_range(spec, ranges, what):
    for option, low, high in ranges:
        if spec.get(option) is not None and not low <= spec[option] <= high:
            raise InputError(f"{what}{option} must be between {low} and {high}, got {spec[option]}")


def check_rule_options(params):
    for event in params["events"] or []:
        check_event_options(event)
    check_range(params, RULE_RANGES, "")
    unique([event["name"] for event in params["events"] or []], "event names")


def check_event_options(spec):
    needed = FREQUENCY_OPTIONS[spec["execution_time"] or "Once"]
    for option in FREQUENCY_OPTIONS["MultipleTimes"]:
        if option in needed and spec[option] is None:
            raise InputError(f"event {spec['name']!r}: execution_time {spec['execution_time']} needs {option}")
        if option not in needed and spec[option] is not None:
            times = [time for time, options in FREQUENCY_OPTIONS.items() if option in options]
            raise InputError(f"event {spec['name']!r}: {option} applies only to execution_time {' or '.join(times)}")
    check_range(spec, EVENT_RANGES, f"event {spec['name']!r}: ")
    for action in spec["actions"] or []:
        check_action_options(spec["name"], action)


def check_action_options(event_name, spec):
    for need in ACTION_TARGETS.get(same_name(spec["notify_type"]), ()):
        choices = need if isinstance(need, tuple) else (need,)
        if all(spec[option] in (None, "", []) for option in choices):
            raise InputError(f"event {event_name!r}: a {spec['notify_type']!r} action needs {' or '.join(choices)}")
    if spec.get("member") and spec.get("email"):
        raise InputError(f"event {event_name!r}: an action notifies either a member or an email address, not both")
    require_length(spec["subject"], 100, "subject")
    require_length(spec["email"], 250, "email")
    unique([value["caption"] for value in spec["custom_fields"] or []], f"custom fields in an action of event {event_name!r}")


def unique(labels, what):
    seen = set()
    for label in labels:
        if same_name(label) in seen:
            raise InputError(f"duplicate {what}: {label}")
        seen.add(same_name(label))


def check_custom_value(field, value, table_name, table_names):
    """Refuse a value Manage would refuse: a field of another table type's screen, a Checkbox
    value other than true/false, a number field's value that is not a number."""
    caption = field.get("caption")
    where = [field.get(key) for key in ("podDescription", "screenDescription") if field.get(key)]
    others = [name for name in where if same_name(name) in table_names and same_name(name) != same_name(table_name)]
    if others and not any(same_name(name) == same_name(table_name) for name in where):
        raise InputError(f"custom field {caption!r} belongs to {others[0]}, not to the rule's table type {table_name}")
    kind = field.get("fieldTypeIdentifier")
    if kind == "Checkbox" and str(value).strip().lower() not in CHECKBOX_VALUES:
        raise InputError(f"custom field {caption!r} is a Checkbox: its value must be true or false, got {value!r}")
    if kind in NUMERIC_FIELD_TYPES and not is_number(value):
        raise InputError(f"custom field {caption!r} is a {kind} field: its value must be a number, got {value!r}")


def is_number(value):
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def check_written_conditions(plan):
    """Refuse a condition Manage cannot parse before any write, in check mode too. Only a condition
    that would be written is checked: one Manage holds already is its own."""
    for name, desired, current, verb, _actions in plan:
        condition_text = (desired or {}).get("eventCondition")
        if verb == "ensure" and (current is None or current.get("eventCondition") != condition_text):
            problem = condition_problem(condition_text)
            if problem:
                raise InputError(f"event {name!r}: Manage cannot parse the condition: {problem}")
