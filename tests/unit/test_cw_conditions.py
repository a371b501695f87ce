"""plugins/module_utils/cw_conditions.py: the syntax check that keeps a condition Manage cannot parse from
being written. It refuses what is broken in any reading of the grammar, names the position as Manage does,
and never refuses what the Manage emulator's parser (tests/emulators/manage/conditions.py, the guide's
grammar) accepts."""

import random

import pytest
import yaml

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_conditions import (
    ConditionSyntaxError,
    check_condition,
    condition_problem,
)
from tests.emulators.harness import REPO_ROOT
from tests.emulators.manage.conditions import ConditionError, parse

with open(REPO_ROOT + "/tests/integration/data/seed_workflow_rules.yml") as handle:
    SEED_CONDITIONS = [event["condition"] for rule in yaml.safe_load(handle) for event in rule["events"]]

# The guide's examples, Manage's own hrefs and the shapes the seed and the tests use.
VALID = SEED_CONDITIONS + [
    'board/name="Integration" and status/name="new"',
    'summary = "This is my string"',
    "board/id = 123",
    "closedFlag = True",
    "lastUpdated > [2016-08-20T18:04:26Z]",
    "board/id in (3, 2, 4)",
    "board/id not in (3)",
    'summary not contains "Low Priority"',
    'summary like "print*"',
    'summary not like "%printer%"',
    "parentagreementid = null",
    "value != null",
    "(chargeToType='ServiceTicket' OR chargeToType='ProjectTicket') AND chargeToId=945370",
    "impact='Medium' or summary contains 'https://example.com'",
    "NOT (closedFlag = True)",
    "x = 'O''Brien' AND y = \"say \\\"hi\\\"\"",
    "a = -1.5 AND b >= 0 AND c <= 2 AND d < 3 AND e > 4 AND f <> 5",
    "((a = 1) OR (b = 2)) AND c = 3",
    "Customer_VIP = True",
    'summary = "a ) ( AND OR ] ["',  # anything inside quotes is text
]
# Where Manage's grammar is not known, the check passes (only Manage can tell).
LENIENT = ["closedFlag", "status/name = New", "a is null", "(a) = 1", "a not = 1", "a = (1)"]

BROKEN = [  # (condition, message without the context)
    ('Signl4Retrieved_c = False AND (status/name = "New"', "Expected ')' but found 'end of condition' at position 50"),
    ("a = 1)", "Expected AND, OR or the end of the condition but found ')' at position 5"),
    ("", "The condition is empty"),
    ("   ", "The condition is empty"),
    ("()", "Expected a field name but found ')' at position 1"),
    ("a = 1 AND ()", "Expected a field name but found ')' at position 11"),
    ("a = 1 AND", "Expected a field name but found 'end of condition' at position 9"),
    ("OR a = 1", "Expected a field name but found 'OR' at position 0"),
    ("a = 1 AND AND b = 2", "Expected a field name but found 'AND' at position 10"),
    ("= 1", "Expected a field name but found '=' at position 0"),
    ("a =", "Expected a value but found 'end of condition' at position 3"),
    ("a = = 1", "Expected a value but found '=' at position 4"),
    ("a = AND b = 1", "Expected a value but found 'AND' at position 4"),
    ("a contains", "Expected a value but found 'end of condition' at position 10"),
    ('a not like', "Expected a value but found 'end of condition' at position 10"),
    ('a "x"', "Expected an operator but found '\"x\"' at position 2"),
    ("a in 1", "Expected '(' after IN but found '1' at position 5"),
    ("a in ()", "Expected a value but found ')' at position 6"),
    ("a in (1, )", "Expected a value but found ')' at position 9"),
    ("a in (1 2)", "Expected ',' or ')' but found '2' at position 8"),
    ('a = "x', "Unterminated string starting at position 4"),
    ("a = 'it''s", "Unterminated string starting at position 4"),
    ("dateEntered > [2025-01-01", "Unterminated datetime starting at position 14"),
    ("dateEntered > []", "Expected a datetime but found ']' at position 15"),
    ("a ! b", "Unexpected character '!' at position 2"),
    ("a = 1 ]", "Unexpected character ']' at position 6"),
]


