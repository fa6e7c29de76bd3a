"""A pooled test harness worker: the trusted side of a Python test-suite run.

Not root, its own uid (never the program's), not dumpable, no new privileges: the program
can neither signal, trace nor write to it. It runs one problem's tests at a time against a
program process the zygote hands over (two pipe fds), then sends the verdict back."""
from __future__ import annotations

import json
import os
import resource
import socket
import struct
import time

from .harness import Harness
from .libc import PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, prctl
from .results import tests_verdict
from .state import U_CPU, U_PHASES
from .wire import Channel, MAX_FD, read_exact, recv_marshal, send_frame

WORKER_JOBS = 2000  # a worker retires after this many runs (bounded memory)


def worker_main(sock_fd: int, uid: int) -> None:
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
    for n in range(WORKER_JOBS):
        try:
            header, fds, _flags, _addr = socket.recv_fds(sock, 4, 4)
        except OSError:
            return
        if len(header) < 4 or len(fds) != 2:
            return
        (size,) = struct.unpack(">I", header)
        job = json.loads(read_exact(sock_fd, size))
        job["spec"] = recv_marshal(sock_fd)
        result = worker_job(job, fds)
        result["retire"] = n == WORKER_JOBS - 1
        send_frame(sock_fd, result)


def pin(cpu: int | None, cpus: set[int] | None = None) -> None:
    try:
        os.sched_setaffinity(0, {cpu} if cpu is not None else (cpus or os.sched_getaffinity(1)))
    except OSError:
        pass


def worker_job(job: dict, fds: list[int]) -> dict:
    """One run in a pooled worker: pin next to the program, run the tests until the budget's
    deadline, close the pipes (the program then exits on its own) and return the verdict."""
    u2t_r, t2u_w = fds
    if job.get("cpu") is not None:
        pin(job["cpu"])  # next to the program it talks to (see Zygote.next_cpu)
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
