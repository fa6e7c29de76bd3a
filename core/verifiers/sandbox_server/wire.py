"""How the sandbox's processes talk: length-prefixed JSON frames over fds.

A frame is a 4-byte big-endian length and that many bytes of JSON. JSON and not pickle: the
program under test writes frames too, and decoding JSON runs no code. Frames over MAX_FRAME
and undecodable ones raise RpcBroken, a BaseException so that test code's own
`except Exception` cannot swallow a broken program. `Frames` is the non-blocking reader of the
zygote's event loop; `Channel` the blocking one between the harness and the program."""
from __future__ import annotations

import json
import marshal
import os
import resource
import struct


MAX_FRAME = 64 * 1024 * 1024
# Reads of unknown length ask for at most this much: a larger os.read allocates its whole
# buffer first (1 MiB is an mmap, a munmap and fresh page faults, in every read of every run).
READ_CHUNK = 64 * 1024
MAX_FD = resource.getrlimit(resource.RLIMIT_NOFILE)[0] if resource.getrlimit(
    resource.RLIMIT_NOFILE)[0] != resource.RLIM_INFINITY else 1 << 20


class RpcBroken(BaseException):
    """The other side died or broke the protocol. BaseException: test code's own
    `except Exception` must not swallow it."""


def read_exact(fd: int, n: int) -> bytes:
    """Exactly n bytes from a blocking fd; a short stream is RpcBroken."""
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
    """One frame from a blocking fd (sizes over MAX_FRAME are refused before reading)."""
    (size,) = struct.unpack(">I", read_exact(fd, 4))
    if size > MAX_FRAME:
        raise RpcBroken(f"frame of {size} bytes is over the limit")
    try:
        return json.loads(read_exact(fd, size))
    except (ValueError, RecursionError) as exc:
        raise RpcBroken(f"undecodable frame: {exc}") from None


def recv_marshal(fd: int):
    """One marshalled frame from a blocking fd. Only for frames the caller made (the spec a
    pooled harness gets, forwarded untouched by the zygote): never for what a program sends,
    since unmarshalling untrusted bytes is not safe the way decoding JSON is."""
    (size,) = struct.unpack(">I", read_exact(fd, 4))
    if size > MAX_FRAME:
        raise RpcBroken(f"frame of {size} bytes is over the limit")
    try:
        return marshal.loads(read_exact(fd, size))
    except (ValueError, EOFError, TypeError) as exc:
        raise RpcBroken(f"undecodable frame: {exc}") from None


def send_frame(fd: int, obj) -> None:
    """One frame to a blocking fd, written whole (retrying short writes)."""
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


def write_all(fd: int, data: bytes) -> None:
    """Write all of `data`: a pipe or socket may take it in parts."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class Channel:
    """Frames to and from the program's process over two pipes. Blocking: the run's deadline
    is a SIGALRM that raises HarnessTimeout wherever the harness is waiting."""

    def __init__(self, rfd: int, wfd: int) -> None:
        self.rfd, self.wfd = rfd, wfd
        self.buf = b""

    def send(self, obj) -> None:
        data = json.dumps(obj, separators=(",", ":")).encode()
        try:
            write_all(self.wfd, struct.pack(">I", len(data)) + data)
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
                data = os.read(self.rfd, READ_CHUNK)
            except OSError as exc:
                raise RpcBroken(f"read failed: {exc}") from None
            if not data:
                raise RpcBroken("end of stream")
            self.buf += data
