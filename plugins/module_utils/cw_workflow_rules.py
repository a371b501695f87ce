# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Workflow rules (``/system/workflows``) with their events, actions and the custom-field values those
set, as an object kind. It runs the recipe of every kind (``ObjectKind.apply``) in three parts:

- read (:mod:`cw_workflow_read`): the rule by name with its events; actions and values where compared;
- plan (:mod:`cw_workflow_plan`): every option checked, every name resolved and every event and action
  matched with what exists, before the first write (``desired``);
- write (:mod:`cw_workflow_write`): the rule by the engine, then its events and actions (``finish``),
  folded into one nested diff.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.cw_client import condition
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_objects import ManageResource
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_paths import WORKFLOWS
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_workflow_plan import RulePlan
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_workflow_read import find_rule, without_info
from ansible_collections.signl4.connectwise.plugins.module_utils.cw_workflow_write import RULE_RULES, ChildWriter
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.object_kind import ObjectKind
from ansible_collections.signl4.connectwise.plugins.module_utils.validation import require_length


class RuleResource(ManageResource):
    """The rule, found by name with its events; read again by name after a create."""

    def __init__(self, client, name):
        super().__init__(client, WORKFLOWS, condition("name", "=", name), "workflow rule", name_field="name", name=name)

    def find(self):
        return find_rule(self.client, self.name)

    def adopt(self, winner):
        raise InputError(f"another run created workflow rule {self.name!r} at the same moment; its copy (id "
                         f"{winner.get('id')}) is kept and this run's deleted; run again to converge on it")


class WorkflowRules(ObjectKind):
    """The outcome's object is the nested rule; its diff nests events and actions."""

    result_key = "workflow_rule"
    plan = None

    def resource(self, params):
        name = params["name"].strip()
        require_length(name, 100, "name")
        return RuleResource(self.client, name)

    def desired(self, params, current):
        self.plan = RulePlan(self.client, self.spec, params, current, self.check_mode)
        return self.plan.fields

    def rules(self, params):
        return RULE_RULES

    def finish(self, params, resource, outcome):
        if self.plan is not None:
            ChildWriter(self.client, self.check_mode).ensure(self.plan, outcome)
        outcome.before, outcome.after = without_info(outcome.before), without_info(outcome.after)
