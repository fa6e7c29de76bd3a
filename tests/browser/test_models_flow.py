"""Export from the Models page in a real browser: the supervisor runs the export job and the
page shows the verdict."""
from __future__ import annotations

from pathlib import Path

import pytest

from core import jobs, ledger
from tests.browser.conftest import no_exception, screenshot, wait_app
from tests.conftest import wait_for


@pytest.fixture
def trained_job(home):
    """A completed SFT job on the tiny model (trained in this process before the UI starts)."""
    import torch

    from core.models.presets import tiny_model_dir
    from core.models.tiny import build_tiny_model
    from core.training import sft

    torch.set_num_threads(1)
    tiny = build_tiny_model(tiny_model_dir(), seed=0)
    config = {"kind": "sft", "model": {"name": str(tiny)}, "data": {"dataset": "alpaca", "limit": 8},
              "lora": {"r": 4, "alpha": 8}, "training": {"batch_size": 4, "max_steps": 2}}
    job_id = jobs.submit("sft", config, name="sft for the models page")
    job = jobs.get(job_id)
    assert ledger.transition(job_id, ("QUEUED",), "RUNNING")  # ours, not the supervisor's
    assert sft.run(job["config"], Path(job["job_dir"])) == 0
    assert ledger.transition(job_id, ("RUNNING",), "COMPLETED", exit_code=0)
    return job_id


def _widget(page, key: str):
    return page.locator(f".st-key-{key}")


def test_export_from_models_page_and_see_the_verdict(trained_job, ui, page, home):
    page.goto(f"{ui.url}/models")
    wait_app(page)
    _widget(page, "models_selected").wait_for(timeout=30000)
    no_exception(page)
    screenshot(page, "models-list")
    # the grid draws on a canvas; its accessible cells carry the text of the visible columns
    grid = page.locator("[data-testid='stDataFrame']")
    grid.locator("[role=gridcell]", has_text=f"#{trained_job} sft for the models page").first.wait_for(
        state="attached", timeout=30000)
    grid.locator("[role=gridcell]", has_text="LoRA adapter").first.wait_for(state="attached", timeout=5000)
    out = home / "exports" / "from-browser"
    _widget(page, "models_export_out").locator("input").fill(str(out))
    _widget(page, "models_export_out").locator("input").press("Enter")
    wait_app(page)
    screenshot(page, "models-export-form")
    _widget(page, "models_export_run").locator("button").click()
    page.get_by_text("Export queued as job").wait_for(timeout=30000)

    job = wait_for(lambda: jobs.list_jobs(kinds=["export"]), 30, what="the queued export")[0]
    status = wait_for(lambda: jobs.get(job["id"])["status"] in ledger.FINAL and jobs.get(job["id"])["status"],
                      300, interval=0.5, what="the export to finish")
    assert status == "COMPLETED", jobs.get(job["id"])["error"]
    assert (out / "verification.json").is_file()

    page.reload()
    wait_app(page)
    _widget(page, "models_selected").wait_for(timeout=30000)
    _widget(page, "models_selected").click()
    page.get_by_role("option", name="from-browser · merged export").click()
    wait_app(page)
    page.get_by_text("Verification details").wait_for(timeout=30000)
    details = page.locator("[data-testid='stExpander']").first.inner_text()
    assert "passed with transformers" in details and "token agreement 1.0000" in details
    no_exception(page)
    screenshot(page, "models-export-verified")
    assert not page.js_errors, page.js_errors
