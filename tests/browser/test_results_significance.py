"""Results in a real browser: two runs of the same benchmark selected in the grid show the
paired significance line, and the Samples tab shows an item's per-test output."""
from __future__ import annotations

from tests.browser.conftest import no_exception, screenshot, wait_app
from tests.paired_runs import humaneval_pair


def _widget(page, key: str):
    return page.locator(f".st-key-{key}")


def test_selecting_two_runs_shows_the_significance_line(ui, page, home):
    humaneval_pair(home)
    page.goto(f"{ui.url}/results")
    wait_app(page)
    grid = _widget(page, "res_table")
    grid.locator("[role=gridcell]", has_text="base-model").first.wait_for(state="attached", timeout=30000)
    box = grid.locator("canvas").first.bounding_box()
    # the row-marker column on the left: one click per data row ticks it (header ~36 px)
    for row in range(2):
        page.mouse.click(box["x"] + 12, box["y"] + 36 + 17 + row * 35)
        wait_app(page)
    line = page.get_by_text("not significant at 0.05 (n = 100)")
    line.first.wait_for(timeout=30000)
    text = line.first.inner_text()
    assert "#1 → #2 humaneval pass@1: 30.0% → 36.0%, Δ +6.0 pts [" in text
    assert page.get_by_text("pass → fail (4)").count() >= 1
    no_exception(page)
    line.first.scroll_into_view_if_needed()
    screenshot(page, "results-significance")
    # the flip view: the pass -> fail items with both runs' completions side by side
    page.get_by_text("Flips #1 → #2").first.click()
    page.get_by_text("# tuned").first.wait_for(timeout=15000)
    no_exception(page)
    page.get_by_text("Flips #1 → #2").first.scroll_into_view_if_needed()
    screenshot(page, "results-flips")
    assert not page.js_errors, page.js_errors
