# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one recipe for an object kind (the README's "Adding an object kind" walks through it).

A module is its documentation, an ``ARGUMENT_SPEC`` whose entries say what each option is to the API
(:mod:`option_spec`) and ``run_kind(ManageModule, TheKind, ARGUMENT_SPEC)``. The kind, a subclass of
:class:`ObjectKind` in ``module_utils/<system>_<kinds>.py``, says

- ``identity(params)``: the name that identifies the object (it keys the controller lock), by default
  its ``name`` option;
- ``resource(params)``: the :class:`engine.Resource` that finds, creates, updates and deletes it;
- ``desired(params, current)``: the API-shaped object, by default the spec's ``payload`` with its
  references resolved (:func:`option_spec.resolve`, which takes a reference ``current`` already holds);
- ``rules(params)``: how keys compare (:class:`engine.Rules`);
- ``finish(params, resource, outcome)``: what happens after the object is ensured (a workflow rule's
  events and actions, a security role's permission drift); nothing by default.

Every kind runs the same way (:meth:`ObjectKind.apply`): input checked, a per-object lock taken, the
object read once, the desired object built from that read, :func:`engine.ensure` (check mode on the
same path), ``finish``, and one result shape. A kind object serves one task.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.engine import Rules, ensure, same_name
from ansible_collections.signl4.connectwise.plugins.module_utils.object_lock import object_lock
from ansible_collections.signl4.connectwise.plugins.module_utils.option_spec import (
    payload,
    prefetch,
    require_non_empty,
    resolve,
)


def lock_scope(client):
    """What tells two sites (and two Manage companies) apart, without any credential."""
    return tuple(str(getattr(client, attr, "")) for attr in ("host", "port", "company_id", "api_url"))


class ObjectKind:
    """One kind of API object: how a module's options become one object, found and ensured."""

    result_key = None  # the module's return value holding the object
    secret_keys = ()  # API keys shown as ``********`` in results and diffs
    # For objects the API cannot delete (API members): ``absent`` sets this flag on an existing object
    # instead, and ``present`` clears it.
    inactive_flag = None

    def __init__(self, client, spec, check_mode=False):
        self.client = client
        self.spec = spec
        self.check_mode = check_mode

    def identity(self, params):
        return params["name"]

    def resource(self, params):
        raise NotImplementedError

    def desired(self, params, current):
        assumed = params.get("assume_created") if self.check_mode else None
        return resolve(self.client, self.spec, payload(self.spec, params), current, assumed=assumed)

    def rules(self, params):
        return Rules()

    def finish(self, params, resource, outcome):
        """After the ensure (in check mode too): add children, warnings or a failure to ``outcome``."""

    def hidden_keys(self, outcome, params):
        return self.secret_keys

    def ensure(self, params):
        """Bring the object to ``params["state"]`` while holding its controller lock."""
        with object_lock("signl4.connectwise", lock_scope(self.client), type(self).__name__,
                         same_name(self.identity(params))):
            return self.apply(params)

    def apply(self, params):
        resource = self.resource(params)
        state = params["state"]
        if state == "absent":
            current, desired = resource.find(), {}
            if self.inactive_flag and current is not None:
                state, desired = "present", {self.inactive_flag: True}
        else:
            current = self.find(resource, params)
            desired = self.desired(params, current)
            desired.update(resource.identity or {})
            if self.inactive_flag:
                desired[self.inactive_flag] = False
        outcome = ensure(resource, current, desired, state, self.rules(params), self.check_mode)
        self.finish(params, resource, outcome)
        return outcome

    def find(self, resource, params):
        """``resource.find()``, with the lookups no current object can save made at the same time."""
        lookups = prefetch(self.client, self.spec, params)
        if not lookups:
            return resource.find()
        return self.client.concurrently(resource.find, *lookups)[0]


def kind_result(module, kind):
    """The module result of one ensure: ``changed``, the object, ``diff``, and what the kind adds."""
    require_non_empty(kind.spec, module.params)
    outcome = kind.ensure(module.params)
    result = module.outcome_result(outcome, kind.result_key, secret_keys=kind.hidden_keys(outcome, module.params))
    result.update(outcome.extra)
    for warning in outcome.warnings:
        module.warn(warning)
    if outcome.failure:
        module.fail_json(msg=outcome.failure, **result)
    return result


def run_kind(module_class, kind_class, spec):
    """A module's ``main()``: ``module_class`` (``ManageModule`` or ``Signl4Module``, which strip the
    spec's API keys for AnsibleModule), then one ensure of ``kind_class``."""
    module = module_class(spec)
    module.execute(lambda running: kind_result(running, kind_class(running.client, spec, running.check_mode)))
