# -*- coding: utf-8 -*-
# Copyright: (c) 2026, signl4.connectwise contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Directories and files on the controller that only this user may touch: the run cache
(``run_cache``) and the object locks (``object_lock``).

Without ``XDG_RUNTIME_DIR`` (cron, CI, ``sudo``, containers) they live in the shared temporary
directory, where another local user could create the directory first: to plant cache entries, to
point a lock file at a file of the victim's through a symbolic link, or to hold a lock forever. So
every read and every write opens the directory without following a symbolic link and checks, on
the open directory, that it is a directory, owned by this user, and closed to everyone else (mode
0700); files are then opened relative to that checked directory, never through a symbolic link,
created exclusively (a new file is written under a fresh name and renamed into place) and checked
to be this user's regular files of mode 0600.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import os
import stat
import tempfile
from contextlib import contextmanager

from ansible_collections.signl4.connectwise.plugins.module_utils.errors import InputError

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


class UnsafeStateError(InputError):
    """A private directory or file of this collection is not private: names it and says what is wrong."""


def _uid():
    return os.getuid() if hasattr(os, "getuid") else None


def base_directory():
    """``$XDG_RUNTIME_DIR`` when it is a directory of this user's, else the temporary directory."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        try:
            info = os.stat(runtime)
            if stat.S_ISDIR(info.st_mode) and info.st_uid == _uid():
                return runtime
        except OSError:
            pass
    return tempfile.gettempdir()


def default_path(prefix):
    """``<base directory>/<prefix>-<uid>``: one directory per user."""
    return os.path.join(base_directory(), "%s-%s" % (prefix, _uid() if _uid() is not None else "user"))


def _problem(info, kind, mode):
    """What makes ``info`` (an ``os.stat_result``) unfit to be this user's private ``kind``, or ``None``."""
    if kind == "directory" and not stat.S_ISDIR(info.st_mode) or kind == "file" and not stat.S_ISREG(info.st_mode):
        return "is not a %s" % ("directory" if kind == "directory" else "regular file")
    if _uid() is not None and info.st_uid != _uid():
        return "is owned by uid %d, not by this user (uid %d)" % (info.st_uid, _uid())
    if stat.S_IMODE(info.st_mode) & 0o077:
        return "is open to other users (mode %04o, not %04o)" % (stat.S_IMODE(info.st_mode), mode)
    return None


@contextmanager
def private_directory(path, what, hint):
    """The open, checked directory ``path`` (a file descriptor), created with mode 0700 when missing.
    Raises :class:`UnsafeStateError` naming ``what`` (``"the run cache directory"``) and ``path``, and
    ending with ``hint`` (how to use another directory)."""
    def refuse(problem):
        return UnsafeStateError("%s %s %s; remove it or %s" % (what, path, problem, hint))

    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise UnsafeStateError("%s %s cannot be created (%s); %s" % (what, path, exc.strerror or exc, hint))
    try:
        fd = os.open(path, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
    except OSError as exc:
        is_link = os.path.islink(path)
        raise refuse("is a symbolic link" if is_link else "cannot be opened (%s)" % (exc.strerror or exc))
    try:
        problem = _problem(os.fstat(fd), "directory", 0o700)
        if problem:
            raise refuse(problem)
        yield fd
    finally:
        os.close(fd)


def open_private_file(directory_fd, name, flags=os.O_RDONLY):
    """``name`` in the checked directory opened with ``flags``, never through a symbolic link, and
    checked to be this user's regular file closed to others (:class:`UnsafeStateError` otherwise)."""
    fd = os.open(name, flags | _NOFOLLOW | _CLOEXEC, 0o600, dir_fd=directory_fd)
    try:
        problem = _problem(os.fstat(fd), "file", 0o600)
    except OSError:
        os.close(fd)
        raise
    if problem:
        os.close(fd)
        raise UnsafeStateError("the file %s %s" % (name, problem))
    return fd


def read_private_file(directory_fd, name, limit):
    """The content of ``name`` (at most ``limit`` bytes; a larger file is :class:`UnsafeStateError`)."""
    fd = open_private_file(directory_fd, name)
    try:
        parts, size = [], 0
        while True:
            piece = os.read(fd, min(65536, limit + 1 - size))
            if not piece:
                return b"".join(parts)
            size += len(piece)
            if size > limit:
                raise UnsafeStateError("the file %s is larger than %d bytes" % (name, limit))
            parts.append(piece)
    finally:
        os.close(fd)


def write_private_file(directory_fd, name, data):
    """``name`` replaced by ``data``: written to a new file (created exclusively, mode 0600) that is then
    renamed over it, so a reader never sees half an entry and nothing is written through a link."""
    temp = ".tmp-%s" % binascii.hexlify(os.urandom(8)).decode("ascii")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600, dir_fd=directory_fd)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(temp, name, src_dir_fd=directory_fd, dst_dir_fd=directory_fd)
    except BaseException:
        try:
            os.unlink(temp, dir_fd=directory_fd)
        except OSError:
            pass
        raise


def remove_private_file(directory_fd, name):
    os.unlink(name, dir_fd=directory_fd)
