"""Process-wide state of the zygote and everything forked from it.

CONFIG is the configuration the caller sent at start (mode, uids, what to hide...). It is one
dict updated in place, never rebound, so every module that imported it sees the same values.
The debug marks and CPU figures are filled only for specs with "debug" (profiling aids)."""
from __future__ import annotations

import time


CONFIG: dict = {}


MARKS: list = []
U_CPU = [None]
U_PHASES = [None]


def mark(name: str) -> None:
    MARKS.append((name, time.monotonic(), time.process_time()))
