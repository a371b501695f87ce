"""The Manage emulator's ``--new-tickets`` seeding switch: a desk with a known number of new tickets
(the load benchmark, tests/bench/agent_load.py, starts it with 50,000 tickets of which 5,000 new)."""

import pytest

from tests.conftest import manage_emulator
from tests.emulators.manage import seed
from tests.agent import support

SEEDED_NEW = sum(1 for ticket in seed.TICKETS if ticket[3] == seed.NEW_STATUS)


@pytest.fixture(scope="module")
def desk():
    with manage_emulator("--tickets", "30", "--new-tickets", "10") as emulator, support.manage_client(emulator) as client:
        yield client


def test_the_last_n_generated_tickets_are_new_and_no_other(desk):
    new = desk.list("/service/tickets", conditions='status/name = "%s"' % seed.NEW_STATUS)
    generated = [t for t in new if t["summary"].startswith("Generated ticket")]
    assert sorted(t["summary"] for t in generated) == ["Generated ticket %05d" % n for n in range(21, 31)]
    assert len(new) == 10 + SEEDED_NEW
    assert desk.count("/service/tickets") == len(seed.TICKETS) + 30


def test_the_other_generated_tickets_take_the_other_statuses_in_turn(desk):
    rest = desk.list("/service/tickets", conditions='summary like "Generated ticket%" AND id < 32')
    statuses = {t["status"]["name"] for t in rest}
    assert statuses == set(seed.GENERATED_STATUSES[1:])


def test_without_the_switch_every_generated_status_comes_in_turn():
    assert [seed.generated_status(n) for n in range(1, 6)] == seed.GENERATED_STATUSES[1:] + seed.GENERATED_STATUSES[:1]
    assert [seed.generated_status(n, 2, 4) for n in range(1, 5)] == [seed.GENERATED_STATUSES[2],
                                                                     seed.GENERATED_STATUSES[3], seed.NEW_STATUS,
                                                                     seed.NEW_STATUS]
