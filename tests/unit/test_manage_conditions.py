"""The Manage emulator's conditions language: tokenizer, parser and evaluator."""

import datetime as dt

import pytest

from tests.emulators.manage.conditions import (
    CHILD_CONDITIONS,
    CUSTOM_FIELD_CONDITIONS,
    And,
    Comparison,
    ConditionError,
    Filter,
    Or,
    parse,
    tokenize,
)

FIELDS = ["id", "summary", "closedFlag", "board", "status", "owner", "budgetHours", "resources",
          "communicationItems", "customFields", "_info"]
ALIASES = {"lastUpdated": ("_info", "lastUpdated")}
TICKET = {
    "id": 7, "summary": 'Printer "PR-2" AND scanner offline', "closedFlag": False,
    "board": {"id": 1, "name": "Service Desk"}, "status": {"id": 3, "name": "New (not responded)"},
    "budgetHours": 1.5, "resources": "jdoe, asmith",
    "communicationItems": [{"type": "Email", "value": "a@contoso.com"}, {"type": "Phone", "value": "555"}],
    "customFields": [{"id": 1, "caption": "VIP", "value": True}],
    "_info": {"lastUpdated": "2025-02-03T09:00:00Z"},
}


def matches(text, record=None, kind="conditions"):
    return Filter(text, FIELDS, ALIASES, kind)(TICKET if record is None else record)


def rejected(text, kind="conditions"):
    with pytest.raises(ConditionError) as caught:
        matches(text, kind=kind)
    return str(caught.value)


# ----- strings and quoting -------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    'board/name = "Service Desk"',
    "board/name = 'Service Desk'",
    'board/name="service desk"',  # case-insensitive comparison
    "BOARD/NAME = 'SERVICE DESK'",  # case-insensitive field names
])
def test_both_quote_styles_and_case_insensitivity(text):
    assert matches(text)


@pytest.mark.parametrize("literal", [
    r'"Printer \"PR-2\" AND scanner offline"',    # backslash-escaped double quotes
    '"Printer ""PR-2"" AND scanner offline"',      # doubled double quotes
    "'Printer \"PR-2\" AND scanner offline'",      # double quotes inside single quotes
])
def test_quotes_and_and_inside_values(literal):
    assert matches("summary = %s" % literal)


def test_doubled_and_escaped_single_quotes():
    record = {"summary": "O'Brien's laptop"}
    assert matches("summary = 'O''Brien''s laptop'", record)
    assert matches(r"summary = 'O\'Brien\'s laptop'", record)


def test_backslash_escapes_itself_and_is_literal_elsewhere():
    record = {"summary": r"C:\temp\new \ folder"}
    assert matches(r'summary = "C:\temp\new \\ folder"', record)


def test_a_value_cannot_widen_the_query():
    assert not matches(r'summary = "x\" OR summary != \"y"')
    assert [t.kind for t in tokenize(r'summary = "x\" OR id > \"0"')] == ["PATH", "OP", "STRING", "END"]


# ----- operators --------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("id = 7", True), ("id != 7", False), ("id < 8", True), ("id <= 7", True), ("id > 7", False),
    ("id >= 7", True), ("budgetHours > 1.25", True), ("budgetHours = 1.5", True), ("id = -7", False),
    ('summary contains "scanner"', True), ('summary contains "SCANNER"', True),
    ('summary not contains "scanner"', False), ('summary like "Printer*offline"', True),
    ('summary like "printer%OFFLINE"', True), ('summary like "Printer"', False),
    ('summary not like "x*"', True), ("id in (1, 7, 9)", True), ('id in (1, "7")', True),
    ("id not in (1, 2)", True), ("id IN (1,2)", False), ('board/name in ("Projects", "service desk")', True),
    ("closedFlag = False", True), ("closedFlag = TRUE", False), ("closedFlag != true", True),
])
def test_every_operator(text, expected):
    assert matches(text) is expected


def test_like_treats_other_characters_literally():
    assert matches('resources like "jdoe, *"')
    assert not matches('resources like "jdoe. *"')
    assert matches('summary like "*[PR-2]*"', {"summary": "x [PR-2] y"})


# ----- null, datetimes, paths ---------------------------------------------------------------
def test_null():
    assert matches("owner = null")
    assert matches("owner/identifier = NULL")  # a missing reference reads as null
    assert not matches("owner != null")
    assert matches("board != null")
    assert matches('owner/identifier != "jdoe"')  # null is "not equal" to a value
    assert not matches('owner/identifier = "jdoe"')


def test_null_only_with_equality():
    assert "null" in rejected("id > null")


