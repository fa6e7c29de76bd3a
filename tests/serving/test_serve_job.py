"""A finished SFT job's LoRA adapter on the tiny model, served by a real `serve` job under a
real supervisor (merged first): the endpoint, streamed and plain chat, a 4xx passed through,
re-adoption after a supervisor SIGKILL, and a stop that frees the port. One served model for
the whole module (tests run in file order)."""
from __future__ import annotations

import json
import socket
import urllib.request
from pathlib import Path

import pytest

from core import chat, jobs, ledger
from core.runner import procs
from tests.conftest import SupervisorProcess, wait_for
from tests.serving.served import start_served, stop_served


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    s, mp = start_served(tmp_path_factory, from_job=True)
    yield s
    stop_served(s, mp)


def test_running_only_once_the_endpoint_answers(served):
    assert "STARTING" in served.statuses  # loading the model takes seconds: not RUNNING yet
    job = jobs.get(served.job["id"])
    assert job["status"] == "RUNNING" and job["endpoint"].startswith("http://127.0.0.1:")
    kinds = ledger.events_df(job_id=job["id"])["kind"].tolist()
    assert kinds.index("MODEL_READY") <= kinds.index("JOB_STARTED")
    assert job["gpus"] == 0  # a CPU-served model holds no GPU slot
    log = (Path(job["job_dir"]) / "output.log").read_text()
    assert "merging adapter" in log and "engine transformers" in log


def test_the_trained_adapter_is_offered_to_serve(served):
    from core.serving import service

    trained = jobs.get(served.job["id"])["config"]["job"]
    offered = [item for item in service.servable() if item.args == {"job": trained}]
    assert len(offered) == 1 and offered[0].group == "LoRA adapter"
    assert offered[0].label.startswith(f"job {trained} · ")


def test_models_and_plain_and_streamed_chat(served):
    ids = chat.models(served.endpoint)
    assert ids == [str(Path(served.job["job_dir"]) / "merged")]  # the adapter merged on its base
    msgs = [{"role": "user", "content": "What is the capital of France?"}]
    params = chat.Params(max_tokens=8, temperature=0.0)
    plain = chat.complete(served.endpoint, msgs, params)
    assert plain.tokens == 8 and plain.finish_reason == "length"
    stats = chat.Reply()
    pieces = list(chat.stream(served.endpoint, msgs, params, stats))
    # Streamed text arrives piece by piece; a random model may well answer in newlines, which
    # the non-streamed reply strips: compare the text without the surrounding whitespace.
    assert len(pieces) >= 2 and "".join(pieces) == stats.text and stats.text
    assert stats.text.strip() == plain.text.strip()  # greedy: the same reply both ways
    assert stats.tokens == 8 and stats.ttft_s is not None and stats.tokens_per_s > 0
    body = json.dumps({"prompt": "def add", "max_tokens": 4}).encode()
    req = urllib.request.Request(served.endpoint + "/completions", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        data = json.loads(resp.read())
    assert data["object"] == "text_completion" and data["usage"]["completion_tokens"] == 4
    assert isinstance(data["choices"][0]["text"], str)


def test_a_bad_request_gets_the_engines_4xx_and_nothing_breaks(served):
    with pytest.raises(chat.ChatError, match=r"answered 400: .*pinned"):
        chat.complete(served.endpoint, [{"role": "user", "content": "hi"}],
                      chat.Params(model="some-other-model", max_tokens=2))
    assert chat.models(served.endpoint)
    assert jobs.get(served.job["id"])["status"] == "RUNNING"


def test_show_json_has_the_endpoint(served, capsys):
    from core.cli import main

    assert main(["show", str(served.job["id"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["endpoint"] == served.endpoint


def test_supervisor_sigkill_then_restart_readopts_the_served_model(served):
    served.supervisor.kill()
    assert chat.models(served.endpoint)  # the job outlives its supervisor
    served.supervisor = SupervisorProcess(served.home).start()
    wait_for(lambda: "re-attached 1" in served.supervisor.read_log(), 30, what="re-attach")
    job = jobs.get(served.job["id"])
    assert job["status"] == "RUNNING" and job["endpoint"] == served.endpoint
    assert chat.complete(served.endpoint, [{"role": "user", "content": "hi"}],
                         chat.Params(max_tokens=3)).text


def test_stop_ends_stopped_and_frees_the_port(served):
    job_id, pid = served.job["id"], served.job["pid"]
    port = int(served.endpoint.rsplit(":", 1)[1].split("/")[0])
    assert jobs.request_stop(job_id) == "STOPPING"
    wait_for(lambda: jobs.get(job_id)["status"] in ledger.FINAL, 60, what="the job to end")
    assert jobs.get(job_id)["status"] == "STOPPED"
    wait_for(lambda: not procs.group_alive(pid), 20, what="the process group to exit")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)
    with socket.socket() as s:  # free again for the next server (as http.server binds it)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
    assert not (Path(served.job["job_dir"]) / "merged").exists()  # the temporary merge is gone
