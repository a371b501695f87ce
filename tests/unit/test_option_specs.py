"""Argument specs that say what each option is to the API (module_utils/option_spec.py), for every module
found in plugins/modules: an option reaches the API (``api_key``, a ``reference``) or is a ``control``
option, so a new option (or a new module) that is neither fails here instead of being silently ignored;
the payload, references resolved by name, and the lookups made with the find."""

import importlib
import os

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils import option_spec
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError, UnknownNameError
from tests.emulators.harness import REPO_ROOT

MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(REPO_ROOT, "plugins", "modules"))
                 if name.endswith(".py") and not name.startswith("_"))


def spec_of(name):
    return importlib.import_module("ansible_collections.signl4.connectwise.plugins.modules." + name).ARGUMENT_SPEC


def options(spec, where=""):
    """``(path, entry)`` of every option, at every depth below options that are not control options."""
    for option, entry in spec.items():
        yield where + option, entry
        if not entry.get("control"):
            yield from options(entry.get("options") or {}, f"{where}{option}.")


def test_every_module_is_found():
    assert len(MODULES) >= 15 and "cw_workflow_rule" in MODULES and "signl4_webhook_info" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_every_option_reaches_the_api_or_is_declared_a_control_option(name):
    silent = [path for path, entry in options(spec_of(name))
              if not ("api_key" in entry or "reference" in entry or entry.get("control"))]
    assert silent == [], f"options of {name} that neither reach the API nor are declared control options"


@pytest.mark.parametrize("name", MODULES)
def test_every_reference_says_what_it_names_and_how_it_is_kept(name):
    for path, entry in options(spec_of(name)):
        declared = entry.get("reference")
        if declared is None:
            continue
        assert set(declared) <= {"path", "what", "field", "keys", "assume_created"}, path
        assert declared.get("what") and isinstance(declared.get("keys", ("id",)), (tuple, str)), path
        assert "path" in declared or "api_key" in entry, f"{path}: a lookup without a path"


@pytest.mark.parametrize("name", MODULES)
def test_the_ansible_spec_keeps_every_option_and_none_of_the_extra_keys(name):
    spec = spec_of(name)
    stripped = option_spec.argument_spec(spec)
    flat = dict(options(stripped))
    assert not [path for path, entry in flat.items() if set(entry) & set(option_spec.EXTRA_KEYS)]
    assert set(flat) >= {path for path, _entry in options(spec)}


SPEC = dict(
    name=dict(type="str", api_key="name"),
    board=dict(type="str", api_key="board", reference=dict(path="/service/boards", what="board")),
    units=dict(type="list", elements="str", api_key="unitIds", reference=dict(path="/units", what="unit", keys="id")),
    role=dict(type="str", api_key="role", reference=dict(path="/roles", what="role", assume_created=True)),
    status=dict(type="str", api_key="status", reference=dict(what="status")),
    config=dict(type="dict", api_key="config"),
    secret_config=dict(type="dict", api_key="config", no_log=True),
    items=dict(type="list", elements="dict", api_key="items", options=dict(value=dict(type="str", api_key="v"))),
    state=dict(type="str", control=True),
)


def test_the_payload_is_api_shaped_with_references_by_name():
    params = dict(name="n", board=" Service Desk ", units=["A"], role=None, status="New", config={"a": 1},
                  secret_config={"s": 2}, items=[dict(value="x")], state="present")
    assert option_spec.payload(SPEC, params) == dict(
        name="n", board={"name": "Service Desk"}, unitIds=[{"name": "A"}], role=None, status={"name": "New"},
        config={"a": 1, "s": 2}, items=[{"v": "x"}])
    assert option_spec.payload(SPEC, dict(config={"a": 1}))["config"] == {"a": 1}
    assert option_spec.payload(SPEC, dict(secret_config={"s": 2}))["config"] == {"s": 2}
    assert option_spec.payload(SPEC, {})["config"] is None


