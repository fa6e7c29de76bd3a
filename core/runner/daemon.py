"""Running the supervisor as a daemon: one per home, guarded by a lock file.

The lock (flock) is released by the kernel however the supervisor dies, so a crashed one never
blocks the next. Whether one runs is read from the state file's pid plus start time, so asking
never touches the lock and cannot race a supervisor that is starting.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import time

from core import paths
from core.paths import REPO_ROOT
from core.runner import procs


class AlreadyRunning(RuntimeError):
    def __init__(self, pid: int | None):
        super().__init__(f"a supervisor is already running (pid {pid})")
        self.pid = pid


def read_state() -> dict | None:
    try:
        return json.loads(paths.supervisor_state_path().read_text())
    except (OSError, ValueError):
        return None


def running_pid() -> int | None:
    state = read_state()
    if state and procs.is_alive(state.get("pid"), state.get("pid_start")):
        return state["pid"]
    return None


def status() -> dict:
    state = read_state() or {}
    pid = running_pid()
    out = {"running": pid is not None, "pid": pid, "home": str(paths.home())}
    if pid:
        out.update(uptime_s=time.time() - state.get("started_at", time.time()),
                   slots=state.get("slots"), gpus=state.get("gpus"))
        from core.runner import health

        facts = health.read()
        if facts.get("pid") == pid:
            out.update(paused=facts.get("paused"), last_backup=facts.get("last_backup"))
    return out


def run_foreground(log_level: str = "INFO") -> int:
    """Hold the lock and run the supervisor loop until SIGTERM / SIGINT."""
    from core.runner.supervisor import Supervisor

    lock = open(paths.supervisor_lock_path(), "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise AlreadyRunning(running_pid()) from None
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(message)s")
    from core import ledger_backup

    ledger_backup.startup_check()  # a damaged, foreign or newer ledger: refuse, untouched
    sup = Supervisor()
    sup.install_signal_handlers()
    state = {"pid": os.getpid(), "pid_start": procs.start_ticks(os.getpid()),
             "started_at": time.time(), "slots": sup.slots, "gpus": len(sup.gpus)}
    tmp = paths.supervisor_state_path().with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, paths.supervisor_state_path())
    try:
        sup.run()
        if sup.disk.damaged is not None:
            raise sup.disk.damaged  # the CLI says it in one sentence, exit 1
    finally:
        if (read_state() or {}).get("pid") == os.getpid():
            paths.supervisor_state_path().unlink(missing_ok=True)
        lock.close()
    return 0


def start_detached(wait_s: float = 20.0) -> int:
    """Start a supervisor in its own session, logging to supervisor.log; returns its pid."""
    pid = running_pid()
    if pid:
        raise AlreadyRunning(pid)
    from core import ledger

    ledger.check_usable()  # a foreign or newer ledger: say so here, not in a log file
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    log_path = paths.home() / "supervisor.log"
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "core.cli", "supervisor", "run"], cwd=str(REPO_ROOT), env=env,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True)
    deadline = time.time() + wait_s
    while time.time() < deadline:
        if running_pid() == proc.pid:
            return proc.pid
        if proc.poll() is not None:
            other = running_pid()
            if other:
                raise AlreadyRunning(other)
            last = _last_line(log_path)
            raise RuntimeError(f"the supervisor exited at once (code {proc.returncode})"
                               + (f": {last}" if last else "") + f"; see {log_path}")
        time.sleep(0.1)
    raise RuntimeError(f"the supervisor did not come up within {wait_s:.0f} s; see {log_path}")


def stop(wait_s: float = 15.0) -> int | None:
    """SIGTERM the running supervisor and wait for it to go; returns its pid or None."""
    pid = running_pid()
    if not pid:
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.time() + wait_s
    while time.time() < deadline and procs.is_alive(pid, None):
        time.sleep(0.1)
    if procs.is_alive(pid, None):
        os.kill(pid, signal.SIGKILL)
    return pid


def ensure_running() -> int:
    """Start a supervisor when none runs; returns the running one's pid."""
    try:
        return running_pid() or start_detached()
    except AlreadyRunning as exc:
        return exc.pid or 0


def _last_line(path) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - 4096))
            lines = fh.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1].removeprefix("halo-forge: ") if lines else ""
    except OSError:
        return ""
