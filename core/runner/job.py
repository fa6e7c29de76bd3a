"""`python -m core.runner.job JOB_DIR`: runs a built-in job kind in this process.

The only place that imports the heavy runners; the wrapper (core.runner) starts this as its
child so that an OOM kill here still leaves an exit status behind.
"""
from __future__ import annotations

import importlib
import json
import sys
import traceback
from pathlib import Path

from core import kinds
from core.runner.signals import install_stop_handler

RUNNERS = kinds.runners()


def main(argv: list[str]) -> int:
    job_dir = Path(argv[0]).resolve()
    spec = json.loads((job_dir / "job.json").read_text())
    kind = spec["kind"]
    if kind not in RUNNERS:
        print(f"halo-forge: no runner for job kind {kind!r}", flush=True)
        return 2
    install_stop_handler()
    print(f"halo-forge: {kind} job {spec.get('id')} starting in {job_dir}", flush=True)
    try:
        module = importlib.import_module(RUNNERS[kind])
        return int(module.run(spec.get("config") or {}, job_dir) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the traceback goes to output.log, the reason to the ledger
        traceback.print_exc()
        print(f"error: {type(exc).__name__}: {exc}", flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
