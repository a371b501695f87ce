# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A per-object lock on the controller, so parallel runs (forks, several playbooks) that touch
the same object take turns between reading it and writing it, and the second one finds what the
first one created instead of creating a duplicate.

The lock is an ``fcntl`` lock on a file named by a hash of the key (site, company, object kind,
name): nothing of the key, which may name a tenant, is in the file name, and the kernel releases the
lock when the process ends, however it ends. The files live in a directory only this user may use
(``$SIGNL4_CONNECTWISE_LOCK_DIR``, else ``signl4.connectwise-locks-<uid>`` under ``$XDG_RUNTIME_DIR``
when it is the user's own, else under the temporary directory), checked at every lock
(``private_state``): a directory that is not this user's, or open to others, fails the task naming it.
A lock is waited for at most ``$SIGNL4_CONNECTWISE_LOCK_TIMEOUT`` seconds (:data:`DEFAULT_TIMEOUT`),
then the task fails naming the object. Runs on different machines do not share it; for them the
engine's re-read after create resolves a race (see ``engine.create``). Where ``fcntl`` does not exist
the lock is a no-op.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import time
from contextlib import contextmanager

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError
from ansible_collections.signl4.connectwise.plugins.module_utils.private_state import (
    UnsafeStateError,
    default_path,
    open_private_file,
    private_directory,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

LOCK_DIR_ENV = "SIGNL4_CONNECTWISE_LOCK_DIR"
LOCK_TIMEOUT_ENV = "SIGNL4_CONNECTWISE_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = 120.0  # longer than any one task's work on an object: a few requests of at most 60 s each
MAX_POLL = 0.5


def lock_dir():
    """``$SIGNL4_CONNECTWISE_LOCK_DIR`` or ``<runtime or temp dir>/signl4.connectwise-locks-<uid>``."""
    return os.environ.get(LOCK_DIR_ENV) or default_path("signl4.connectwise-locks")


def lock_name(*key):
    # Imported here: only a create takes a lock, and importing hashlib costs each task ~5 ms.
    import hashlib  # pylint: disable=import-outside-toplevel

    return hashlib.sha256("\x1f".join(str(part) for part in key).encode("utf-8")).hexdigest()[:32] + ".lock"


def lock_path(*key):
    return os.path.join(lock_dir(), lock_name(*key))


def lock_timeout():
    """Seconds a lock is waited for: ``$SIGNL4_CONNECTWISE_LOCK_TIMEOUT`` or :data:`DEFAULT_TIMEOUT`."""
    configured = os.environ.get(LOCK_TIMEOUT_ENV)
    if not configured:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(configured)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 86400:
        raise InputError("%s must be a number of seconds above 0 and at most 86400, got %r" % (LOCK_TIMEOUT_ENV, configured))
    return seconds


def describe(key):
    """The object a lock key names, for people: ``workflow rule 'signl4 - trigger signls'`` from
    ``(collection, site, "WorkflowRules", name)``."""
    if len(key) < 4:
        return "object %s" % " ".join(repr(str(part)) for part in key)
    kind = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(key[2])).lower()
    kind = kind[:-1] if kind.endswith("s") else kind
    return "%s %s" % (kind, " ".join(repr(str(part)) for part in key[3:]))


def _open_lock_file(directory_fd, name):
    try:
        return open_private_file(directory_fd, name, os.O_RDWR | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return open_private_file(directory_fd, name, os.O_RDWR)


def _wait_for(fd, timeout, what, clock=time.monotonic, sleep=time.sleep):
    """Take the exclusive lock on ``fd``, waiting at most ``timeout`` seconds."""
    ends, pause = clock() + timeout, 0.01
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        if clock() >= ends:
            raise InputError("another run has held the lock of %s for %g s (this task waited that long): if no "
                             "other run is working on it, find the process holding it; %s sets the wait"
                             % (what, timeout, LOCK_TIMEOUT_ENV))
        sleep(max(0.0, min(pause, ends - clock())))
        pause = min(2 * pause, MAX_POLL)


@contextmanager
def object_lock(*key):
    """Hold the controller-wide lock for ``key`` (exclusive, waited for at most :func:`lock_timeout`)
    for the ``with`` block."""
    if fcntl is None:
        yield
        return
    timeout, directory = lock_timeout(), lock_dir()
    hint = "set %s to a directory of your own" % LOCK_DIR_ENV
    with private_directory(directory, "the lock directory", hint) as directory_fd:
        try:
            fd = _open_lock_file(directory_fd, lock_name(*key))
        except UnsafeStateError as exc:
            raise UnsafeStateError("the lock directory %s holds a lock file that is not private (%s); remove it"
                                   % (directory, exc))
        except OSError as exc:
            raise InputError("cannot open a lock file in %s (%s); %s" % (directory, exc.strerror or exc, hint))
    try:
        _wait_for(fd, timeout, describe(key))
        yield
    finally:
        os.close(fd)  # closing releases the lock
