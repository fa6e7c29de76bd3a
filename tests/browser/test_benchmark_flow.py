"""Launch a benchmark from the Benchmark page in a real browser and find its row on Results."""
from __future__ import annotations

from core import jobs, ledger, results
from tests.browser.conftest import no_exception, screenshot, wait_app
from tests.conftest import wait_for


def _widget(page, key: str):
    return page.locator(f".st-key-{key}")


def test_launch_benchmark_and_find_it_on_results(ui, page, tiny_text):
    page.goto(f"{ui.url}/benchmark")
    wait_app(page)
    _widget(page, "bench_model").wait_for(timeout=30000)
    no_exception(page)
    # a model that is not among the presets: typed into the box
    _widget(page, "bench_model").locator("input").click()
    page.keyboard.type(str(tiny_text))
    page.keyboard.press("Enter")
    wait_app(page)
    # three problems: the slider moves with the keyboard
    slider = _widget(page, "bench_limit").get_by_role("slider")
    slider.focus()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    wait_app(page)
    tokens = _widget(page, "bench_max_new_tokens_code").locator("input")
    tokens.fill("32")
    tokens.press("Enter")
    wait_app(page)
    screenshot(page, "benchmark-filled")
    _widget(page, "bench_run").locator("button").click()
    page.wait_for_url("**/monitor**", timeout=30000)

    job = wait_for(lambda: jobs.list_jobs(kinds=["benchmark"]), 30, what="the queued job")[0]
    cfg = jobs.get(job["id"])["config"]
    assert cfg["model"]["name"] == str(tiny_text) and cfg["benchmark"]["limit"] == 3
    status = wait_for(lambda: jobs.get(job["id"])["status"] in ledger.FINAL and jobs.get(job["id"])["status"],
                      300, interval=0.5, what="the benchmark to finish")
    assert status == "COMPLETED", jobs.get(job["id"])["error"]

    page.goto(f"{ui.url}/results")
    wait_app(page)
    # the grid draws on a canvas; its accessible cells carry the text
    grid = _widget(page, "res_table")
    # Results shows a model outside the models folder by its folder name (results.model_label)
    label = results.model_label(str(tiny_text))
    assert label == tiny_text.name
    grid.locator("[role=gridcell]", has_text=label).first.wait_for(state="attached", timeout=30000)
    grid.locator("[role=gridcell]", has_text="humaneval").first.wait_for(state="attached", timeout=5000)
    no_exception(page)
    screenshot(page, "benchmark-on-results")
    assert not page.js_errors, page.js_errors
