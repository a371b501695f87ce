"""cw_custom_field and cw_custom_field_info against the Manage emulator: every path of the
ensure (create, no change, update, delete, absent again), each in check mode too, bad input,
and the recorded traffic checked against the vendor's document."""

import pytest

from tests.support.modules import run_module
from tests.support.spec_conformance import manage_spec

UDF = "/system/userDefinedFields"
RETRIEVED = dict(caption="Signl4Retrieved_c", pod_id=10, field_type="Checkbox", entry_type="EntryField",
                 sequence_number=1, display_on_screen=False, help_text="Set once SIGNL4 has the ticket.")


def field(manage, **overrides):
    return dict(manage.connection, **dict(RETRIEVED, **overrides))


def udf_calls(manage, method=None):
    return [r for r in manage.requests() if UDF.lower() in r["path"].lower() and (method is None or r["method"] == method)]


def stored(manage, caption):
    return run_module("cw_custom_field_info", dict(manage.connection, caption=caption))["custom_fields"]


def test_create_then_no_change_without_writes(manage):
    result = run_module("cw_custom_field", field(manage))
    assert result["changed"] is True
    assert result["custom_field"]["id"] and result["custom_field"]["caption"] == "Signl4Retrieved_c"
    assert result["diff"]["before"] == {} and result["diff"]["after"]["fieldTypeIdentifier"] == "Checkbox"
    manage.clear_requests()
    again = run_module("cw_custom_field", field(manage))
    assert again["changed"] is False and again["diff"] == {"before": {}, "after": {}}
    assert manage.writes() == []


def test_one_changed_option_patches_only_that_field(manage):
    run_module("cw_custom_field", field(manage))
    manage.clear_requests()
    result = run_module("cw_custom_field", field(manage, help_text="New help"))
    assert result["changed"] is True
    assert result["diff"] == {"before": {"helpText": "Set once SIGNL4 has the ticket."}, "after": {"helpText": "New help"}}
    patches = udf_calls(manage, "PATCH")
    assert len(manage.writes()) == 1 and len(patches) == 1
    assert patches[0]["request_json"] == [{"op": "replace", "path": "helpText", "value": "New help"}]
    assert stored(manage, "Signl4Retrieved_c")[0]["helpText"] == "New help"


def test_absent_deletes_then_absent_again_is_no_change(manage):
    run_module("cw_custom_field", field(manage))
    result = run_module("cw_custom_field", field(manage, state="absent"))
    assert result["changed"] is True and result["custom_field"] is None
    assert result["diff"]["before"]["caption"] == "Signl4Retrieved_c" and result["diff"]["after"] == {}
    assert [r["status"] for r in udf_calls(manage, "DELETE")] == [204]
    manage.clear_requests()
    again = run_module("cw_custom_field", field(manage, state="absent"))
    assert again["changed"] is False and manage.writes() == []
    assert stored(manage, "Signl4Retrieved_c") == []


@pytest.mark.parametrize("path", ["create", "update", "delete", "noop"])
def test_check_mode_predicts_every_path_without_writes(manage, path):
    if path != "create":
        run_module("cw_custom_field", field(manage))
    overrides = {"create": {}, "update": {"sequence_number": 7}, "delete": {"state": "absent"}, "noop": {}}[path]
    before = stored(manage, "Signl4Retrieved_c")
    manage.clear_requests()
    result = run_module("cw_custom_field", field(manage, **overrides), check_mode=True)
    assert manage.writes() == []
    assert result["changed"] is (path != "noop")
    assert stored(manage, "Signl4Retrieved_c") == before
    if path == "update":
        assert result["diff"] == {"before": {"sequenceNumber": 1}, "after": {"sequenceNumber": 7}}
        assert result["custom_field"]["sequenceNumber"] == 7


def test_list_options_are_matched_by_value_and_purged(manage):
    status = field(manage, caption="Signl4Status_c", field_type="Text", entry_type="List", sequence_number=2,
                   options=[{"value": "acknowledged"}, {"value": "closed"}])
    created = run_module("cw_custom_field", status)["custom_field"]
    assert sorted(o["optionValue"] for o in created["options"]) == ["acknowledged", "closed"]
    reordered = dict(status, options=[{"value": "closed"}, {"value": "acknowledged"}])
    assert run_module("cw_custom_field", reordered)["changed"] is False
    kept = dict(status, options=[{"value": "resolved"}], purge_options=False)
    result = run_module("cw_custom_field", kept)
    assert sorted(o["optionValue"] for o in result["custom_field"]["options"]) == ["acknowledged", "closed", "resolved"]
    ids_before = {o["optionValue"]: o["id"] for o in result["custom_field"]["options"]}
    purged = run_module("cw_custom_field", dict(status, options=[{"value": "closed", "default": True}]))
    options = purged["custom_field"]["options"]
    assert [(o["optionValue"], o["defaultFlag"], o["id"]) for o in options] == [("closed", True, ids_before["closed"])]


def test_business_units_and_locations_by_name(manage):
    result = run_module("cw_custom_field", field(manage, business_units=["Services"], locations=["Tampa Office"]))
    assert result["changed"] and len(result["custom_field"]["businessUnitIds"]) == 1
    assert run_module("cw_custom_field", field(manage, business_units=["Services"],
                                               locations=["Tampa Office"]))["changed"] is False


