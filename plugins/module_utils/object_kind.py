# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one recipe for an object kind (the README's "Architecture" section walks through it).

A module is its documentation, an ``ARGUMENT_SPEC`` whose entries carry their API key
(:mod:`option_spec`) and ``run_kind(ManageModule, TheKind, ARGUMENT_SPEC)``. The kind, a
subclass of :class:`ObjectKind` in ``module_utils/<system>_<kinds>.py``, says

- ``identity(params)``: the name that identifies the object (it keys the controller lock);
- ``resource(params)``: the :class:`engine.Resource` that finds, creates, updates and deletes it;
- ``desired(params, resource)``: the API-shaped object (``payload`` of the spec plus names
  resolved to references);
- ``rules(params)``: how keys compare (:class:`engine.Rules`);

and may override ``apply`` (a rule's events and actions) or ``report`` (what a security role's
permission matrix adds to the result). Every kind runs the same way: input checked, a per-object
lock taken, :func:`engine.ensure` (check mode on the same path), and one result shape.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.engine import Rules, ensure, same_name
from ansible_collections.signl4.connectwise.plugins.module_utils.errors import StaleLookupError
from ansible_collections.signl4.connectwise.plugins.module_utils.object_lock import object_lock
from ansible_collections.signl4.connectwise.plugins.module_utils.option_spec import (
    argument_spec,
    payload,
    require_non_empty,
)


def lock_scope(client):
    """What tells two sites (and two Manage companies) apart, without any credential."""
    return tuple(str(getattr(client, attr, "")) for attr in ("host", "port", "company_id", "api_url"))


class ObjectKind:
    """One kind of API object: how a module's options become one object, found and ensured."""

    result_key = None  # the module's return value holding the object
    secret_keys = ()  # API keys shown as ``********`` in results and diffs

    def __init__(self, client, spec):
        self.client = client
        self.spec = spec

    def identity(self, params):
        raise NotImplementedError

    def resource(self, params):
        raise NotImplementedError

    def desired(self, params, resource):
        return payload(self.spec, params)

    def rules(self, params):
        return Rules()

    def hidden_keys(self, outcome, params):
        return self.secret_keys

    def ensure(self, params, check_mode=False):
        """Bring the object to ``params["state"]`` while holding its controller lock."""
        with object_lock("signl4.connectwise", lock_scope(self.client), type(self).__name__,
                         same_name(self.identity(params))):
            try:
                return self.apply(params, check_mode)
            except StaleLookupError:
                # A name shared by another task changed; nothing was sent with it. Work the object out again.
                return self.apply(params, check_mode)

    def apply(self, params, check_mode):
        resource = self.resource(params)
        desired = self.desired(params, resource) if params["state"] == "present" else {}
        return ensure(resource, desired, params["state"], self.rules(params), check_mode)


def kind_result(module, kind):
    """The module result of one ensure: ``changed``, the object, ``diff``, and what the kind adds."""
    require_non_empty(kind.spec, module.params)
    outcome = kind.ensure(module.params, module.check_mode)
    result = module.outcome_result(outcome, kind.result_key, secret_keys=kind.hidden_keys(outcome, module.params))
    result.update(outcome.extra)
    for warning in outcome.warnings:
        module.warn(warning)
    if outcome.failure:
        module.fail_json(msg=outcome.failure, **result)
    return result


def run_kind(module_class, kind_class, spec):
    """A module's ``main()``: ``module_class`` (``ManageModule`` or ``Signl4Module``) built from the
    spec without its API keys, then one ensure of ``kind_class``."""
    module = module_class(argument_spec(spec))
    module.execute(lambda running: kind_result(running, kind_class(running.client, spec)))
