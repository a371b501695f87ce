"""Fixtures the workflow rule tests share (test_cw_workflow_rule.py, test_cw_workflow_conditions.py)."""

import pytest

from tests.integration.test_cw_workflow_rule import with_custom_fields


@pytest.fixture
def fields(manage):
    """The emulator with SIGNL4's custom fields on service tickets and an empty journal."""
    with_custom_fields(manage)
    manage.clear_requests()
    return manage