@pytest.mark.parametrize("condition", VALID + LENIENT)
def test_a_condition_manage_can_parse_passes(condition):
    assert condition_problem(condition) is None


@pytest.mark.parametrize("condition,message", BROKEN)
def test_a_broken_condition_is_refused_naming_the_place(condition, message):
    with pytest.raises(ConditionSyntaxError) as caught:
        check_condition(condition)
    assert str(caught.value) == message + "."
    assert condition_problem(condition).startswith(message)


def test_the_message_shows_what_precedes_the_place():
    condition = 'Signl4Retrieved_c = False AND status/name = "New (not responded)" AND (dateEntered > [2025-01-01T00:00:00Z]'
    assert condition_problem(condition) == (
        "Expected ')' but found 'end of condition' at position %d (after 'tered > [2025-01-01T00:00:00Z]')."
        % len(condition))


def test_the_position_is_the_one_the_manage_emulator_names():
    for condition in ('a = 1 AND (b = 2 OR c = 3', "a = 1) AND b = 2", "a = 1 AND", "a ="):
        with pytest.raises(ConditionError) as emulator:
            parse(condition)
        with pytest.raises(ConditionSyntaxError) as ours:
            check_condition(condition)
        assert "at position %d." % ours.value.position in str(emulator.value), (condition, str(emulator.value))


def test_no_input_raises_anything_else():
    for condition in (None, 5, "(" * 5000, "NOT " * 5000 + "a", "a = (" * 3000, "\x00", "a = 1" + " AND a = 1" * 5000):
        try:
            check_condition(condition)
        except ConditionSyntaxError:
            pass


# ----- generated conditions against the emulator's parser ---------------------------------------

FIELDS = ["status/name", "board/id", "Signl4Retrieved_c", "summary", "dateEntered", "closedFlag"]
VALUES = ['"New (not responded)"', "'it''s'", "12", "-3.5", "True", "False", "null", "[2025-01-01T00:00:00Z]"]


def comparison(rng):
    field, kind = rng.choice(FIELDS), rng.random()
    if kind < 0.15:
        return "%s %sin (%s)" % (field, rng.choice(["", "not "]), ", ".join(rng.sample(VALUES[:4], rng.randint(1, 3))))
    if kind < 0.35:
        return "%s %s%s %s" % (field, rng.choice(["", "not "]), rng.choice(["contains", "like"]), VALUES[0])
    return "%s %s %s" % (field, rng.choice(["=", "!=", "<", "<=", ">", ">="]), rng.choice(VALUES))


def expression(rng, depth=0):
    if depth > 3 or rng.random() < 0.4:
        return comparison(rng)
    parts = [expression(rng, depth + 1) for _part in range(rng.randint(2, 3))]
    text = (" %s " % rng.choice(["AND", "OR", "and"])).join(parts)
    return "(%s)" % text if rng.random() < 0.5 else text


def mutations(rng, text):
    """Small edits, most of which break the condition."""
    position = rng.randrange(len(text))
    token = rng.choice(["(", ")", '"', "'", "[", "]", "AND", "OR", "=", ",", "in", "not", " "])
    yield text[:position] + text[position + 1:]
    yield text[:position] + token + text[position:]
    yield text[:position]


def emulator_accepts(text):
    try:
        parse(text)
    except ConditionError:
        return False
    return True


def test_never_refuses_what_the_emulator_parses_and_refuses_what_breaks_the_nesting():
    rng = random.Random(20261130)
    refused = accepted = 0
    for _round in range(1500):
        valid = expression(rng)
        assert condition_problem(valid) is None, valid
        for text in mutations(rng, valid):
            if condition_problem(text) is None:
                accepted += 1
            else:
                refused += 1
                assert not emulator_accepts(text), "refused, yet the emulator parses it: %r" % text
        for unbalanced in ("(" + valid, valid + ")", "(" + valid + " AND (a = 1)"):  # broken in any reading
            assert condition_problem(unbalanced) is not None, unbalanced
    assert refused > 1000 and accepted > 100, (refused, accepted)  # the edits cover both outcomes
