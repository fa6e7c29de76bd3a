"""One tiny model served through a real supervisor on a home of its own, shared by a module.

Starting `transformers serve` costs about 12 s of CPU, so each test module that needs an
endpoint starts one and all its tests share it (see the module-scoped fixtures that use this).
"""
from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import SupervisorProcess


@dataclass
class Served:
    home: Path
    supervisor: SupervisorProcess
    job: dict
    statuses: list[str] = field(default_factory=list)  # statuses seen while it was loading

    @property
    def endpoint(self) -> str:
        return self.job["endpoint"]


def free_port() -> int:
    from core.serving.proxy import free_loopback_port

    return free_loopback_port()


def train_adapter() -> int:
    """A COMPLETED SFT job with a real LoRA adapter (4 steps on the tiny model, in this
    process, as the supervisor would run it)."""
    import torch

    from core import jobs, ledger
    from core.training import sft

    config = {"kind": "sft", "model": {"name": "tiny"}, "data": {"dataset": "alpaca", "limit": 8},
              "lora": {"r": 4, "alpha": 8},
              "training": {"batch_size": 4, "max_steps": 4, "save_steps": 100}}
    job_id = jobs.submit("sft", config, name="sft tiny to serve")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert sft.run(jobs.get(job_id)["config"], Path(jobs.get(job_id)["job_dir"])) == 0
    finally:
        torch.set_num_threads(threads)
    assert ledger.transition(job_id, ("QUEUED",), "COMPLETED", exit_code=0)
    return job_id


def start_served(tmp_path_factory, name: str = "serve",
                 from_job: bool = False) -> tuple[Served, pytest.MonkeyPatch]:
    """Serve the tiny model, or (from_job) the LoRA adapter of a finished SFT job on it."""
    from core import ledger
    from core.models.presets import tiny_model_dir
    from core.models.tiny import build_tiny_model
    from core.serving import service

    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp(name) / "home"
    home.mkdir()
    for key, value in {"HALO_FORGE_HOME": str(home), "HALO_FORGE_POLL_S": "0.1",
                       "HALO_FORGE_GRACE_S": "10", "HALO_FORGE_GPU_INTERVAL_S": "5"}.items():
        mp.setenv(key, value)
    ledger.reset_engines()
    build_tiny_model(tiny_model_dir(), seed=0)
    trained = train_adapter() if from_job else None
    sup = SupervisorProcess(home).start()
    if trained is not None:
        job_id = service.start(job=trained, port=free_port(), idle_minutes=0)
    else:
        job_id = service.start("tiny", port=free_port(), idle_minutes=0)
    statuses = []
    deadline = time.time() + 300
    while time.time() < deadline:
        job = ledger.get_job(job_id)
        statuses.append(job["status"])
        if job["status"] == "RUNNING" or job["status"] in ledger.FINAL:
            break
        time.sleep(0.1)
    job = service.wait_ready(job_id, timeout=5)
    return Served(home, sup, job, statuses), mp


def stop_served(served: Served, mp: pytest.MonkeyPatch) -> None:
    from core import ledger

    served.supervisor.stop()
    for job in ledger.list_jobs(ledger.ACTIVE):
        if job.get("pid"):
            try:
                os.killpg(job["pid"], signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    mp.undo()
    ledger.reset_engines()
