"""What the supervisor tells the CLI and the Dashboard about itself beyond "running": why it
stopped launching jobs (a full disk), its last backup.

The file is written in place into bytes allocated at start (os.pwrite over a fixed-size file),
so that it can still be updated when the disk is full: that is when it matters most.
"""
from __future__ import annotations

import json
import os

from core import paths

SIZE = 4096


def _path():
    return paths.home() / "supervisor-health.json"


def prepare() -> None:
    """Allocate the file (at start, while there is room) with an empty state."""
    write({})


def write(state: dict) -> bool:
    data = json.dumps(state).encode()
    if len(data) > SIZE:
        state = {**state, "paused": str(state.get("paused") or "")[:SIZE // 2]}
        data = json.dumps(state).encode()[:SIZE]
    try:
        fd = os.open(_path(), os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.pwrite(fd, data.ljust(SIZE), 0)
        finally:
            os.close(fd)
        return True
    except OSError:
        return False


def read() -> dict:
    try:
        return json.loads(_path().read_bytes().decode() or "{}")
    except (OSError, ValueError):
        return {}