class Lookups:
    """A client whose ``resolve`` answers from ``records`` and counts its lookups."""

    def __init__(self, **records):
        self.records = records
        self.looked_up = []

    def resolve(self, path, name, field="name", what=None):
        self.looked_up.append((path, name))
        for record in self.records.get(path, []):
            if record[field].lower() == name.lower():
                return record
        raise UnknownNameError(f"unknown {what} {name!r}")


def test_a_reference_the_current_object_holds_by_that_name_needs_no_lookup():
    client = Lookups(**{"/service/boards": [{"id": 5, "name": "Service Desk", "extra": 1}]})
    current = {"board": {"id": 1, "name": "service desk", "_info": {}}}
    desired = option_spec.payload(SPEC, dict(board="Service Desk"))
    assert option_spec.resolve(client, SPEC, desired, current)["board"] == {"id": 1, "name": "service desk"}
    assert client.looked_up == []
    desired = option_spec.payload(SPEC, dict(board="Service Desk"))
    assert option_spec.resolve(client, SPEC, desired, {"board": {"id": 1, "name": "Other"}})["board"] == {"id": 5, "name": "Service Desk"}
    assert client.looked_up == [("/service/boards", "Service Desk")]


def test_an_id_reference_is_always_looked_up_and_an_unknown_name_fails():
    client = Lookups(**{"/units": [{"id": 7, "name": "A"}]})
    assert option_spec.resolve(client, SPEC, option_spec.payload(SPEC, dict(units=["a"])), {"unitIds": [7]})["unitIds"] == [7]
    with pytest.raises(UnknownNameError, match="unknown unit 'B'"):
        option_spec.resolve(client, SPEC, option_spec.payload(SPEC, dict(units=["A", "B"])))


def test_a_name_assumed_created_stays_by_name_only_in_check_mode_and_only_where_declared():
    client = Lookups()
    desired = option_spec.resolve(client, SPEC, option_spec.payload(SPEC, dict(role="SIGNL4")), assumed=["signl4"])
    assert desired["role"] == {"name": "SIGNL4"}
    with pytest.raises(UnknownNameError):
        option_spec.resolve(client, SPEC, option_spec.payload(SPEC, dict(role="SIGNL4")), assumed=None)
    with pytest.raises(UnknownNameError):
        option_spec.resolve(client, SPEC, option_spec.payload(SPEC, dict(board="SIGNL4")), assumed=["SIGNL4"])


def test_a_lookup_the_kind_places_is_asked_for_only_when_needed():
    client = Lookups(**{"/boards/1/statuses": [{"id": 3, "name": "New"}]})
    asked = []

    def statuses():
        asked.append(1)
        return "/boards/1/statuses", "'Service Desk' status"

    held = {"status": {"id": 3, "name": "New"}}
    option_spec.resolve(client, SPEC, option_spec.payload(SPEC, dict(status="New")), held, lookups={"status": statuses})
    assert asked == []
    desired = option_spec.resolve(client, SPEC, option_spec.payload(SPEC, dict(status="new")), lookups={"status": statuses})
    assert desired["status"] == {"id": 3, "name": "New"} and asked == [1]


def test_the_lookups_made_with_the_find_are_those_no_current_object_can_save():
    client = Lookups(**{"/units": [{"id": 7, "name": "A"}]})
    reads = option_spec.prefetch(client, SPEC, dict(board="Service Desk", units=["A", "gone"], role="R"))
    assert [read() for read in reads] == [{"id": 7, "name": "A"}, None]  # a failure is left to resolve
    assert client.looked_up == [("/units", "A"), ("/units", "gone")]


def test_required_strings_must_not_be_blank_at_any_depth():
    spec = dict(name=dict(type="str", required=True), events=dict(type="list", elements="dict", options=dict(
        name=dict(type="str", required=True), note=dict(type="str"))))
    option_spec.require_non_empty(spec, dict(name="x", events=[dict(name="e", note="")]))
    with pytest.raises(InputError, match="^name must not be empty"):
        option_spec.require_non_empty(spec, dict(name=" ", events=None))
    with pytest.raises(InputError, match=r"events\[1\]\.name must not be empty"):
        option_spec.require_non_empty(spec, dict(name="x", events=[dict(name="e"), dict(name="")]))
