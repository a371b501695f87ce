"""The declarative engine on plain dicts: what counts as a change, what a merge keeps, masking;
create under a race or an unknown outcome. (The option specs: test_option_specs.py.)"""

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils.engine import (
    MASK, REFERENCE, UNORDERED, KeyedList, Outcome, Resource, Rules, changed_keys, ensure, mask, merge_dict,
    create, pair_by_key, same_name,
)
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError, OutcomeUnknownError


class FakeStore(Resource):
    """An in-memory resource that records the calls the engine makes."""

    def __init__(self, current=None):
        self.current = current
        self.calls = []

    def find(self):
        return self.current

    def create(self, desired):
        self.calls.append(("create", desired))
        return dict(desired, id=1)

    def update(self, current, changes, after):
        self.calls.append(("update", changes))
        return after

    def delete(self, current):
        self.calls.append(("delete", current["id"]))


def test_unset_options_are_never_compared():
    assert changed_keys({"a": None, "b": 1}, {"a": 5, "b": 1}, Rules()) == []


def test_reference_compares_ids_only():
    assert not REFERENCE.differs({"id": 3}, {"id": 3, "name": "x", "_info": {}})
    assert REFERENCE.differs({"id": 3}, {"id": 4})


def test_unordered_ignores_order():
    assert not UNORDERED.differs([2, 1], [1, 2])
    assert UNORDERED.differs([1], [1, 2])


@pytest.mark.parametrize("purge, expected_values", [(True, ["a", "c"]), (False, ["a", "b", "c"])])
def test_keyed_list_merge_keeps_ids_and_honours_purge(purge, expected_values):
    rule = KeyedList("v", purge=purge)
    current = [{"id": 1, "v": "a", "d": False}, {"id": 2, "v": "b"}]
    desired = [{"v": "c"}, {"v": "a", "d": True}]
    merged = rule.merged(desired, current)
    assert sorted(item["v"] for item in merged) == expected_values
    assert {"id": 1, "v": "a", "d": True} in merged
    assert rule.differs(desired, current)


def test_keyed_list_reordering_alone_is_no_change():
    rule = KeyedList("v")
    assert not rule.differs([{"v": "b"}, {"v": "a"}], [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])


def test_keyed_list_without_purge_ignores_extra_current_entries():
    assert not KeyedList("v", purge=False).differs([{"v": "a"}], [{"v": "a"}, {"v": "b"}])


def test_ensure_create_update_noop_delete():
    store = FakeStore()
    outcome = ensure(store, store.current, {"name": "x", "size": 1, "note": None})
    assert (outcome.changed, outcome.action, outcome.after) == (True, "create", {"name": "x", "size": 1})
    store.current = {"id": 1, "name": "x", "size": 1, "server": "keep"}
    assert ensure(store, store.current, {"name": "x", "size": 1}).changed is False
    outcome = ensure(store, store.current, {"name": "x", "size": 2})
    assert outcome.diff() == {"before": {"size": 1}, "after": {"size": 2}}
    assert store.calls[-1] == ("update", {"size": 2})
    assert outcome.object["server"] == "keep"
    outcome = ensure(store, store.current, {}, state="absent")
    assert outcome.changed and store.calls[-1] == ("delete", 1)


def test_check_mode_predicts_without_calling_writes():
    store = FakeStore({"id": 1, "name": "x", "size": 1})
    outcome = ensure(store, store.current, {"name": "x", "size": 9}, check_mode=True)
    assert outcome.changed and outcome.object["size"] == 9
    assert ensure(store, store.current, {}, state="absent", check_mode=True).changed
    store.current = None
    assert ensure(store, None, {"name": "y"}, check_mode=True).object == {"name": "y"}
    assert store.calls == []


def test_validate_runs_before_any_write_even_in_check_mode():
    class Refusing(FakeStore):
        def validate(self, desired, current):
            raise ValueError("no")

    store = Refusing()
    for check_mode in (True, False):
        with pytest.raises(ValueError):
            ensure(store, None, {"name": "x"}, check_mode=check_mode)
    assert store.calls == []


def test_mask_hides_secret_keys_at_any_depth_and_keeps_none():
    obj = {"config": {"privateKey": "s3cret", "url": "u"}, "list": [{"privateKey": "x"}], "privateKey": None}
    masked = mask(obj, ("privateKey",))
    assert masked == {"config": {"privateKey": MASK, "url": "u"}, "list": [{"privateKey": MASK}], "privateKey": None}
    assert obj["config"]["privateKey"] == "s3cret"


def test_merge_dict_applies_rules():
    rules = Rules(tags=UNORDERED)
    assert merge_dict({"tags": [1, 2], "a": 1}, {"tags": [2, 1], "a": 2}, rules) == {"tags": [1, 2], "a": 2}


