"""A thin forwarding proxy between clients and the engine's loopback port (stdlib only).

Why a proxy rather than each engine's own options: the three engines differ in how (and
whether) they check an API key and none reports when it was last used. Forwarding bytes
through one small server gives every engine the same three things: the public port (bound
here first, so "port in use → next free" is exact), a Bearer-token check when the endpoint is
exposed beyond loopback, and the time of the last request for the idle timeout. The engine
still does all the model work; responses (SSE streams included) pass through unchanged.
"""
from __future__ import annotations

import errno
import hmac
import http.client
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
                "proxy-authorization", "proxy-authenticate", "host", "content-length",
                "authorization"}
PORT_TRIES = 100


def bind_server(host: str, port: int, handler) -> ThreadingHTTPServer:
    """A server on `port`, or the next free one above it (port 0: any free port)."""
    last: OSError | None = None
    for candidate in ([0] if port == 0 else range(port, min(port + PORT_TRIES, 65536))):
        try:
            return ThreadingHTTPServer((host, candidate), handler)
        except OSError as exc:
            if exc.errno not in (errno.EADDRINUSE, errno.EACCES):
                raise
            last = exc
    raise OSError(f"no free port in {port}..{port + PORT_TRIES - 1} on {host}: {last}")


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proxy:
    def __init__(self, upstream_port: int, host: str = "127.0.0.1", port: int = 8000,
                 token: str | None = None, timeout: float = 600.0) -> None:
        self.upstream_port = upstream_port
        self.token = token
        self.timeout = timeout
        self.last_used = time.monotonic()
        self.in_flight = 0
        self.requests = 0
        self._lock = threading.Lock()
        self.server = bind_server(host, port, _handler_for(self))
        self.server.daemon_threads = True
        self.host, self.port = self.server.server_address[:2]
        self._thread: threading.Thread | None = None

    def start(self) -> "Proxy":
        self._thread = threading.Thread(target=self.server.serve_forever, name="serve-proxy",
                                        kwargs={"poll_interval": 0.2}, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:  # shutdown() waits for a serve_forever that must be running
            self.server.shutdown()
            self._thread = None
        self.server.server_close()

    def idle_seconds(self) -> float:
        """Seconds since the last request ended; 0 while one is in flight."""
        with self._lock:
            return 0.0 if self.in_flight else time.monotonic() - self.last_used

    def _begin(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.requests += 1
            self.last_used = time.monotonic()

    def _end(self) -> None:
        with self._lock:
            self.in_flight -= 1
            self.last_used = time.monotonic()

    def authorised(self, header: str | None) -> bool:
        if not self.token:
            return True
        scheme, _, given = (header or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                                  self.token.encode())


def _handler_for(proxy: Proxy):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: streams end at close
        # Small SSE pieces must leave at once: with Nagle on, each waits for the client's
        # delayed ACK of the previous one (measured: +28 ms time to first token).
        disable_nagle_algorithm = True

        def log_message(self, fmt, *args):  # the engine logs; access lines would flood the job log
            return

        def do_GET(self):
            self._forward()

        def do_POST(self):
            self._forward()

        def do_DELETE(self):
            self._forward()

        def do_OPTIONS(self):
            self._forward()

        def _error(self, status: int, message: str) -> None:
            body = json.dumps({"error": {"message": message, "type": "halo_forge_proxy",
                                         "code": status}}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if status == 401:
                self.send_header("WWW-Authenticate", "Bearer")
            self.end_headers()
            self.wfile.write(body)

        def _forward(self) -> None:
            if not proxy.authorised(self.headers.get("Authorization")):
                self._error(401, "this endpoint needs 'Authorization: Bearer <token>' "
                                 "(the halo-forge access token)")
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
            proxy._begin()
            upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port,
                                                  timeout=proxy.timeout)
            try:
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    resp = upstream.getresponse()
                except (ConnectionError, OSError) as exc:
                    self._error(503, f"the model server is not answering yet ({exc})")
                    return
                self._relay(resp)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client went away (a Stop in the Chat page): drop the rest
            finally:
                upstream.close()
                proxy._end()

        def _relay(self, resp: http.client.HTTPResponse) -> None:
            self.send_response(resp.status, resp.reason)
            for key, value in resp.getheaders():
                if key.lower() not in _HOP_HEADERS:
                    self.send_header(key, value)
            length = resp.getheader("Content-Length")
            if length is not None:
                data = resp.read()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
            self.end_headers()  # a stream: pass each piece on as it comes
            while True:
                piece = resp.read1(65536)
                if not piece:
                    break
                self.wfile.write(piece)
                self.wfile.flush()

    return Handler
