"""Fixtures the emulator tests share: the module-scoped Manage emulator (``server``), a client of it reset
before each test (``cw``), a client of the SIGNL4 emulator (``api``) and a webhook receiver."""

import pytest

from tests.conftest import manage_emulator
from tests.emulators.receiver import Receiver
from tests.integration.emulators.test_manage_emulator import Api
from tests.integration.emulators.test_signl4_emulator import Api as Signl4Api


@pytest.fixture(scope="module")
def server():
    with manage_emulator() as emulator:
        yield emulator


@pytest.fixture
def cw(server):
    """``server`` (a module may start its own), reset, and its API with valid credentials."""
    server.reset()
    return Api(server)


@pytest.fixture
def api(signl4):
    return Signl4Api(signl4)


@pytest.fixture
def receiver():
    box = Receiver()
    yield box
    box.stop()
