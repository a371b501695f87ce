"""SharedLookups.get / put: hints one task shares with the run's others (issue 13's workflow rules),
taken without loading, verified before a write, dropped by a write to their collection."""

import pytest

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import StaleLookupError
from ansible_collections.signl4.connectwise.plugins.module_utils.run_cache import RunCache, SharedLookups

RULES = "/system/workflows"


def task(tmp_path):
    """One task of the run: its own SharedLookups on the run's cache directory."""
    return SharedLookups(RunCache(str(tmp_path)), "site")


def run_all(*loads):
    return [load() for load in loads]


def never(*loads):
    pytest.fail("nothing to verify, yet %d loads" % len(loads))


def test_get_shares_without_loading_and_verifies_before_a_write(tmp_path):
    first = task(tmp_path)
    assert first.get(RULES, "name=a", lambda: pytest.fail("get never loads")) is None
    first.put(RULES, "name=a", {"id": 5})
    first.verify(never)  # its own read: nothing to check

    second, loads = task(tmp_path), []
    assert second.get(RULES, "name=a", lambda: loads.append(1) or {"id": 5}) == {"id": 5}
    assert loads == []
    second.verify(run_all)  # unchanged: no error, and checked once only
    second.verify(run_all)
    assert loads == [1]

    third = task(tmp_path)
    assert third.get(RULES, "name=a", lambda: {"id": None, "rules": 2}) == {"id": 5}
    with pytest.raises(StaleLookupError, match="/system/workflows name=a"):
        third.verify(run_all)
    assert task(tmp_path).get(RULES, "name=a", never) is None  # shared fresh: no identity, no hint


def test_a_record_without_identity_is_no_hint_and_needs_no_check(tmp_path):
    first = task(tmp_path)
    first.put(RULES, "name=a", {"id": None, "rules": 2})
    second = task(tmp_path)
    assert second.get(RULES, "name=a", lambda: pytest.fail("not a hint: never verified")) is None
    second.verify(never)


def test_put_of_a_record_read_again_needs_no_check(tmp_path):
    task(tmp_path).put(RULES, "name=a", {"id": 5})
    second = task(tmp_path)
    assert second.get(RULES, "name=a", lambda: pytest.fail("read again since: not verified"))["id"] == 5
    second.put(RULES, "name=a", {"id": 7})  # the task read the list itself after the hint proved stale
    second.verify(never)


def test_a_write_to_the_collection_hides_hints_made_before_it(tmp_path):
    first = task(tmp_path)
    before = first.generation(RULES)
    first.invalidate(RULES + "/5/events")  # a write while the list was being read
    first.put(RULES, "name=a", {"id": 5}, generation=before)
    assert task(tmp_path).get(RULES, "name=a", never) is None
    first.put(RULES, "name=a", {"id": 5})
    assert task(tmp_path).get(RULES, "name=a", never) == {"id": 5}
    first.invalidate(RULES + "/5")
    assert task(tmp_path).get(RULES, "name=a", never) is None


class Clock:
    now = 1000.0

    def __call__(self):
        return self.now


def test_a_run_read_is_run_scoped_checked_before_a_write_and_keeps_its_short_life(tmp_path):
    clock = Clock()

    def task_of(run):
        return SharedLookups(RunCache(str(tmp_path), clock=clock), "site", run=run)

    fields = "/system/userDefinedFields"
    assert task_of("7:1").run_read(fields, "pod 10", lambda: [{"id": 1, "helpText": "a"}]) == [{"id": 1, "helpText": "a"}]
    assert task_of("8:1").run_read(fields, "pod 10", lambda: "another run reads again") == "another run reads again"
    assert task_of(None).run_read(fields, "pod 10", lambda: "no run: no sharing") == "no run: no sharing"

    later = task_of("7:1")
    assert later.run_read(fields, "pod 10", lambda: pytest.fail("shared within the run")) == [{"id": 1, "helpText": "a"}]
    with pytest.raises(StaleLookupError, match="/system/userdefinedfields pod 10"):
        later.verify(lambda *loads: [[{"id": 1, "helpText": "edited"}]])  # any change is stale, not only the ids
    assert task_of("7:1").run_read(fields, "pod 10", lambda: "gone") == [{"id": 1, "helpText": "edited"}]
    clock.now += 31  # the fresh read verify shared lives RUN_READ_TTL (30 s), not a lookup's minute
    assert task_of("7:1").run_read(fields, "pod 10", lambda: "read again") == "read again"
