"""Bounded reads of user files: regular files only, never more than a size limit.

A path may name a FIFO (opening it blocks until a writer comes), a device such as
/dev/zero (endless bytes, and st_size 0) or a file larger than memory. Every input file is
opened without blocking, checked with fstat on the opened descriptor (so the object
checked is the object read) and read up to its limit.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from forecast.errors import InputError

MiB = 2**20


def _open(path: Path, what: str) -> tuple[int, os.stat_result]:
    """An open read-only descriptor of a regular file, with its fstat."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InputError(path, f"no such file; expected a {what}") from None
    except PermissionError:
        raise InputError(path, f"cannot be read (permission denied); expected a {what}") from None
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            raise InputError(path, f"no such file (part of the path is a file); expected a {what}") from None
        raise InputError(path, f"cannot be opened ({exc.strerror}); expected a {what}") from None
    info = os.fstat(fd)
    if stat.S_ISDIR(info.st_mode):
        os.close(fd)
        raise InputError(path, f"is a directory; expected a {what}")
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise InputError(path, f"is not a regular file (a device, FIFO or socket); expected a {what}")
    return fd, info


def check_regular(path: str | Path, limit: int, what: str) -> None:
    """Refuse, without reading it, anything but a regular file of at most `limit` bytes."""
    path = Path(path)
    fd, info = _open(path, what)
    os.close(fd)
    if info.st_size > limit:
        raise InputError(path, f"is larger than {_size(limit)}; expected a {what}")


def read_bytes(path: str | Path, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (else InputError naming the file)."""
    path = Path(path)
    fd, info = _open(path, what)
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > limit:
            raise InputError(path, f"is larger than {_size(limit)}; expected a {what}")
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise InputError(path, f"cannot be read ({exc.strerror})") from None
    if len(data) > limit:     # it grew while being read
        raise InputError(path, f"is larger than {_size(limit)}; expected a {what}")
    return data


def _size(limit: int) -> str:
    return f"{limit // MiB} MiB" if limit >= MiB else f"{limit // 1024} KiB"
