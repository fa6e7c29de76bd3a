"""The forwarding proxy in front of an engine: bytes through unchanged (streams too), the
Bearer check, the next free port, and the idle clock. The upstream here is a small stdlib
server standing in for the engine's loopback port; the real engines are in test_serve_job."""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.serving.proxy import Proxy


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = json.dumps({"data": [{"id": "m"}], "auth": self.headers.get("Authorization")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body.get("bad"):
            out = b'{"detail": "bad request field"}'
            self.send_response(422)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(3):
            data = f"data: {json.dumps({'i': i})}\n\n".encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
            time.sleep(0.05)
        self.wfile.write(b"0\r\n\r\n")


@pytest.fixture
def upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _get(port, path="/v1/models", headers=None, method="GET", body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    return resp.status, resp.read()


def test_forwards_plain_and_streamed_responses_and_upstream_errors(upstream):
    proxy = Proxy(upstream, port=0).start()
    try:
        status, body = _get(proxy.port)
        assert status == 200 and json.loads(body)["data"][0]["id"] == "m"
        status, body = _get(proxy.port, "/v1/chat/completions", method="POST",
                            body=json.dumps({"stream": True}),
                            headers={"Content-Type": "application/json"})
        assert status == 200
        assert [json.loads(line[5:]) for line in body.decode().split("\n\n") if line] == \
            [{"i": 0}, {"i": 1}, {"i": 2}]
        status, body = _get(proxy.port, "/v1/chat/completions", method="POST",
                            body=json.dumps({"bad": True}))
        assert status == 422 and json.loads(body)["detail"] == "bad request field"
        assert proxy.requests == 3
    finally:
        proxy.close()


def test_token_required_beyond_loopback_and_not_passed_upstream(upstream):
    proxy = Proxy(upstream, port=0, token="s3cret").start()
    try:
        assert _get(proxy.port)[0] == 401
        assert _get(proxy.port, headers={"Authorization": "Bearer wrong"})[0] == 401
        status, body = _get(proxy.port, headers={"Authorization": "Bearer s3cret"})
        assert status == 200 and json.loads(body)["auth"] is None
    finally:
        proxy.close()


def test_port_in_use_takes_the_next_free_one(upstream):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        proxy = Proxy(upstream, port=port)
        try:
            assert proxy.port > port
        finally:
            proxy.close()
    finally:
        taken.close()


def test_idle_clock_restarts_on_each_request_and_stops_while_one_runs(upstream):
    proxy = Proxy(upstream, port=0).start()
    try:
        time.sleep(0.3)
        assert proxy.idle_seconds() >= 0.3
        _get(proxy.port)
        assert proxy.idle_seconds() < 0.3
        proxy._begin()
        time.sleep(0.2)
        assert proxy.idle_seconds() == 0.0
        proxy._end()
    finally:
        proxy.close()


def test_engine_not_up_yet_answers_503(upstream):
    from core.serving.proxy import free_loopback_port

    proxy = Proxy(free_loopback_port(), port=0).start()
    try:
        status, body = _get(proxy.port)
        assert status == 503 and "not answering" in json.loads(body)["error"]["message"]
    finally:
        proxy.close()
