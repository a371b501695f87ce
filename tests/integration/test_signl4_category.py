"""signl4_category and signl4_category_info against the SIGNL4 emulator: create, no change, update and
delete, each in check mode without writes, the diff, keywords with and without purge, images by the
names SIGNL4 lists, bad input failing before any write, SIGNL4's own refusals, an alert filed under a
category by X-S4-Service, and the recorded REST traffic checked against the spec subset."""

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_client import Signl4Client
from tests.emulators.signl4 import DEFAULT_API_KEY, DEFAULT_TEAM_ID, DEFAULT_TEAM_SECRET, SECOND_TEAM_ID
from tests.support.modules import run_module
from tests.support.spec_conformance import signl4_spec


@pytest.fixture(autouse=True)
def no_signl4_environment(monkeypatch):
    for name in ("SIGNL4_API_URL", "SIGNL4_API_KEY", "SIGNL4_TEAM_SECRET"):
        monkeypatch.delenv(name, raising=False)


def connection(signl4):
    return dict(signl4_api_url=signl4.url + "/api", signl4_api_key=DEFAULT_API_KEY)


def category(signl4, check_mode=False, **options):
    args = dict(name="Network", team="Network Operations")
    args.update(options)
    return run_module("signl4_category", dict(connection(signl4), **args), check_mode=check_mode)


def info(signl4, **options):
    return run_module("signl4_category_info", dict(connection(signl4), **options))


def client(signl4):
    return Signl4Client(signl4.url + "/api", DEFAULT_API_KEY, DEFAULT_TEAM_SECRET)


def stored(signl4, name="Network", team=SECOND_TEAM_ID):
    found = [c for c in client(signl4).categories(team) if c["name"] == name]
    return found[0] if found else None


def writes(signl4):
    return ["%s %s" % (r["method"], r["path"][len("/api"):]) for r in signl4.writes()]


def paths(signl4):
    return ["%s %s" % (r["method"], r["path"][len("/api"):]) for r in signl4.requests()]


FULL = dict(color="#1F6FB2", image="network.svg", keywords=["switch", "router"], keyword_matching="all")


def test_create_no_change_update_delete(signl4):
    created = category(signl4, **FULL)
    assert created["changed"] is True
    assert created["diff"] == {"before": {}, "after": {
        "name": "Network", "teamId": SECOND_TEAM_ID, "color": "#1F6FB2", "imageName": "network.svg",
        "keywords": ["switch", "router"], "keywordMatching": 1}}
    [post] = signl4.writes()
    assert post["path"] == "/api/v2/categories/" + SECOND_TEAM_ID
    assert post["request_json"] == {"teamId": SECOND_TEAM_ID, "name": "Network", "color": "#1F6FB2",
                                    "imageName": "network.svg", "keywordMatching": 1, "keywords": ["switch", "router"]}
    assert created["category"] == dict(stored(signl4)) and created["category"]["isDefault"] is False

    signl4.clear_requests()
    again = category(signl4, **FULL)
    assert again["changed"] is False and again["diff"] == {"before": {}, "after": {}}
    assert writes(signl4) == []
    # the team lookup, then the team's categories: no image list, no second read
    assert paths(signl4) == ["GET /v2/teams", "GET /v2/categories/" + SECOND_TEAM_ID]

    signl4.clear_requests()
    updated = category(signl4, color="#aa0000", keyword_matching="any")
    assert updated["changed"] is True
    assert updated["diff"] == {"before": {"color": "#1F6FB2", "keywordMatching": 1},
                               "after": {"color": "#aa0000", "keywordMatching": 0}}
    [put] = signl4.writes()
    category_id = created["category"]["id"]
    assert put["method"] == "PUT" and put["path"] == "/api/v2/categories/%s/%s" % (SECOND_TEAM_ID, category_id)
    assert put["request_json"]["keywords"] == ["switch", "router"] and put["request_json"]["color"] == "#aa0000"
    assert stored(signl4)["color"] == "#aa0000" and stored(signl4)["keywordMatching"] == 0

    signl4.clear_requests()
    deleted = category(signl4, state="absent")
    assert deleted["changed"] is True and deleted["category"] is None
    assert deleted["diff"]["before"]["name"] == "Network" and deleted["diff"]["after"] == {}
    assert writes(signl4) == ["DELETE /v2/categories/%s/%s" % (SECOND_TEAM_ID, category_id)]
    assert stored(signl4) is None
    signl4.clear_requests()
    assert category(signl4, state="absent")["changed"] is False and writes(signl4) == []
    signl4_spec().assert_conforms(signl4.requests())


