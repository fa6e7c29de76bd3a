"""The supervisor as a real process on a temp home, driving real job processes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from core import jobs, ledger
from core.runner import procs
from tests.conftest import REPO, SupervisorProcess, wait_for


def _script(tmp_path, body: str):
    path = tmp_path / "job.py"
    path.write_text(textwrap.dedent(body))
    return [sys.executable, "-u", str(path)]


def _status(job_id):
    return jobs.get(job_id)["status"]


def _final(job_id, timeout=60):
    return wait_for(lambda: _status(job_id) in ledger.FINAL and _status(job_id),
                    timeout, what=f"job {job_id} to finish")


def _metric_count(job_id, name=None):
    df = ledger.metrics_df(job_id, name)
    return len(df)


PROGRESS_JOB = """
    import time
    N = {n}
    for i in range(1, N + 1):
        print(f"Step {{i}}/{{N}}")
        print(f"loss: {{1.0 / i:.4f}}")
        print("some plain log line", i)
        time.sleep({sleep})
    print("done")
"""


def test_command_job_completes_with_every_metric_row(supervisor, tmp_path):
    job_id = jobs.submit("command", {"command": _script(tmp_path, PROGRESS_JOB.format(n=40, sleep=0.01))})
    assert _final(job_id) == "COMPLETED"
    job = jobs.get(job_id)
    assert job["exit_code"] == 0
    assert job["step"] == 40 and job["total_steps"] == 40
    df = ledger.metrics_df(job_id, "loss")
    assert len(df) == 40
    assert df["step"].tolist() == list(range(1, 41))
    assert df["value"].iloc[-1] == pytest.approx(1 / 40, abs=1e-4)
    events = ledger.events_df(job_id=job_id)["kind"].tolist()
    assert events[0] == "JOB_CREATED" and "JOB_STARTED" in events and events[-1] == "JOB_COMPLETED"
    assert job["env"]["HALO_FORGE_JOB_ID"] == str(job_id)


def test_stop_ends_stopped_and_process_group_is_gone(supervisor, tmp_path):
    cmd = _script(tmp_path, """
        import subprocess, sys, time
        # a grandchild in the same group must go too
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        for i in range(10000):
            print(f"Step {i}/10000", flush=True)
            time.sleep(0.05)
    """)
    job_id = jobs.submit("command", {"command": cmd})
    wait_for(lambda: (jobs.get(job_id).get("step") or 0) >= 3, 30, what="progress")
    pid = jobs.get(job_id)["pid"]
    assert jobs.request_stop(job_id) == "STOPPING"
    assert _final(job_id) == "STOPPED"
    wait_for(lambda: not procs.group_alive(pid), 10, what="process group to exit")


def test_stop_escalates_to_sigkill_after_grace(supervisor, tmp_path):
    cmd = _script(tmp_path, """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ignoring SIGTERM", flush=True)
        while True:
            time.sleep(0.1)
    """)
    job_id = jobs.submit("command", {"command": cmd})
    wait_for(lambda: jobs.get(job_id)["log_seq"] >= 1, 30, what="first line")
    pid = jobs.get(job_id)["pid"]
    jobs.request_stop(job_id)
    assert _final(job_id, timeout=30) == "STOPPED"
    assert not procs.group_alive(pid)


def test_sigkilled_job_fails_with_reason(supervisor, tmp_path):
    cmd = _script(tmp_path, """
        import time
        print("about to be killed", flush=True)
        time.sleep(600)
    """)
    job_id = jobs.submit("command", {"command": cmd})
    wait_for(lambda: jobs.get(job_id)["log_seq"] >= 1, 30, what="first line")
    pid = jobs.get(job_id)["pid"]
    # the user's process (the wrapper's child) dies by SIGKILL
    child = int(subprocess.check_output(["pgrep", "-P", str(pid)]).split()[0])
    os.kill(child, signal.SIGKILL)
    assert _final(job_id) == "FAILED"
    job = jobs.get(job_id)
    assert job["exit_signal"] == "SIGKILL"
    assert "SIGKILL" in job["error"] and "about to be killed" in job["error"]


def test_failing_job_does_not_block_the_queue(supervisor, tmp_path):
    bad = jobs.submit("command", {"command": [sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"]})
    good = jobs.submit("command", {"command": [sys.executable, "-c", "print('loss: 0.5')"]})
    missing = jobs.submit("command", {"command": ["/nonexistent/program"]})
    assert _final(bad) == "FAILED"
    assert "code 3" in jobs.get(bad)["error"] and "boom" in jobs.get(bad)["error"]
    assert _final(good) == "COMPLETED"
    assert _final(missing) == "FAILED"


def test_supervisor_sigkill_then_restart_loses_nothing(supervisor, home, tmp_path):
    n = 60
    job_id = jobs.submit("command", {"command": _script(tmp_path, PROGRESS_JOB.format(n=n, sleep=0.1))})
    wait_for(lambda: (jobs.get(job_id).get("step") or 0) >= 10, 30, what="progress")
    supervisor.kill(signal.SIGKILL)
    time.sleep(1.0)  # the job keeps printing while no supervisor runs
    assert _status(job_id) == "RUNNING"
    second = SupervisorProcess(home).start()
    try:
        assert _final(job_id) == "COMPLETED"
        assert _metric_count(job_id, "loss") == n
        seqs = [r["seq"] for r in __import__("core.monitor", fromlist=["x"]).log_lines(job_id, limit=10**6)]
        assert seqs == list(range(1, len(seqs) + 1))
        assert len(seqs) == 3 * n + 1
    finally:
        second.stop()


def test_job_finishing_while_supervisor_is_down_is_closed_on_restart(supervisor, home, tmp_path):
    job_id = jobs.submit("command", {"command": _script(tmp_path, PROGRESS_JOB.format(n=5, sleep=0.3))})
    wait_for(lambda: _status(job_id) == "RUNNING", 30, what="start")
    supervisor.kill(signal.SIGKILL)
    wait_for(lambda: (home / "jobs" / f"{job_id:06d}" / "exit_status.json").exists(), 30,
             what="the job to end")
    second = SupervisorProcess(home).start()
    try:
        assert _final(job_id) == "COMPLETED"
        assert _metric_count(job_id, "loss") == 5
    finally:
        second.stop()


def test_second_supervisor_refuses(supervisor, home):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for action in ("run", "start"):
        out = subprocess.run([sys.executable, "-m", "core.cli", "supervisor", action], cwd=REPO,
                             env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 1, out
        assert str(supervisor.proc.pid) in out.stderr


def test_priority_and_slots(supervisor, tmp_path):
    # one GPU slot: two GPU jobs run one after the other, the higher priority first
    long = jobs.submit("command", {"command": [sys.executable, "-c", "import time; time.sleep(2)"], "gpus": 1})
    wait_for(lambda: _status(long) == "RUNNING", 30, what="first job")
    low = jobs.submit("command", {"command": [sys.executable, "-c", "print(1)"], "gpus": 1}, priority=0)
    high = jobs.submit("command", {"command": [sys.executable, "-c", "print(2)"], "gpus": 1}, priority=5)
    cpu = jobs.submit("command", {"command": [sys.executable, "-c", "print(3)"], "gpus": 0})
    assert _final(cpu) == "COMPLETED"  # no GPU asked: runs beside the GPU job
    assert _status(long) == "RUNNING"
    for j in (long, low, high):
        assert _final(j) == "COMPLETED"
    assert jobs.get(high)["started_at"] < jobs.get(low)["started_at"]
    too_big = jobs.submit("command", {"command": ["true"], "gpus": 64})
    assert _final(too_big) == "FAILED" and "64 GPU slots" in jobs.get(too_big)["error"]
