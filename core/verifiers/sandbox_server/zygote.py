"""The zygote: the sandbox's long-lived root process and its event loop.

Started once per calling process (core.verifiers.sandbox), it sets up the namespaces
(isolation.py), preloads common modules and then serves requests. A pooled pytests run is
handled in the loop itself: the program is forked by the quiet Forker (forker.py) and its
tests run in a pooled harness worker (worker.py). Other runs get a monitor process
(monitor.py). After every run it cleans up (reaper.py) before the caller sees the verdict.
One event loop and no threads: fork and threads do not mix."""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import time
import traceback

from .childsetup import capped_stdio, flush_stdio, output_files, read_output
from .forker import Forker, with_code
from .isolation import base_environment, setup_basic, setup_isolated, world_traversable
from .libc import MS_NODEV, MS_NOEXEC, MS_NOSUID, PR_SET_CHILD_SUBREAPER, mount, prctl
from .monitor import monitor
from .reaper import cleanup_uids, read_small, rmtree, uid_of, workdir_for
from .state import CONFIG
from .wire import READ_CHUNK, Frames, RpcBroken, send_frame, write_all
from .worker import worker_main


def main(ctrl_fd: int) -> None:
    """The zygote's entry (sandbox.py's boot): read the configuration, set up isolation,
    become pid 1 of a new pid namespace where possible, preload modules, say ready, serve."""
    ctrl = socket.socket(fileno=ctrl_fd)
    CONFIG.clear()  # updated in place: every module holds this same dict
    CONFIG.update(json.loads(ctrl.recv(1 << 20)))
    CONFIG["profile"] = bool(os.environ.get("HALO_SANDBOX_PROFILE"))
    report = {"mode": CONFIG["mode"], "active": [], "inactive": []}
    pidns = False
    try:
        if CONFIG["mode"] == "isolated":
            pidns = setup_isolated(report)
        else:
            setup_basic(report)
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
        host_pid = int(os.read(rd, 64))
        os.close(rd)
        try:
            mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            report["active"].append("pid namespace (the sandbox sees only its own processes)")
        except OSError as exc:
            report["inactive"].append(f"private /proc: {exc}")
    else:
        host_pid = os.getpid()
    capped_stdio()
    for name in preload_list():
        try:
            __import__(name)
        except Exception:
            pass
    # Forked children then do not copy-on-write every page the collector would touch.
    import gc
    gc.collect()
    gc.freeze()
    base_environment()
    report["zygote_pid"] = host_pid
    report["zygote_ns_pid"] = os.getpid()
    ctrl.send(json.dumps({"ready": True, "report": report}).encode())
    serve(ctrl)


def preload_list() -> list[str]:
    """The modules to import before forking anything: the usual list, and in "uid" mode
    where the run uids cannot read the interpreter's files, a longer one (nothing that is
    not preloaded imports there)."""
    names = list(CONFIG.get("preload", []))
    if CONFIG.get("mode") == "uid" and \
            not all(world_traversable(p) for p in CONFIG.get("expose", [])):
        names += CONFIG.get("preload_unreadable", [])
    return names


