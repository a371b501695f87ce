"""The SIGNL4 emulator's categories over raw HTTP (no collection code): each team's own categories,
create, read, update and delete as the spec subset describes them, the validation of ASSUMPTIONS.md
[A-14], the image names, alerts filed by X-S4-Service, and every exchange checked against the spec."""

import pytest
import requests

from tests.emulators.signl4 import DEFAULT_TEAM_ID, DEFAULT_TEAM_SECRET, SECOND_TEAM_ID, SECOND_TEAM_SECRET
from tests.support.spec_conformance import signl4_spec

NETWORK = {"name": "Network", "color": "#1F6FB2", "imageName": "network.svg", "keywordMatching": 0, "keywords": ["switch"]}


def categories(api, team):
    return api.rest("GET", "/v2/categories/" + team).json()


def test_each_team_has_its_own_categories_and_crud_follows_the_spec(api, signl4):
    assert [c["name"] for c in categories(api, DEFAULT_TEAM_ID)] == ["Default", "ConnectWise"]
    created = api.rest("POST", "/v2/categories/" + SECOND_TEAM_ID, json=NETWORK)
    assert created.status_code == 201
    category = created.json()
    assert category["teamId"] == SECOND_TEAM_ID and category["isDefault"] is False and category["order"] == 2
    assert [c["name"] for c in categories(api, DEFAULT_TEAM_ID)] == ["Default", "ConnectWise"]
    path = "/v2/categories/%s/%s" % (SECOND_TEAM_ID, category["id"])
    assert api.rest("GET", path).json() == category
    assert api.rest("GET", "/v2/categories/%s/%s" % (DEFAULT_TEAM_ID, category["id"])).status_code == 404
    signl4_spec().assert_conforms(signl4.requests(), min_checked=5)

    signl4.clear_requests()  # the spec's own sample forms, which its schema does not allow
    updated = api.rest("PUT", path, json=dict(NETWORK, name="Net", color="#000000", keywords=[{"value": "vpn"}],
                                              keywordMatching="All", id="other", teamId=DEFAULT_TEAM_ID, isDefault=True))
    assert updated.status_code == 200
    assert updated.json() == dict(category, name="Net", color="#000000", keywords=["vpn"], keywordMatching=1)
    signl4.clear_requests()
    assert api.rest("DELETE", path).status_code == 200
    assert api.rest("GET", path).status_code == 404
    assert api.rest("DELETE", path).status_code == 404
    assert api.rest("GET", "/v2/categories/images").json()[:2] == ["alert.svg", "cloud.svg"]
    signl4_spec().assert_conforms(signl4.requests(), min_checked=4)


@pytest.mark.parametrize("change, details", [
    (dict(color="blue"), "color must be a hex color such as #0000cc."),
    (dict(color=None), "Missing: color"),
    (dict(imageName="Network.svg"), "imageName must be one of the names GET /v2/categories/images lists."),
    (dict(imageName="unicorn.svg"), "imageName must be one of the names GET /v2/categories/images lists."),
    (dict(keywordMatching=2), "keywordMatching must be 0 (Any) or 1 (All)."),
    (dict(keywordMatching=True), "keywordMatching must be 0 (Any) or 1 (All)."),
    (dict(keywords="switch"), "keywords must be a list of strings."),
    (dict(keywords=[{"value": 3}]), "keywords must be a list of strings."),
    (dict(name=" "), "name must not be empty."),
    (dict(name="connectwise "), "A category named connectwise  exists."),
])
def test_invalid_categories_are_refused_on_create_and_update(api, change, details):
    existing = categories(api, DEFAULT_TEAM_ID)
    created = api.rest("POST", "/v2/categories/" + DEFAULT_TEAM_ID, json=dict(NETWORK, **change))
    assert created.status_code == 400
    assert created.json()["message"] == "The category is not valid." and created.json()["details"] == details
    default = existing[0]
    updated = api.rest("PUT", "/v2/categories/%s/%s" % (DEFAULT_TEAM_ID, default["id"]), json=dict(NETWORK, **change))
    assert updated.status_code == 400 and updated.json()["details"] == details
    assert categories(api, DEFAULT_TEAM_ID) == existing


def test_a_category_keeps_its_own_name_on_update_and_the_default_cannot_be_deleted(api):
    default, connectwise = categories(api, SECOND_TEAM_ID)
    renamed = api.rest("PUT", "/v2/categories/%s/%s" % (SECOND_TEAM_ID, connectwise["id"]),
                       json=dict(NETWORK, name="CONNECTWISE"))
    assert renamed.status_code == 200 and renamed.json()["name"] == "CONNECTWISE"
    refused = api.rest("DELETE", "/v2/categories/%s/%s" % (SECOND_TEAM_ID, default["id"]))
    assert refused.status_code == 400 and refused.json()["message"] == "The category cannot be deleted."
    api.rest("PUT", "/v2/categories/%s/%s" % (SECOND_TEAM_ID, connectwise["id"]), json=dict(NETWORK, options=2))
    assert api.rest("DELETE", "/v2/categories/%s/%s" % (SECOND_TEAM_ID, connectwise["id"])).status_code == 400
    assert len(categories(api, SECOND_TEAM_ID)) == 2
    assert api.rest("GET", "/v2/categories/no-such-team").status_code == 404


def test_x_s4_service_files_the_alert_under_its_teams_category(api, signl4):
    mine = api.rest("POST", "/v2/categories/" + SECOND_TEAM_ID, json=NETWORK).json()
    for secret, external_id in ((SECOND_TEAM_SECRET, "N-1"), (DEFAULT_TEAM_SECRET, "S-1")):
        requests.post(signl4.url + "/webhook/" + secret, timeout=10,
                      json={"Title": "Switch down", "X-S4-ExternalID": external_id, "X-S4-Service": "NETWORK"})
    alerts = {a["externalId"]: a for a in signl4.control("GET", "/state")["alerts"]}
    assert alerts["N-1"]["categoryId"] == mine["id"]
    # the other team has no "Network": its default category
    assert alerts["S-1"]["categoryId"] == [c["id"] for c in categories(api, DEFAULT_TEAM_ID) if c["isDefault"]][0]
    api.rest("DELETE", "/v2/categories/%s/%s" % (SECOND_TEAM_ID, mine["id"]))
    requests.post(signl4.url + "/webhook/" + SECOND_TEAM_SECRET, timeout=10,
                  json={"Title": "Again", "X-S4-ExternalID": "N-2", "X-S4-Service": "Network"})
    alerts = {a["externalId"]: a for a in signl4.control("GET", "/state")["alerts"]}
    assert alerts["N-2"]["categoryId"] == categories(api, SECOND_TEAM_ID)[0]["id"]
    assert alerts["N-1"]["categoryId"] == mine["id"]  # an alert keeps the category it was filed under
