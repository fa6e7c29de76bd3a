"""The run monitor: a process forked from the zygote per non-pooled run.

stdio runs (LiveCodeBench stdin tests, compiled languages): compile once as the program's
uid, run the program once per test, compare its output here (the program never sees the
expected answer). Python test suites that must not use the pool (hand-written tests): fork
the program, then give up root for good and become the test harness itself. The monitor is
a child subreaper, so nothing the run starts can escape being killed with it."""
from __future__ import annotations

import io
import os
import resource
import select
import signal
import time
import traceback

from .childsetup import (child_setup, env_plan, limits_plan, output_files, read_output,
                         set_limits)
from .harness import Harness
from .libc import PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, prctl
from .program import run_script, serve_program
from .reaper import kill_descendants, kill_uids, reap, rmtree, workdir_for
from .results import (compare_output, decode_capped, describe_exit, fill_tests, short, result_entry,
                      tests_verdict)
from .state import CONFIG, MARKS, U_CPU, mark
from .wire import Channel, MAX_FD, RpcBroken, recv_frame, send_frame


def monitor(run_fd: int, info: dict) -> None:
    """A monitor process (forked per non-pooled run): keep only the run's socket, become the
    run's subreaper, run it."""
    mark("entry")
    # Keep only our own socket: the zygote's other fds belong to other runs.
    if run_fd > 3:
        os.closerange(3, run_fd)
    os.closerange(run_fd + 1, MAX_FD)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of the run come back to us, never escape
    monitor_run(run_fd, info)


def monitor_run(run_fd: int, info: dict) -> None:
    """Read the spec, run it, always answer with a result (an internal error is an error
    verdict, never a pass), with debug figures when the spec asks."""
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