def serve(ctrl: socket.socket) -> None:
    if CONFIG.get("profile"):  # developer aid: where the zygote's time goes
        import cProfile
        prof = cProfile.Profile(time.process_time)  # CPU time, not waiting
        zygote = Zygote(ctrl)
        zygote.on_exit = lambda: prof.dump_stats("/run/halo-zygote.prof")
        prof.enable()
        zygote.loop()
    Zygote(ctrl).loop()


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
        self.spawning: float | None = None  # when the forker was asked (its pid not back yet)
        self.pending: dict | None = None  # a result that came while spawning: kept for then


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

    def __init__(self, ctrl: socket.socket) -> None:
        self.ctrl = ctrl
        self.poller = select.poll()
        self.fresh: set[int] = set()  # fds watched since the last poll (see loop)
        self.watch(ctrl.fileno())
        self.accepting = True
        self.monitors: dict[int, tuple[list[int], dict, int]] = {}  # pidfd -> fds, run, pid
        self.runs: dict[int, PoolRun] = {}  # caller socket -> run
        self.workers: dict[int, Worker] = {}  # worker socket -> worker
        self.by_pidfd: dict[int, Worker] = {}
        self.idle: list[Worker] = []
        self.waiting: list[PoolRun] = []
        self.dying: dict[int, PoolRun] = {}  # program pidfd -> run whose verdict is in
        self.cpus = sorted(os.sched_getaffinity(0)) if CONFIG.get("pin", True) else []
        self.cpu_turn = 0
        self.forker = Forker()
        self.watch(self.forker.sock.fileno())
        self.spawning: list[PoolRun] = []  # asked the forker for their program, in order
        self.null = os.open(os.devnull, os.O_RDWR)  # every program's stdin

    def loop(self) -> None:
        """The event loop: requests, callers' data, workers' verdicts, programs' and monitors'
        exits, the forker's pids. Runs until the caller closes the control socket and every
        run in flight is finished."""
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # everything we fork: reaped by the kernel
        if os.getpid() != 1:
            prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans come to us even without a pid namespace
        while self.accepting or self.monitors or self.runs:
            timeout = self.next_timeout()
            try:
                events = self.poller.poll(timeout)
            except InterruptedError:
                continue
            self.fresh.clear()
            for fd, _ in events:
                if fd in self.fresh:  # closed and its number reused earlier in this batch:
                    continue  # the event was the old fd's (poll is level-triggered: the
                    # new one's own events come with the next poll)
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

    def watch(self, fd: int) -> None:
        self.poller.register(fd, select.POLLIN)
        self.fresh.add(fd)

    def live(self, run: PoolRun) -> bool:
        """The run is still in flight. Runs are keyed by their socket's fd number, which a
        later run gets once this one is finished: so compare the object, not the key."""
        return self.runs.get(run.sock) is run

    def dispatch(self, fd: int) -> None:
        if fd == self.ctrl.fileno() and self.accepting:
            self.on_request()
        elif fd == self.forker.sock.fileno():
            self.on_forker_data()
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
        """A run request (with the caller's socket and uid lock fds): a pooled pytests run is
        handled here, anything else gets a monitor process of its own."""
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
        flush_stdio()
        if info.get("pool") and info.get("uids"):
            run = PoolRun(fds[0], fds, info)
            os.set_blocking(run.sock, False)
            self.runs[run.sock] = run
            self.watch(run.sock)
            self.on_run_data(run)  # the caller usually sent the spec before the request
            return
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                monitor(fds[0], info)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        try:
            pidfd = os.pidfd_open(pid)
        except ProcessLookupError:  # already gone (and reaped): clean up now
            cleanup_uids(info.get("uids") or [])
            for f in fds:
                os.close(f)
            return
        self.watch(pidfd)
        self.monitors[pidfd] = (fds, info, pid)

    def on_monitor_exit(self, pidfd: int) -> None:
        fds, info, _ = self.monitors.pop(pidfd)
        self.poller.unregister(pidfd)
        os.close(pidfd)
        try:
            cleanup_uids(info.get("uids") or [])
        finally:
            for f in fds:
                os.close(f)

    # -- pooled pytests runs
    def on_run_data(self, run: PoolRun) -> None:
        """The caller's spec frames for a pooled run (usually already there with the request);
        once both are in, start the run. Later data on that socket is only its EOF."""
        try:
            data = os.read(run.sock, READ_CHUNK)
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
            if len(run.parts) >= 2:  # the whole spec goes to the worker as it came
                (run.program_raw, run.raw), run.ready = run.parts[:2], True
                run.program_raw = with_code(run.program_raw)
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
        """Prepare the run's workdir and output files, ask the forker for the program, and hand
        the harness its pipes (or queue the run until a worker is free)."""
        run.cpu = self.next_cpu()
        rmtree(run.workdir)
        os.mkdir(run.workdir, 0o700)
        os.chown(run.workdir, run.uids[0], run.uids[0])
        run.outputs = output_files(run.workdir)
        u2t_r, u2t_w = os.pipe()
        t2u_r, t2u_w = os.pipe()
        try:
            self.ask_forker(run, [self.null, *run.outputs, t2u_r, u2t_w])
        finally:
            for fd in (u2t_w, t2u_r):
                os.close(fd)
        # The harness gets its pipes now, while the program is being forked: neither waits
        # for the other's start (nor the zygote for the forker).
        run.job_fds = [u2t_r, t2u_w]
        run.deadline = time.monotonic() + 2 * run.timeout_s + 60.0  # queue backstop
        worker = self.idle_worker()
        if worker is None:
            self.waiting.append(run)
        else:
            self.assign(worker, run)

    # -- the forker, asynchronously
    FORKER_PATIENCE = 30.0  # seconds without a pid back: the forker is stuck, replace it

    def ask_forker(self, run: PoolRun, fds: list[int]) -> None:
        for attempt in (1, 2):
            try:
                self.forker.send(run.uids[0], run.cpu, run.program_raw, fds)
                break
            except OSError:
                if attempt == 2:
                    raise
                self.forker_died()
        run.spawning = time.monotonic()
        self.spawning.append(run)

    def on_forker_data(self) -> None:
        pids = self.forker.read_pids()
        if pids is None:
            return self.forker_died()
        for pid in pids:
            if self.spawning:
                self.spawned(self.spawning.pop(0), pid)

    def spawned(self, run: PoolRun, pid: int) -> None:
        run.spawning, pending, run.pending = None, run.pending, None
        if pid <= 0:
            return self.finish(run, pending or {"status": "error", "tests": [],
                                                "message": "the sandbox could not fork"})
        run.u_pid = pid
        try:
            run.u_pidfd = os.pidfd_open(pid)
        except ProcessLookupError:  # gone already (the forker's children are auto-reaped):
            run.u_pidfd = None  # anything it left running is now our child (see cleanup_uids)
            run.program_gone = True
        if pending is not None:  # the verdict (or a timeout) came first
            self.end_program(run, pending)

    def forker_died(self) -> None:
        """Replace the forker. The runs whose program it had not confirmed are redone by
        their caller (`retry`): nothing of them counts, not even a verdict the harness sent,
        which may only say that the program never came."""
        try:
            self.poller.unregister(self.forker.sock.fileno())
        except KeyError:
            pass
        lost, self.spawning = self.spawning, []
        self.forker.restart()  # returns once the old forker is gone: its orphans are ours
        self.watch(self.forker.sock.fileno())
        if lost:
            self.kill_unreported_programs()
        for run in lost:
            run.spawning, run.pending = None, None
            self.finish(run, {"status": "error", "tests": [], "retry": True,
                              "message": "the sandbox's forker died before starting the program"})

    def kill_unreported_programs(self) -> None:
        """Kill the programs the dead forker started but never reported. One may still be
        root, before its setresuid: the cleanup, which kills by uid, would miss it, and it
        would go on as the uid of a later run. Every child of ours still root is ours to
        know (forker, harness workers, monitors); any other is such a program."""
        known = set(self.known_children()) | {pid for _, _, pid in self.monitors.values()}
        try:
            kids = read_small(f"/proc/{os.getpid()}/task/{os.getpid()}/children", 1 << 16)
        except OSError:
            return
        for pid in map(int, kids.split()):
            if pid not in known and uid_of(pid) == 0:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def assign(self, worker: Worker, run: PoolRun) -> None:
        """Give a worker the run: its budget and CPU, the two pipes to the program, the spec."""
        worker.run, run.worker = run, worker
        budget = run.timeout_s
        header = json.dumps({"budget_s": budget, "cpu": run.cpu}).encode()
        run.deadline = time.monotonic() + budget + 5.0  # backstop if the harness hangs
        try:
            os.set_blocking(worker.sock, True)
            socket.send_fds(worker.sobj, [struct.pack(">I", len(header)) + header], run.job_fds)
            write_all(worker.sock, struct.pack(">I", len(run.raw)) + run.raw)
        except OSError as exc:
            self.finish(run, {"status": "error", "tests": [],
                              "message": f"the test harness is gone: {exc}"})
            self.retire(worker)
            return
        finally:
            for fd in run.job_fds:
                os.close(fd)
            run.job_fds = []
            if self.workers.get(worker.sock) is worker:
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
                worker_main(theirs.detach(), CONFIG["harness_uids"][index])
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
        self.watch(worker.sock)
        self.watch(worker.pidfd)
        return worker

    def on_worker_data(self, worker: Worker) -> None:
        """A worker's verdict (one frame per run), or its end."""
        try:
            data = os.read(worker.sock, READ_CHUNK)
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
        if run.spawning is not None:  # its pid is not back yet: this waits for it
            run.pending = run.pending or result
            return
        if run.u_pidfd is None:
            return self.finish(run, result)
        run.result = result
        try:
            os.kill(run.u_pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.dying[run.u_pidfd] = run
        self.watch(run.u_pidfd)

    def on_program_exit(self, pidfd: int) -> None:
        run = self.dying.pop(pidfd)
        self.poller.unregister(pidfd)
        run.program_gone = True
        if self.live(run):
            self.finish(run, run.result or {"status": "error", "tests": []})

    def release(self, worker: Worker) -> None:
        if self.waiting:
            run = self.waiting.pop(0)
            if self.live(run):
                self.assign(worker, run)
                return
        self.idle.append(worker)

    def on_worker_exit(self, worker: Worker) -> None:
        self.retire(worker)

    def retire(self, worker: Worker) -> None:
        """Kill a worker and forget it; a run it held ends in an error."""
        if self.workers.get(worker.sock) is not worker:  # retired already (fd reused)
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
        """The end of a pooled run, exactly once: collect its output, clean up everything of its
        uids, then send the result and close the caller's socket and uid lock (the caller
        returns on that EOF, so nothing of the run is left when it does)."""
        if not self.live(run):
            return
        if run.spawning is not None:  # never before its program is known: it could outlive
            run.pending = run.pending or result  # the cleanup of its uid
            run.deadline = run.spawning + self.FORKER_PATIENCE
            return
        del self.runs[run.sock]
        if run.worker is not None:  # its late verdict is dropped and the worker released
            if run.worker.run is run:
                run.worker.run = None
            run.worker = None
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
            result["stdout"], result["stderr"] = (read_output(fd, run.output_cap)
                                                  for fd in run.outputs)
            for fd in run.outputs:
                os.close(fd)
            run.outputs = None
        try:
            cleanup_uids(run.uids, program_gone=run.program_gone, known=self.known_children())
        finally:
            result["duration_s"] = time.monotonic() - run.started
            try:
                os.set_blocking(run.sock, True)
                send_frame(run.sock, result)
            except (RpcBroken, OSError):
                pass
            for fd in run.fds:
                os.close(fd)

    def known_children(self) -> dict[int, int]:
        """pid -> pidfd of the forker and the harness workers (see reaper.children_clear)."""
        known = {w.pid: w.pidfd for w in self.workers.values()}
        if self.forker.pidfd is not None:
            known[self.forker.pid] = self.forker.pidfd
        return known

    def next_timeout(self) -> int:
        pending = [r.deadline for r in self.runs.values() if r.ready]
        if not pending:
            return -1
        return max(0, int((min(pending) - time.monotonic()) * 1000) + 1)

    def check_deadlines(self) -> None:
        """Runs past their backstop deadline (the harness enforces the real one) time out; a
        forker that has not answered for FORKER_PATIENCE is replaced."""
        now = time.monotonic()
        for run in [r for r in self.runs.values() if r.ready and r.deadline <= now]:
            worker = run.worker
            if worker is not None:  # the harness did not stop at its own deadline
                worker.run = None
                self.retire(worker)
            self.finish(run, {"status": "timeout", "tests": [],
                              "message": f"timed out after {run.timeout_s:g} s"})
        if self.spawning and now - self.spawning[0].spawning > self.FORKER_PATIENCE:
            self.forker_died()
