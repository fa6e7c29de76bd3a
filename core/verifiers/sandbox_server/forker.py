"""The forker: a quiet process whose only job is to fork the programs under test.

Every fork shares the parent's pages copy-on-write; forking from the busy zygote loop would
make the zygote pay a page fault for each page it touches while the child lives (hundreds
per run). The forker touches almost nothing between forks, so forking from it is cheap."""
from __future__ import annotations

import gc
import marshal
import os
import select
import signal
import warnings
import socket
import struct
import traceback

from .childsetup import child_setup, flush_stdio
from .libc import PR_SET_NO_NEW_PRIVS, prctl
from .program import serve_program
from .reaper import workdir_for
from .wire import MAX_FD, read_exact

HEADER = struct.Struct(">iiI")  # the program's uid, its CPU (-1: any), the spec's size
PID = struct.Struct(">i")  # the reply: the child's pid, or -1


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
                forker_main(theirs.detach())
            except BaseException:
                traceback.print_exc()
                code = 1
            finally:
                os._exit(code)
        theirs.close()
        ours.settimeout(30)  # a fork takes milliseconds; a stuck forker is replaced
        self.sock, self.pid, self.buf = ours, pid, b""
        try:
            self.pidfd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:
            self.pidfd = None

    def send(self, uid: int, cpu: int | None, raw: bytes, fds: list[int]) -> None:
        """Ask for a program process running as `uid` (pinned to `cpu`) from the spec's bytes
        `raw`, with `fds` as its stdin, stdout, stderr and harness pipes. Its pid comes back
        later (read_pids), in the order asked: the zygote does not wait for it. OSError: the
        forker is gone."""
        header = HEADER.pack(uid, -1 if cpu is None else cpu, len(raw))
        socket.send_fds(self.sock, [header], fds)
        self.sock.sendall(raw)

    def read_pids(self) -> list[int] | None:
        """The pids that arrived (-1: that fork failed); None when the forker is gone. Never
        waits: the socket's fd is non-blocking (it has a timeout), and os.read does not
        poll first as recv on a socket with a timeout does."""
        try:
            data = os.read(self.sock.fileno(), 4096)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            data = b""
        if not data:
            return None
        self.buf += data
        pids = []
        while len(self.buf) >= PID.size:
            pids.append(PID.unpack(self.buf[:PID.size])[0])
            self.buf = self.buf[PID.size:]
        return pids

    def restart(self) -> None:
        """Kill this forker and start another. Returns once the old one is gone, so that the
        programs it forked are already re-parented to the zygote (see forker_died)."""
        self.sock.close()
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.pidfd is not None:
            select.select([self.pidfd], [], [], 5.0)  # readable once it has exited
            os.close(self.pidfd)
        self.start()


def forker_main(sock_fd: int) -> None:
    """The forker's loop. Between two forks it touches as little memory as it can: each page
    it writes while the last child lives costs it a copy-on-write fault. So it only reads the
    fixed-size header and the spec's bytes; decoding the spec and planning the limits and
    environment happen in the child (which would fault on those objects anyway)."""
    if sock_fd != 3:
        os.dup2(sock_fd, 3)
        os.close(sock_fd)
    os.closerange(4, MAX_FD)  # the zygote's sockets are none of our business
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the programs are reaped by the kernel
    # Inherited by every child and irreversible: set once here instead of in each child (a
    # ctypes call costs a fresh fork dozens of page faults). setresuid is not affected.
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    flush_stdio()  # nothing is printed after this, so the children never need to flush
    sock = socket.socket(fileno=3)
    gc.disable()  # a collection here would write to every young object's page: faults
    fork_loop(sock)


def fork_loop(sock: socket.socket) -> None:
    """Every page this loop writes after a fork is a copy-on-write fault (the last child
    still shares it), so it makes as few objects as it can and keeps what it uses local."""
    recvmsg, fork, close, write, setaffinity = (sock.recvmsg, os.fork, os.close, os.write,
                                                os.sched_setaffinity)
    unpack, pack, size_of_header = HEADER.unpack, PID.pack, HEADER.size
    ancillary = socket.CMSG_LEN(8 * 4)
    while True:
        try:
            header, anc, _flags, _addr = recvmsg(size_of_header, ancillary)
        except OSError:
            return
        if len(header) < size_of_header or not anc:
            return
        fds = memoryview(anc[0][2]).cast("i").tolist()
        uid, cpu, size = unpack(header)
        raw = read_exact(3, size)
        try:
            pid = fork()
        except OSError:
            pid = -1
        if pid == 0:
            program_child(uid, raw, fds)
        if pid > 0 and cpu >= 0:
            try:  # from here: the child would pay for it in page faults
                setaffinity(pid, (cpu,))
            except OSError:
                pass
        for fd in fds:
            close(fd)
        write(3, pack(pid))


# Larger programs are compiled by the program process itself, under its memory and CPU limits:
# the zygote has none, and compiling megabytes of hostile text could stall or exhaust it. A
# model's completion with its prompt is a few kilobytes.
COMPILE_HERE_MAX = 64 * 1024


def with_code(raw: bytes) -> bytes:
    """In the zygote: the program part of a pooled run (marshalled by the caller) with its
    program compiled. Compiling in the fresh fork costs it a few hundred page faults; here
    it costs a compile. compile() runs no code. A program that does not compile, or whose
    compile warns (SyntaxWarning...), is left to the program process, which then reports
    the error or prints the warning to its own stderr exactly as before."""
    try:
        part = marshal.loads(raw)
        if part.get("kind") != "pytests" or not isinstance(part.get("program"), str) or \
                len(part["program"]) > COMPILE_HERE_MAX:
            return raw
        with warnings.catch_warnings(record=True) as caught:  # one thread: safe here
            warnings.simplefilter("always")
            part["code"] = compile(part["program"], "solution.py", "exec", dont_inherit=True)
        if caught:
            return raw
        del part["program"]  # the code is all the program process needs of it
        return marshal.dumps(part)
    except Exception:  # SyntaxError, ValueError, RecursionError, MemoryError...
        return raw


def program_child(uid: int, raw: bytes, fds: list[int]) -> None:
    """In the fresh fork: become the program process U (fds: stdin, stdout, stderr, the
    harness's pipe to us, our pipe to the harness). Never returns."""
    code = 127
    gc.enable()  # the forker runs without it; the program must not
    try:
        spec = marshal.loads(raw)  # from the caller (sandbox._program_frame), trusted
        workdir = workdir_for([uid])
        child_setup(spec, uid, workdir, fds[0], fds[1], fds[2], {3: fds[3], 4: fds[4]},
                    "run", True, workdir, no_new_privs=False)  # the forker set it
        serve_program(spec, 3, 4)
    except BaseException:
        try:
            os.write(2, traceback.format_exc().encode()[-4000:])
        except OSError:
            pass
    os._exit(code)
