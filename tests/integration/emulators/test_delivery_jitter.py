"""Outbound deliveries with ``jitter``: each copy is held back a random 0..jitter seconds of its own
(seeded), so notifications overtake each other and a duplicate arrives apart from its twin, as the
chaos suite (tests/bench/chaos.py) needs. On the manual clock the order is exact for a seed.
The machinery is tests/emulators/deliveries.py, shared by SIGNL4's outbound webhooks and Manage's
callbacks; it is driven here through the SIGNL4 emulator."""

from tests.integration.emulators.test_signl4_emulator import Api, subscribe

COUNT = 12


def _publish(signl4, receiver, copies=1):
    """Raise COUNT alerts (external ids 0..COUNT-1), step the manual clock past every jitter,
    and return the external ids in the order the receiver got their notifications."""
    api = Api(signl4)
    for number in range(COUNT):
        assert api.event({"Title": "jitter %d" % number, "X-S4-ExternalID": str(number)}).status_code == 201
    signl4.control("POST", "/clock", {"advance": 5})
    assert signl4.control("POST", "/outbound/drain", {"timeout": 10})["pending"] == 0
    return [int(p["alert"]["externalEventId"]) for p in receiver.wait_for(COUNT * copies)]


def test_without_jitter_notifications_arrive_in_the_order_they_were_raised(signl4, receiver):
    subscribe(Api(signl4), receiver.url)
    signl4.control("POST", "/clock", {"manual": True})
    assert _publish(signl4, receiver) == list(range(COUNT))


def test_jitter_reorders_deliveries_and_a_seed_reproduces_the_order(signl4, receiver):
    subscribe(Api(signl4), receiver.url)
    signl4.control("POST", "/clock", {"manual": True})
    signl4.control("POST", "/outbound", {"jitter": 4, "seed": 11})
    first = _publish(signl4, receiver)
    assert sorted(first) == list(range(COUNT))  # every one delivered, once
    assert first != list(range(COUNT))  # and some overtook others
    counts = signl4.control("GET", "/outbound")["counts"]
    assert counts == dict(published=COUNT, duplicated=0, delayed=COUNT, dropped=0)

    signl4.reset()
    receiver.received.clear()
    subscribe(Api(signl4), receiver.url)
    signl4.control("POST", "/clock", {"manual": True})
    signl4.control("POST", "/outbound", {"jitter": 4, "seed": 11})
    assert _publish(signl4, receiver) == first  # same seed, same order


def test_a_duplicate_arrives_apart_from_its_twin(signl4, receiver):
    subscribe(Api(signl4), receiver.url)
    signl4.control("POST", "/clock", {"manual": True})
    signl4.control("POST", "/outbound", {"jitter": 4, "seed": 5, "duplicates": 2})
    order = _publish(signl4, receiver, copies=2)
    assert sorted(order) == sorted(list(range(COUNT)) * 2)
    apart = [n for n in range(COUNT) if abs(order.index(n) - (len(order) - 1 - order[::-1].index(n))) > 1]
    assert apart  # other notifications came between the two copies of these
    assert signl4.control("GET", "/outbound")["counts"]["duplicated"] == COUNT