@pytest.mark.parametrize("overrides, message", [
    ({"caption": "A caption that is far too long"}, "caption must be at most 25 characters"),
    ({"field_type": "Spreadsheet"}, "value of field_type must be one of"),
    ({"entry_type": "List", "field_type": "Text"}, "entry_type List needs at least one entry in options"),
    ({"business_units": ["Nonexistent Unit"]}, "unknown business unit 'Nonexistent Unit'"),
    ({"sequence_number": 501}, "sequence_number must be between 1 and 500"),
    ({"required": True, "read_only": True}, "cannot be both required and read_only"),
    ({"pod_id": None, "caption": "Brand_new"}, "needs pod_id"),
    ({"cw_private_key": "wrong-key"}, "HTTP 401"),
])
def test_bad_input_fails_clearly_and_writes_nothing(manage, overrides, message):
    manage.clear_requests()
    result = run_module("cw_custom_field", field(manage, **overrides))
    assert result.get("failed") is True
    assert message in result["msg"]
    assert manage.writes() == []
    assert "wrong-key" not in repr(result)


def test_info_filters_and_lists(manage):
    run_module("cw_custom_field", field(manage))
    run_module("cw_custom_field", field(manage, caption="Signl4User_c", field_type="Text", sequence_number=3))
    both = run_module("cw_custom_field_info", dict(manage.connection, pod_id=10))["custom_fields"]
    assert {"Signl4Retrieved_c", "Signl4User_c"} <= {f["caption"] for f in both}
    assert [f["caption"] for f in stored(manage, "Signl4User_c")] == ["Signl4User_c"]


def test_traffic_conforms_to_the_manage_document(manage):
    run_module("cw_custom_field", field(manage, business_units=["Services"]))
    run_module("cw_custom_field", field(manage, help_text="changed"))
    run_module("cw_custom_field", field(manage, state="absent"))
    run_module("cw_custom_field", field(manage, caption="A caption that is far too long"))
    report = manage_spec().assert_conforms(manage.requests(), path_filter="userDefinedFields")
    assert {"POST /system/userDefinedFields", "PATCH /system/userDefinedFields/{id}",
            "DELETE /system/userDefinedFields/{id}", "GET /system/userDefinedFields"} <= set(report.checked)


# ----- options never exercised before, each over the wire and back (a mapping typo fails here) -----
@pytest.mark.parametrize("overrides, api_key, value, changed_value", [
    (dict(list_view=True), "listViewFlag", True, False),
    (dict(field_type="Number", number_decimals=2), "numberDecimals", 2, 3),
    (dict(field_type="Button", button_url="https://kb.example.com/signl4"), "buttonUrl",
     "https://kb.example.com/signl4", "https://kb.example.com/other"),
    (dict(screen_id="sv300"), "screenId", "sv300", None),
])
def test_each_option_reaches_the_api_and_reads_back_without_drift(manage, overrides, api_key, value, changed_value):
    created = run_module("cw_custom_field", field(manage, **overrides))
    assert created["changed"] is True, created.get("msg")
    assert stored(manage, "Signl4Retrieved_c")[0][api_key] == value
    assert created["diff"]["after"][api_key] == value
    manage.clear_requests()
    assert run_module("cw_custom_field", field(manage, **overrides))["changed"] is False
    assert manage.writes() == []
    if changed_value is not None:
        option = next(name for name in overrides if name != "field_type")
        changed = run_module("cw_custom_field", field(manage, **dict(overrides, **{option: changed_value})))
        assert changed["changed"] is True and changed["diff"]["after"] == {api_key: changed_value}
        assert stored(manage, "Signl4Retrieved_c")[0][api_key] == changed_value


def list_field(manage, options, **overrides):
    return field(manage, caption="Signl4Severity_c", field_type="Text", entry_type="List", options=options,
                 **overrides)


def test_option_sort_order_reaches_the_api_and_a_change_is_one_update(manage):
    options = [dict(value="High", sort_order=1), dict(value="Low", sort_order=2)]
    assert run_module("cw_custom_field", list_field(manage, options))["changed"] is True
    assert [(o["optionValue"], o["sortOrder"]) for o in stored(manage, "Signl4Severity_c")[0]["options"]] == [
        ("High", 1), ("Low", 2)]
    assert run_module("cw_custom_field", list_field(manage, options))["changed"] is False
    swapped = [dict(value="High", sort_order=2), dict(value="Low", sort_order=1)]
    result = run_module("cw_custom_field", list_field(manage, swapped))
    assert result["changed"] is True
    assert sorted((o["optionValue"], o["sortOrder"]) for o in stored(manage, "Signl4Severity_c")[0]["options"]) == [
        ("High", 2), ("Low", 1)]


def test_a_purge_only_change_to_options_is_a_change_and_removes_the_option(manage):
    both = [dict(value="High"), dict(value="Low")]
    run_module("cw_custom_field", list_field(manage, both))
    manage.clear_requests()
    kept = run_module("cw_custom_field", list_field(manage, [dict(value="High")], purge_options=False))
    assert kept["changed"] is False and manage.writes() == []
    check = run_module("cw_custom_field", list_field(manage, [dict(value="High")]), check_mode=True)
    assert check["changed"] is True and manage.writes() == []
    purged = run_module("cw_custom_field", list_field(manage, [dict(value="High")]))
    assert purged["changed"] is True
    assert [o["optionValue"] for o in purged["diff"]["before"]["options"]] == ["High", "Low"]
    assert [o["optionValue"] for o in purged["diff"]["after"]["options"]] == ["High"]
    assert [o["optionValue"] for o in stored(manage, "Signl4Severity_c")[0]["options"]] == ["High"]


def test_a_blank_caption_fails_before_any_request(manage):
    manage.clear_requests()
    result = run_module("cw_custom_field", field(manage, caption="  "))
    assert result["failed"] is True and "caption must not be empty" in result["msg"]
    assert manage.requests() == []


def test_names_match_ignoring_case_and_surrounding_spaces(manage):
    run_module("cw_custom_field", field(manage))
    manage.clear_requests()
    again = run_module("cw_custom_field", field(manage, caption="  signl4retrieved_C "))
    assert again["changed"] is False and manage.writes() == []
