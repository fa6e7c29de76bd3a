"""The exit-status file a job leaves in its directory, written atomically."""
from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

FILENAME = "exit_status.json"


def write_exit_status(job_dir: Path, returncode: int, error: str | None = None,
                      started: float | None = None, peak_rss_mb: float | None = None) -> None:
    sig = None
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode).name
        except ValueError:
            sig = f"signal {-returncode}"
    data = {"returncode": returncode, "signal": sig, "error": error,
            "started": started, "finished": time.time(), "peak_rss_mb": peak_rss_mb}
    tmp = job_dir / (FILENAME + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, job_dir / FILENAME)


def read_exit_status(job_dir: Path) -> dict | None:
    try:
        return json.loads((Path(job_dir) / FILENAME).read_text())
    except (OSError, ValueError):
        return None


def code_and_signal(status: dict | None) -> tuple[int | None, str | None]:
    """(returncode, signal name) of an exit status, or (None, None) when there is none."""
    if not status:
        return None, None
    return status.get("returncode"), status.get("signal")


def describe(status: dict) -> str:
    """How a job ended, in a few words: 'killed by SIGKILL' or 'exit code 3'."""
    if status.get("signal"):
        return f"killed by {status['signal']}"
    return f"exit code {status.get('returncode')}"
