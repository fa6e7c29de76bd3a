"""Executors: where a job's process runs. One small interface, three implementations.

submit(job, job_dir, env) -> Launch; poll(job) -> Poll; sync_logs(job) brings remote output
into job_dir/output.log (a no-op locally); cancel(job, force) asks the engine to stop it.
The ledger stays the source of truth: an executor never writes it.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from core.paths import REPO_ROOT
from core.runner import procs
from core.runner.exitstatus import read_exit_status


@dataclass
class Launch:
    external_id: str
    pid: int | None = None
    pid_start: int | None = None


@dataclass
class Poll:
    state: str  # "pending" | "running" | "exited" | "lost"
    returncode: int | None = None
    signal: str | None = None
    reason: str | None = None
    info: dict = field(default_factory=dict)


class Executor(Protocol):
    name: str

    def submit(self, job: dict, job_dir: Path, env: dict[str, str]) -> Launch: ...
    def poll(self, job: dict) -> Poll: ...
    def sync_logs(self, job: dict) -> None: ...
    def cancel(self, job: dict, force: bool = False) -> None: ...


def wrapper_command(job_dir: Path) -> list[str]:
    return [sys.executable, "-u", "-m", "core.runner", str(job_dir)]


def job_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class LocalExecutor:
    """A detached process session on this machine, output appended to output.log."""

    name = "local"

    def __init__(self) -> None:
        self._children: dict[int, subprocess.Popen] = {}  # reaped by us while we are the parent

    def submit(self, job: dict, job_dir: Path, env: dict[str, str]) -> Launch:
        with open(job_dir / "output.log", "ab") as out:
            proc = subprocess.Popen(
                wrapper_command(job_dir), cwd=str(REPO_ROOT), env=job_env(env),
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True)
        self._children[proc.pid] = proc
        ticks = procs.start_ticks(proc.pid)
        return Launch(external_id=f"{proc.pid}:{ticks}", pid=proc.pid, pid_start=ticks)

    def poll(self, job: dict) -> Poll:
        pid, ticks = job.get("pid"), job.get("pid_start")
        proc = self._children.get(pid) if pid else None
        if proc is not None:
            rc = proc.poll()
            if rc is None:
                return Poll("running")
            del self._children[pid]
            return self._ended(job, rc)
        if procs.is_alive(pid, ticks):
            return Poll("running")
        return self._ended(job, None)

    def _ended(self, job: dict, wrapper_rc: int | None) -> Poll:
        status = read_exit_status(Path(job["job_dir"]))
        if status is not None:
            return Poll("exited", status["returncode"], status.get("signal"), status.get("error"))
        if wrapper_rc is not None and wrapper_rc < 0:
            name = signal.Signals(-wrapper_rc).name if -wrapper_rc in signal.Signals._value2member_map_ else str(-wrapper_rc)
            return Poll("exited", wrapper_rc, name, f"the job was killed by {name}")
        return Poll("lost", reason="the job's process is gone and left no exit status")

    def sync_logs(self, job: dict) -> None:
        return None

    def cancel(self, job: dict, force: bool = False) -> None:
        pid = job.get("pid")
        if pid and (force or procs.is_alive(pid, job.get("pid_start"))):
            procs.signal_group(pid, signal.SIGKILL if force else signal.SIGTERM)

    def group_alive(self, job: dict) -> bool:
        return bool(job.get("pid")) and procs.group_alive(job["pid"])


def make_executor(name: str, profile: str | None = None) -> Executor:
    from core import executor_kinds

    kind = executor_kinds.get(name)
    cls = executor_kinds.executor_class(name)
    return cls(profile) if kind.remote else cls()
