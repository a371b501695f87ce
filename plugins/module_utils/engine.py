# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The declarative engine: desired vs current, normalisation, a diff limited to the keys that
differ, the minimal change set, and check mode on the same path as a real run.

A module describes *how* each key of its resource compares (``Rules``), builds the desired
object in the API's own shape (names already resolved to ids) and hands both to
:func:`ensure` together with a :class:`Resource` adapter that knows how to find, create,
update and delete. Only the final write differs between check mode and a real run.

Conventions:
- a desired key whose value is ``None`` was not given by the user and is never compared;
- lists of dicts are matched by an explicit key and merged (``KeyedList``), with ``purge``
  deciding what happens to current entries the user did not list; an omitted list changes nothing;
- secret keys are compared, but shown as ``MASK`` in the diff and in returned objects;
- the current object is read by the caller, once (``ObjectKind.apply``; a workflow rule's events and
  actions are read with the rule), and passed in;
- child objects that live at their own endpoints (a workflow rule's events) are ensured one by
  one: :func:`pair_by_key` matches them and :meth:`Outcome.add_children` folds their outcomes into
  the parent's, so the diff nests (``events: {name: {...}}``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError, OutcomeUnknownError
from ansible_collections.signl4.connectwise.plugins.module_utils.redaction import MASK


# ----- comparison rules -------------------------------------------------------------

class Exact:
    """Plain equality (the default)."""

    def differs(self, desired, current):
        return desired != current

    def merged(self, desired, current):
        return desired


def same_name(name):
    """The one name-matching rule of the collection: case is ignored and surrounding spaces are
    stripped, so ``"Robust Hook "`` and ``"robust hook"`` name the same object."""
    return str(name if name is not None else "").strip().casefold()


def name_in(names, name):
    """Whether ``name`` is one of ``names`` by :func:`same_name`."""
    return same_name(name) in {same_name(item) for item in names or []}


class CaseInsensitive(Exact):
    """Names (and name-like keys such as a callback's type): compared by :func:`same_name`."""

    def differs(self, desired, current):
        return same_name(desired) != same_name(current)


class Reference(Exact):
    """A Manage-style reference object: equal when the ids are equal."""

    def differs(self, desired, current):
        return (desired or {}).get("id") != (current or {}).get("id")


class Unordered(Exact):
    """A list whose order carries no meaning (ids, tags)."""

    def differs(self, desired, current):
        return sorted(desired or [], key=repr) != sorted(current or [], key=repr)


class KeyedList:
    """A list of dicts matched by ``key``; each entry is compared with ``item_rules``.

    The merged value keeps current entries' server-side keys (ids), updates the ones the user
    listed, appends new ones, and drops unlisted ones only when ``purge`` is true. Order alone
    is never a change.
    """

    def __init__(self, key, purge=True, item_rules=None, normalize_key=None):
        self.key = key
        self.purge = purge
        self.item_rules = item_rules or Rules()
        self.normalize_key = normalize_key or (lambda value: value)

    def _index(self, items):
        return {self.normalize_key(item.get(self.key)): item for item in items or []}

    def differs(self, desired, current):
        current_index = self._index(current)
        desired_index = self._index(desired)
        for key, item in desired_index.items():
            if key not in current_index or changed_keys(item, current_index[key], self.item_rules):
                return True
        return bool(self.purge and set(current_index) - set(desired_index))

    def merged(self, desired, current):
        desired_index = self._index(desired)
        result = []
        for item in current or []:
            key = self.normalize_key(item.get(self.key))
            if key in desired_index:
                result.append(merge_dict(item, desired_index.pop(key), self.item_rules))
            elif not self.purge:
                result.append(item)
        for item in desired or []:
            if self.normalize_key(item.get(self.key)) in desired_index:
                result.append(prune_none(item))
        return result


class Rules(dict):
    """``{api_key: rule}``; keys without a rule compare with :class:`Exact`."""

    def rule(self, key):
        return self.get(key) or EXACT


EXACT = Exact()
REFERENCE = Reference()
UNORDERED = Unordered()
CASE_INSENSITIVE = CaseInsensitive()


# ----- dict helpers -----------------------------------------------------------------

def prune_none(desired):
    """Drop the keys the user did not give (value ``None``), recursively for dicts."""
    if isinstance(desired, dict):
        return {k: prune_none(v) for k, v in desired.items() if v is not None}
    if isinstance(desired, list):
        return [prune_none(v) for v in desired]
    return desired


def changed_keys(desired, current, rules):
    """The desired keys whose value differs from the current object, in desired order."""
    current = current or {}
    return [key for key, value in desired.items()
            if value is not None and rules.rule(key).differs(value, current.get(key))]


def merge_dict(current, desired, rules):
    """The object ``current`` becomes once ``desired`` is applied."""
    result = dict(current)
    for key in changed_keys(desired, current, rules):
        result[key] = rules.rule(key).merged(desired[key], current.get(key))
    return result


def mask(obj, secret_keys):
    """A deep copy with every secret key's value replaced by ``MASK`` (at any depth)."""
    if not secret_keys:
        return obj
    if isinstance(obj, dict):
        return {k: MASK if (k in secret_keys and v is not None) else mask(v, secret_keys) for k, v in obj.items()}
    if isinstance(obj, list):
        return [mask(v, secret_keys) for v in obj]
    return obj


def _mask_after(before, after, secret_keys):
    if not secret_keys or not isinstance(after, dict):
        return mask(after, secret_keys)
    before = before if isinstance(before, dict) else {}
    result = {}
    for key, value in after.items():
        if key in secret_keys and value is not None:
            result[key] = MASK + " (changed)" if key in before and before[key] != value else MASK
        else:
            result[key] = _mask_after(before.get(key), value, secret_keys)
    return result


# ----- ensure ----------------------------------------------------------------------

class Resource:
    """Adapter between the engine and one API object. Subclasses implement the four calls."""

    # What identifies the object, in the API's shape (``{"name": "SIGNL4"}``, a callback's type, level and
    # object id): part of every desired object. Known once :meth:`find` has run.
    identity = None

    def find(self):
        """The current object, or ``None`` when it does not exist. Read once per task, by
        ``ObjectKind.apply``, which hands it to :func:`ensure`."""
        raise NotImplementedError

    def validate(self, desired, current):
        """Raise ``InputError`` when ``desired`` cannot be applied to ``current`` (``None`` on
        create). Runs before any write, in check mode too."""

    def create(self, desired):
        """Create from the desired object; return the created object."""
        raise NotImplementedError

    def update(self, current, changes, after):
        """Apply ``changes`` (``{key: merged value}``); return the updated object."""
        raise NotImplementedError

    def delete(self, current):
        raise NotImplementedError

    def matches(self):
        """Every existing object with this one's identity, read afresh from the API, or ``None``
        when the kind cannot tell (then a create is trusted as it is). Used after a create to
        resolve a race with a parallel run and after a write whose outcome is unknown."""
        return None

    def reread(self, desired):
        """After a create whose outcome is unknown: the objects with the identity of ``desired``, read
        afresh (by default :meth:`matches`). A child that needs no race check can still answer this."""
        return self.matches()

    def adopt(self, winner):
        """After a create race lost to a parallel run (our copy is deleted): the object to carry
        on with. A kind whose children would then be written twice raises instead."""
        return winner


def object_id(obj):
    """A sort key for an object's id: ints by value, string ids (GUIDs) by length then text."""
    value = (obj or {}).get("id")
    if value is None:
        value = (obj or {}).get("instanceId")
    return (len(str(value)), str(value))


def create(resource, desired):
    """Create, then make sure exactly one object with this identity exists.

    - A POST whose outcome is unknown (``OutcomeUnknownError``: a 5xx after sending, a read
      timeout) is never repeated: the object is re-read, and the error stands only when it is
      not there.
    - When a parallel run created the same object at the same time, every run keeps the one with
      the lowest id and deletes its own if that is not it, so all of them converge on one object.
    """
    try:
        created = resource.create(desired)
    except OutcomeUnknownError:
        found = resource.reread(desired)
        if not found:
            raise
        return min(found, key=object_id)
    found = resource.matches()
    if not found or len(found) < 2:
        return created
    winner = min(found, key=object_id)
    if object_id(winner) == object_id(created):
        return created
    resource.delete(created)
    return resource.adopt(winner)


class Outcome:
    """What one ensure did (or would do in check mode)."""

    def __init__(self, changed, obj, before, after, action):
        self.changed = changed
        self.object = obj
        self.before = before
        self.after = after
        self.action = action  # "create", "update", "delete" or "none"
        # What a kind adds to the module's result: more return values, warnings, and a reason to
        # fail the task after all (a security role's permission matrix that differs, say).
        self.extra = {}
        self.warnings = []
        self.failure = None

    def diff(self, secret_keys=()):
        """Before and after with secrets masked; a secret that changes shows as ``MASK (changed)``
        on the after side, so the diff does not look empty."""
        return {"before": mask(self.before, secret_keys), "after": _mask_after(self.before, self.after, secret_keys)}

    def add_children(self, field, children):
        """Fold in the outcomes of child objects that live at their own endpoints, given as
        ``[(key, Outcome)]`` (a workflow rule's events by name, say). This object changed when a
        child changed, and its diff gains ``field: {key: child diff}`` for each changed child: a
        created child shows only on the after side, a deleted one only on the before side."""
        changed = [(key, child) for key, child in children if child.changed]
        if not changed:
            return self
        before = {key: child.before for key, child in changed if child.action != "create"}
        after = {key: child.after for key, child in changed if child.action != "delete"}
        # Copies: on a check-mode create ``after`` is the predicted object itself.
        self.before, self.after = dict(self.before), dict(self.after)
        if before:
            self.before[field] = before
        if after:
            self.after[field] = after
        self.changed = True
        if self.action == "none":
            self.action = "update"
        return self

    def absorb(self, later):
        """Fold in a later ensure of the same object, for a change that has to wait (a flag the
        API accepts only once the object's children exist). Per key, ``before`` keeps the first
        value and ``after`` the last; ``object`` becomes the later one's."""
        if not later.changed:
            return self
        before = dict(later.before)
        before.update(self.before)
        after = dict(self.after)
        after.update(later.after)
        self.before, self.after, self.object = before, after, later.object
        self.changed = True
        if self.action == "none":
            self.action = later.action
        return self


def pair_by_key(desired, current, key, normalize_key=None, what="entries"):
    """Match child objects that live at their own endpoints by ``key(item)``.

    Returns ``[(key, desired item or None, current item or None)]``: the desired items in their
    order, then the current items nobody asked for (the caller purges or keeps them). An omitted
    list (``desired=None``) pairs every current item with ``None``. Two desired items with one key,
    or a desired key that several current items share, raise :class:`InputError`: no write could
    be right then.
    """
    normalize_key = normalize_key or (lambda value: value)
    current_by_key = {}
    for item in current or []:
        current_by_key.setdefault(normalize_key(key(item)), []).append(item)
    pairs, seen = [], set()
    for item in desired or []:
        label = key(item)
        wanted = normalize_key(label)
        if wanted in seen:
            raise InputError(f"duplicate {what}: {label}")
        seen.add(wanted)
        matches = current_by_key.get(wanted, [])
        if len(matches) > 1:
            raise InputError("%d existing %s share the key %r; remove the extra ones first" % (len(matches), what, label))
        pairs.append((label, item, matches[0] if matches else None))
    for wanted, items in current_by_key.items():
        if wanted not in seen:
            pairs.extend((key(item), None, item) for item in items)
    return pairs


def ensure(resource, current, desired, state="present", rules=None, check_mode=False):
    """Bring one object from ``current`` (as read, ``None`` when it does not exist) to ``state``.
    ``desired`` is API-shaped; ``None`` values are ignored.

    The diff holds only the keys that change (all desired keys on create, the whole current
    object on delete). In check mode nothing is written and ``object`` is the prediction.
    """
    rules = rules or Rules()
    if state == "absent":
        if current is None:
            return Outcome(False, None, {}, {}, "none")
        if not check_mode:
            resource.delete(current)
        return Outcome(True, None, current, {}, "delete")

    desired = prune_none(desired)
    resource.validate(desired, current)
    if current is None:
        created = desired if check_mode else create(resource, desired)
        return Outcome(True, created, {}, desired, "create")

    keys = changed_keys(desired, current, rules)
    if not keys:
        return Outcome(False, current, {}, {}, "none")
    after = merge_dict(current, desired, rules)
    changes = {key: after[key] for key in keys}
    before = {key: current.get(key) for key in keys}
    updated = after if check_mode else resource.update(current, changes, after)
    return Outcome(True, updated, before, changes, "update")