def test_a_changed_secret_is_marked_in_the_diff_without_its_value():
    store = FakeStore({"id": 1, "config": {"privateKey": "old", "uri": "u"}})
    outcome = ensure(store, store.current, {"config": {"privateKey": "new", "uri": "u"}}, check_mode=True)
    diff = outcome.diff(("privateKey",))
    assert diff == {"before": {"config": {"privateKey": MASK, "uri": "u"}},
                    "after": {"config": {"privateKey": MASK + " (changed)", "uri": "u"}}}
    assert "old" not in repr(diff) and "new" not in repr(diff)


# ----- child objects at their own endpoints ------------------------------------------------

def by_name(item):
    return item["name"]


def test_pair_by_key_matches_case_insensitively_and_lists_the_unasked_current_items_last():
    current = [{"id": 1, "name": "Old"}, {"id": 2, "name": "Keep"}]
    pairs = pair_by_key([{"name": "keep", "x": 1}, {"name": "New"}], current, by_name, str.lower, "events")
    assert pairs == [("keep", {"name": "keep", "x": 1}, {"id": 2, "name": "Keep"}),
                     ("New", {"name": "New"}, None),
                     ("Old", None, {"id": 1, "name": "Old"})]


def test_pair_by_key_with_an_omitted_list_pairs_every_current_item_with_none():
    assert pair_by_key(None, [{"name": "a"}], by_name) == [("a", None, {"name": "a"})]
    assert pair_by_key([], [], by_name) == []


def test_pair_by_key_refuses_duplicate_desired_keys_and_ambiguous_current_ones():
    with pytest.raises(InputError, match="duplicate event names: a"):
        pair_by_key([{"name": "A"}, {"name": "a"}], [], by_name, str.lower, "event names")
    with pytest.raises(InputError, match="2 existing events share the key 'A'"):
        pair_by_key([{"name": "A"}], [{"name": "A"}, {"name": "A"}], by_name, what="events")
    # Duplicates nobody asked for are just unmatched (the caller may purge them).
    assert len(pair_by_key([], [{"name": "A"}, {"name": "A"}], by_name)) == 2


def test_add_children_nests_the_changed_children_in_the_diff():
    parent = Outcome(False, {"id": 1}, {}, {}, "none")
    children = [("created", Outcome(True, {}, {}, {"c": 1}, "create")),
                ("updated", Outcome(True, {}, {"c": 1}, {"c": 2}, "update")),
                ("deleted", Outcome(True, None, {"c": 3}, {}, "delete")),
                ("same", Outcome(False, {}, {}, {}, "none"))]
    parent.add_children("events", children)
    assert parent.changed and parent.action == "update"
    assert parent.diff() == {"before": {"events": {"updated": {"c": 1}, "deleted": {"c": 3}}},
                             "after": {"events": {"created": {"c": 1}, "updated": {"c": 2}}}}


def test_add_children_without_changes_leaves_the_outcome_alone_and_never_aliases_the_object():
    quiet = Outcome(False, {"id": 1}, {}, {}, "none").add_children("events", [("a", Outcome(False, {}, {}, {}, "none"))])
    assert (quiet.changed, quiet.action, quiet.diff()) == (False, "none", {"before": {}, "after": {}})
    predicted = {"name": "rule"}
    created = Outcome(True, predicted, {}, predicted, "create")  # what ensure returns on a check-mode create
    created.add_children("events", [("a", Outcome(True, {}, {}, {"c": 1}, "create"))])
    assert predicted == {"name": "rule"} and created.after == {"name": "rule", "events": {"a": {"c": 1}}}


def test_absorb_folds_a_later_write_of_the_same_object():
    first = Outcome(True, {"id": 1, "a": 2}, {"a": 1}, {"a": 2}, "update")
    first.absorb(Outcome(True, {"id": 1, "a": 2, "on": True}, {"on": False}, {"on": True}, "update"))
    assert first.diff() == {"before": {"a": 1, "on": False}, "after": {"a": 2, "on": True}}
    assert first.object["on"] is True
    quiet = Outcome(False, {"id": 1}, {}, {}, "none")
    quiet.absorb(Outcome(True, {"id": 1, "on": True}, {"on": False}, {"on": True}, "update"))
    assert quiet.changed and quiet.action == "update" and quiet.object == {"id": 1, "on": True}
    unchanged = Outcome(True, {"id": 1}, {}, {"a": 1}, "create").absorb(Outcome(False, {"id": 9}, {}, {}, "none"))
    assert unchanged.object == {"id": 1} and unchanged.action == "create"


def test_one_name_rule():
    assert same_name(" Robust Hook ") == same_name("robust hook") != same_name("Robust Hook 2")


