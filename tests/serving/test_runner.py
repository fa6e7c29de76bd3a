"""The serve job's own decisions, without an engine: a missing model fails at once with one
sentence (through the real supervisor), and the watch loop ends on idle time, on a stop and on
the engine dying (a plain child process stands in for the engine there)."""
from __future__ import annotations

import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from core import jobs, ledger
from core.runner import signals
from core.serving import runner, service
from core.serving.proxy import Proxy, free_loopback_port
from tests.conftest import wait_for


def test_missing_model_fails_the_job_at_once_with_one_sentence(supervisor):
    job_id = jobs.submit("serve", {"model": "nobody/not-cached", "executor": {"gpus": 0}})
    wait_for(lambda: jobs.get(job_id)["status"] in ledger.FINAL, 60, what="the job to end")
    job = jobs.get(job_id)
    assert job["status"] == "FAILED"
    assert "error: model 'nobody/not-cached' is not in the Hugging Face cache" in job["error"]


def test_service_refuses_before_queueing(home):
    with pytest.raises(jobs.JobError, match="not in the Hugging Face cache"):
        service.start("nobody/not-cached")
    with pytest.raises(jobs.JobError, match="no job with id 41"):
        service.start(job=41)
    with pytest.raises(jobs.JobError, match="either a model or a finished job"):
        service.start(None)
    assert ledger.list_jobs() == []


def _child():
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])


@pytest.fixture
def proxy():
    p = Proxy(free_loopback_port(), port=0).start()
    yield p
    p.close()


def test_watch_ends_on_idle_timeout(proxy, capsys):
    child = _child()
    try:
        cfg = SimpleNamespace(idle_minutes=0.5 / 60)
        started = time.monotonic()
        assert runner._watch(cfg, child, proxy, "transformers") == 0
        assert time.monotonic() - started < 10
        assert "idle timeout" in capsys.readouterr().out
    finally:
        child.kill()


def test_watch_fails_when_the_engine_dies(proxy, capsys):
    child = _child()
    child.kill()
    child.wait()
    assert runner._watch(SimpleNamespace(idle_minutes=0), child, proxy, "vllm") == 1
    assert "error: the vllm server exited with code -9 while serving" in capsys.readouterr().out


def test_watch_ends_on_stop(proxy):
    child = _child()
    try:
        signals.request_stop()
        assert runner._watch(SimpleNamespace(idle_minutes=0), child, proxy, "transformers") == 0
    finally:
        signals.reset()
        child.kill()


def test_cli_serve_refuses_a_missing_model_in_one_sentence(home, capsys):
    from core.cli import main

    assert main(["serve", "--model", "nobody/not-cached"]) == 2
    err = capsys.readouterr().err.strip()
    assert "model 'nobody/not-cached' is not in the Hugging Face cache" in err
    assert len(err.splitlines()) == 1
    assert main(["serve"]) == 2
    assert "give --model M or --job ID" in capsys.readouterr().err


def test_an_exposed_endpoint_gets_a_token_kept_beside_the_job(tmp_path, monkeypatch):
    monkeypatch.delenv("HALO_FORGE_TOKEN", raising=False)
    assert runner._token(SimpleNamespace(host="127.0.0.1"), tmp_path) is None
    token = runner._token(SimpleNamespace(host="0.0.0.0"), tmp_path)
    path = tmp_path / "token"
    assert token and path.read_text() == token and path.stat().st_mode & 0o777 == 0o600
    assert runner._token(SimpleNamespace(host="0.0.0.0"), tmp_path) == token  # stable
    monkeypatch.setenv("HALO_FORGE_TOKEN", "ui-token")
    fresh = tmp_path / "other"
    fresh.mkdir()
    assert runner._token(SimpleNamespace(host="192.168.1.5"), fresh) == "ui-token"