@pytest.mark.parametrize("text, expected", [
    ("lastUpdated > [2025-02-03T08:59:59Z]", True),
    ("LastUpdated >= [2025-02-03T09:00:00Z]", True),
    ("lastupdated < [2025-02-03T09:00:00Z]", False),
    ("_info/lastUpdated = [2025-02-03T09:00:00+00:00]", True),
    ("lastUpdated > [2025-02-03]", True),
])
def test_datetimes_and_the_last_updated_alias(text, expected):
    assert matches(text) is expected


def test_datetime_literal_is_parsed():
    comparison = parse("lastUpdated > [2016-08-20T18:04:26Z]")
    assert comparison.value == dt.datetime(2016, 8, 20, 18, 4, 26, tzinfo=dt.timezone.utc)


def test_nested_paths():
    assert matches("status/id = 3 and board/id = 1")
    assert matches('status/Name contains "not responded"')
    assert matches("board/unknownSubField = null")


# ----- logic ----------------------------------------------------------------------------------
def test_and_binds_tighter_than_or():
    tree = parse("id = 1 or id = 7 and closedFlag = true")
    assert isinstance(tree, Or) and isinstance(tree.items[1], And)
    assert matches("id = 7 or id = 1 and closedFlag = true") is True
    assert matches("closedFlag = true and id = 1 or id = 7") is True


def test_parentheses_override_precedence():
    assert not matches("(id = 1 or id = 7) and closedFlag = true")
    assert matches("(id = 1 OR id = 7) AND (closedFlag = false)")
    assert matches("((id = 7))")


def test_keywords_are_case_insensitive_and_spacing_is_free():
    assert matches("id=7And closedFlag=False")
    assert matches("id = 1 oR id = 7")


def test_comparison_nodes():
    node = parse('summary not contains "x"')
    assert isinstance(node, Comparison)
    assert (node.path, node.op, node.value, node.negated) == (("summary",), "contains", "x", True)
    node = parse("id != 3")
    assert (node.op, node.negated) == ("=", True)


# ----- errors ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "", "id =", "id 7", "= 7", '(id = 7', 'id = 7)', 'summary = "open', "summary = 'open",
    "id = 7 and", "id = 7 or or id = 8", "id == 7", "id = [not a date]", "id = [2025-01-01",
    'summary contains 7', "id in 7", "id in (1, 2", "id in ()", "id not = 7", "and = 7",
    "id = abc", "id = 7 # comment", "summary = \"x\" summary = \"y\"",
])
def test_syntax_errors(text):
    assert rejected(text)


def test_errors_name_the_position():
    assert "position 5" in rejected("id = and")


def test_unknown_fields_are_refused_by_name():
    assert rejected('descriptionx = "a"') == "descriptionx is not a recognized name."
    assert rejected('Board/Name = "a" and foo/bar = 1') == "foo/bar is not a recognized name."


def test_type_mismatch_is_refused():
    assert "closedFlag" in rejected('closedFlag = "yes"')
    assert "summary" in rejected("summary > 3")
    assert "id" in rejected("id > [2025-01-01T00:00:00Z]")


def test_numbers_and_numeric_strings_compare():
    assert matches('id = "7"')
    assert "id" in rejected('id = "seven"')


# ----- arrays, child and custom field conditions -----------------------------------------------
def test_arrays_are_refused_in_conditions():
    assert rejected('communicationItems/value = "555"') == "communicationItems/value is not a recognized name."


def test_child_conditions_walk_arrays():
    assert matches('communicationItems/type = "Email" AND communicationItems/value like "*@contoso.com"',
                   kind=CHILD_CONDITIONS)
    assert not matches('communicationItems/value = "none"', kind=CHILD_CONDITIONS)


@pytest.mark.parametrize("kind", [CHILD_CONDITIONS, CUSTOM_FIELD_CONDITIONS])
def test_in_is_only_for_conditions(kind):
    assert "IN" in rejected("id in (1)", kind=kind)


def test_custom_field_values_compare_loosely():
    entry = {"id": 4, "caption": "Outage ID", "type": "Text", "value": "123"}
    custom = ["id", "caption", "type", "value"]
    assert Filter('caption = "outage id" AND value = 123', custom, kind=CUSTOM_FIELD_CONDITIONS)(entry)
    assert Filter("value = True", custom, kind=CUSTOM_FIELD_CONDITIONS)({"value": True})
    assert Filter('value = "true"', custom, kind=CUSTOM_FIELD_CONDITIONS)({"value": True})
    assert Filter('value contains "2"', custom, kind=CUSTOM_FIELD_CONDITIONS)({"value": 123})
    assert not Filter("value != null", custom, kind=CUSTOM_FIELD_CONDITIONS)({"caption": "unset"})