# ----- create: unknown outcome and races ------------------------------------------------------
class RacingResource(Resource):
    """A resource whose ``matches`` shows what a parallel run left behind."""

    def __init__(self, others=(), create_error=None, lands=True):
        self.objects = list(others)
        self.create_error = create_error
        self.lands = lands
        self.deleted = []
        self.creates = 0

    def find(self):
        return None

    def create(self, desired):
        self.creates += 1
        created = dict(desired, id=len(self.objects) + 10)
        if self.lands:
            self.objects.append(created)
        if self.create_error:
            raise self.create_error
        return created

    def matches(self):
        return list(self.objects)

    def delete(self, current):
        self.deleted.append(current["id"])
        self.objects = [o for o in self.objects if o["id"] != current["id"]]


def test_a_create_of_unknown_outcome_is_re_read_not_repeated():
    resource = RacingResource(create_error=OutcomeUnknownError("503 after sending"))
    assert create(resource, {"name": "x"})["id"] == 10 and resource.creates == 1
    lost = RacingResource(create_error=OutcomeUnknownError("503 after sending"), lands=False)
    with pytest.raises(OutcomeUnknownError):
        create(lost, {"name": "x"})
    assert lost.creates == 1


def test_a_create_race_keeps_the_lowest_id_and_deletes_our_copy():
    resource = RacingResource(others=[{"id": 3, "name": "x"}])
    assert create(resource, {"name": "x"}) == {"id": 3, "name": "x"}
    assert resource.deleted == [11] and [o["id"] for o in resource.objects] == [3]
    alone = RacingResource()
    assert create(alone, {"name": "x"})["id"] == 10 and alone.deleted == []


class FlakyWebhookApi:
    """A SIGNL4 API whose webhook POST is applied but answered with an unknown outcome."""

    def __init__(self):
        self.hooks = {}

    def webhooks(self, team_id=None):
        return list(self.hooks.values())

    def create_webhook(self, body):
        self.hooks["w1"] = dict(body, id="w1", enabled=True)  # SIGNL4 creates subscriptions enabled
        raise OutcomeUnknownError("503 after the POST was sent")

    def disable_webhook(self, webhook_id):
        self.hooks[webhook_id]["enabled"] = False

    def webhook(self, webhook_id):
        return self.hooks[webhook_id]


def test_a_webhook_whose_create_outcome_is_unknown_still_ends_disabled():
    from ansible_collections.signl4.connectwise.plugins.module_utils.signl4_webhooks import WebhookResource

    api = FlakyWebhookApi()
    outcome = ensure(WebhookResource(api, "Hook"), None, dict(name="Hook", extUrl="https://r.example.com/", enabled=False))
    assert outcome.action == "create" and outcome.object["enabled"] is False
    assert [h["enabled"] for h in api.hooks.values()] == [False]


def test_the_object_lock_excludes_a_second_holder_and_names_an_unusable_directory(tmp_path, monkeypatch):
    import fcntl

    from ansible_collections.signl4.connectwise.plugins.module_utils import object_lock

    monkeypatch.setenv(object_lock.LOCK_DIR_ENV, str(tmp_path))
    with object_lock.object_lock("site", "kind", "name"):
        with open(object_lock.lock_path("site", "kind", "name"), "a") as other:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert "name" not in "".join(p.name for p in tmp_path.iterdir())  # the key is hashed
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(object_lock.LOCK_DIR_ENV, str(tmp_path / "file" / "sub"))
    with pytest.raises(InputError, match="SIGNL4_CONNECTWISE_LOCK_DIR"):
        with object_lock.object_lock("site", "kind", "name"):
            pass


class AppliedThen503:
    """A Manage API whose POST is applied but answered with an unknown outcome."""

    def __init__(self):
        self.records = {}

    def create(self, path, body):
        self.records.setdefault(path, []).append(dict(body, id=len(self.records.get(path, [])) + 1))
        raise OutcomeUnknownError("503 after the POST was sent")

    def list(self, path, **_kwargs):
        return list(self.records.get(path, []))


def test_workflow_events_and_actions_of_unknown_outcome_are_found_again_not_posted_twice():
    from ansible_collections.signl4.connectwise.plugins.module_utils.cw_workflow_write import (
        ActionResource, EventResource)

    api = AppliedThen503()
    event = ensure(EventResource(api, 7), None, {"name": "New ticket", "eventCondition": "x"})
    assert event.object["id"] == 1 and len(api.records["/system/workflows/7/events"]) == 1
    action = {"notifyType": {"id": 1, "name": "Add Note"}, "notes": "hi"}
    created = ensure(ActionResource(api, 7, 1), None, action)
    assert created.object["id"] == 1 and len(api.records["/system/workflows/7/events/1/actions"]) == 1
