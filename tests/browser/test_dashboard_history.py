"""Chromium: the Dashboard's GPU history draws stored telemetry per GPU (screenshot
dashboard-history.png), and says when a GPU reports no power."""
from __future__ import annotations

import math
import time

from core import ledger
from tests.browser.conftest import ARTIFACTS, wait_app


def test_history_charts_render(page, ui, home):
    now = time.time()
    rows = []
    for i in range(720):  # the last hour at 5 s
        t = now - 3600 + i * 5
        rows.append({"time": t, "device": "0", "name": "Radeon 8060S", "source": "amd-smi",
                     "utilization": 50 + 45 * math.sin(i / 40), "mem_used": 2.0 * 2**30,
                     "mem_total": 4.0 * 2**30, "gtt_used": (20 + 10 * math.sin(i / 90)) * 2**30,
                     "gtt_total": 96.0 * 2**30, "temperature": 55 + 10 * math.sin(i / 60),
                     "power": 80 + 40 * math.sin(i / 40)})
    ledger.insert_gpu_samples(rows)
    page.goto(ui.url + "/")
    wait_app(page)
    heading = page.get_by_text("GPU history")
    heading.wait_for(timeout=30000)
    page.wait_for_timeout(1500)  # the chart iframes load their script
    section = page.locator("[data-testid='stVerticalBlock']").filter(
        has_text="GPU history").filter(has_text="Averaged over").last
    ARTIFACTS.mkdir(exist_ok=True)
    section.screenshot(path=str(ARTIFACTS / "dashboard-history.png"))
    assert page.get_by_text("GPU 0 · Radeon 8060S").count() == 2  # live card + history
    for title in ("Utilisation", "Memory", "Temperature", "Power"):
        assert page.get_by_text(title, exact=True).count() >= 1
    assert not page.js_errors
