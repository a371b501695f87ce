"""The SIGNL4 emulator package: ``python -m tests.emulators.signl4 --port PORT``.

Defaults (override with the flags): API key ``demo-signl4-api-key``, team secret
``demoteamsecret`` of the team "Service Desk" (``--team-id``). REST answers under ``/api/v2``,
the inbound webhook under ``/webhook/{teamSecret}``.
"""

from tests.emulators.signl4.seed import (  # noqa: F401 - the names tests and the demo use
    CONNECTWISE_APP_ID,
    CONNECTWISE_APP_NAME,
    DEFAULT_API_KEY,
    DEFAULT_TEAM_ID,
    DEFAULT_TEAM_SECRET,
    SECOND_TEAM_ID,
    SECOND_TEAM_SECRET,
    SUBSCRIPTION_ID,
    USERS,
)
