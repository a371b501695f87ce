"""Issue 18's attacks (``attacks.py``) in their quick sizes, against the real agent process and real module
runs: each must be refused. ``python -m tests.bench.security`` runs them at full size."""

import pytest

from tests.security import attacks
from tests.security.lab import Lab

pytestmark = pytest.mark.slow  # agent processes and module runs

# Not refused yet (reported, not fixed here): the masking of secrets knows JSON's escapes but not "\/" for "/",
# so a secret with a "/" that an API echoes JSON-escaped that way shows in the agent's log and a task's error.
# strict: once the masking covers it, this test passes and the mark must go.
KNOWN_OPEN = {attacks.slash_escaped_echo: "a secret echoed JSON-escaped with '\\/' for '/' is not masked"}


@pytest.fixture
def lab(manage, signl4, tmp_path):
    with Lab(manage, signl4, tmp_path, quick=True) as started:
        yield started


@pytest.mark.parametrize("attack", [
    pytest.param(attack, id=attack.__name__,
                 marks=[pytest.mark.xfail(strict=True, reason=KNOWN_OPEN[attack])] if attack in KNOWN_OPEN else [])
    for attack in attacks.ATTACKS])
def test_the_attack_is_refused(lab, attack):
    result = attack(lab)
    assert result.refused, result.report()
