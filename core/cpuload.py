"""CPU load averaged over a window, for the Dashboard's CPU gauge.

psutil's cpu_percent(interval=None) measures since its previous call in the process; with a
fragment ticking every 2 s in several browser tabs that interval can be a few milliseconds,
so the gauge read 0 % under load and 100 % idle. Here each reading is the busy share of CPU
time between now and a counter snapshot about WINDOW_S old (at least MIN_SPAN_S old).
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable

WINDOW_S = 10.0
MIN_SPAN_S = 0.5


def cpu_times() -> tuple[float, float]:
    """(busy, total) CPU seconds since boot, all cores together."""
    import psutil

    t = psutil.cpu_times()
    total = sum(t)
    idle = t.idle + getattr(t, "iowait", 0.0)
    return total - idle, total


class CpuWindow:
    def __init__(self, window_s: float = WINDOW_S, min_span_s: float = MIN_SPAN_S,
                 read: Callable[[], tuple[float, float]] = cpu_times,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.window_s, self.min_span_s = window_s, min_span_s
        self.read, self.clock, self.sleep = read, clock, sleep
        self.samples: deque[tuple[float, float, float]] = deque()
        self.lock = threading.Lock()

    def _take(self) -> tuple[float, float, float]:
        busy, total = self.read()
        sample = (self.clock(), busy, total)
        self.samples.append(sample)
        # keep the newest snapshot that is at least window_s old as the window's start
        while len(self.samples) > 2 and self.samples[1][0] <= sample[0] - self.window_s:
            self.samples.popleft()
        return sample

    def percent(self) -> float | None:
        """Busy CPU in % over the last window (about window_s; min_span_s on a first call)."""
        with self.lock:
            try:
                now, busy, total = self._take()
                start = self.samples[0]
                if now - start[0] < self.min_span_s:
                    self.sleep(self.min_span_s - (now - start[0]))
                    now, busy, total = self._take()
                    start = self.samples[0]
            except Exception:  # noqa: BLE001 -- no psutil, no /proc: the gauge shows "–"
                return None
        spent = total - start[2]
        if spent <= 0:
            return None
        return max(0.0, min(100.0, 100.0 * (busy - start[1]) / spent))


_window = CpuWindow()


def percent() -> float | None:
    return _window.percent()
