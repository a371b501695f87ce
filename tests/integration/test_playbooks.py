"""Real ansible-playbook runs: module_defaults groups, --check --diff output, idempotence,
and the private key in no output at -vvv."""

import os

import pytest

from tests.support.modules import recap, run_playbook

PLAYBOOK = os.path.join("tests", "integration", "playbooks", "cw_custom_fields.yml")


def env_for(manage, sequence):
    return {"TEST_CW_URL": manage.url, "TEST_CW_PRIVATE_KEY": "demoprivate", "TEST_SEQUENCE": str(sequence)}


@pytest.mark.slow
def test_playbook_is_idempotent_and_check_diff_shows_drift_without_writes(manage):
    first = run_playbook(PLAYBOOK, env_for(manage, 3))
    assert first.returncode == 0, first.stdout + first.stderr
    assert recap(first.stdout)["changed"] == 1
    second = run_playbook(PLAYBOOK, env_for(manage, 3))
    assert recap(second.stdout)["changed"] == 0

    manage.clear_requests()
    drift = run_playbook(PLAYBOOK, env_for(manage, 4), check=True)
    assert drift.returncode == 0, drift.stdout + drift.stderr
    assert recap(drift.stdout)["changed"] == 1
    assert manage.writes() == []
    assert "-    \"sequenceNumber\": 3" in drift.stdout and "+    \"sequenceNumber\": 4" in drift.stdout, drift.stdout


@pytest.mark.slow
def test_private_key_never_appears_even_at_vvv(manage):
    result = run_playbook(PLAYBOOK, env_for(manage, 5), args=["-vvv"])
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "demoprivate" not in output
    assert "ZGVtb3ByaXZhdGU" not in output  # nor its base64 form inside an Authorization header
    bad = run_playbook(PLAYBOOK, dict(env_for(manage, 5), TEST_CW_PRIVATE_KEY="Wr0ngPrivateKey"), args=["-vvv"])
    assert bad.returncode != 0 and "401" in bad.stdout
    assert "Wr0ngPrivateKey" not in bad.stdout + bad.stderr


@pytest.mark.slow
def test_malformed_list_options_never_print_the_private_key_at_vvv(manage):
    result = run_playbook(os.path.join("tests", "integration", "playbooks", "malformed_options.yml"),
                          dict(env_for(manage, 5), TEST_CW_PRIVATE_KEY="Pr1vateKeyOfTheMsp"), args=["-vvv"])
    output = result.stdout + result.stderr
    assert recap(result.stdout)["failed"] == 0 and recap(result.stdout)["ignored"] == 3, output[-3000:]
    assert output.count("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER") >= 3  # the invocations were printed, masked
    assert "Pr1vateKeyOfTheMsp" not in output
    assert manage.writes() == []
