"""`python -m core.runner JOB_DIR`: the small wrapper every job runs under.

It starts the real work as its child, waits for it, and leaves the exit status in
JOB_DIR/exit_status.json. A restarted supervisor is no longer the job's parent and cannot
wait() for it (FIELD-NOTES), and a child killed by the OOM killer or SIGKILL cannot report
itself: the wrapper outlives both and records what happened.
"""
from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.runner.exitstatus import write_exit_status
from core.runner.launch import child_command  # one process, torchrun, or srun across nodes


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m core.runner JOB_DIR", file=sys.stderr)
        return 2
    job_dir = Path(argv[0]).resolve()
    spec = json.loads((job_dir / "job.json").read_text())
    config = spec.get("config") or {}
    # The group gets SIGTERM on a stop; the wrapper must live on to record the child's end.
    signal.signal(signal.SIGTERM, lambda *_: None)
    signal.signal(signal.SIGINT, lambda *_: None)
    cwd = config.get("cwd") if spec["kind"] == "command" else None
    started = time.time()
    try:
        child = subprocess.Popen(child_command(spec, job_dir), cwd=cwd or None, env=os.environ)
    except OSError as exc:
        print(f"halo-forge: could not start the job: {exc}", flush=True)
        write_exit_status(job_dir, returncode=127, error=f"could not start: {exc}",
                          started=started)
        return 127
    while True:
        try:
            rc = child.wait()
            break
        except InterruptedError:
            continue
    write_exit_status(job_dir, returncode=rc, started=started, peak_rss_mb=_peak_rss_mb())
    return 0


def _peak_rss_mb() -> float | None:
    """The largest resident set of any waited-for descendant (the job), in MiB: what a CPU
    job reports as its peak memory (Linux gives ru_maxrss in KiB)."""
    try:
        return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    except (OSError, ValueError):
        return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
