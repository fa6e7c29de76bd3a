"""core.notify and core.credentials: webhook payloads received by a local HTTP server, retries
with back-off, secrets stored 0600 and shown masked."""
from __future__ import annotations

import json
import os
import stat
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core import credentials, ledger, notify


class Hook:
    """A local webhook: records bodies; answers `fail_first` requests with 500, and sleeps
    `delay` seconds before answering (a slow endpoint)."""

    def __init__(self, fail_first: int = 0, delay: float = 0.0, delays: tuple = ()):
        self.bodies: list[dict] = []
        self.fail_first, self.delay, self.hits = fail_first, delay, 0
        self.delays = list(delays)  # per request, before `delay` applies
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.hits += 1
                time.sleep(hook.delays.pop(0) if hook.delays else hook.delay)
                if hook.hits <= hook.fail_first:
                    self.send_response(500)
                else:
                    hook.bodies.append(body)
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/s3cr3t-path?k=v"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    h = Hook()
    yield h
    h.close()


def _finished_job(status=ledger.COMPLETED, **fields) -> int:
    with ledger.writer() as conn:
        job_id = ledger.insert_job(conn, kind="command", name="echo hi", config="{}",
                                   job_dir="")
        conn.exec_driver_sql(
            "INSERT INTO metric (job_id, step, time, name, value) VALUES "
            "(?, 1, 1, 'loss', 2.0), (?, 2, 2, 'loss', 1.5), (?, 2, 2, 'lr', 0.001)",
            (job_id, job_id, job_id))
    ledger.transition(job_id, (ledger.QUEUED,), ledger.RUNNING)
    ledger.transition(job_id, (ledger.RUNNING,), status, **fields)
    return job_id


def test_a_job_end_is_posted_with_its_key_facts(home, hook, monkeypatch):
    monkeypatch.setenv(credentials.NOTIFY_ENV, hook.url)
    notifier = notify.Notifier()  # starts at the newest event: history is not announced
    job_id = _finished_job(ledger.FAILED, error="exited with code 3", exit_code=3)
    assert notifier.poll_events() == 1
    notifier.deliver_due()
    body = hook.bodies[0]
    assert body["id"] == job_id and body["event"] == "JOB_FAILED" and body["status"] == "FAILED"
    assert body["kind"] == "command" and body["name"] == "echo hi"
    assert body["error"] == "exited with code 3" and body["exit_code"] == 3
    assert body["metrics"] == {"loss": 1.5, "lr": 0.001}
    assert body["duration_s"] is not None and body["duration_s"] >= 0
    events = ledger.events_df(job_id=job_id)
    sent = events[events.kind == "NOTIFY_SENT"]
    assert len(sent) == 1 and "s3cr3t" not in sent.payload.iloc[0]  # the URL stays secret
    # A restarted notifier resumes after the cursor: nothing is sent twice.
    assert notify.Notifier().poll_events() == 0


def test_history_before_the_first_start_is_not_announced(home, hook, monkeypatch):
    monkeypatch.setenv(credentials.NOTIFY_ENV, hook.url)
    _finished_job()
    assert notify.Notifier().poll_events() == 0


def test_failed_posts_are_retried_with_back_off_then_given_up(home, monkeypatch):
    h = Hook(fail_first=2)
    try:
        monkeypatch.setenv(credentials.NOTIFY_ENV, h.url)
        notifier = notify.Notifier(delays=(0.2, 0.4))
        _finished_job()
        notifier.poll_events()
        notifier.deliver_due()
        assert h.hits == 1 and notifier.pending[0].attempts == 1
        notifier.deliver_due()  # not due yet: the back-off holds
        assert h.hits == 1
        time.sleep(0.25)
        notifier.deliver_due()
        assert h.hits == 2 and not h.bodies
        time.sleep(0.45)
        notifier.deliver_due()
        assert h.hits == 3 and len(h.bodies) == 1 and not notifier.pending
    finally:
        h.close()
    # A dead endpoint: every attempt fails, the delivery is dropped and the failure recorded.
    notifier = notify.Notifier(delays=(0.0,))
    job_id = _finished_job()
    notifier.poll_events()
    notifier.deliver_due()
    notifier.deliver_due()
    assert not notifier.pending
    failed = ledger.events_df(job_id=job_id)
    failed = failed[failed.kind == "NOTIFY_FAILED"]
    assert len(failed) == 1 and json.loads(failed.payload.iloc[0])["attempts"] == 2


def test_a_jobs_own_url_wins_over_the_global_one(home, hook, tmp_path, monkeypatch):
    credentials.set_notify_url("http://127.0.0.1:9/never")
    job_dir = tmp_path / "jobdir"
    credentials.set_job_notify_url(job_dir, hook.url)
    assert stat.S_IMODE(os.stat(job_dir / credentials.JOB_URL_FILE).st_mode) == 0o600
    assert credentials.notify_url(job_dir) == hook.url
    assert credentials.notify_url(tmp_path) == "http://127.0.0.1:9/never"
    monkeypatch.setenv(credentials.NOTIFY_ENV, "https://env.example/x")
    assert credentials.notify_url() == "https://env.example/x"
    assert credentials.global_notify_source() == "environment"


def test_no_url_means_no_delivery(home):
    notifier = notify.Notifier()
    _finished_job()
    assert notifier.poll_events() == 0 and notifier.cursor > 0


def test_send_test_reaches_the_hook_and_says_only_the_host(home, hook):
    assert notify.send_test(hook.url) == "http://127.0.0.1/…"
    assert hook.bodies[0]["event"] == "TEST"


def test_token_is_stored_private_and_shown_masked(home):
    credentials.set_hf_token("hf_abcdefghijklmnop")
    path = home / credentials.FILENAME
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert credentials.job_env() == {"HF_TOKEN": "hf_abcdefghijklmnop"}
    shown = credentials.mask_token(credentials.hf_token())
    assert "abcdefghijklmn" not in shown and shown.startswith("set")
    with pytest.raises(credentials.CredentialError, match="hf_token"):
        credentials.set_hf_token("has spaces in it")
    assert credentials.hf_token() == "hf_abcdefghijklmnop"  # a bad value loses nothing
    credentials.set_hf_token("")
    assert credentials.job_env() == {}


def test_bad_urls_are_refused_in_one_sentence(home):
    with pytest.raises(credentials.CredentialError, match="notify_url must be an http"):
        credentials.set_notify_url("ftp://example.com/hook")
    assert credentials.mask_url("https://hooks.slack.com/services/T0/B0/XYZ") == \
        "https://hooks.slack.com/…"
