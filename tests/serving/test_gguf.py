"""The GGUF path: the tiny model converted with llama.cpp's own converter (the export
module's `convert`), served by llama.cpp's server (engine auto) through a real supervisor;
the engine dying (FAILED with its end) and the idle timeout (COMPLETED) on the same cheap
engine."""
from __future__ import annotations

from pathlib import Path

import pytest

from core import chat, jobs, ledger
from core.serving import service
from tests.conftest import wait_for
from tests.serving.served import free_port


@pytest.fixture
def tiny_gguf(home, tmp_path):
    from core.export import converter, gguf
    from core.models.presets import tiny_model_dir
    from core.models.tiny import build_tiny_model

    try:
        converter.script()
    except converter.ConverterMissing as exc:
        pytest.fail(str(exc))  # `make install` puts it in place; CI runs it
    tiny = build_tiny_model(tiny_model_dir(), seed=0)
    return gguf.convert(Path(tiny), tmp_path / "tiny-f16.gguf", "f16", log=lambda line: None)


def test_a_gguf_file_is_served_by_llama_cpp(supervisor, tiny_gguf, capsys):
    from core.cli import main

    assert main(["serve", "--model", str(tiny_gguf), "--port", str(free_port()),
                 "--idle-minutes", "0", "--wait"]) == 0
    out, err = capsys.readouterr()
    job_id, endpoint = out.split()  # the job id at once, the endpoint once it answers
    job = jobs.get(int(job_id))
    assert job["endpoint"] == endpoint and job["status"] == "RUNNING"
    assert "with llamacpp at" in err
    job_id = int(job_id)
    assert service.ready_info(job)["engine"] == "llamacpp"
    assert chat.models(job["endpoint"]) == ["tiny-f16.gguf"]
    msgs = [{"role": "user", "content": "What is the capital of France?"}]
    params = chat.Params(max_tokens=6, temperature=0.0)
    plain = chat.complete(job["endpoint"], msgs, params)
    assert plain.tokens >= 1
    stats = chat.Reply()
    streamed = "".join(chat.stream(job["endpoint"], msgs, params, stats))
    assert stats.tokens >= 1 and streamed.strip() == plain.text.strip()
    # The engine dying ends the job FAILED, with the engine's end in the reason.
    import os
    import signal

    import psutil

    [engine] = [p for p in psutil.process_iter(["cmdline"])
                if "llama_cpp.server" in " ".join(p.info["cmdline"] or [])
                and os.getpgid(p.pid) == job["pid"]]
    engine.send_signal(signal.SIGKILL)
    wait_for(lambda: jobs.get(job_id)["status"] in ledger.FINAL, 60, what="the job to end")
    failed = jobs.get(job_id)
    assert failed["status"] == "FAILED"
    assert "error: the llamacpp server exited with code -9 while serving" in failed["error"]
    # The idle timeout (3 s here) ends a served model nobody uses: COMPLETED, and it says why.
    idle_id = service.start(str(tiny_gguf), port=free_port(), idle_minutes=0.05)
    service.wait_ready(idle_id, timeout=180)
    wait_for(lambda: jobs.get(idle_id)["status"] in ledger.FINAL, 60, what="the idle timeout")
    assert jobs.get(idle_id)["status"] == "COMPLETED"
    log = (Path(jobs.get(idle_id)["job_dir"]) / "output.log").read_text()
    assert "no request for 0.05 min (idle timeout)" in log
