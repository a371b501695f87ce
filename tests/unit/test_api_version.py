"""One default Manage API version (the model version of the Accept header), documented once in the doc fragment
and used by the modules and the sync agent alike (issue 19: it used to be 2025.8 for the modules and 2019.1 for the
agent and the README)."""

import os
import re

import pytest
import yaml

from ansible_collections.signl4.connectwise.plugins.doc_fragments.cw import ModuleDocFragment
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import DEFAULT_API_VERSION, ManageClient
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_module import CW_CONNECTION_SPEC
from tests.emulators.harness import REPO_ROOT

VERSION = re.compile(r"\b20\d\d\.\d+\b")


def test_the_doc_fragment_documents_the_clients_default():
    options = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert options["cw_api_version"]["default"] == DEFAULT_API_VERSION
    assert CW_CONNECTION_SPEC["cw_api_version"]["default"] == DEFAULT_API_VERSION
    assert ManageClient("http://127.0.0.1:1", "c", "p", "k", "id").api_version == DEFAULT_API_VERSION


@pytest.mark.parametrize("path", ["README.md", os.path.join("agent", "README.md")])
def test_no_readme_states_another_default(path):
    with open(os.path.join(REPO_ROOT, path), encoding="utf-8") as handle:
        rows = [line for line in handle if "api_version" in line]
    assert rows and not [row for row in rows if VERSION.search(row)], rows  # the value lives in the doc fragment


def test_the_agent_defaults_to_the_same_version(monkeypatch):
    monkeypatch.syspath_prepend(os.path.join(REPO_ROOT, "agent"))  # as the agent runs: PYTHONPATH=agent:...
    from signl4_agent.config import _schema  # pylint: disable=import-error

    assert _schema()["manage"]["api_version"][1] == DEFAULT_API_VERSION
