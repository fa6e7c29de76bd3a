"""core.cpuload: the Dashboard's CPU figure is a window average, not one tiny interval."""
from __future__ import annotations

from core import cpuload, dashboard


class FakeCpu:
    """Cumulative (busy, total) CPU seconds on 2 cores and a clock, advanced by the test."""

    def __init__(self):
        self.t, self.busy, self.total = 0.0, 0.0, 0.0

    def run(self, seconds: float, busy_share: float):
        self.t += seconds
        self.total += 2 * seconds
        self.busy += 2 * seconds * busy_share

    def read(self):
        return self.busy, self.total


def _window(cpu: FakeCpu) -> cpuload.CpuWindow:
    return cpuload.CpuWindow(window_s=10, min_span_s=0.5, read=cpu.read,
                             clock=lambda: cpu.t, sleep=lambda s: cpu.run(s, 0.9))


def test_a_busy_window_is_not_hidden_by_an_idle_instant():
    cpu = FakeCpu()
    w = _window(cpu)
    assert round(w.percent()) == 90  # the first reading waits min_span_s, not 0 %
    cpu.run(8, 0.9)
    w.percent()
    cpu.run(0.01, 0.0)  # a tick a few ms later, when psutil's since-last-call reads 0 %
    assert w.percent() > 85


def test_old_load_leaves_the_window():
    cpu = FakeCpu()
    w = _window(cpu)
    w.percent()
    for _ in range(10):
        cpu.run(2, 1.0)
        w.percent()
    for _ in range(10):
        cpu.run(2, 0.1)
        w.percent()
    assert 5 < w.percent() < 25  # only the last ~10 s count


def test_dashboard_host_uses_the_window(monkeypatch):
    cpu = FakeCpu()
    monkeypatch.setattr(cpuload, "_window", _window(cpu))
    host = dashboard.host()
    assert round(host["cpu_percent"]) == 90 and host["ram_total"] > 0
