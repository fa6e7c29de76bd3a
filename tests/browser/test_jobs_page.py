"""The Jobs page in Chromium: reorder the queue, tick a job and delete it after confirming."""
from __future__ import annotations

import os

import pytest

from tests.browser.conftest import UiServer, _need_chromium, no_exception, screenshot, wait_app


@pytest.fixture
def ui(home):
    _need_chromium()
    from tests.seed import seed

    ids = seed()
    from core import jobs

    ids["q2"] = jobs.submit("command", {"command": ["echo", "2"]}, name="second in line")
    ids["q3"] = jobs.submit("command", {"command": ["echo", "3"]}, name="third in line")
    server = UiServer(home)
    server.ids = ids
    yield server
    server.stop()


def test_reorder_and_delete_with_confirmation(ui, page):
    from core import jobs, paths

    ids = ui.ids
    page.set_viewport_size({"width": 1440, "height": 1100})
    page.goto(f"{ui.url}/jobs")
    wait_app(page)
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for(timeout=30000)
    page.get_by_text("GPU slots and queue").first.wait_for(timeout=30000)
    no_exception(page)
    screenshot(page, "jobs-page")
    widths = grid.locator(".dvn-scroller").first.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert widths[0] <= widths[1] + 1, f"the jobs table scrolls sideways at 1440 px: {widths}"

    # the queue: move the third job up past the second
    assert [q["id"] for q in jobs.queue()] == [ids["QUEUED"], ids["q2"], ids["q3"]]
    page.locator(f".st-key-jobs_up_{ids['q3']} button").first.click()
    wait_app(page)
    assert [q["id"] for q in jobs.queue()] == [ids["QUEUED"], ids["q3"], ids["q2"]]

    # tick the FAILED job (rows are newest first) and delete it, confirming first
    victim = ids["FAILED"]
    paths.job_dir(victim).mkdir(parents=True, exist_ok=True)
    order = sorted(ids.values(), reverse=True)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + 35 * (order.index(victim) + 1) + 17)
    wait_app(page)
    page.get_by_text(f"1 selected: #{victim}").first.wait_for(timeout=30000)
    page.locator(".st-key-jobs_bulk_delete button").click()
    page.get_by_text("This cannot be undone").first.wait_for(timeout=30000)
    wait_app(page)
    assert jobs.get(victim)["status"] == "FAILED"  # asked, not done
    screenshot(page, "jobs-delete-confirm")
    page.locator(".st-key-jobs_delete_confirm button").click()
    page.get_by_text(f"Delete: #{victim}.").first.wait_for(timeout=30000)
    wait_app(page)
    with pytest.raises(jobs.JobError):
        jobs.get(victim)
    assert not os.path.exists(paths.job_dir(victim))
    no_exception(page)
    screenshot(page, "jobs-deleted")
    assert not page.js_errors, page.js_errors
