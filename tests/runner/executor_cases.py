"""The cases every remote executor must pass, run by test_ray.py and test_slurm.py against a
real engine, through a real supervisor process and the ledger.

Each case takes the profile name the module saved, submits real jobs through
core.jobs.submit (as the CLI and the pages do) and reads only the ledger and the job dir.
"""
from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

from core import jobs, ledger
from tests.conftest import SupervisorProcess, wait_for

STEPS_JOB = """
    import signal, sys, time
    N = {n}
    def stop(*_):
        print("stop requested: saving and leaving", flush=True)
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    for i in range(1, N + 1):
        print(f"Step {{i}}/{{N}} | loss: {{1.0 / i:.4f}}", flush=True)
        time.sleep({sleep})
    print("all steps done", flush=True)
"""


def script(tmp_path: Path, n: int, sleep: float, name: str = "steps.py") -> list[str]:
    path = tmp_path / name
    path.write_text(textwrap.dedent(STEPS_JOB.format(n=n, sleep=sleep)))
    return [sys.executable, "-u", str(path)]


def submit_command(profile: str, command: list[str], gpus: int = 0, name: str | None = None) -> int:
    return jobs.submit("command", {"command": command, "gpus": gpus,
                                   "executor": {"name": executor_of(profile), "profile": profile}},
                       name=name)


def executor_of(profile: str) -> str:
    from core.runner import profiles

    return profiles.get(profile)["executor"]


def status(job_id: int) -> str:
    return jobs.get(job_id)["status"]


def final(job_id: int, timeout: float = 120) -> dict:
    wait_for(lambda: status(job_id) in ledger.FINAL, timeout, interval=0.1,
             what=f"job {job_id} to finish (now {status(job_id)})")
    return jobs.get(job_id)


def output(job: dict) -> str:
    path = Path(job["job_dir"]) / "output.log"
    return path.read_text(errors="replace") if path.exists() else ""


def losses(job_id: int) -> list[tuple[int, float]]:
    df = ledger.metrics_df(job_id, "loss")
    return list(zip(df["step"].astype(int).tolist(), df["value"].tolist()))


def describe(job: dict) -> str:
    keys = ("id", "status", "executor", "external_id", "exit_code", "exit_signal", "error")
    return json.dumps({k: job.get(k) for k in keys}) + "\n--- output.log\n" + output(job)[-3000:]


def require_launch_wiring() -> None:
    """Several processes per job need the job wrapper to take its command from launch."""
    import pytest

    from core.runner import __main__ as wrapper
    from core.runner import launch

    if wrapper.child_command is not launch.child_command:
        pytest.fail("core/runner/__main__.py must start jobs with core.runner.launch."
                    "child_command (`from core.runner.launch import child_command`)")


# ---- cases --------------------------------------------------------------------------------

def command_job_completes(profile: str, tmp_path: Path, id_pattern: str) -> None:
    job_id = submit_command(profile, script(tmp_path, n=12, sleep=0.02))
    job = final(job_id)
    assert job["status"] == "COMPLETED", describe(job)
    assert job["executor"] == executor_of(profile) and job["profile"] == profile
    import re

    assert re.fullmatch(id_pattern, job["external_id"] or ""), job["external_id"]
    assert job["exit_code"] == 0
    assert job["step"] == 12 and job["total_steps"] == 12
    assert losses(job_id) == [(i, round(1.0 / i, 4)) for i in range(1, 13)]
    assert "all steps done" in output(job)


