"""Workflow rules found by a hint shared by the tasks of a run (issue 13): the first rule task reads
the whole rule list once and hints every name at its rule's id; a later task reads its rule by id
and the rule's events in one round trip. A hint made stale behind the run's back (rename, delete,
a second rule of the same name) costs a re-read, never a wrong answer or a write to the wrong rule.

Each test provisions the three seed rules, then runs on a new run cache, as a later playbook run does.
"""

import threading

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_workflow_rules import find_rule
from tests.support.modules import outside_client
from tests.integration.test_cw_workflow_rule import SEED, UPDATE_SIGNLS, UPDATE_TICKETS, ensure_rule, with_custom_fields

API = "/apis/3.0"
RULES = "/system/workflows"
AMBIGUOUS = "2 workflow rules are named %r; rename or remove the extra ones"


@pytest.fixture
def seeded(manage, monkeypatch, tmp_path):
    """The seed rules provisioned; ``{name: id}``. Later module runs share a new run cache."""
    with_custom_fields(manage)
    for rule in SEED:
        assert ensure_rule(manage, rule)["changed"] is True
    monkeypatch.setenv("SIGNL4_CONNECTWISE_RUN_CACHE", str(tmp_path / "next-run"))
    ids = dict((rule["name"], rule["id"]) for rule in outside_client(manage).list(RULES))
    manage.clear_requests()
    return ids


def rule_reads(manage):
    """The journal's reads of ``/system/workflows`` itself and its rules: ``(path, conditions, status)``."""
    reads = []
    for request in manage.requests():
        path = request["path"].split(API, 1)[-1]
        parts = path.strip("/").split("/")
        rule_or_list = len(parts) == 2 or (parts[2].isdigit() and parts[3:] in ([], ["events"]))
        if request["method"] == "GET" and parts[:2] == ["system", "workflows"] and rule_or_list:
            reads.append((path, (request.get("query") or {}).get("conditions"), request["status"]))
    return reads


def written_paths(manage):
    return [(request["method"], request["path"].split(API, 1)[-1]) for request in manage.writes()]


def hint_the_run(manage):
    """The run's first rule task: it reads the whole list once, which hints every rule's name."""
    manage.clear_requests()
    assert ensure_rule(manage, SEED[0])["changed"] is False
    assert rule_reads(manage)[0] == (RULES, None, 200)
    manage.clear_requests()


def run_stepping_the_clock(manage, task, step=1.0, every=0.005):
    """``task()`` while the emulator's manual clock moves on by ``step`` every few milliseconds; each
    request is answered once its latency has passed on that clock, and journalled at that time."""
    manage.use_manual_clock()
    done = threading.Event()

    def stepper():
        while not done.wait(every):
            manage.advance(step)

    thread = threading.Thread(target=stepper)
    thread.start()
    try:
        return task()
    finally:
        done.set()
        thread.join()


def test_later_rule_tasks_read_their_rule_and_its_events_in_one_round_trip(manage, seeded):
    latency = 10.0  # on the manual clock: reads one after the other end at least this far apart
    manage.set_latency(latency)
    results = run_stepping_the_clock(manage, lambda: [ensure_rule(manage, rule) for rule in SEED])
    assert [result["changed"] for result in results] == [False] * 3
    requests = manage.requests()
    assert [r["method"] for r in requests] == ["GET"] * len(requests)
    lists = [r for r in requests if r["path"].endswith(API + RULES)]
    assert [(r["query"].get("conditions"), r["query"].get("pageSize")) for r in lists] == [(None, ["1000"])]
    for name in (UPDATE_SIGNLS["name"], UPDATE_TICKETS["name"]):
        rule_path = API + "%s/%d" % (RULES, seeded[name])
        by_id, events = [next(r for r in requests if r["path"].endswith(path)) for path in (rule_path, rule_path + "/events")]
        # both in flight at once: answered at the same moment, where one after the other takes a latency more
        assert abs(by_id["time"] - events["time"]) < latency, name
    manage.set_latency(0)
    check = [ensure_rule(manage, rule, check_mode=True)["changed"] for rule in SEED]
    assert check == [False] * 3


def test_a_hint_made_stale_by_a_rename_costs_a_re_read(manage, seeded):
    hint_the_run(manage)
    old_id = seeded[UPDATE_SIGNLS["name"]]
    outside_client(manage).patch("%s/%d" % (RULES, old_id), [{"op": "replace", "path": "name", "value": "Renamed"}])
    manage.clear_requests()
    result = ensure_rule(manage, UPDATE_SIGNLS)
    assert result["changed"] is True and result["diff"]["before"] == {}  # "SIGNL4 - Update Signls" is gone: created
    new_id = result["workflow_rule"]["id"]
    assert new_id != old_id
    reads = rule_reads(manage)
    assert sorted(reads[:2]) == [("%s/%d" % (RULES, old_id), None, 200), ("%s/%d/events" % (RULES, old_id), None, 200)]
    assert reads[2] == (RULES, None, 200)  # the whole list again, for the rule the name has now
    assert not [path for _method, path in written_paths(manage) if path.startswith("%s/%d" % (RULES, old_id))]
    assert ensure_rule(manage, UPDATE_SIGNLS)["changed"] is False
    assert ensure_rule(manage, dict(UPDATE_SIGNLS, name="Renamed"))["changed"] is False  # untouched


