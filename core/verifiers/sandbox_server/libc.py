"""The few libc calls the standard library lacks: unshare, mount, prctl, sethostname.

Through ctypes, bound once at import (the zygote imports this before it forks anything), so
no fork pays for loading or binding them. Errors become OSError with errno, like os.* calls."""
from __future__ import annotations

import ctypes
import os


CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8
MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 4096, 8192, 16384, 1 << 18
PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 4, 36, 38

_libc = ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags: int) -> None:
    """unshare(2): new namespaces for this process and what it forks."""
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int,
          data: str | None = None) -> None:
    """mount(2), for the private tmpfs mounts and bind mounts of isolation.py."""
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


_prctl = _libc.prctl  # bound once here, not in every fork
_prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def prctl(option: int, arg: int) -> None:
    """prctl(2) with one argument (dumpable, child subreaper, no_new_privs)."""
    _check(_prctl(option, arg, 0, 0, 0), f"prctl {option}")


def sethostname(name: str) -> None:
    """Inside the UTS namespace only: the program sees "sandbox", not the machine's name."""
    _libc.sethostname(name.encode(), len(name))
