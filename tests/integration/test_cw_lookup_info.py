"""cw_lookup_info against the Manage emulator: names found and names not found (with the known ones) without
failing, Manage's refusals failing with Manage's message, one read to check the login, and nothing written."""

from tests.support.modules import run_module


def test_names_found_and_missing_are_returned_without_failing(manage):
    result = run_module("cw_lookup_info", dict(manage.connection, boards=["service desk ", "Servce Desk"],
                                               locations=["Tampa Office"], business_units=["Sales", " "],
                                               security_roles=["Admin"]))
    assert result.get("failed") is None and result["changed"] is False, result
    assert [b["name"] for b in result["found"]["boards"]] == ["Service Desk"]
    assert [r["name"] for r in result["found"]["locations"] + result["found"]["security_roles"]] == ["Tampa Office", "Admin"]
    assert [(m["option"], m["name"]) for m in result["missing"]] == [
        ("boards", "Servce Desk"), ("business_units", "Sales"), ("business_units", " ")]
    assert result["missing"][0]["msg"] == "unknown board 'Servce Desk'; known: Network Operations, Projects, Service Desk"
    assert result["missing"][1]["msg"].startswith("unknown business unit 'Sales'; known: ")
    assert result["missing"][2]["msg"] == "a business unit name is required, got ''"
    assert manage.writes() == []


def test_a_refused_login_fails_with_manages_message_and_the_hint_apart(manage):
    for names in ({"boards": ["Service Desk"]}, {}):
        manage.clear_requests()
        result = run_module("cw_lookup_info", dict(manage.connection, cw_private_key="wrong", **names))
        assert result["failed"] is True and "HTTP 401" in result["msg"] and "cw_private_key" in result["msg"]
        assert result["api_error"]["status"] == 401 and result["api_error"]["message"] == "UserNotAuthenticated"
        assert "cw_private_key" in result["api_error"]["hint"]
        assert [r["method"] for r in manage.requests() if "/apis/3.0/" in r["path"]] == ["GET"]  # one read, no retry
