"""The CLI as a user runs it: a real process, a temp home, a real supervisor where needed."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from core import jobs
from tests.conftest import REPO, wait_for


def cli(*args, check=False, timeout=120):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-m", "core.cli", *args], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=timeout)
    if check:
        assert out.returncode == 0, out
    return out


def test_submit_jobs_show_logs_with_wait(supervisor):
    out = cli("submit", "--name", "hello", "--wait", "--", sys.executable, "-c",
              "print('Step 1/2'); print('loss: 0.25'); print('Step 2/2')")
    assert out.returncode == 0, out
    job_id = int(out.stdout.strip())
    assert "COMPLETED" in out.stderr
    listing = json.loads(cli("jobs", "--json", check=True).stdout)
    assert [j["name"] for j in listing] == ["hello"]
    shown = cli("show", str(job_id), check=True).stdout
    assert "COMPLETED" in shown and "hello" in shown
    logs = cli("logs", str(job_id), check=True).stdout.splitlines()
    assert logs == ["Step 1/2", "loss: 0.25", "Step 2/2"]
    assert cli("logs", "-n", "1", str(job_id), check=True).stdout.splitlines() == ["Step 2/2"]
    follow = cli("logs", "-f", str(job_id), check=True)  # a finished job: follow ends at once
    assert follow.stdout.splitlines()[-1] == "Step 2/2"


def test_wait_exits_non_zero_unless_completed(supervisor):
    out = cli("submit", "--wait", "--", sys.executable, "-c", "import sys; sys.exit(4)")
    assert out.returncode == 1
    assert "FAILED" in out.stderr and "exited with code 4" in out.stderr


def test_stop_and_retry(supervisor):
    job_id = int(cli("submit", "--", sys.executable, "-c", "import time; time.sleep(60)", check=True).stdout)
    wait_for(lambda: jobs.get(job_id)["status"] == "RUNNING", 30, what="job to run")
    assert cli("stop", str(job_id), check=True).stdout.strip() == "STOPPING"
    wait_for(lambda: jobs.get(job_id)["status"] == "STOPPED", 30, what="STOPPED")
    new_id = int(cli("retry", str(job_id), check=True).stdout)
    assert jobs.get(new_id)["retry_of"] == job_id
    cli("stop", str(new_id), check=True)


def test_status_reports_supervisor_and_queue(supervisor):
    out = cli("status", check=True).stdout
    assert f"pid {supervisor.proc.pid}" in out and "queue:" in out
    st = cli("supervisor", "status", check=True).stdout
    assert f"pid: {supervisor.proc.pid}" in st and "slots:" in st and "uptime:" in st


@pytest.mark.parametrize("args, message", [
    (("show", "999"), "no job with id 999"),
    (("stop", "999"), "no job with id 999"),
    (("submit",), "submit needs a command"),
    (("submit", "--gpus", "-2", "--", "echo"), "argument --gpus: must be at least 0, got -2"),
    (("config", "validate", "/nonexistent.yaml"), "config file /nonexistent.yaml does not exist"),
])
def test_errors_are_one_sentence_on_stderr(home, args, message):
    out = cli(*args)
    assert out.returncode == 2, out
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert out.stdout == ""


def test_supervisor_status_when_none_runs(home):
    out = cli("supervisor", "status")
    assert out.returncode == 3 and "not running" in out.stdout


def test_supervisor_start_stop_detached(home):
    out = cli("supervisor", "start", check=True)
    pid = int(out.stdout.split()[-1])
    try:
        again = cli("supervisor", "start")
        assert again.returncode == 1 and str(pid) in again.stderr
    finally:
        stopped = cli("supervisor", "stop", check=True)
    assert str(pid) in stopped.stdout
    assert cli("supervisor", "status").returncode == 3


def test_verify_here_and_as_a_queued_job(supervisor, tmp_path):
    samples = tmp_path / "samples.jsonl"
    samples.write_text(
        '{"task_id": "HumanEval/0", "completion": "    return False\\n"}\n'
        '{"task_id": "HumanEval/2", "completion": "    return number % 1.0\\n"}\n')
    out = tmp_path / "verdicts.jsonl"
    here = cli("verify", "--verifier", "humaneval", "--samples", str(samples), "--out", str(out),
               check=True)
    verdicts = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(v["task_id"], v["passed"]) for v in verdicts] == [("HumanEval/0", False),
                                                              ("HumanEval/2", True)]
    assert json.loads(here.stdout)["passed"] == 1
    queued = cli("verify", "--verifier", "humaneval", "--samples", str(samples), "--queue",
                 "--wait", "--out", str(tmp_path / "job-verdicts.jsonl"))
    assert queued.returncode == 0, queued
    job = jobs.get(int(queued.stdout.strip()))
    assert job["kind"] == "verify" and job["gpus"] == 0
    again = [json.loads(line) for line in (tmp_path / "job-verdicts.jsonl").read_text().splitlines()]
    assert [v["passed"] for v in again] == [False, True]
