# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A per-object lock on the controller, so parallel runs (forks, several playbooks) that touch
the same object take turns between reading it and writing it, and the second one finds what the
first one created instead of creating a duplicate.

The lock is an ``fcntl`` lock on a file under the user's temporary directory, named by a hash of
the key (site, company, object kind, name): nothing of the key, which may name a tenant, is in
the file name, and the kernel releases the lock when the process ends, however it ends. Runs on
different machines do not share it; for them the engine's re-read after create resolves a race
(see ``engine.create``). Where ``fcntl`` does not exist the lock is a no-op.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import tempfile
from contextlib import contextmanager

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

LOCK_DIR_ENV = "SIGNL4_CONNECTWISE_LOCK_DIR"


def lock_dir():
    """``$SIGNL4_CONNECTWISE_LOCK_DIR`` or ``<tmp>/signl4.connectwise-locks-<uid>`` (mode 0700)."""
    path = os.environ.get(LOCK_DIR_ENV) or os.path.join(
        tempfile.gettempdir(), "signl4.connectwise-locks-%s" % (os.getuid() if hasattr(os, "getuid") else "user"))
    if not os.path.isdir(path):
        try:
            os.makedirs(path, 0o700)
        except OSError:
            if not os.path.isdir(path):
                raise
    return path  # a failure to create it surfaces as InputError in object_lock


def lock_path(*key):
    # Imported here: only a create takes a lock, and importing hashlib costs each task ~5 ms.
    import hashlib  # pylint: disable=import-outside-toplevel

    digest = hashlib.sha256("\x1f".join(str(part) for part in key).encode("utf-8")).hexdigest()
    return os.path.join(lock_dir(), digest[:32] + ".lock")


@contextmanager
def object_lock(*key):
    """Hold the controller-wide lock for ``key`` (exclusive, blocking) for the ``with`` block."""
    if fcntl is None:
        yield
        return
    try:
        handle = open(lock_path(*key), "a")
    except (IOError, OSError) as exc:
        raise InputError("cannot open a lock file in %s (%s); set %s to a writable directory"
                         % (os.environ.get(LOCK_DIR_ENV) or tempfile.gettempdir(), exc, LOCK_DIR_ENV))
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        handle.close()  # closing releases the lock