def test_check_mode_predicts_without_writing(signl4):
    predicted = category(signl4, check_mode=True, **FULL)
    assert predicted["changed"] is True and predicted["category"]["name"] == "Network"
    assert predicted["diff"]["after"]["imageName"] == "network.svg"
    assert writes(signl4) == [] and stored(signl4) is None

    category(signl4, **FULL)
    signl4.clear_requests()
    update = category(signl4, check_mode=True, color="#00AA00", keywords=["switch"])
    assert update["changed"] is True
    assert update["diff"] == {"before": {"color": "#1F6FB2", "keywords": ["switch", "router"]},
                              "after": {"color": "#00AA00", "keywords": ["switch"]}}
    assert update["category"]["color"] == "#00AA00"
    delete = category(signl4, check_mode=True, state="absent")
    assert delete["changed"] is True and delete["category"] is None
    assert writes(signl4) == []
    assert stored(signl4)["color"] == "#1F6FB2" and stored(signl4)["keywords"] == ["switch", "router"]


def test_a_new_category_takes_color_and_image_of_the_teams_default_one(signl4):
    default = [c for c in client(signl4).categories(SECOND_TEAM_ID) if c.get("isDefault")][0]
    created = category(signl4)
    assert created["changed"] is True
    assert created["diff"]["after"] == {"name": "Network", "teamId": SECOND_TEAM_ID, "color": default["color"],
                                        "imageName": default["imageName"], "keywords": [], "keywordMatching": 0}
    signl4.clear_requests()
    assert category(signl4)["changed"] is False and writes(signl4) == []


def test_keywords_with_and_without_purge(signl4):
    category(signl4, keywords=["switch", "router"])
    signl4.clear_requests()
    same = category(signl4, keywords=[" router", "switch", "router"])  # order, spaces and repetition: no change
    assert same["changed"] is False and writes(signl4) == []

    kept = category(signl4, keywords=["router", "vpn"], purge_keywords=False)
    assert kept["changed"] is True
    assert kept["diff"] == {"before": {"keywords": ["switch", "router"]}, "after": {"keywords": ["switch", "router", "vpn"]}}
    assert stored(signl4)["keywords"] == ["switch", "router", "vpn"]
    signl4.clear_requests()
    assert category(signl4, keywords=["vpn"], purge_keywords=False)["changed"] is False and writes(signl4) == []

    exact = category(signl4, keywords=["vpn"])
    assert exact["changed"] is True and exact["diff"]["after"] == {"keywords": ["vpn"]}
    assert stored(signl4)["keywords"] == ["vpn"]
    cleared = category(signl4, keywords=[])
    assert cleared["changed"] is True and stored(signl4)["keywords"] == []
    signl4.clear_requests()
    assert category(signl4)["changed"] is False and writes(signl4) == []  # omitted: left alone


def test_images_by_the_names_signl4_lists(signl4):
    created = category(signl4, image="Network")  # case and .svg ignored, written as SIGNL4 lists it
    assert created["category"]["imageName"] == "network.svg"
    signl4.clear_requests()
    assert category(signl4, image="NETWORK.svg")["changed"] is False
    assert "GET /v2/categories/images" not in paths(signl4)  # read only when the image is written
    changed = category(signl4, image="server")
    assert changed["diff"] == {"before": {"imageName": "network.svg"}, "after": {"imageName": "server.svg"}}

    signl4.clear_requests()
    unknown = category(signl4, image="unicorn.svg")
    assert unknown["failed"] is True
    assert unknown["msg"].startswith("unknown SIGNL4 category image 'unicorn.svg'; known: alert.svg, cloud.svg")
    assert writes(signl4) == [] and stored(signl4)["imageName"] == "server.svg"


def test_without_a_list_of_images_the_image_is_written_as_given(signl4):
    signl4.inject(404, path="/categories/images$", body={"code": 404, "message": "No category images found."})
    created = category(signl4, image="server.svg")
    assert created["changed"] is True and stored(signl4)["imageName"] == "server.svg"


@pytest.mark.parametrize("options, message", [
    (dict(color="blue"), "color must be a hex color such as #1F6FB2, got 'blue'"),
    (dict(color="#12345"), "color must be a hex color such as #1F6FB2, got '#12345'"),
    (dict(keywords=["switch", "  "]), "keywords[1] must not be empty"),
    (dict(team="Night Shift"), "unknown SIGNL4 team 'Night Shift'; known: Network Operations, Service Desk"),
    (dict(team=" "), "team must not be empty"),
    (dict(name=""), "name must not be empty"),
    (dict(keyword_matching="most"), "value of keyword_matching must be one of: any, all, got: most"),
])
def test_bad_input_fails_before_any_write_in_check_mode_too(signl4, options, message):
    for check_mode in (True, False):
        result = category(signl4, check_mode=check_mode, **options)
        assert result["failed"] is True and result["msg"] == message, result["msg"]
    assert writes(signl4) == []


def test_bad_input_on_an_existing_category_fails_before_any_write(signl4):
    category(signl4, **FULL)
    signl4.clear_requests()
    result = category(signl4, color="#1F6FB2 ", keywords=["x"])
    assert result["failed"] is True and "color must be a hex color" in result["msg"]
    assert writes(signl4) == [] and stored(signl4)["keywords"] == ["switch", "router"]


