"""The role signl4.connectwise.integration: its defaults are the seed's objects (the data files the module
tests use), its argument specs document every default it has, and it refuses an agent mode without the agent."""

import os

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

from tests.emulators.harness import REPO_ROOT

ROLE = os.path.join(REPO_ROOT, "roles", "integration")
DATA = os.path.join(REPO_ROOT, "tests", "integration", "data")


# The seed's cut-off: the role sets integration_trigger_entered_after (empty by default) to the cut-off it
# keeps (the existing rule's, else the moment of the run) before the rules are written.
SEED_CUTOFF = "2025-01-01T00:00:00Z"


def rendered_defaults(**facts):
    loader = DataLoader()
    # trusted, as Ansible trusts role defaults, so that the templates in them render
    defaults = loader.load_from_file(os.path.join(ROLE, "defaults", "main.yml"), trusted_as_template=True)
    templar = Templar(loader=loader, variables=dict(defaults, **facts))
    return {name: templar.template(value) for name, value in defaults.items()}


def load(name):
    with open(os.path.join(DATA, name)) as handle:
        return yaml.safe_load(handle)


def test_default_workflow_rules_are_the_seed_rules():
    rules = rendered_defaults(integration_trigger_entered_after=SEED_CUTOFF)["integration_workflow_rules"]
    assert rules == load("seed_workflow_rules.yml")


def test_default_security_role_is_the_seed_role():
    defaults, seed = rendered_defaults(), load("seed_security_role.yml")
    assert defaults["integration_security_role_name"] == seed["name"]
    assert defaults["integration_security_role_permissions"] == seed["permissions"]


def test_default_custom_fields_are_the_three_hidden_seed_fields():
    fields = rendered_defaults()["integration_custom_fields"]
    assert [(f["caption"], f["field_type"]) for f in fields] == [
        ("Signl4Retrieved_c", "Checkbox"), ("Signl4Status_c", "Text"), ("Signl4User_c", "Text")]


def test_argument_specs_document_every_default_with_its_value():
    with open(os.path.join(ROLE, "meta", "argument_specs.yml")) as handle:
        options = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    defaults = rendered_defaults()
    assert set(defaults) <= set(options), sorted(set(defaults) - set(options))
    for name, spec in options.items():
        if "default" in spec:
            assert defaults[name] == spec["default"], name
