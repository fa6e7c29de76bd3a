"""What several bench scripts share (they run as `python bench/NAME.py`, so this imports as a
plain module from their own directory)."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path


def quiet(fn, *args, **kwargs):
    """Run fn with its stdout (a job's progress lines) sent to a throwaway file, so the
    bench prints only its figures."""
    log = Path(tempfile.mkstemp(suffix=".log")[1])
    saved = sys.stdout
    with log.open("w") as f:
        sys.stdout = f
        try:
            return fn(*args, **kwargs)
        finally:
            sys.stdout = saved
