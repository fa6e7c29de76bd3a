"""Process identity on Linux: a pid plus its start time tells a live job from a reused pid."""
from __future__ import annotations

import os
import signal


def start_ticks(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (exact, unlike psutil's 10 ms create_time)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = data[data.rfind(")") + 2:].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    return data[data.rfind(")") + 2:].split()[0]


def is_alive(pid: int | None, ticks: int | None) -> bool:
    """True while the very process we started runs (not a zombie, not a reused pid)."""
    if not pid:
        return False
    st = state(pid)
    if st is None or st in ("Z", "X"):
        return False
    return ticks is None or start_ticks(pid) == ticks


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # killpg(0) succeeds for zombies too: look for a live member.
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == pgid and state(int(entry)) not in ("Z", "X", None):
                    return True
            except OSError:
                continue
    return False


def signal_group(pgid: int, sig: signal.Signals) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False
