"""The module-scoped Manage emulator the emulator tests share (fixture ``server``)."""

import pytest

from tests.emulators.harness import RunningEmulator
from tests.integration.emulators.test_manage_emulator import ARGS


@pytest.fixture(scope="module")
def server():
    emulator = RunningEmulator("tests.emulators.manage", ARGS)
    yield emulator
    emulator.stop()
