"""The uri baseline of the provisioning benchmark is a real playbook, not a stand-in: it provisions the
seed set, writes nothing when nothing differs, and finds and repairs drift on every level it compares.

Not part of ``make test`` (the benchmark is not); run with
``.venv/bin/python -m pytest -q -p no:xdist tests/bench/test_uri_baseline.py``.
"""

import base64
import json
import urllib.parse
import urllib.request

import pytest

from tests.bench.provisioning import CW, S4, Systems, load_seed, run_playbook


@pytest.fixture
def systems(manage, signl4):
    both = Systems.__new__(Systems)  # the session's emulators, not new processes
    both.manage, both.signl4 = manage, signl4
    return both


def call(url, method, headers, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers, **{"Content-Type": "application/json"}))
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
        raw = response.read()
    return json.loads(raw) if raw else None


def manage(systems, method, path, body=None):
    auth = base64.b64encode(("%s+%s:%s" % (CW["company_id"], CW["public_key"], CW["private_key"])).encode()).decode()
    path, query = (path.split("?", 1) + [""])[:2]
    url = "%s/%sapis/3.0%s" % (systems.manage.url, CW["codebase"], path) + ("?" + urllib.parse.quote(query, safe="=&") if query else "")
    return call(url, method,
                {"Authorization": "Basic " + auth, "clientId": CW["client_id"]}, body)


def signl4(systems, method, path, body=None):
    return call(systems.signl4.url + "/api/v2" + path, method, {"X-S4-Api-Key": S4["api_key"]}, body)


def writes(systems):
    return sorted("%s %s" % (r["method"], r["path"].split("apis/3.0")[-1].split("/api/v2")[-1])
                  for r in systems.manage.writes() + systems.signl4.writes())


def replace(field, value):
    return [{"op": "replace", "path": field, "value": value}]


def test_uri_baseline_provisions_then_writes_nothing_then_repairs_drift(systems):
    seed = load_seed()
    first = run_playbook("uri", systems, check=False)
    assert first["rc"] == 0 and not first["failed_tasks"], first["tail"]
    assert first["writes"] == 24  # 3 fields, 3 rules, 7 events, 4 actions, 2 values, role, member, callback, webhook, connector
    assert systems.set_role_levels(seed["role"])
    provisioned = systems.snapshot(seed)

    again = run_playbook("uri", systems, check=False)
    assert again["rc"] == 0 and again["writes"] == 0 and again["recap"]["changed"] == 0

    # Drift on every level the playbook compares, as someone clicking in the UIs would cause it.
    field = manage(systems, "GET", '/system/userDefinedFields?conditions=caption="Signl4Status_c"')[0]
    manage(systems, "PATCH", "/system/userDefinedFields/%d" % field["id"], replace("sequenceNumber", 99))
    rule = manage(systems, "GET", '/system/workflows?conditions=name="SIGNL4 - Update Signls"')[0]
    events = {e["name"]: e for e in manage(systems, "GET", "/system/workflows/%d/events" % rule["id"])}
    close = events["Close Signl"]
    manage(systems, "PATCH", "/system/workflows/%d/events/%d" % (rule["id"], close["id"]),
           replace("eventCondition", "Signl4Retrieved_c = True"))
    added = manage(systems, "POST", "/system/workflows/%d/events" % rule["id"],
                   {"name": "Added by hand", "eventCondition": "Signl4Retrieved_c = True", "executionTime": "Once"})
    action = manage(systems, "GET", "/system/workflows/%d/events/%d/actions" % (rule["id"], close["id"]))[0]
    value = manage(systems, "GET", "/system/workflows/userdefinedfields/events/%d/actions/%d" % (close["id"], action["id"]))[0]
    manage(systems, "PATCH", "/system/workflows/userdefinedfields/%d" % value["id"], replace("value", "Closed"))
    member = manage(systems, "GET", '/system/apiMembers?conditions=identifier="signl4"')[0]
    manage(systems, "PATCH", "/system/apiMembers/%d" % member["id"], replace("defaultLocation", {"name": "Remote"}))
    webhook = signl4(systems, "GET", "/webhooks")[0]
    signl4(systems, "PUT", "/webhooks/%s" % webhook["id"], dict(webhook, description="changed by hand"))
    instance = signl4(systems, "GET", "/scripts/instances")[0]
    signl4(systems, "PUT", "/scripts/instances/%s" % instance["instanceId"], {"config": {"companyId": "other"}})
    signl4(systems, "POST", "/scripts/instances/%s/disable" % instance["instanceId"])

    check = run_playbook("uri", systems, check=True)
    assert check["rc"] == 0 and check["writes"] == 0

    repair = run_playbook("uri", systems, check=False)
    assert repair["rc"] == 0 and not repair["failed_tasks"], repair["tail"]
    assert writes(systems) == sorted([
        "PATCH /system/userDefinedFields/%d" % field["id"],
        "PATCH /system/workflows/%d/events/%d" % (rule["id"], close["id"]),
        "DELETE /system/workflows/%d/events/%d" % (rule["id"], added["id"]),
        "PATCH /system/workflows/userdefinedfields/%d" % value["id"],
        "PATCH /system/apiMembers/%d" % member["id"],
        "PUT /webhooks/%s" % webhook["id"],
        "PUT /scripts/instances/%s" % instance["instanceId"],
        "POST /scripts/instances/%s/enable" % instance["instanceId"],
    ])
    assert systems.snapshot(seed) == provisioned