def failing_command_fails(profile: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("print('about to fail', flush=True)\nraise SystemExit(3)\n")
    job = final(submit_command(profile, [sys.executable, "-u", str(bad)]))
    assert job["status"] == "FAILED", describe(job)
    assert job["exit_code"] == 3
    assert "exited with code 3" in job["error"] and "about to fail" in job["error"]


def sft_job_completes(profile: str, tiny: Path, tmp_path: Path, gpus: int = 0,
                      records: int = 16, batch: int = 2) -> dict:
    config = {
        "model": {"name": str(tiny)},
        "data": {"dataset": "alpaca", "limit": records, "source": "sample", "max_length": 64},
        "lora": {"r": 4, "alpha": 8},
        "training": {"epochs": 1, "batch_size": batch, "logging_steps": 1, "save_steps": 1000,
                     "learning_rate": 1e-3},
        "executor": {"name": executor_of(profile), "profile": profile, "gpus": gpus},
    }
    if gpus > 1:
        require_launch_wiring()
    job_id = jobs.submit("sft", config)
    job = final(job_id, timeout=240)
    assert job["status"] == "COMPLETED", describe(job)
    procs = max(1, gpus)
    steps = records // (batch * procs)  # one epoch, the data split across the processes
    assert job["total_steps"] == steps, describe(job)
    assert [s for s, _ in losses(job_id)] == list(range(1, steps + 1)), describe(job)
    assert (Path(job["job_dir"]) / "output" / "adapter" / "adapter_config.json").is_file()
    summary = json.loads((Path(job["job_dir"]) / "summary.json").read_text())
    assert summary["steps"] == steps
    return job


def stop_running_job(profile: str, tmp_path: Path) -> None:
    job_id = submit_command(profile, script(tmp_path, n=10_000, sleep=0.05))
    wait_for(lambda: (jobs.get(job_id)["step"] or 0) >= 5, 90, what="the job to print steps")
    assert jobs.request_stop(job_id) == "STOPPING"
    job = final(job_id, timeout=60)
    assert job["status"] == "STOPPED", describe(job)
    # SIGTERM reached the job itself (it said so and left with 0), not only the engine.
    assert "stop requested: saving and leaving" in output(job), describe(job)
    assert job["exit_code"] == 0


def restart_supervisor_midway(profile: str, tmp_path: Path, sup: SupervisorProcess,
                              home: Path) -> None:
    n = 60
    job_id = submit_command(profile, script(tmp_path, n=n, sleep=0.1))
    wait_for(lambda: (jobs.get(job_id)["step"] or 0) >= 5, 90, what="the job to print steps")
    # Output can be ingested before the engine's own status poll reports the job running
    # (a loaded machine showed STARTING with 5 steps in): kill a supervisor that knows both.
    wait_for(lambda: status(job_id) == "RUNNING", 30, what="the engine to report the job running")
    sup.kill()  # SIGKILL: no chance to tidy up
    before = jobs.get(job_id)["step"]
    assert status(job_id) == "RUNNING"
    new = SupervisorProcess(home).start()
    try:
        job = final(job_id, timeout=120)
    finally:
        new.stop()
    assert job["status"] == "COMPLETED", describe(job)
    assert before < n
    # Every line exactly once: none lost while no supervisor ran, none stored twice.
    assert losses(job_id) == [(i, round(1.0 / i, 4)) for i in range(1, n + 1)]
    assert ledger.metrics_df(job_id, "loss")["step"].is_unique


def cancel_while_pending(job_id: int, engine_pending, restart: tuple | None = None) -> None:
    """The job sits on the engine's queue; a stop shows STOPPING at once, then STOPPED.
    With restart=(supervisor, home) the stop is asked while no supervisor runs, and a new
    one, which has never seen the job's engine state, must carry it out."""
    wait_for(lambda: engine_pending(jobs.get(job_id)), 60, what="the engine to hold the job pending")
    # queued on the engine is not running yet
    assert status(job_id) == "STARTING" and jobs.get(job_id)["started_at"] is None
    if restart:
        restart[0].kill()
    assert jobs.request_stop(job_id) == "STOPPING"
    assert status(job_id) == "STOPPING"
    new = SupervisorProcess(restart[1]).start() if restart else None
    try:
        job = final(job_id, timeout=60)
    finally:
        if new:
            new.stop()
    assert job["status"] == "STOPPED", describe(job)
    assert "Step 1/" not in output(job)  # it never ran


def engine_forgets(profile: str, tmp_path: Path, forget, expect: str) -> dict:
    job_id = submit_command(profile, script(tmp_path, n=10_000, sleep=0.05))
    wait_for(lambda: (jobs.get(job_id)["step"] or 0) >= 3, 90, what="the job to print steps")
    forget(jobs.get(job_id))
    job = final(job_id, timeout=180)
    assert job["status"] == "FAILED", describe(job)
    assert expect in job["error"], describe(job)
    return job
