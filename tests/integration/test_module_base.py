"""The module base on malformed input: a list-of-dicts option holding something that is no
dictionary fails naming the option's path, before anything is sent."""

import pytest

from tests.support.modules import run_module


@pytest.mark.parametrize("module, args, where", [
    ("cw_workflow_rule", {"name": "x", "events": ["x"]}, "events[0] must be a dictionary of options, got str 'x'"),
    ("cw_custom_field", {"caption": "x", "options": ["a"]}, "options[0] must be a dictionary of options, got str 'a'"),
    ("cw_workflow_rule", {"name": "x", "events": [{"name": "e", "condition": "x", "actions": [1]}]},
     "events[0].actions[0] must be a dictionary of options, got int 1"),
])
def test_malformed_list_of_dicts_options_fail_by_name(manage, module, args, where):
    result = run_module(module, dict(manage.connection, **args))
    assert result.get("failed") and result["msg"] == where, result
    assert manage.requests() == []
