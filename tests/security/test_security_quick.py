"""Issue 18's attacks (``attacks.py``) in their quick sizes, against the real agent process and real module
runs: each must be refused. ``python -m tests.bench.security`` runs them at full size."""

import pytest

from tests.security import attacks
from tests.security.lab import Lab

pytestmark = pytest.mark.slow  # agent processes and module runs


@pytest.fixture
def lab(manage, signl4, tmp_path):
    with Lab(manage, signl4, tmp_path, quick=True) as started:
        yield started


@pytest.mark.parametrize("attack", [pytest.param(attack, id=attack.__name__) for attack in attacks.ATTACKS])
def test_the_attack_is_refused(lab, attack):
    result = attack(lab)
    assert result.refused, result.report()
