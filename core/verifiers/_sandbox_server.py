"""The sandbox server: runs inside the zygote process that core.verifiers.sandbox starts.

Loaded by file path (stdlib only, no package imports) so that the zygote starts in tens of
milliseconds and every sandboxed process is a cheap fork of it. Per Python test-suite run:

    zygote (root, pid 1 of its namespaces) -- event loop, cleanup, verdict forwarding
      |- forker (root)  -- forks U:
      |    `- U: the program under test, its own uid, limits, new session, workdir
      `- harness workers (pooled, each its own uid, not dumpable): run the problem's test
         code, call U's functions over a pipe (values cross as plain tagged JSON; anything
         else stays in U and is only referenced), report each test to the zygote.

Other runs (stdio programs, compiled languages, hand-written tests) get a monitor process
forked from the zygote that does the same with per-test program processes or a fresh harness.

The verdict comes only from the harness's report (pytests) or from the monitor's own
comparison of the program's output (stdio), so nothing the program prints, exits early with,
patches in its own process (builtins, AssertionError, ...) or returns (an object that claims
to equal everything: remote objects compare by identity) can make a test pass.
"""
from __future__ import annotations

import base64
import builtins
import ctypes
import io
import json
import marshal
import math
import numbers
import os
import resource
import select
import signal
import socket
import struct
import sys
import time
import traceback

# ----------------------------------------------------------------------------- libc

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
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int,
          data: str | None = None) -> None:
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


_prctl = _libc.prctl  # bound once here, not in every fork
_prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def prctl(option: int, arg: int) -> None:
    _check(_prctl(option, arg, 0, 0, 0), f"prctl {option}")


# ----------------------------------------------------------------------------- framing

MAX_FRAME = 64 * 1024 * 1024
MAX_FD = resource.getrlimit(resource.RLIMIT_NOFILE)[0] if resource.getrlimit(
    resource.RLIMIT_NOFILE)[0] != resource.RLIM_INFINITY else 1 << 20


class RpcBroken(BaseException):
    """The other side died or broke the protocol. BaseException: test code's own
    `except Exception` must not swallow it."""


