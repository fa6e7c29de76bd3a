"""Shared fixtures: every test gets its own HALO_FORGE_HOME; a real supervisor on demand."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Tests run torch beside a supervisor, a UI server and a browser on two cores: a second torch
# thread only fights them for the CPU (measured 2-10x slower steps under contention).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.pop("HALO_FORGE_TOKEN", None)


@pytest.fixture
def home(tmp_path, monkeypatch):
    from core import ledger

    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("HALO_FORGE_HOME", str(path))
    monkeypatch.setenv("HALO_FORGE_POLL_S", "0.1")
    monkeypatch.setenv("HALO_FORGE_GRACE_S", "5")
    monkeypatch.setenv("HALO_FORGE_GPU_INTERVAL_S", "2")
    ledger.reset_engines()
    yield path
    ledger.reset_engines()


class SupervisorProcess:
    """A real `halo-forge supervisor run` in the foreground of its own session."""

    def __init__(self, home: Path):
        self.home = home
        self.proc: subprocess.Popen | None = None

    def start(self, wait: float = 20.0) -> "SupervisorProcess":
        from core.runner import daemon

        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.log = open(self.home / "supervisor-test.log", "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "core.cli", "supervisor", "run"],
                                     cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + wait
        while time.time() < deadline:
            if daemon.running_pid() == self.proc.pid:
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"supervisor exited: {self.read_log()}")
            time.sleep(0.05)
        raise RuntimeError(f"supervisor did not start: {self.read_log()}")

    def read_log(self) -> str:
        return (self.home / "supervisor-test.log").read_text(errors="replace")

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            self.proc.wait(timeout=20)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


@pytest.fixture
def supervisor(home):
    sup = SupervisorProcess(home).start()
    yield sup
    sup.stop()
    _kill_leftover_jobs(home)


def _kill_leftover_jobs(home: Path) -> None:
    """A failing test must not leave job processes running for the next one."""
    from core import ledger

    for job in ledger.list_jobs(ledger.ACTIVE):
        if job.get("pid"):
            try:
                os.killpg(job["pid"], signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, what: str = "condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
