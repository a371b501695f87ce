"""The name-lookup cache both clients share: TTL, size bound, invalidation, threads."""

import threading

from ansible_collections.signl4.connectwise.plugins.module_utils.cache import LookupCache

from tests.support.clock import Clock


def test_entries_expire_after_the_ttl():
    clock = Clock()
    cache = LookupCache(ttl=60, clock=clock)
    loads = []

    def load():
        loads.append(1)
        return len(loads)

    assert cache.get_or_load("k", load) == 1
    clock.now += 59
    assert cache.get_or_load("k", load) == 1
    clock.now += 2
    assert cache.get_or_load("k", load) == 2
    assert len(loads) == 2


def test_the_oldest_entries_are_evicted_beyond_the_bound():
    cache = LookupCache(max_entries=3)
    for key in "abcd":
        cache.put(key, key.upper())
    assert len(cache) == 3 and cache.get("a") is None and cache.get("d") == "D"


def test_invalidate_by_predicate_or_all():
    cache = LookupCache()
    cache.put(("/service/boards", "name", "x"), 1)
    cache.put(("/system/members", "name", "y"), 2)
    assert cache.invalidate(lambda key: key[0] == "/service/boards") == 1
    assert cache.get(("/service/boards", "name", "x")) is None and cache.get(("/system/members", "name", "y")) == 2
    cache.invalidate()
    assert len(cache) == 0


def test_a_failed_load_is_not_cached():
    cache = LookupCache()
    loads = []

    def fail():
        loads.append(1)
        raise ValueError("no")

    for _run in range(2):
        try:
            cache.get_or_load("k", fail)
        except ValueError:
            pass
    assert cache.get("k") is None and len(loads) == 2


def test_threads_share_one_cache_safely():
    cache = LookupCache(max_entries=50)
    errors = []

    def work(offset):
        try:
            for n in range(2000):
                cache.put((offset, n % 80), n)
                cache.get((offset, (n * 7) % 80))
                if n % 97 == 0:
                    cache.invalidate(lambda key: key[1] == 3)
        except Exception as exc:  # pragma: no cover - the failure this test looks for
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(cache) <= 50
