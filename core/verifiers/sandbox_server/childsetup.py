"""Turning a fresh fork into a sandboxed child: fds, rlimits, uid, directory, environment.

The limits and environment are planned BEFORE the fork (limits_plan, env_plan): every object
a child creates costs it copy-on-write page faults, and forks are the hot path. The program's
stdout/stderr go to root-owned files in its workdir (output_files), read back capped.
limits_plan is pure given CONFIG: unit-tested in tests/verifiers/sandbox_server/."""
from __future__ import annotations

import io
import math
import os
import resource
import sys

from .libc import PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, prctl
from .results import decode_capped
from .state import CONFIG
from .wire import MAX_FD


def output_files(workdir: str) -> tuple[int, int]:
    """The program's stdout and stderr: files in its workdir, opened here (root-owned 0600),
    read back through these fds even if the program unlinks them. Files instead of pipes:
    nobody has to drain them while the tests run (RLIMIT_FSIZE caps them)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_APPEND
    return (os.open(os.path.join(workdir, ".stdout"), flags, 0o600),
            os.open(os.path.join(workdir, ".stderr"), flags, 0o600))


def read_output(fd: int, cap: int) -> str:
    try:
        data = os.pread(fd, cap + 1, 0)
    except OSError:
        data = b""
    return decode_capped(data, cap)


def env_plan(spec: dict, workdir: str) -> list[tuple[str, str]]:
    # The zygote's environment already holds only BASE_ENV (set at start): a few per-run
    # values go on top (clearing and refilling it costs hundreds of page faults per fork).
    env = {"HOME": workdir, "TMPDIR": workdir}
    env.update({k: str(v).replace("{workdir}", workdir) for k, v in spec.get("env", {}).items()})
    return list(env.items())


def child_setup(spec: dict, uid: int | None, workdir: str, stdin, stdout, stderr,
                 keep: dict[int, int], limits, dumpable: bool, cwd: str,
                 env: list | None = None, no_new_privs: bool = True) -> None:
    """In a fresh fork: new session, only the wanted fds, limits, the run's uid, no new
    privileges, its directory and environment. `limits` is a plan (limits_plan) or the kind
    of plan to make here; `env` likewise (env_plan). `no_new_privs=False` only where the
    parent already set it (it is inherited and cannot be unset: see forker.py)."""
    os.setsid()
    # Move every fd we keep above the range we are about to fill, then into place.
    wanted = {0: stdin, 1: stdout, 2: stderr, **keep}
    high = {t: os.dup(s) if s is not None else None for t, s in wanted.items()}
    for target, fd in high.items():
        if fd is not None:
            os.dup2(fd, target)
    keep_set = sorted(t for t, fd in high.items() if fd is not None)
    low = 0
    for fd in keep_set:  # close everything between the fds we keep (close_range: 1 syscall)
        if low < fd:  # never an empty range: CPython may then close from `low` upwards
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, MAX_FD)
    for which, value in (limits_plan(spec, limits) if isinstance(limits, str) else limits):
        resource.setrlimit(which, value)
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    if no_new_privs:
        prctl(PR_SET_NO_NEW_PRIVS, 1)
    if not dumpable:
        prctl(PR_SET_DUMPABLE, 0)
    os.chdir(cwd)
    os.umask(0o077)
    for key, value in (env if env is not None else env_plan(spec, workdir)):
        os.environ[key] = value


def limits_plan(spec: dict, kind: str) -> list[tuple[int, tuple[int, int]]]:
    """The rlimits of a child, computed before the fork (every object the child creates
    costs it copy-on-write page faults)."""
    mb = 1024 * 1024
    if kind == "compile":
        mem = int(spec.get("compile_memory_mb", 4096)) * mb
        cpu = int(float(spec.get("compile_timeout_s", 60))) + 1
        nproc = int(spec.get("compile_nproc", 64))
    else:
        mem = int(spec.get("memory_mb", 1024)) * mb
        cpu = int(math.ceil(float(spec["timeout_s"]))) + 1
        nproc = int(spec.get("nproc", 32))
    mem_limit = resource.RLIMIT_DATA if spec.get("memory_kind") == "data" and kind != "tests" \
        else resource.RLIMIT_AS
    fsize = int(spec.get("fsize_mb", 64)) * mb
    if kind == "tests":
        nproc = 4
    if not CONFIG.get("uids"):
        nproc += count_user_processes()  # shared uid: the limit counts all of its processes
    return [(mem_limit, (mem, mem)), (resource.RLIMIT_CPU, (cpu, cpu + 1)),
            (resource.RLIMIT_FSIZE, (fsize, fsize)), (resource.RLIMIT_CORE, (0, 0)),
            (resource.RLIMIT_NOFILE, (256, 256)), (resource.RLIMIT_NPROC, (nproc, nproc))]


def set_limits(spec: dict, kind: str) -> None:
    for which, value in limits_plan(spec, kind):
        resource.setrlimit(which, value)


def count_user_processes() -> int:
    uid = os.getuid()
    n = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    n += 1
            except OSError:
                pass
    return n + 64


class CappedWriter(io.RawIOBase):
    """fd 1 or 2 of a program, under sys.stdout / sys.stderr: writes the first `room` bytes
    and drops the rest as if written. Only that much is ever read back for the verdict, and a
    correct program that prints megabytes must pass as under the reference harness (whose
    stdout is a StringIO), not die on RLIMIT_FSIZE. `room` None: no cap (the zygote's own
    logs, stdio programs, whose output the monitor reads and judges itself)."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self.fd = fd
        self.room: int | None = None

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self.fd

    def write(self, data) -> int:
        if self.room is None:
            return os.write(self.fd, data)
        size = len(data)
        view = memoryview(data)[:self.room]
        while len(view):
            n = os.write(self.fd, view)
            view = view[n:]
            self.room -= n
        return size


def capped_stdio() -> None:
    """Once in the zygote: sys.stdout and sys.stderr over CappedWriters (uncapped until a
    program sets its room, see cap_output), with the settings of the ones they replace. Every
    fork inherits them (new ones per fork would cost each ~200 page faults)."""
    for name in ("stdout", "stderr"):
        old = getattr(sys, name)
        if old is None:
            continue
        old.flush()
        new = io.TextIOWrapper(io.BufferedWriter(CappedWriter(old.fileno())),
                               encoding=old.encoding, errors=old.errors,
                               line_buffering=old.line_buffering)
        setattr(sys, name, new)
        setattr(sys, f"__{name}__", new)


def cap_output(room: int | None) -> None:
    """In a program process: keep at most `room` bytes of each of stdout and stderr."""
    for stream in (sys.stdout, sys.stderr):
        raw = getattr(getattr(stream, "buffer", None), "raw", None)
        if isinstance(raw, CappedWriter):
            raw.room = room


def fresh_stdio() -> None:
    """New sys.std* objects: only for the rare case the inherited ones hold buffered data
    (making them costs ~200 page faults per fork, so the hot path reuses the zygote's)."""
    sys.stdin = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)),
                                 encoding="utf-8", errors="replace")
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)),
                                  encoding="utf-8", errors="replace")
    sys.stderr = io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)),
                                  encoding="utf-8", errors="backslashreplace",
                                  line_buffering=True)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr


def reuse_stdio() -> None:
    """The zygote's sys.stdin/stdout/stderr sit on fds 0-2, which the child setup pointed at
    the run's own files, and the zygote flushes them before every fork: reuse them."""
    if sys.stdin is None or sys.stdout is None or sys.stderr is None:
        fresh_stdio()


def flush_stdio() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:
            pass
