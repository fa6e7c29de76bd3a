"""Submit a job, watch Monitor's progress move in a real browser, Stop, confirm, see STOPPED."""
from __future__ import annotations

import re
import sys
import textwrap

from core import jobs
from tests.browser.conftest import no_exception, screenshot, wait_app
from tests.conftest import wait_for


def test_monitor_progress_and_stop(ui, page, tmp_path):
    script = tmp_path / "count.py"
    script.write_text(textwrap.dedent("""
        import time
        for i in range(1, 100001):
            print(f"Step {i}/100000", flush=True)
            print(f"loss: {1 / i:.5f}", flush=True)
            time.sleep(0.2)
    """))
    job_id = jobs.submit("command", {"command": [sys.executable, "-u", str(script)]}, name="count")
    wait_for(lambda: jobs.get(job_id)["status"] == "RUNNING", 30, what="job to run")

    page.goto(f"{ui.url}/monitor?job={job_id}")
    wait_app(page)
    progress = page.get_by_text(re.compile(r"step \d+/100000")).first
    progress.wait_for(timeout=30000)
    first = int(re.search(r"step (\d+)/", progress.inner_text()).group(1))
    # the fragment refreshes by itself: the step shown must move without any click
    page.wait_for_function(
        f"() => {{ const m = document.body.innerText.match(/step (\\d+)\\/100000/); return m && +m[1] > {first} + 2; }}",
        timeout=30000)
    no_exception(page)
    screenshot(page, "monitor-running")

    page.get_by_role("button", name="Stop", exact=True).click()
    try:
        page.get_by_role("button", name="Confirm stop", exact=True).click()
    finally:
        screenshot(page, "monitor-confirm")
    wait_for(lambda: jobs.get(job_id)["status"] == "STOPPED", 60, what="STOPPED in the ledger")
    page.get_by_text("STOPPED").first.wait_for(timeout=30000)
    no_exception(page)
    screenshot(page, "monitor-stopped")
    assert not page.js_errors, page.js_errors
