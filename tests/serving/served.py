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


def start_served(tmp_path_factory, name: str = "serve") -> tuple[Served, pytest.MonkeyPatch]:
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
    sup = SupervisorProcess(home).start()
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
