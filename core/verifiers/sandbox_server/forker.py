"""The forker: a quiet process whose only job is to fork the programs under test.

Every fork shares the parent's pages copy-on-write; forking from the busy zygote loop would
make the zygote pay a page fault for each page it touches while the child lives (hundreds
per run). The forker touches almost nothing between forks, so forking from it is cheap."""
from __future__ import annotations

import json
import os
import signal
import socket
import struct
import traceback

from .childsetup import child_setup, env_plan, flush_stdio, limits_plan
from .program import serve_program
from .wire import MAX_FD, read_exact, recv_frame, write_all


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


def forker_main(sock_fd: int) -> None:
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
        meta = json.loads(read_exact(3, size))
        spec = recv_frame(3)
        workdir = meta["workdir"]
        limits, env = limits_plan(spec, "run"), env_plan(spec, workdir)
        flush_stdio()
        try:
            pid = os.fork()
        except OSError:
            pid = -1
        if pid == 0:
            code = 127
            try:
                child_setup(spec, meta["uid"], workdir, fds[0], fds[1], fds[2],
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
        write_all(3, struct.pack(">i", pid))