def test_a_hint_at_a_deleted_rule_falls_back_to_the_list(manage, seeded):
    hint_the_run(manage)
    old_id = seeded[UPDATE_SIGNLS["name"]]
    outside_client(manage).delete("%s/%d" % (RULES, old_id))
    manage.clear_requests()
    result = ensure_rule(manage, UPDATE_SIGNLS)
    assert result["changed"] is True and result["diff"]["before"] == {}
    reads = rule_reads(manage)
    assert ("%s/%d" % (RULES, old_id), None, 404) in reads and (RULES, None, 200) in reads
    assert not [r for r in manage.requests() if "/login/companyinfo" in r["path"]]  # a missing record, not a moved API
    assert written_paths(manage)[0] == ("POST", RULES)
    assert ensure_rule(manage, UPDATE_SIGNLS, check_mode=True)["changed"] is False


def test_a_stale_hint_never_writes_to_the_rule_that_had_the_name(manage, seeded):
    """Rule A renamed away and another rule renamed to A after the hint was made: a change to A
    lands on the rule named A now."""
    hint_the_run(manage)
    outside = outside_client(manage)
    old_id, other_id = seeded[UPDATE_SIGNLS["name"]], seeded[UPDATE_TICKETS["name"]]
    outside.patch("%s/%d" % (RULES, old_id), [{"op": "replace", "path": "name", "value": "Old Update Signls"}])
    outside.patch("%s/%d" % (RULES, other_id), [{"op": "replace", "path": "name", "value": UPDATE_SIGNLS["name"]}])
    manage.clear_requests()
    result = ensure_rule(manage, UPDATE_SIGNLS, batch_interval=5)
    assert result["changed"] is True and result["workflow_rule"]["id"] == other_id
    writes = written_paths(manage)
    assert writes[0] == ("PATCH", "%s/%d" % (RULES, other_id))
    assert not [path for _method, path in writes if path.startswith("%s/%d" % (RULES, old_id))], writes
    assert outside.get("%s/%d" % (RULES, other_id))["name"] == UPDATE_SIGNLS["name"]
    assert outside.get("%s/%d" % (RULES, old_id))["name"] == "Old Update Signls"


def second_rule_named(manage, name, like_id):
    """A rule of the same name, made outside the run (Manage does not refuse it)."""
    outside = outside_client(manage)
    model = outside.get("%s/%d" % (RULES, like_id))
    return outside.create(RULES, {"name": name, "tableType": {"id": model["tableType"]["id"]},
                                  "board": {"id": model["board"]["id"]}})["id"]


def test_a_hint_that_still_holds_is_verified_before_the_first_write(manage, seeded):
    """Rule A still has its name, but a second rule named A appeared after the hint was made: the
    check before the write finds the name ambiguous, and nothing is written."""
    hint_the_run(manage)
    second_rule_named(manage, UPDATE_SIGNLS["name"], seeded[UPDATE_SIGNLS["name"]])
    manage.clear_requests()
    result = ensure_rule(manage, UPDATE_SIGNLS, batch_interval=5)
    assert result.get("failed") and result["msg"] == AMBIGUOUS % UPDATE_SIGNLS["name"], result
    assert written_paths(manage) == []
    conditions = [conditions for _path, conditions, _status in rule_reads(manage) if conditions]
    assert conditions == [['name = "%s"' % UPDATE_SIGNLS["name"]]]  # the check before the write


@pytest.mark.parametrize("hinted", [False, True], ids=["first task", "after another task's list"])
def test_an_ambiguous_name_still_fails_with_the_same_message(manage, seeded, hinted):
    second_rule_named(manage, UPDATE_SIGNLS["name"], seeded[UPDATE_SIGNLS["name"]])
    if hinted:
        hint_the_run(manage)
    manage.clear_requests()
    for check_mode in (True, False):
        result = ensure_rule(manage, UPDATE_SIGNLS, check_mode=check_mode, batch_interval=5)
        assert result.get("failed") and result["msg"] == AMBIGUOUS % UPDATE_SIGNLS["name"], result
    assert written_paths(manage) == []
    assert [path for path, _conditions, _status in rule_reads(manage)] == [RULES, RULES]  # no usable hint


def test_without_shared_lookups_the_rule_is_queried_by_name(manage, seeded):
    """A client that shares nothing reads only its rule, by a conditions query, and hints nothing."""
    client = outside_client(manage)
    assert client.shared_lookups is None
    assert find_rule(client, UPDATE_SIGNLS["name"])["id"] == seeded[UPDATE_SIGNLS["name"]]
    assert rule_reads(manage) == [(RULES, ['name = "%s"' % UPDATE_SIGNLS["name"]], 200),
                                  ("%s/%d/events" % (RULES, seeded[UPDATE_SIGNLS["name"]]), None, 200)]
