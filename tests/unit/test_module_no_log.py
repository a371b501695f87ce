"""The module base collects every no_log value itself, whatever else is wrong with the input
(ansible-core stops at the first malformed list-of-dicts option: ansible/ansible#81672)."""

from ansible_collections.signl4.connectwise.plugins.module_utils.module import malformed_items, no_log_values

SPEC = dict(
    cw_private_key=dict(type="str", no_log=True),
    events=dict(type="list", elements="dict", options=dict(
        name=dict(type="str"),
        actions=dict(type="list", elements="dict", options=dict(token=dict(type="str", no_log=True))),
    )),
    secret_config=dict(type="dict", no_log=True),
    flag=dict(type="bool", no_log=True),
)


def test_secrets_are_found_around_malformed_items():
    params = {"events": ["x", 1, {"name": "e", "actions": [1, {"token": "tok-123"}]}], "cw_private_key": "pk-456",
              "secret_config": {"privateKey": "cfg-789", "nested": ["cfg-000"]}, "flag": True}
    assert no_log_values(SPEC, params) == {"pk-456", "tok-123", "cfg-789", "cfg-000"}


def test_a_dict_given_as_json_text_has_its_values_collected():
    found = no_log_values(SPEC, {"secret_config": '{"privateKey": "cfg-789"}'})
    assert "cfg-789" in found


def test_nothing_given_nothing_found():
    assert no_log_values(SPEC, {"events": None, "cw_private_key": ""}) == set()
    assert no_log_values(SPEC, "not a dict") == set()


def test_malformed_items_are_named_by_their_path():
    params = {"events": ["x", {"name": "e", "actions": [1, {"token": "t"}, "token=ok"]}], "secret_config": {"a": 1}}
    assert malformed_items(SPEC, params) == [("events[0]", "x"), ("events[1].actions[0]", 1)]
    assert malformed_items(SPEC, {"events": ['{"name": "json text is a dict"}']}) == []
    assert malformed_items(SPEC, {"events": "not a list"}) == []  # ansible-core names that one itself