def _read_exact(fd: int, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        try:
            chunk = os.read(fd, min(n - got, 1 << 20))
        except InterruptedError:
            continue
        except OSError as exc:
            raise RpcBroken(f"read failed: {exc}") from None
        if not chunk:
            raise RpcBroken("end of stream")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv_frame(fd: int):
    (size,) = struct.unpack(">I", _read_exact(fd, 4))
    if size > MAX_FRAME:
        raise RpcBroken(f"frame of {size} bytes is over the limit")
    try:
        return json.loads(_read_exact(fd, size))
    except (ValueError, RecursionError) as exc:
        raise RpcBroken(f"undecodable frame: {exc}") from None


def send_frame(fd: int, obj) -> None:
    data = json.dumps(obj, separators=(",", ":")).encode()
    data = struct.pack(">I", len(data)) + data
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except InterruptedError:
            continue
        except OSError as exc:
            raise RpcBroken(f"write failed: {exc}") from None
        view = view[n:]


# ----------------------------------------------------------------------------- codec
# Values cross between U and T as tagged JSON. Plain data only; anything else stays in U and
# crosses as a handle {"r": n}. Decoding never runs code, so U cannot smuggle objects (an
# "always equal" object, say) into the trusted harness.

class NotPlain(Exception):
    pass


_BIG = 1 << 512


def encode(x, ref=None, depth: int = 0):
    t = type(x)
    if x is None or t is bool or t is str:
        return x
    if t is int:
        return x if -_BIG < x < _BIG else {"i": format(x, "x")}
    if t is float:
        return x if math.isfinite(x) else {"f": repr(x)}
    if depth > 200:
        raise NotPlain("nested too deeply")
    d = depth + 1
    if t is list:
        return [encode(v, ref, d) for v in x]
    if t is tuple:
        return {"t": [encode(v, ref, d) for v in x]}
    if t is dict:
        return {"d": [[encode(k, ref, d), encode(v, ref, d)] for k, v in x.items()]}
    if t is set:
        return {"s": [encode(v, ref, d) for v in x]}
    if t is frozenset:
        return {"F": [encode(v, ref, d) for v in x]}
    if t is bytes:
        return {"b": base64.b64encode(x).decode()}
    if t is complex:
        return {"c": [encode(x.real), encode(x.imag)]}
    if ref is None:
        raise NotPlain(f"cannot pass a {t.__name__} across the sandbox boundary")
    # Subclasses and numpy-like scalars become their plain base value (computed in U).
    if isinstance(x, bool):
        return bool(x)
    if isinstance(x, numbers.Integral):
        return encode(int(x))
    if isinstance(x, numbers.Real):
        return encode(float(x))
    for base in (str, list, tuple, dict, set, frozenset, bytes):
        if isinstance(x, base):
            return encode(base(x), ref, d)
    return {"r": ref(x)}


def decode(v, resolve, depth: int = 0):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if depth > 220:
        raise RpcBroken("value nested too deeply")
    d = depth + 1
    if isinstance(v, list):
        return [decode(e, resolve, d) for e in v]
    if not isinstance(v, dict) or len(v) != 1:
        raise RpcBroken("malformed value")
    (tag, val), = v.items()
    try:
        if tag == "t":
            return tuple(decode(e, resolve, d) for e in val)
        if tag == "d":
            return {decode(k, resolve, d): decode(e, resolve, d) for k, e in val}
        if tag == "s":
            return {decode(e, resolve, d) for e in val}
        if tag == "F":
            return frozenset(decode(e, resolve, d) for e in val)
        if tag == "b":
            return base64.b64decode(val)
        if tag == "c":
            return complex(float(val[0]), float(val[1]))
        if tag == "f" and val in ("nan", "inf", "-inf"):
            return float(val)
        if tag == "i":
            return int(val, 16)
        if tag == "r" and type(val) is int:
            return resolve(val)
    except RpcBroken:
        raise
    except Exception as exc:  # unhashable keys, bad base64, ...
        raise RpcBroken(f"malformed value: {exc}") from None
    raise RpcBroken(f"unknown value tag {tag!r}")


# ----------------------------------------------------------------------------- zygote

CONFIG: dict = {}
HOST_PID = 0


def main(ctrl_fd: int) -> None:
    global CONFIG, HOST_PID
    ctrl = socket.socket(fileno=ctrl_fd)
    CONFIG = json.loads(ctrl.recv(1 << 20))
    CONFIG["profile"] = bool(os.environ.get("HALO_SANDBOX_PROFILE"))
    report = {"mode": CONFIG["mode"], "active": [], "inactive": []}
    pidns = False
    try:
        if CONFIG["mode"] == "isolated":
            pidns = _setup_isolated(report)
        else:
            _setup_basic(report)
    except OSError as exc:
        ctrl.send(json.dumps({"ready": False, "error": f"{exc}"}).encode())
        os._exit(1)
    if pidns:
        rd, wr = os.pipe()
        pid = os.fork()
        if pid:  # the waiter: stays outside the new pid namespace, exits with it
            os.close(rd)
            os.write(wr, str(pid).encode())
            os.close(wr)
            ctrl.close()
            _, status = os.waitpid(pid, 0)
            os._exit(0)
        os.close(wr)
        HOST_PID = int(os.read(rd, 64))
        os.close(rd)
        try:
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            report["active"].append("pid namespace (the sandbox sees only its own processes)")
        except OSError as exc:
            report["inactive"].append(f"private /proc: {exc}")
    else:
        HOST_PID = os.getpid()
    for name in CONFIG.get("preload", []):
        try:
            __import__(name)
        except Exception:
            pass
    # Forked children then do not copy-on-write every page the collector would touch.
    import gc
    gc.collect()
    gc.freeze()
    _base_environment()
    report["zygote_pid"] = HOST_PID
    report["zygote_ns_pid"] = os.getpid()
    ctrl.send(json.dumps({"ready": True, "report": report}).encode())
    _serve(ctrl)


def _setup_isolated(report: dict) -> bool:
    """New mount, network, IPC, UTS and pid namespaces for everything the zygote forks."""
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    try:
        unshare(flags | CLONE_NEWPID)
        pidns = True
    except OSError:
        unshare(flags)
        pidns = False
    report["active"].append("network namespace with no interfaces up (no network)")
    report["active"].append("private IPC namespace")
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    size = int(CONFIG.get("tmpfs_mb", 512))
    tmp_opts = f"size={size}m,nr_inodes=65536,mode=1777"
    # A checkout or venv may itself live under /tmp (CI clones do): keep those in view.
    _cover("/tmp", tmp_opts, [p for p in CONFIG.get("expose", []) if _under(p, "/tmp")],
           stash_root=next((d for d in ("/dev/shm", "/run", "/var/tmp") if os.path.isdir(d)
                            and not os.path.islink(d)), "/"))
    hidden = []
    for home in CONFIG.get("hide", []):
        if os.path.isdir(home):
            _hide_dir(home, [p for p in CONFIG.get("expose", []) if _under(p, home)])
            hidden.append(home)
    for blank in CONFIG.get("blank", []):
        if os.path.isdir(blank):
            mount("tmpfs", blank, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
    for extra in ("/var/tmp", "/dev/shm", "/run/lock"):
        if os.path.isdir(extra) and not os.path.islink(extra):
            try:
                mount("tmpfs", extra, "tmpfs", MS_NOSUID | MS_NODEV, tmp_opts)
            except OSError as exc:
                report["inactive"].append(f"private {extra}: {exc}")
    report["active"].append("private /tmp, /var/tmp, /dev/shm (tmpfs, swept after each run)")
    if hidden:
        report["active"].append(f"home directories hidden: {', '.join(hidden)}")
    try:
        _libc.sethostname(b"sandbox", 7)
    except Exception:
        pass
    report["active"].append("per-run unprivileged uids (RLIMIT_NPROC enforced, kill by uid)")
    return pidns


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _hide_dir(home: str, expose: list[str]) -> None:
    """Cover `home` with an empty tmpfs, then bind the toolchain directories that live
    under it (the Python prefix, a rustup sysroot) back in at the same paths."""
    _cover(home, "size=1m,mode=755", expose, stash_root="/tmp")


def _cover(target: str, opts: str, expose: list[str], stash_root: str) -> None:
    """Mount a fresh tmpfs on `target`, keeping the directories in `expose` (under it) at
    their paths: each is bind-stashed under `stash_root` (outside `target`) and moved back."""
    stash = []
    paths = sorted(set(expose))
    paths = [p for p in paths if not any(q != p and _under(p, q) for q in paths)]
    for i, path in enumerate(paths):
        if path == target or not os.path.isdir(path):
            continue
        spot = os.path.join(stash_root, f".halo-stash-{os.getpid()}-{i}")
        os.mkdir(spot, 0o700)
        mount(path, spot, None, MS_BIND | MS_REC)
        stash.append((spot, path))
    mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, opts)
    for spot, path in stash:
        os.makedirs(path, mode=0o755, exist_ok=True)
        mount(spot, path, None, MS_MOVE)
        os.rmdir(spot)


def _world_traversable(path: str) -> bool:
    """Whether a uid with no rights of its own can reach `path` (every directory on the way
    has the x bit for others)."""
    import stat as _stat
    parts = os.path.realpath(path).split("/")
    for i in range(2, len(parts) + 1):
        try:
            mode = os.stat("/".join(parts[:i]) or "/").st_mode
        except OSError:
            return False
        if _stat.S_ISDIR(mode) and not mode & 0o001:
            return False
    return True


def _setup_basic(report: dict) -> None:
    """Not root: a user namespace with a private network where the kernel allows it."""
    uid, gid = os.getuid(), os.getgid()
    try:
        if CONFIG.get("uids"):  # root without mount namespaces: a user namespace would
            unshare(CLONE_NEWNET)  # leave the per-run uids unmapped
            report["active"].append("network namespace (no network)")
            raise StopIteration
        unshare(CLONE_NEWUSER | CLONE_NEWNET)
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")
        report["active"].append("network namespace via a user namespace (no network)")
    except StopIteration:
        pass
    except OSError as exc:
        report["inactive"].append(f"network namespace: {exc} (the program can reach the network)")
    report["active"].append("process subtree kill through a child subreaper")
    if CONFIG.get("uids"):
        report["active"].append("per-run unprivileged uids (RLIMIT_NPROC enforced, kill by uid)")
        report["inactive"].append("private /tmp and hidden home directories (no mount namespace)")
        hidden = [p for p in CONFIG.get("expose", []) if not _world_traversable(p)]
        if hidden:
            report["inactive"].append("modules the zygote did not preload cannot be imported: "
                                      f"{hidden[0]} is not readable by the sandbox uids")
    else:
        report["inactive"].append("separate uid (not root): the program can write where this user can")


def _serve(ctrl: socket.socket) -> None:
    if CONFIG.get("profile"):  # developer aid: where the zygote's time goes
        import cProfile
        prof = cProfile.Profile(time.process_time)  # CPU time, not waiting
        zygote = Zygote(ctrl)
        zygote.on_exit = lambda: prof.dump_stats("/run/halo-zygote.prof")
        prof.enable()
        zygote.loop()
    Zygote(ctrl).loop()


class Frames:
    """Length-prefixed JSON frames read without blocking."""

    def __init__(self) -> None:
        self.buf = b""

    def feed(self, data: bytes) -> list:
        return [json.loads(raw) for raw in self.feed_raw(data)]

    def feed_raw(self, data: bytes) -> list[bytes]:
        self.buf += data
        out = []
        while len(self.buf) >= 4:
            (size,) = struct.unpack(">I", self.buf[:4])
            if size > MAX_FRAME:
                raise RpcBroken("frame over the limit")
            if len(self.buf) < 4 + size:
                break
            out.append(self.buf[4:4 + size])
            self.buf = self.buf[4 + size:]
        return out


class PoolRun:
    """A pytests run handled by the zygote itself: the program is forked straight from here,
    its tests run in a pooled harness worker."""

    def __init__(self, sock: int, fds: list[int], info: dict) -> None:
        self.sock, self.fds, self.uids = sock, fds, info["uids"]
        self.timeout_s = float(info.get("timeout_s", 10.0))
        self.output_cap = int(info.get("output_cap", 8192))
        self.ready = False  # both frames arrived: the program's part, then the whole spec
        self.parts: list[bytes] = []
        self.program_raw = b""
        self.frames = Frames()
        self.spec: dict | None = None
        self.worker: Worker | None = None
        self.deadline = float("inf")
        self.started = time.monotonic()
        self.workdir = workdir_for(self.uids)
        self.raw = b""  # the spec as the caller sent it, forwarded to the worker as is
        self.job_fds: list[int] = []
        self.outputs: tuple[int, int] | None = None
        self.u_pid = 0
        self.u_pidfd: int | None = None
        self.result: dict | None = None
        self.cpu: int | None = None
        self.program_gone = False


class Worker:
    def __init__(self, index: int, pid: int, sobj: socket.socket) -> None:
        self.index, self.pid, self.sobj = index, pid, sobj
        self.sock = sobj.fileno()
        self.pidfd = os.pidfd_open(pid)
        self.frames = Frames()
        self.run: PoolRun | None = None


class Zygote:
    """Forks a monitor per request (stdio runs, or when no pool can be used), or runs a
    pytests run itself: fork the program (its own uid), hand its pipes to an idle harness
    worker, forward the worker's verdict. After every run, clean up: kill what is left of the
    run's uids, remove its workdir and what the uids left in the private tmp dirs, and only
    then close the caller's socket (the caller returns on that EOF) and the uid lock."""

    MAX_WORKERS = 64
    WORKER_JOBS = 2000  # a worker retires after this many runs (bounded memory)

    def __init__(self, ctrl: socket.socket) -> None:
        self.ctrl = ctrl
        self.poller = select.poll()
        self.poller.register(ctrl.fileno(), select.POLLIN)
        self.accepting = True
        self.monitors: dict[int, tuple[list[int], dict]] = {}  # pidfd -> run
        self.runs: dict[int, PoolRun] = {}  # caller socket -> run
        self.workers: dict[int, Worker] = {}  # worker socket -> worker
        self.by_pidfd: dict[int, Worker] = {}
        self.idle: list[Worker] = []
        self.waiting: list[PoolRun] = []
        self.dying: dict[int, PoolRun] = {}  # program pidfd -> run whose verdict is in
        self.cpus = sorted(os.sched_getaffinity(0)) if CONFIG.get("pin", True) else []
        self.cpu_turn = 0
        self.forker = Forker()

    def loop(self) -> None:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # everything we fork: reaped by the kernel
        if os.getpid() != 1:
            prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans come to us even without a pid namespace
        while self.accepting or self.monitors or self.runs:
            timeout = self.next_timeout()
            try:
                events = self.poller.poll(timeout)
            except InterruptedError:
                continue
            for fd, _ in events:
                try:
                    self.dispatch(fd)
                except Exception:  # one bad run must not take the zygote (and all runs) down
                    traceback.print_exc()
                    run = self.runs.get(fd) or (self.dying.get(fd))
                    if run is not None:
                        self.finish(run, {"status": "error", "tests": [],
                                          "message": "sandbox error (see zygote.log)"})
            try:
                self.check_deadlines()
            except Exception:
                traceback.print_exc()
        self.on_exit()
        os._exit(0)

    def on_exit(self) -> None:
        pass

    def dispatch(self, fd: int) -> None:
        if fd == self.ctrl.fileno() and self.accepting:
            self.on_request()
        elif fd in self.monitors:
            self.on_monitor_exit(fd)
        elif fd in self.runs:
            self.on_run_data(self.runs[fd])
        elif fd in self.workers:
            self.on_worker_data(self.workers[fd])
        elif fd in self.by_pidfd:
            self.on_worker_exit(self.by_pidfd[fd])
        elif fd in self.dying:
            self.on_program_exit(fd)

    # -- requests
    def on_request(self) -> None:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(self.ctrl, 4096, 4)
        except (InterruptedError, BlockingIOError):
            return
        except OSError:
            msg, fds = b"", []
        if not msg:  # the caller went away: finish the runs in flight, then exit
            self.accepting = False
            self.poller.unregister(self.ctrl.fileno())
            return
        info = json.loads(msg)
        _flush()
        if info.get("pool") and info.get("uids"):
            run = PoolRun(fds[0], fds, info)
            os.set_blocking(run.sock, False)
            self.runs[run.sock] = run
            self.poller.register(run.sock, select.POLLIN)
            return
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _monitor(fds[0], info)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:  # already gone (and reaped): clean up now
            _cleanup_uids(info.get("uids") or [])
            for f in fds:
                os.close(f)
            return
        self.poller.register(pidfd, select.POLLIN)
        self.monitors[pidfd] = (fds, info)

    def on_monitor_exit(self, pidfd: int) -> None:
        fds, info = self.monitors.pop(pidfd)
        self.poller.unregister(pidfd)
        os.close(pidfd)
        try:
            _cleanup_uids(info.get("uids") or [])
        finally:
            for f in fds:
                os.close(f)

    # -- pooled pytests runs
    def on_run_data(self, run: PoolRun) -> None:
        try:
            data = os.read(run.sock, 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if run.ready:  # only EOF is expected now: the caller gave up
            if not data:
                self.poller.unregister(run.sock)
            return
        try:
            frames = run.frames.feed_raw(data) if data else None
            run.parts.extend(frames or [])
            if len(run.parts) >= 2:  # not decoded here: the forker and the worker read them
                (run.program_raw, run.raw), run.ready = run.parts[:2], True
            elif frames:
                return  # the second frame is on its way
        except RpcBroken:
            frames = None
        if not frames:
            if not data or frames is None:
                self.finish(run, {"status": "error", "tests": [],
                                  "message": "no run specification arrived"})
            return
        try:
            self.start(run)
        except BaseException as exc:
            self.finish(run, {"status": "error", "tests": [],
                              "message": f"sandbox error: {type(exc).__name__}: {exc}"})

    def start(self, run: PoolRun) -> None:
        run.cpu = self.next_cpu()
        _rmtree(run.workdir)
        os.mkdir(run.workdir, 0o700)
        os.chown(run.workdir, run.uids[0], run.uids[0])
        run.outputs = _output_files(run.workdir)
        u2t_r, u2t_w = os.pipe()
        t2u_r, t2u_w = os.pipe()
        null = os.open(os.devnull, os.O_RDWR)
        try:
            pid = self.forker.spawn({"uid": run.uids[0], "workdir": run.workdir, "cpu": run.cpu},
                                    run.program_raw, [null, *run.outputs, t2u_r, u2t_w])
        finally:
            for fd in (u2t_w, t2u_r, null):
                os.close(fd)
        run.job_fds = [u2t_r, t2u_w]
        run.u_pid = pid
        try:
            run.u_pidfd = os.pidfd_open(pid)
        except ProcessLookupError:
            run.u_pidfd = None
        run.deadline = time.monotonic() + 2 * run.timeout_s + 60.0  # queue backstop
        worker = self.idle_worker()
        if worker is None:
            self.waiting.append(run)
        else:
            self.assign(worker, run)

    def assign(self, worker: Worker, run: PoolRun) -> None:
        worker.run, run.worker = run, worker
        budget = run.timeout_s
        header = json.dumps({"budget_s": budget, "cpu": run.cpu}).encode()
        run.deadline = time.monotonic() + budget + 5.0  # backstop if the harness hangs
        try:
            os.set_blocking(worker.sock, True)
            socket.send_fds(worker.sobj, [struct.pack(">I", len(header)) + header], run.job_fds)
            _write_all(worker.sock, struct.pack(">I", len(run.raw)) + run.raw)
        except OSError as exc:
            self.finish(run, {"status": "error", "tests": [],
                              "message": f"the test harness is gone: {exc}"})
            self.retire(worker)
            return
        finally:
            for fd in run.job_fds:
                os.close(fd)
            run.job_fds = []
            if worker.sock in self.workers:
                os.set_blocking(worker.sock, False)

    def next_cpu(self) -> int | None:
        """The program and its harness talk in many short round trips: on one CPU a round
        trip is a plain context switch, across CPUs it is a wake-up interrupt (several
        times dearer, in a VM much more). Runs take the CPUs in turn."""
        if not self.cpus or len(self.cpus) < 2:
            return None
        self.cpu_turn = (self.cpu_turn + 1) % len(self.cpus)
        return self.cpus[self.cpu_turn]

    def idle_worker(self) -> "Worker | None":
        if self.idle:
            return self.idle.pop()
        if len(self.workers) >= self.MAX_WORKERS:
            return None
        used = {w.index for w in self.workers.values()}
        index = next(i for i in range(self.MAX_WORKERS) if i not in used)
        return self.spawn_worker(index)

    def spawn_worker(self, index: int) -> "Worker | None":
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                _worker_main(theirs.detach(), CONFIG["harness_uids"][index])
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        try:
            worker = Worker(index, pid, ours)
        except ProcessLookupError:
            ours.close()
            return None
        os.set_blocking(worker.sock, False)
        self.workers[worker.sock] = worker
        self.by_pidfd[worker.pidfd] = worker
        self.poller.register(worker.sock, select.POLLIN)
        self.poller.register(worker.pidfd, select.POLLIN)
        return worker

    def on_worker_data(self, worker: Worker) -> None:
        try:
            data = os.read(worker.sock, 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.retire(worker)
            return
        try:
            frames = worker.frames.feed(data)
        except (RpcBroken, ValueError):
            self.retire(worker)
            return
        for frame in frames:
            run = worker.run
            worker.run = None
            retire = isinstance(frame, dict) and frame.pop("retire", False)
            if run is not None:
                self.end_program(run, frame)
            if retire:
                self.retire(worker)
                return
            self.release(worker)

    def end_program(self, run: PoolRun, result: dict) -> None:
        """The verdict is in: kill the program, finish once it is really gone."""
        run.worker = None
        if run.u_pidfd is None:
            return self.finish(run, result)
        run.result = result
        try:
            os.kill(run.u_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.dying[run.u_pidfd] = run
        self.poller.register(run.u_pidfd, select.POLLIN)

    def on_program_exit(self, pidfd: int) -> None:
        run = self.dying.pop(pidfd)
        self.poller.unregister(pidfd)
        run.program_gone = True
        if run.sock in self.runs:
            self.finish(run, run.result or {"status": "error", "tests": []})

    def release(self, worker: Worker) -> None:
        if self.waiting:
            run = self.waiting.pop(0)
            if run.sock in self.runs:
                self.assign(worker, run)
                return
        self.idle.append(worker)

    def on_worker_exit(self, worker: Worker) -> None:
        self.retire(worker)

    def retire(self, worker: Worker) -> None:
        if worker.sock not in self.workers:
            return
        try:
            os.kill(worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for fd in (worker.sock, worker.pidfd):
            try:
                self.poller.unregister(fd)
            except KeyError:
                pass
        del self.workers[worker.sock]
        worker.sobj.close()
        os.close(worker.pidfd)
        del self.by_pidfd[worker.pidfd]
        if worker in self.idle:
            self.idle.remove(worker)
        if worker.run is not None:
            run, worker.run = worker.run, None
            self.finish(run, {"status": "error", "tests": [],
                              "message": "the test harness died during the run"})

    def finish(self, run: PoolRun, result: dict) -> None:
        if run.sock not in self.runs:
            return
        del self.runs[run.sock]
        if run in self.waiting:
            self.waiting.remove(run)
        try:
            self.poller.unregister(run.sock)
        except KeyError:
            pass
        for fd in run.job_fds:
            os.close(fd)
        run.job_fds = []
        if run.u_pidfd is not None:
            self.dying.pop(run.u_pidfd, None)
            try:
                self.poller.unregister(run.u_pidfd)
            except KeyError:
                pass
            os.close(run.u_pidfd)
            run.u_pidfd = None
        if not isinstance(result, dict):
            result = {"status": "error", "tests": [], "message": "malformed verdict"}
        if run.outputs is not None:
            result["stdout"], result["stderr"] = (_read_output(fd, run.output_cap)
                                                  for fd in run.outputs)
            for fd in run.outputs:
                os.close(fd)
            run.outputs = None
        try:
            _cleanup_uids(run.uids, program_gone=run.program_gone)
        finally:
            result["duration_s"] = time.monotonic() - run.started
            try:
                os.set_blocking(run.sock, True)
                send_frame(run.sock, result)
            except (RpcBroken, OSError):
                pass
            for fd in run.fds:
                os.close(fd)

    def next_timeout(self) -> int:
        pending = [r.deadline for r in self.runs.values() if r.ready]
        if not pending:
            return -1
        return max(0, int((min(pending) - time.monotonic()) * 1000) + 1)

    def check_deadlines(self) -> None:
        now = time.monotonic()
        for run in [r for r in self.runs.values() if r.ready and r.deadline <= now]:
            worker = run.worker
            if worker is not None:  # the harness did not stop at its own deadline
                worker.run = None
                self.retire(worker)
            self.finish(run, {"status": "timeout", "tests": [],
                              "message": f"timed out after {run.timeout_s:g} s"})


def _output_files(workdir: str) -> tuple[int, int]:
    """The program's stdout and stderr: files in its workdir, opened here (root-owned 0600),
    read back through these fds even if the program unlinks them. Files instead of pipes:
    nobody has to drain them while the tests run (RLIMIT_FSIZE caps them)."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_APPEND
    return (os.open(os.path.join(workdir, ".stdout"), flags, 0o600),
            os.open(os.path.join(workdir, ".stderr"), flags, 0o600))


def _read_output(fd: int, cap: int) -> str:
    try:
        data = os.pread(fd, cap + 1, 0)
    except OSError:
        data = b""
    return _text(data, cap)


class Forker:
    """Forks the programs. A quiet process of its own: every fork shares the parent's pages
    copy-on-write with the child, and the busy zygote loop would then pay a page fault for
    each page it touches while the child lives (hundreds per run)."""

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.start()

    def start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                ours.close()
                _forker_main(theirs.detach())
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        ours.settimeout(30)  # a fork takes milliseconds; a stuck forker is replaced
        self.sock, self.pid = ours, pid

    def spawn(self, meta: dict, raw: bytes, fds: list[int]) -> int:
        for attempt in (1, 2):
            try:
                header = json.dumps(meta).encode()
                socket.send_fds(self.sock, [struct.pack(">I", len(header)) + header], fds)
                self.sock.sendall(struct.pack(">I", len(raw)) + raw)
                reply = b""
                while len(reply) < 4:
                    chunk = self.sock.recv(4 - len(reply))
                    if not chunk:
                        raise OSError("the forker exited")
                    reply += chunk
                (pid,) = struct.unpack(">i", reply)
                if pid <= 0:
                    raise OSError("the forker could not fork")
                return pid
            except OSError:
                if attempt == 2:
                    raise
                self.restart()
        raise AssertionError("unreachable")

    def restart(self) -> None:
        self.sock.close()
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.start()


def _forker_main(sock_fd: int) -> None:
    if sock_fd != 3:
        os.dup2(sock_fd, 3)
        os.close(sock_fd)
    os.closerange(4, MAX_FD)  # the zygote's sockets are none of our business
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the programs are reaped by the kernel
    sock = socket.socket(fileno=3)
    while True:
        try:
            header, fds, _flags, _addr = socket.recv_fds(sock, 4, 8)
        except OSError:
            return
        if len(header) < 4:
            return
        (size,) = struct.unpack(">I", header)
        meta = json.loads(_read_exact(3, size))
        spec = recv_frame(3)
        workdir = meta["workdir"]
        limits, env = _limits_plan(spec, "run"), _env_plan(spec, workdir)
        _flush()
        try:
            pid = os.fork()
        except OSError:
            pid = -1
        if pid == 0:
            code = 127
            try:
                _child_setup(spec, meta["uid"], workdir, fds[0], fds[1], fds[2],
                             {3: fds[3], 4: fds[4]}, limits, True, workdir, env)
                serve_program(spec, 3, 4)
            except BaseException:
                try:
                    os.write(2, traceback.format_exc().encode()[-4000:])
                except OSError:
                    pass
            os._exit(code)
        if pid > 0 and meta.get("cpu") is not None:
            try:  # from here: the child would pay for it in page faults
                os.sched_setaffinity(pid, {meta["cpu"]})
            except OSError:
                pass
        for fd in fds:
            os.close(fd)
        _write_all(3, struct.pack(">i", pid))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _cleanup_uids(uids: list[int], program_gone: bool = False) -> None:
    """After a run: kill what is left of its uids, remove its workdir and what the uids left
    in the private tmp dirs. `program_gone`: the program process has exited, so anything of
    the run still alive was re-parented to us (subreaper): our children list is enough to
    know whether the full look through /proc is needed."""
    if not uids:
        return  # same-uid mode: the monitor cleaned its own subtree
    if not (program_gone and _children_clear(uids)):
        _kill_uids(uids)
    _rmtree(workdir_for(uids))
    _sweep(uids)


def _worker_main(sock_fd: int, uid: int) -> None:
    """A pooled test harness: not root, not dumpable, its own uid. Runs one problem's (trusted)
    tests at a time against a program process the zygote hands over, and sends the verdict
    back. Each run gets a fresh namespace; the worker retires after WORKER_JOBS runs."""
    os.setsid()
    if sock_fd != 3:
        os.dup2(sock_fd, 3)
        sock_fd = 3
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(4, MAX_FD)
    mb = 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (4096 * mb, 4096 * mb))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    resource.setrlimit(resource.RLIMIT_NPROC, (8, 8))
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_DUMPABLE, 0)
    os.chdir("/")
    sock = socket.socket(fileno=sock_fd)
    for n in range(Zygote.WORKER_JOBS):
        try:
            header, fds, _flags, _addr = socket.recv_fds(sock, 4, 4)
        except OSError:
            return
        if len(header) < 4 or len(fds) != 2:
            return
        (size,) = struct.unpack(">I", header)
        job = json.loads(_read_exact(sock_fd, size))
        job["spec"] = recv_frame(sock_fd)
        result = _worker_job(job, fds)
        result["retire"] = n == Zygote.WORKER_JOBS - 1
        send_frame(sock_fd, result)


def _pin(cpu: int | None, cpus: set[int] | None = None) -> None:
    try:
        os.sched_setaffinity(0, {cpu} if cpu is not None else (cpus or os.sched_getaffinity(1)))
    except OSError:
        pass


def _worker_job(job: dict, fds: list[int]) -> dict:
    u2t_r, t2u_w = fds
    if job.get("cpu") is not None:
        _pin(job["cpu"])  # next to the program it talks to (see Zygote.next_cpu)
    spec = job["spec"]
    cpu0 = time.process_time()
    U_CPU[0] = None
    try:
        harness = Harness(spec, Channel(u2t_r, t2u_w))
        harness.run(time.monotonic() + float(job["budget_s"]))
        result = tests_verdict(spec, harness)
    except BaseException as exc:
        result = {"status": "error", "tests": [],
                  "message": f"test harness error: {type(exc).__name__}: {exc}"}
    finally:
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
    if spec.get("debug"):
        result["debug"] = {"t_cpu_ms": round((time.process_time() - cpu0) * 1000, 3),
                           "u_cpu_ms": U_CPU[0], "u_phases": U_PHASES[0]}
    return result


def workdir_for(uids: list[int]) -> str:
    return f"/tmp/halo-run-{uids[0]}"


# ----------------------------------------------------------------------------- monitor

def _monitor(run_fd: int, info: dict) -> None:
    mark("entry")
    # Keep only our own socket: the zygote's other fds belong to other runs.
    if run_fd > 3:
        os.closerange(3, run_fd)
    os.closerange(run_fd + 1, MAX_FD)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of the run come back to us, never escape
    _monitor_run(run_fd, info)


def _monitor_run(run_fd: int, info: dict) -> None:
    prof = None
    if CONFIG.get("profile"):
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
    mark("fds closed")
    spec = recv_frame(run_fd)
    mark("spec read")
    uids = info.get("uids") or []
    started = time.monotonic()
    run = Run(spec, uids)
    try:
        run.prepare()
        mark("prepared")
        result = run.execute()
        mark("executed")
    except BaseException as exc:  # a bug here must still give a verdict, never a pass
        result = {"status": "error", "tests": [],
                  "message": f"sandbox error: {type(exc).__name__}: {exc}",
                  "internal": traceback.format_exc()[-2000:]}
    finally:
        run.cleanup()
        mark("cleaned")
    result.setdefault("stdout", run.stdout_text())
    result.setdefault("stderr", run.stderr_text())
    result["duration_s"] = time.monotonic() - started
    if spec.get("debug"):
        me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        result["debug"] = {"marks": [(k, round((t - MARKS[0][1]) * 1000, 2), round(c * 1000, 2))
                                     for k, t, c in MARKS],
                           "u_cpu_ms": U_CPU[0],
                           "cpu_self_ms": round((me.ru_utime + me.ru_stime) * 1000, 2),
                           "minflt": me.ru_minflt,
                           "cpu_children_ms": round((kids.ru_utime + kids.ru_stime) * 1000, 2)}
    if prof is not None:
        import pstats
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(30)
        result["profile"] = out.getvalue()
    try:
        send_frame(run_fd, result)
    except RpcBroken:
        pass


MARKS: list = []
U_CPU = [None]
U_PHASES = [None]


def mark(name: str) -> None:
    MARKS.append((name, time.monotonic(), time.process_time()))


class Run:
    def __init__(self, spec: dict, uids: list[int]) -> None:
        self.spec = spec
        self.uids = uids
        self.workdir = ""
        self.cap = int(spec.get("output_cap", 8192))
        self.out = bytearray()
        self.err = bytearray()
        self.pids: list[int] = []
        self.dropped = False  # gave up root to become the test harness

    # -- output kept for the verdict (capped)
    def keep(self, buf: bytearray, data: bytes) -> None:
        room = self.cap + 1 - len(buf)
        if room > 0:
            buf += data[:room]

    def stdout_text(self) -> str:
        return _text(self.out, self.cap)

    def stderr_text(self) -> str:
        return _text(self.err, self.cap)

    # -- setup / teardown
    def prepare(self) -> None:
        if self.uids:
            if CONFIG["mode"] != "isolated":  # a zygote that died mid-run left these
                _kill_uids(self.uids)
            self.workdir = workdir_for(self.uids)
            _rmtree(self.workdir)
            os.mkdir(self.workdir, 0o700)
            os.chown(self.workdir, self.uids[0], self.uids[0])
        else:
            self.workdir = f"/tmp/halo-run-{os.urandom(8).hex()}"
            os.mkdir(self.workdir, 0o700)

    def cleanup(self) -> None:
        """With uids the zygote finishes the job after we exit (we may have given up root to
        run the tests); without, we are the only one who can."""
        if self.dropped:
            return
        self.stop_children()
        if not self.uids:
            _rmtree(self.workdir)

    def execute(self) -> dict:
        kind = self.spec["kind"]
        if kind == "pytests":
            return self.run_pytests()
        if kind == "stdio":
            return self.run_stdio()
        raise ValueError(f"unknown run kind {kind!r}")

    def stop_children(self) -> None:
        """Kill everything the run started. The children we forked go first (SIGKILL, then a
        wait that returns at once); anything else of the run's uids -- background processes,
        double forks, setsid escapees -- is killed in one pass by uid; without uids the
        subreaper subtree is walked instead."""
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in self.pids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self.pids = []
        if self.uids:
            _kill_uids(self.uids)
        else:
            _kill_descendants()
        _reap()

    # -- children
    def child(self, role: str, target, *, stdin=None, stdout=None, stderr=None,
              keep: dict[int, int] | None = None, uid_index: int = 0, limits: str = "run",
              dumpable: bool = True, cwd: str | None = None) -> int:
        """Fork a sandboxed child that calls target() (which must not return)."""
        uid = self.uids[uid_index] if self.uids else None
        limits_plan = _limits_plan(self.spec, limits)
        env = _env_plan(self.spec, self.workdir)
        pid = os.fork()
        if pid:
            self.pids.append(pid)
            return pid
        code = 127
        try:
            _child_setup(self.spec, uid, self.workdir, stdin, stdout, stderr, keep or {},
                         limits_plan, dumpable, cwd or self.workdir, env)
            target()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            try:
                os.write(2, traceback.format_exc().encode()[-4000:])
            except OSError:
                pass
        os._exit(code)

    # -- pytests without the pool: U serves the program; we become the test harness (T)
    def run_pytests(self) -> dict:
        spec = self.spec
        u2t_r, u2t_w = os.pipe()
        t2u_r, t2u_w = os.pipe()
        outputs = _output_files(self.workdir)
        null = os.open(os.devnull, os.O_RDWR)
        self.child("U", lambda: serve_program(spec, 3, 4), stdin=null, stdout=outputs[0],
                   stderr=outputs[1], keep={3: t2u_r, 4: u2t_w}, uid_index=0)
        for fd in (u2t_w, t2u_r):
            os.close(fd)
        # From here on we run the problem's test code: give up root for good (the harness
        # uid, not dumpable, so the program's uid can neither signal nor read us).
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)
        _set_limits(spec, "tests")
        if self.uids:
            uid = self.uids[1] if len(self.uids) > 1 else self.uids[0]
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            self.dropped = True
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        prctl(PR_SET_DUMPABLE, 0)
        os.chdir("/")
        harness = Harness(spec, Channel(u2t_r, t2u_w))
        harness.run(time.monotonic() + float(spec["timeout_s"]))
        result = tests_verdict(spec, harness)
        result["stdout"], result["stderr"] = (_read_output(fd, self.cap) for fd in outputs)
        return result

    # -- stdio: compile once, run once per test, compare here
    def run_stdio(self) -> dict:
        spec = self.spec
        src = os.path.join(self.workdir, spec.get("source_name", "main.py"))
        _write_as(src, spec["program"], self.uids[0] if self.uids else None)
        if spec.get("compile"):
            status, message = self.compile()
            if status != "ok":
                return {"status": status, "tests": [], "message": message}
        tests = spec["tests"]
        results = []
        status, message = "pass", ""
        stop = spec.get("stop_on_fail", True)
        for i, test in enumerate(tests):
            res = self.run_one(test, i)
            results.append(res)
            if not res["passed"] and status == "pass":
                status, message = res["status"], f"{res['name']}: {res['message']}"
                if stop:
                    break
        names = [t["name"] for t in tests]
        results = _fill_tests(results, names, "error", "not run: an earlier test did not pass")
        return {"status": status, "tests": results, "message": message}

    def compile(self) -> tuple[str, str]:
        spec = self.spec
        if spec["compile"] == "python":
            target = lambda: _syntax_check(spec["program"])  # noqa: E731
        else:
            argv = [a.replace("{workdir}", self.workdir) for a in spec["compile"]]
            target = lambda: _exec(argv)  # noqa: E731
        out_r, out_w = os.pipe()
        null = os.open(os.devnull, os.O_RDWR)
        pid = self.child("compile", target, stdin=null, stdout=out_w,
                         stderr=out_w, limits="compile")
        os.close(out_w)
        os.close(null)
        buf = bytearray()
        deadline = time.monotonic() + float(spec.get("compile_timeout_s", 60))
        timed_out = self.pump({out_r: buf}, deadline, until=out_r, limit=1 << 20) == "timeout"
        code = None if timed_out else _wait_pid(pid, deadline)
        timed_out = timed_out or code is None
        self.stop_children()
        os.close(out_r)
        if timed_out:
            return "compile_error", f"compilation timed out after {spec.get('compile_timeout_s', 60)} s"
        if code != 0:
            self.keep(self.err, bytes(buf))
            lines = _text(buf, 4000).strip().splitlines()
            first = next((ln for ln in lines if "error" in ln.lower()), lines[0] if lines else "")
            return "compile_error", f"compilation failed: {first.strip()[:300]}"
        return "ok", ""

    def run_one(self, test: dict, index: int) -> dict:
        spec = self.spec
        name = test["name"]
        stdin_path = os.path.join(self.workdir, f".stdin-{index}")
        _write_as(stdin_path, test.get("stdin", ""), None, mode=0o644)
        expected = test.get("expected", "")
        limit = max(1 << 20, 4 * len(expected) + 4096)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        fin = os.open(stdin_path, os.O_RDONLY)
        if spec.get("language") == "python":
            target = lambda: run_script(spec)  # noqa: E731
        else:
            argv = [a.replace("{workdir}", self.workdir) for a in spec["run"]]
            target = lambda: _exec(argv)  # noqa: E731
        pid = self.child("run", target, stdin=fin, stdout=out_w, stderr=err_w)
        for fd in (out_w, err_w, fin):
            os.close(fd)
        out = bytearray()
        err = bytearray()
        deadline = time.monotonic() + float(spec["timeout_s"])
        why = self.pump({out_r: out, err_r: err}, deadline, until=out_r, limit=limit)
        code = _wait_pid(pid, deadline) if why == "eof" else None
        timed_out = why == "timeout" or (why == "eof" and code is None)
        self.stop_children()
        os.close(out_r)
        os.close(err_r)
        os.unlink(stdin_path)
        self.keep(self.out, bytes(out))
        self.keep(self.err, bytes(err))
        if why == "limit":
            return _res(name, "fail", f"output limit exceeded ({limit} bytes)")
        if timed_out or code is None:
            return _res(name, "timeout", f"timed out after {spec['timeout_s']:g} s")
        if code != 0:
            tail = _text(err, 2000).strip().splitlines()
            why = _describe_exit(code)
            return _res(name, "error", f"{why}" + (f": {tail[-1][:200]}" if tail else ""))
        got = _text(out, len(out) + 1)
        if compare_output(got, expected, test.get("compare", "tokens")):
            return _res(name, "pass", "")
        return _res(name, "fail", f"wrong answer: expected {_short(expected)}, got {_short(got)}")

    # -- I/O pump
    def pump(self, streams: dict, deadline: float, until: int | None = None,
             limit: int | None = None) -> str:
        """Read the pipes in `streams` until `until` reaches EOF (or all do). Returns "eof",
        "timeout" or "limit" (a stream outgrew `limit`)."""
        open_fds = {fd for fd in streams if fd >= 0}
        poller = select.poll()
        for fd in open_fds:
            poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        while open_fds and (until is None or until in open_fds):
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout" if until is not None else "eof"
            try:
                events = poller.poll(max(1, int(left * 1000)))
            except InterruptedError:
                continue
            for fd, _ in events:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    poller.unregister(fd)
                    open_fds.discard(fd)
                    continue
                buf = streams[fd]
                if limit is not None:
                    buf += data
                    if len(buf) > limit:
                        return "limit"
                else:
                    self.keep(buf, data)
        return "eof"


def tests_verdict(spec: dict, harness: "Harness") -> dict:
    names = [t["name"] for t in spec["tests"] if t.get("kind", "test") == "test"]
    status, message = harness.status, harness.message
    if status == "timeout":
        fill_status, fill_msg = "timeout", message
    else:
        fill_status, fill_msg = "error", "not run: an earlier test did not pass"
    results = _fill_tests(harness.results, names, fill_status, fill_msg)
    if status == "pass" and not (results and all(r["passed"] for r in results)):
        status = "fail"
    return {"status": status, "tests": results, "message": message}


def _res(name: str, status: str, message: str) -> dict:
    return {"name": name, "passed": status == "pass", "message": message, "status": status}


def _fill_tests(results: list, names: list, status: str, message: str) -> list:
    seen = len(results)
    results = list(results[:len(names)])
    for i, name in enumerate(names[seen:], start=seen):
        results.append(_res(name, status if i == seen else "error",
                            message if i == seen else "not run: an earlier test did not pass"))
    return results


def _text(buf, cap: int) -> str:
    text = bytes(buf[:cap]).decode("utf-8", "replace")
    return text + ("\n... [output cut]" if len(buf) > cap else "")


def _short(text: str, n: int = 80) -> str:
    text = text.strip()
    return repr(text if len(text) <= n else text[:n] + "...")


def _describe_exit(code: int) -> str:
    if code < 0:
        sig = -code
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        hint = {"SIGXCPU": " (CPU time limit)", "SIGXFSZ": " (file size limit)",
                "SIGKILL": " (killed, perhaps out of memory)", "SIGSEGV": " (crash)"}.get(name, "")
        return f"killed by {name}{hint}"
    return f"exit code {code}"


def compare_output(got: str, expected: str, how: str = "tokens") -> bool:
    """stdio comparison: lines with trailing blanks ignored; in 'tokens' mode a token pair
    also matches when both are numbers within 1e-6 (absolute or relative)."""
    if how == "exact":
        return got == expected
    if how == "json":
        try:
            return _listify(json.loads(got)) == _listify(json.loads(expected))
        except ValueError:
            return False
    g = [ln.rstrip() for ln in got.strip().splitlines()]
    e = [ln.rstrip() for ln in expected.strip().splitlines()]
    if g == e:
        return True
    gt, et = " ".join(g).split(), " ".join(e).split()
    if len(gt) != len(et) or len(g) != len(e):
        return False
    for a, b in zip(gt, et):
        if a == b:
            continue
        try:
            fa, fb = float(a), float(b)
        except ValueError:
            return False
        if not (math.isfinite(fa) and math.isfinite(fb)):
            return False
        if abs(fa - fb) > 1e-6 * max(1.0, abs(fb)):
            return False
    return True


def _listify(v):
    if isinstance(v, (list, tuple)):
        return [_listify(e) for e in v]
    if isinstance(v, dict):
        return {k: _listify(e) for k, e in v.items()}
    return v


def _write_as(path: str, text: str, uid: int | None, mode: int = 0o600) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    if uid is not None:
        os.chown(path, uid, uid)


def _syntax_check(program: str) -> None:
    try:
        compile(program, "main.py", "exec")
    except (SyntaxError, ValueError) as exc:
        os.write(2, f"SyntaxError: {exc}\n".encode())
        os._exit(1)
    os._exit(0)


def _exec(argv: list[str]) -> None:
    for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    os.execve(argv[0], argv, dict(os.environ))


def _wait_pid(pid: int, deadline: float) -> int | None:
    """Exit code of child `pid` (negative: killed by that signal), None on timeout."""
    delay = 0.0002
    while True:
        try:
            got, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if got:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            return None
        time.sleep(delay)
        delay = min(delay * 2, 0.01)


# ----------------------------------------------------------------------------- cleanup

def _kill_uids(uids: list[int]) -> None:
    """Kill every process of the run's uids, wherever it is. Normally a no-op: the subtree
    kill already got them all. If any is left, kill(-1) from a throwaway child running as
    that uid signals all of the uid's processes in one kernel pass (a fork bomb cannot
    outrun it) without ever exposing the monitor to signals from the uid."""
    killed = False
    for attempt in range(10000):
        left = [pid for pid, _, uid in _proc_table() if uid in uids] if uids else []
        if not left:
            return
        if attempt < 20 or killed:
            # Root can signal them directly: cheaper than a fork when a few are left (the
            # usual case: the program's server process). Killed processes cannot fork.
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if not _reap():
                time.sleep(0.0002)
            continue
        killed = True
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                for uid in uids:
                    os.setresgid(uid, uid, 0)
                    os.setresuid(uid, uid, 0)
                    try:
                        os.kill(-1, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    os.setresuid(0, 0, 0)
                    os.setresgid(0, 0, 0)
            finally:
                os._exit(0)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:  # the zygote ignores SIGCHLD: the wait ends with ECHILD
            pass
        _reap()


def _kill_descendants() -> None:
    """SIGKILL and reap everything below us. As a child subreaper we inherit every orphan
    of the run, so nothing that double-forked or called setsid can leave this tree."""
    me = os.getpid()
    for _ in range(10000):
        pids = _descendants(me)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not _reap():
            time.sleep(0.0005)  # dying, not yet zombies


def _reap() -> int:
    n = 0
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return n
        if not pid:
            return n
        n += 1


def _uid_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            return int(f.read().split(b"\nUid:", 1)[1].split(None, 1)[0])
    except (OSError, IndexError, ValueError):
        return None


def _children_clear(uids: list[int]) -> bool:
    """True when none of our direct children runs as one of `uids` (False if unknown)."""
    me = os.getpid()
    try:
        with open(f"/proc/{me}/task/{me}/children", "rb") as f:
            kids = f.read().split()
    except OSError:
        return False
    return not any(_uid_of(int(pid)) in uids for pid in kids)


def _proc_table() -> list[tuple[int, int, int]]:
    """(pid, ppid, real uid) of every visible process (few inside the sandbox's pid
    namespace). From /proc/PID/status: the owner of /proc/PID files is root for processes
    that are not dumpable, which is every process that changed uid."""
    table = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fd = os.open(f"/proc/{entry}/status", os.O_RDONLY)
            try:
                status = os.read(fd, 4096)
            finally:
                os.close(fd)
            ppid = int(status.split(b"\nPPid:", 1)[1].split(None, 1)[0])
            uid = int(status.split(b"\nUid:", 1)[1].split(None, 1)[0])
        except (OSError, IndexError, ValueError):
            continue
        table.append((int(entry), ppid, uid))
    return table


def _descendants(root: int) -> list[int]:
    out, frontier = [], [root]
    children: dict[int, list[int]] = {}
    for pid, ppid, _ in _proc_table():
        children.setdefault(ppid, []).append(pid)
    while frontier:
        pid = frontier.pop()
        for child in children.get(pid, ()):
            out.append(child)
            frontier.append(child)
    return out


def _rmtree(path: str) -> None:
    """Remove a file or a tree without following symlinks (shutil is not preloaded)."""
    try:
        st = os.lstat(path)
    except OSError:
        return
    import stat as _stat
    if not _stat.S_ISDIR(st.st_mode):
        try:
            os.unlink(path)
        except OSError:
            pass
        return
    if os.geteuid() != 0:  # without root, a chmod 000 directory would stop the walk
        for root, dirs, _ in os.walk(path, followlinks=False):
            for name in dirs:
                try:
                    os.chmod(os.path.join(root, name), 0o700, follow_symlinks=False)
                except (OSError, NotImplementedError):
                    pass
    for root, dirs, files in os.walk(path, topdown=False, followlinks=False):
        for name in files:
            try:
                os.unlink(os.path.join(root, name))
            except OSError:
                pass
        for name in dirs:
            full = os.path.join(root, name)
            try:
                if os.path.islink(full):
                    os.unlink(full)
                else:
                    os.rmdir(full)
            except OSError:
                pass
    try:
        os.rmdir(path)
    except OSError:
        pass


def _sweep(uids: list[int]) -> None:
    """Remove what the run's uids left in the (private) world-writable directories."""
    for top in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"):
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid in uids:
                    _rmtree(entry.path)
            except OSError:
                pass


# ----------------------------------------------------------------------------- child setup

def _env_plan(spec: dict, workdir: str) -> list[tuple[str, str]]:
    # The zygote's environment already holds only BASE_ENV (set at start): a few per-run
    # values go on top (clearing and refilling it costs hundreds of page faults per fork).
    env = {"HOME": workdir, "TMPDIR": workdir, "HALO_SANDBOX_RUN": spec.get("marker", "1")}
    env.update({k: str(v).replace("{workdir}", workdir) for k, v in spec.get("env", {}).items()})
    return list(env.items())


def _child_setup(spec: dict, uid: int | None, workdir: str, stdin, stdout, stderr,
                 keep: dict[int, int], limits, dumpable: bool, cwd: str,
                 env: list | None = None) -> None:
    """In a fresh fork: new session, only the wanted fds, limits, the run's uid, no new
    privileges, its directory and environment. `limits` and `env` are best planned before
    the fork (_limits_plan, _env_plan)."""
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
    for which, value in (_limits_plan(spec, limits) if isinstance(limits, str) else limits):
        resource.setrlimit(which, value)
    if uid is not None:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    if not dumpable:
        prctl(PR_SET_DUMPABLE, 0)
    os.chdir(cwd)
    os.umask(0o077)
    for key, value in (env if env is not None else _env_plan(spec, workdir)):
        os.environ[key] = value


BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "USER": "sandbox", "LOGNAME": "sandbox", "HOME": "/", "TMPDIR": "/tmp"}


def _base_environment() -> None:
    """Called once in the zygote: nothing of the caller's environment reaches a program."""
    for key in list(os.environ):
        if key not in BASE_ENV:
            del os.environ[key]
    os.environ.update(BASE_ENV)


def _limits_plan(spec: dict, kind: str) -> list[tuple[int, tuple[int, int]]]:
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
        nproc += _count_user_processes()  # shared uid: the limit counts all of its processes
    return [(mem_limit, (mem, mem)), (resource.RLIMIT_CPU, (cpu, cpu + 1)),
            (resource.RLIMIT_FSIZE, (fsize, fsize)), (resource.RLIMIT_CORE, (0, 0)),
            (resource.RLIMIT_NOFILE, (256, 256)), (resource.RLIMIT_NPROC, (nproc, nproc))]


def _set_limits(spec: dict, kind: str) -> None:
    for which, value in _limits_plan(spec, kind):
        resource.setrlimit(which, value)


def _count_user_processes() -> int:
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


def _fresh_stdio() -> None:
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


def _stdio() -> None:
    """The zygote's sys.stdin/stdout/stderr sit on fds 0-2, which the child setup pointed at
    the run's own files, and the zygote flushes them before every fork: reuse them."""
    if sys.stdin is None or sys.stdout is None or sys.stderr is None:
        _fresh_stdio()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except BaseException:
            pass


# ----------------------------------------------------------------------------- U: programs

def run_script(spec: dict) -> None:
    """A whole program reading stdin (stdio kind, Python). Runs as __main__."""
    _stdio()
    sys.argv = ["main.py"]
    sys.path[:0] = [os.getcwd()]
    ns = {"__name__": "__main__", "__builtins__": builtins, "__file__": "main.py"}
    code = 0
    try:
        exec(compile(spec["program"], "main.py", "exec"), ns)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, (int, type(None))):
            print(exc.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
        code = 1
    _flush()
    os._exit(code & 0xFF)


def serve_program(spec: dict, rfd: int, wfd: int) -> None:
    """U for the pytests kind: run the program, then answer T's calls on its objects."""
    c0 = time.process_time()
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    _stdio()
    sys.argv = ["solution.py"]
    handles: list = []

    def ref(obj) -> int:
        handles.append(obj)
        return len(handles) - 1

    def resolve(h: int):
        if not 0 <= h < len(handles):
            raise RpcBroken(f"no object {h}")
        return handles[h]

    ns = {"__name__": spec.get("module_name", "__candidate__"), "__builtins__": builtins}
    try:
        code = compile(spec["program"], "solution.py", "exec")
    except (SyntaxError, ValueError) as exc:
        _flush()
        send_frame(wfd, {"ok": False, "kind": "compile_error",
                         "message": f"{type(exc).__name__}: {exc}"})
        os._exit(1)
    c1 = time.process_time()
    f1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    try:
        exec(code, ns)
    except BaseException as exc:
        traceback.print_exc()
        _flush()
        send_frame(wfd, {"ok": False, "kind": "error",
                         "message": f"the program raised {type(exc).__name__}: {exc}"[:500]})
        os._exit(1)
    _flush()
    names = {}
    export = spec.get("export")
    for key, value in list(ns.items()):
        if key.startswith("__") or (export is not None and key not in export):
            continue
        if type(value).__name__ == "module":
            names[key] = {"module": getattr(value, "__name__", key)}
            continue
        try:
            names[key] = {"value": encode(value)}
        except (NotPlain, RecursionError, ValueError):
            names[key] = {"ref": ref(value)}
    debug = bool(spec.get("debug"))
    hello = {"ok": True, "names": names}
    if debug:
        hello.update(cpu=round(time.process_time() * 1000, 2),
                     phases=[round(c0 * 1000, 3), round(c1 * 1000, 3),
                             resource.getrusage(resource.RUSAGE_SELF).ru_minflt, f0, f1])
    send_frame(wfd, hello)
    chan = Channel(rfd, wfd)
    while True:
        try:
            req = chan.recv()
        except RpcBroken:  # the harness is done with us
            os._exit(0)
        try:
            reply = _answer(req, ref, resolve)
        except RpcBroken:
            raise
        except BaseException as exc:
            reply = {"e": [type(exc).__name__, str(exc)[:1000]]}
        _flush()
        if debug:
            reply["cpu"] = round(time.process_time() * 1000, 2)
        try:
            send_frame(wfd, reply)
        except (NotPlain, RecursionError, ValueError, TypeError) as exc:
            send_frame(wfd, {"e": [type(exc).__name__, str(exc)[:1000]]})


def _answer(req: dict, ref, resolve) -> dict:
    op = req.get("op")
    obj = resolve(req["h"])
    arg = lambda key: decode(req[key], resolve)  # noqa: E731
    if op == "call":
        args = arg("a")
        kwargs = {k: decode(v, resolve) for k, v in req.get("k", [])}
        return {"v": encode(obj(*args, **kwargs), ref)}
    if op == "getattr":
        return {"v": encode(getattr(obj, req["n"]), ref)}
    if op == "getitem":
        return {"v": encode(obj[arg("a")], ref)}
    if op == "len":
        return {"v": int(len(obj))}
    if op == "bool":
        return {"v": bool(obj)}
    if op == "contains":
        return {"v": bool(arg("a") in obj)}
    if op == "iter":
        return {"v": {"r": ref(iter(obj))}}
    if op == "next":
        try:
            return {"v": encode(next(obj), ref)}
        except StopIteration:
            return {"stop": True}
    if op == "repr":
        return {"v": str(repr(obj))}
    if op == "str":
        return {"v": str(obj)}
    raise RpcBroken(f"unknown op {op!r}")


# ----------------------------------------------------------------------------- T: tests

class RemoteError(Exception):
    """An exception raised inside the program under test (type not a builtin)."""


class HarnessTimeout(BaseException):
    """The run's wall-clock limit passed (BaseException: test code cannot swallow it)."""


class Channel:
    """Frames to and from the program's process over two pipes. Blocking: the run's deadline
    is a SIGALRM that raises HarnessTimeout wherever the harness is waiting."""

    def __init__(self, rfd: int, wfd: int) -> None:
        self.rfd, self.wfd = rfd, wfd
        self.buf = b""

    def send(self, obj) -> None:
        data = json.dumps(obj, separators=(",", ":")).encode()
        try:
            _write_all(self.wfd, struct.pack(">I", len(data)) + data)
        except OSError as exc:
            raise RpcBroken(f"the program stopped reading ({exc})") from None

    def recv(self):
        while True:
            if len(self.buf) >= 4:
                (size,) = struct.unpack(">I", self.buf[:4])
                if size > MAX_FRAME:
                    raise RpcBroken("frame over the limit")
                if len(self.buf) >= 4 + size:
                    frame, self.buf = self.buf[4:4 + size], self.buf[4 + size:]
                    try:
                        return json.loads(frame)
                    except (ValueError, RecursionError) as exc:
                        raise RpcBroken(f"undecodable frame: {exc}") from None
            try:
                data = os.read(self.rfd, 1 << 20)
            except OSError as exc:
                raise RpcBroken(f"read failed: {exc}") from None
            if not data:
                raise RpcBroken("end of stream")
            self.buf += data


class Client:
    def __init__(self, chan: Channel) -> None:
        self.chan = chan

    def request(self, req: dict):
        self.chan.send(req)
        reply = self.chan.recv()
        if not isinstance(reply, dict):
            raise RpcBroken("malformed reply")
        U_CPU[0] = reply.get("cpu")
        if "v" in reply:
            return decode(reply["v"], self.remote)
        if reply.get("stop"):
            raise StopIteration
        if "e" in reply and isinstance(reply["e"], list) and len(reply["e"]) == 2:
            name, message = str(reply["e"][0]), str(reply["e"][1])
            cls = getattr(builtins, name, None)
            if isinstance(cls, type) and issubclass(cls, Exception) and \
                    not issubclass(cls, AssertionError):
                raise cls(message)
            raise RemoteError(f"{name}: {message}")
        raise RpcBroken("malformed reply")

    def remote(self, h: int) -> "Remote":
        return Remote(self, h)


def _enc_arg(value):
    # Remote objects inside containers are passed back as handles.
    if isinstance(value, Remote):
        return {"r": object.__getattribute__(value, "_h")}
    t = type(value)
    if t is list:
        return [_enc_arg(v) for v in value]
    if t is tuple:
        return {"t": [_enc_arg(v) for v in value]}
    if t is dict:
        return {"d": [[_enc_arg(k), _enc_arg(v)] for k, v in value.items()]}
    return encode(value)


class Remote:
    """An object that lives in the program's process. Equality is identity: the program
    cannot hand the tests an object that claims to equal everything."""

    __slots__ = ("_c", "_h")

    def __init__(self, client: Client, h: int) -> None:
        object.__setattr__(self, "_c", client)
        object.__setattr__(self, "_h", h)

    def _rq(self, op: str, **kw):
        c = object.__getattribute__(self, "_c")
        return c.request({"op": op, "h": object.__getattribute__(self, "_h"), **kw})

    def __call__(self, *args, **kwargs):
        return self._rq("call", a=[_enc_arg(a) for a in args],
                        k=[[k, _enc_arg(v)] for k, v in kwargs.items()])

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._rq("getattr", n=name)

    def __getitem__(self, key):
        return self._rq("getitem", a=_enc_arg(key))

    def __len__(self):
        n = self._rq("len")
        if type(n) is not int:
            raise TypeError("len() of a remote object was not an int")
        return n

    def __bool__(self):
        return self._rq("bool") is True

    def __contains__(self, item):
        return self._rq("contains", a=_enc_arg(item)) is True

    def __iter__(self):
        return self._rq("iter")

    def __next__(self):
        return self._rq("next")

    def __repr__(self):
        return str(self._rq("repr"))

    def __str__(self):
        return str(self._rq("str"))

    def __eq__(self, other):
        return isinstance(other, Remote) and \
            object.__getattribute__(other, "_h") == object.__getattribute__(self, "_h")

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(("remote", object.__getattribute__(self, "_h")))


_UNSAFE_MODULES = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo"}


class Harness:
    """T: runs the problem's (trusted) test code, calling into the program over the channel.
    Runs inside the monitor after it gave up root; its results go straight into the verdict
    the monitor sends, so nothing the program does in its own process can add a pass."""

    def __init__(self, spec: dict, chan: Channel) -> None:
        self.spec = spec
        self.chan = chan
        self.client = Client(chan)
        self.results: list[dict] = []
        self.status = "error"
        self.message = "the tests did not run"

    def run(self, deadline: float) -> None:
        self.chan.deadline = deadline

        def on_alarm(signum, frame):
            raise HarnessTimeout()

        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, max(0.001, deadline - time.monotonic()))
        try:
            self._run()
        except HarnessTimeout:
            self.status = "timeout"
            self.message = f"timed out after {self.spec['timeout_s']:g} s"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def _finish(self, status: str, message: str = "") -> None:
        self.status, self.message = status, message[:1000]

    def _run(self) -> None:
        spec = self.spec
        sys.setrecursionlimit(3000)
        # A copy of the builtins per run: a test that rebinds one cannot leak into the next
        # run of a pooled harness.
        ns: dict = {"__name__": "__halo_tests__", "__builtins__": dict(builtins.__dict__)}
        try:
            exec(_code(spec, spec.get("setup", ""), spec.get("setup_code"), "<setup>"), ns)
        except HarnessTimeout:
            raise
        except BaseException as exc:
            return self._finish("error", f"the problem's test setup failed: "
                                         f"{type(exc).__name__}: {exc}")
        mark("setup run")
        try:
            hello = self.chan.recv()
            U_PHASES[0] = hello.get("phases") if isinstance(hello, dict) else None
        except RpcBroken:
            return self._finish("error", "the program exited before the tests ran")
        if not isinstance(hello, dict) or not hello.get("ok"):
            kind = hello.get("kind") if isinstance(hello, dict) else "error"
            message = str(hello.get("message", "")) if isinstance(hello, dict) else ""
            return self._finish(kind if kind in ("compile_error", "error") else "error",
                                message or "the program failed to load")
        names = hello.get("names") if isinstance(hello.get("names"), dict) else {}
        bind = spec.get("bind", {})
        self._bind(ns, names, set(bind.values()))
        for alias, key in bind.items():
            if key not in names:
                return self._finish("fail", f"the program does not define {key!r}")
            ns[alias] = ns[key]
        stop = spec.get("stop_on_fail", True)
        status, message = "pass", ""
        for i, test in enumerate(spec["tests"]):
            try:
                code = _code(spec, test["code"], test.get("code_obj"), f"<test {i}>")
                outcome, why = _run_one_test(code, ns)
            except (SyntaxError, ValueError) as exc:
                outcome, why = "error", f"the test does not compile: {exc}"
            if test.get("kind", "test") == "step":
                if outcome != "pass":
                    return self._finish("fail" if outcome == "fail" else "error",
                                        f"{test['name']}: {why}")
                continue
            self.results.append({"name": test["name"], "passed": outcome == "pass",
                                 "message": why,
                                 "status": "error" if outcome == "broken" else outcome})
            if outcome != "pass" and status == "pass":
                status, message = outcome, f"{test['name']}: {why}"
                if stop or outcome == "broken":
                    break
        self._finish("error" if status == "broken" else status, message)

    def _bind(self, ns: dict, names: dict, override: set) -> None:
        for key, desc in names.items():
            if not isinstance(desc, dict) or not isinstance(key, str):
                continue
            if key in ns and key not in override:
                continue  # the problem's own (trusted) definitions win
            if key not in override and (hasattr(builtins, key) or key.startswith("__")):
                continue  # a program defining `abs` or `len` must not change what tests call
            try:
                if "ref" in desc and type(desc["ref"]) is int:
                    ns[key] = Remote(self.client, desc["ref"])
                elif "value" in desc:
                    ns[key] = decode(desc["value"], self.client.remote)
                elif "module" in desc and isinstance(desc["module"], str):
                    mod = desc["module"]
                    top = mod.split(".")[0]
                    if top in sys.stdlib_module_names and top not in _UNSAFE_MODULES:
                        ns[key] = __import__(mod, fromlist=["_"])
            except (RpcBroken, ImportError):
                continue


def _code(spec: dict, source: str, compiled: str | None, filename: str):
    """The caller may send the test code already compiled (marshal, cached per problem on
    its side): same interpreter, so loading it is safe and saves a compile per run."""
    if compiled and spec.get("python") == sys.version:
        try:
            return marshal.loads(base64.b64decode(compiled))
        except (ValueError, EOFError, TypeError):
            pass
    return compile(source, filename, "exec")


def _run_one_test(code, ns: dict) -> tuple[str, str]:
    try:
        exec(code, ns)
        return "pass", ""
    except HarnessTimeout:
        raise
    except AssertionError as exc:
        return "fail", f"assertion failed{': ' + str(exc)[:300] if str(exc) else ''}"
    except RpcBroken as exc:
        return "broken", f"the program under test died or broke the protocol ({exc})"
    except RecursionError:
        return "error", "RecursionError"
    except RemoteError as exc:
        return "error", f"raised {str(exc)[:300]}"
    except BaseException as exc:
        return "error", f"raised {type(exc).__name__}: {str(exc)[:300]}"