def test_a_team_without_categories_needs_color_and_image_to_create_one(signl4):
    # A team's default category cannot be deleted, so the empty list is injected: the module must not guess.
    signl4.inject(200, path="/v2/categories/%s$" % SECOND_TEAM_ID, method="GET", body=[])
    signl4.clear_requests()
    result = category(signl4, check_mode=True)
    assert result["failed"] is True
    assert result["msg"] == ("color and image are required to create the category 'Network': "
                             "the team has no category to take them from")
    assert writes(signl4) == []


def test_the_default_category_is_never_deleted(signl4):
    result = category(signl4, name="default", state="absent", check_mode=True)
    assert result["failed"] is True
    assert result["msg"] == "'default' is the default category of the team 'Network Operations'; SIGNL4 cannot delete it"
    assert category(signl4, name="Default", state="absent")["failed"] is True
    assert writes(signl4) == []


def test_signl4s_refusal_fails_with_its_message(signl4):
    created = category(signl4, **FULL)["category"]
    client(signl4).update_category(SECOND_TEAM_ID, created["id"], dict(created, options=2))  # DenyDelete
    signl4.clear_requests()
    result = category(signl4, state="absent")
    assert result["failed"] is True
    assert result["msg"].startswith("SIGNL4 returned HTTP 400 (400): The category cannot be deleted. - "
                                    "It is the team's default category or denies deletion. (DELETE ")
    assert result["api_error"]["status"] == 400 and stored(signl4) is not None


def test_same_name_in_two_teams_is_two_categories(signl4):
    category(signl4, **FULL)
    other = category(signl4, team="service desk", **FULL)
    assert other["changed"] is True and other["category"]["teamId"] == DEFAULT_TEAM_ID
    assert stored(signl4, team=DEFAULT_TEAM_ID)["id"] != stored(signl4)["id"]
    assert category(signl4, team="Service Desk", state="absent")["changed"] is True
    assert stored(signl4) is not None and stored(signl4, team=DEFAULT_TEAM_ID) is None


def test_found_by_name_ignoring_case_and_spaces(signl4):
    category(signl4, **FULL)
    signl4.clear_requests()
    respelled = dict(FULL)
    respelled.update(name=" network ", team=" network operations ", color="#1f6fb2")
    again = category(signl4, **respelled)
    assert again["changed"] is False and writes(signl4) == []


def test_info_lists_a_teams_categories_or_one_by_name(signl4):
    category(signl4, **FULL)
    listed = info(signl4, team="Network Operations")
    assert listed["changed"] is False
    assert [c["name"] for c in listed["categories"]] == ["Default", "ConnectWise", "Network"]
    assert listed["team"] == dict(id=SECOND_TEAM_ID, name="Network Operations")
    by_id = info(signl4, team=" %s " % SECOND_TEAM_ID, name="NETWORK")
    assert by_id["team"] == dict(id=SECOND_TEAM_ID, name="Network Operations")  # SIGNL4's name for an id
    [one] = by_id["categories"]
    assert one["keywords"] == ["switch", "router"] and one["keywordMatching"] == 1
    assert info(signl4, team="Network Operations", name="Nope")["categories"] == []
    unknown = info(signl4, team="Night Shift")
    assert unknown["failed"] is True and unknown["msg"].startswith("unknown SIGNL4 team 'Night Shift'")
    assert info(signl4, team="")["failed"] is True


def test_an_alert_raised_with_x_s4_service_is_filed_under_the_category(signl4):
    created = category(signl4, team="Service Desk", **FULL)["category"]
    client(signl4).trigger("Switch down", "core-sw-1", external_id="T-1", service="network")
    client(signl4).trigger("Printer jam", "2nd floor", external_id="T-2", service="Printers")  # no such category
    alerts = {a["externalId"]: a for a in signl4.control("GET", "/state")["alerts"]}
    default = [c for c in client(signl4).categories(DEFAULT_TEAM_ID) if c.get("isDefault")][0]
    assert alerts["T-1"]["categoryId"] == created["id"] and alerts["T-2"]["categoryId"] == default["id"]


def test_the_spec_samples_forms_are_read_as_the_schema_declares_them(signl4):
    created = category(signl4, **FULL)["category"]
    sample = dict(created, keywords=[{"value": "switch"}, {"value": "router"}], keywordMatching="All")
    del sample["teamId"]  # x-nullable: SIGNL4 may leave it out
    team_list = "/v2/categories/%s$" % SECOND_TEAM_ID
    signl4.inject(200, path=team_list, method="GET", body=[sample])
    signl4.clear_requests()
    same = category(signl4, **FULL)
    assert same["changed"] is False and writes(signl4) == [] and same["category"] == created
    signl4.inject(200, path=team_list, method="GET", body=[sample])
    assert info(signl4, team="Network Operations")["categories"] == [created]