class Run:
    """One non-pooled run inside a monitor: its workdir, children and kept output."""
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
        return decode_capped(self.out, self.cap)

    def stderr_text(self) -> str:
        return decode_capped(self.err, self.cap)

    # -- setup / teardown
    def prepare(self) -> None:
        if self.uids:
            if CONFIG["mode"] != "isolated":  # a zygote that died mid-run left these
                kill_uids(self.uids)
            self.workdir = workdir_for(self.uids)
            rmtree(self.workdir)
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
            rmtree(self.workdir)

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
            kill_uids(self.uids)
        else:
            kill_descendants()
        reap()

    # -- children
    def child(self, role: str, target, *, stdin=None, stdout=None, stderr=None,
              keep: dict[int, int] | None = None, uid_index: int = 0, limits: str = "run",
              dumpable: bool = True, cwd: str | None = None) -> int:
        """Fork a sandboxed child that calls target() (which must not return)."""
        uid = self.uids[uid_index] if self.uids else None
        plan = limits_plan(self.spec, limits)
        env = env_plan(self.spec, self.workdir)
        pid = os.fork()
        if pid:
            self.pids.append(pid)
            return pid
        code = 127
        try:
            child_setup(self.spec, uid, self.workdir, stdin, stdout, stderr, keep or {},
                         plan, dumpable, cwd or self.workdir, env)
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
        """A Python test suite with a fresh harness: fork the program, then give up root and run
        the tests here (for tests that did not come from a dataset)."""
        spec = self.spec
        u2t_r, u2t_w = os.pipe()
        t2u_r, t2u_w = os.pipe()
        outputs = output_files(self.workdir)
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
        set_limits(spec, "tests")
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
        result["stdout"], result["stderr"] = (read_output(fd, self.cap) for fd in outputs)
        return result

    # -- stdio: compile once, run once per test, compare here
    def run_stdio(self) -> dict:
        """A stdin/stdout program: compile once, run it once per test, compare its output here."""
        spec = self.spec
        src = os.path.join(self.workdir, spec.get("source_name", "main.py"))
        write_as(src, spec["program"], self.uids[0] if self.uids else None)
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
        results = fill_tests(results, names, "error", "not run: an earlier test did not pass")
        return {"status": status, "tests": results, "message": message}

    def compile(self) -> tuple[str, str]:
        """Compile (or syntax-check) as the program's uid with the compile limits; the first
        error line goes into the message."""
        spec = self.spec
        if spec["compile"] == "python":
            target = lambda: syntax_check(spec["program"])  # noqa: E731
        else:
            argv = [a.replace("{workdir}", self.workdir) for a in spec["compile"]]
            target = lambda: exec_argv(argv)  # noqa: E731
        out_r, out_w = os.pipe()
        null = os.open(os.devnull, os.O_RDWR)
        pid = self.child("compile", target, stdin=null, stdout=out_w,
                         stderr=out_w, limits="compile")
        os.close(out_w)
        os.close(null)
        buf = bytearray()
        deadline = time.monotonic() + float(spec.get("compile_timeout_s", 60))
        timed_out = self.pump({out_r: buf}, deadline, until=out_r, limit=1 << 20) == "timeout"
        code = None if timed_out else wait_pid(pid, deadline)
        timed_out = timed_out or code is None
        self.stop_children()
        os.close(out_r)
        if timed_out:
            return "compile_error", f"compilation timed out after {spec.get('compile_timeout_s', 60)} s"
        if code != 0:
            self.keep(self.err, bytes(buf))
            lines = decode_capped(buf, 4000).strip().splitlines()
            first = next((ln for ln in lines if "error" in ln.lower()), lines[0] if lines else "")
            return "compile_error", f"compilation failed: {first.strip()[:300]}"
        return "ok", ""

    def run_one(self, test: dict, index: int) -> dict:
        """One stdio test: a fresh process on the test's stdin, its stdout compared with the
        expected output (the program never sees it)."""
        spec = self.spec
        name = test["name"]
        stdin_path = os.path.join(self.workdir, f".stdin-{index}")
        write_as(stdin_path, test.get("stdin", ""), None, mode=0o644)
        expected = test.get("expected", "")
        limit = max(1 << 20, 4 * len(expected) + 4096)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        fin = os.open(stdin_path, os.O_RDONLY)
        if spec.get("language") == "python":
            target = lambda: run_script(spec)  # noqa: E731
        else:
            argv = [a.replace("{workdir}", self.workdir) for a in spec["run"]]
            target = lambda: exec_argv(argv)  # noqa: E731
        pid = self.child("run", target, stdin=fin, stdout=out_w, stderr=err_w)
        for fd in (out_w, err_w, fin):
            os.close(fd)
        out = bytearray()
        err = bytearray()
        deadline = time.monotonic() + float(spec["timeout_s"])
        why = self.pump({out_r: out, err_r: err}, deadline, until=out_r, limit=limit)
        code = wait_pid(pid, deadline) if why == "eof" else None
        timed_out = why == "timeout" or (why == "eof" and code is None)
        self.stop_children()
        os.close(out_r)
        os.close(err_r)
        os.unlink(stdin_path)
        self.keep(self.out, bytes(out))
        self.keep(self.err, bytes(err))
        if why == "limit":
            return result_entry(name, "fail", f"output limit exceeded ({limit} bytes)")
        if timed_out or code is None:
            return result_entry(name, "timeout", f"timed out after {spec['timeout_s']:g} s")
        if code != 0:
            tail = decode_capped(err, 2000).strip().splitlines()
            why = describe_exit(code)
            return result_entry(name, "error", f"{why}" + (f": {tail[-1][:200]}" if tail else ""))
        got = decode_capped(out, len(out) + 1)
        if compare_output(got, expected, test.get("compare", "tokens")):
            return result_entry(name, "pass", "")
        want, have = short(expected), short(got)
        return result_entry(name, "fail", f"wrong answer: expected {want}, got {have}",
                            expected=want, actual=have)

    # -- I/O pump
    def pump(self, streams: dict, deadline: float, until: int | None = None,
             limit: int | None = None) -> str:
        """Read the pipes in `streams` until `until` reaches EOF (or all do). Returns "eof",
        "timeout" or "limit" (`until` outgrew `limit`: the test reads that stream, so a
        program that floods it fails). The other streams (stderr: nobody's answer) are drained
        to the end and keep their first and last `limit // 2` bytes: a correct program that
        writes a lot there still passes, and its last line (the error, if any) is kept."""
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
                if limit is None:
                    self.keep(buf, data)
                    continue
                buf += data
                if len(buf) <= limit:
                    continue
                if fd == until:
                    return "limit"
                half = limit // 2
                buf[half:len(buf) - half] = CUT
        return "eof"


CUT = b"\n... [output cut] ...\n"


def write_as(path: str, text: str, uid: int | None, mode: int = 0o600) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    if uid is not None:
        os.chown(path, uid, uid)


def syntax_check(program: str) -> None:
    try:
        compile(program, "main.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        os.write(2, f"SyntaxError: {exc}\n".encode())
        os._exit(1)
    os._exit(0)


def exec_argv(argv: list[str]) -> None:
    for sig in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    os.execve(argv[0], argv, dict(os.environ))


def wait_pid(pid: int, deadline: float) -> int | None:
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
