"""Every page in the navigation opens in a real Chromium without an exception.

Two ledgers: an empty one with the real supervisor running (what a first start looks like),
and a seeded one (jobs in every status, metrics, results, a GPU sample) with no supervisor,
so the seeded jobs stay as recorded. A screenshot of each page lands in test-artifacts/.
"""
from __future__ import annotations

import ast

import pytest

from tests.browser.conftest import UiServer, _need_chromium, no_exception, screenshot, wait_app
from tests.conftest import REPO, SupervisorProcess


def nav_pages() -> list[tuple[str, str, str]]:
    """(file, title, url path) of every page app.py puts in the navigation (those that exist)."""
    tree = ast.parse((REPO / "app.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES":
            pages = ast.literal_eval(node.value)
            return [(f, t, u) for f, t, _icon, u in pages if (REPO / f).exists()]
    raise AssertionError("app.py has no PAGES list")


def _tall_screenshot(page, name: str) -> None:
    """Streamlit scrolls inside its own container, so a full-page shot is one viewport: grow
    the viewport to the content first, then shrink it back."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], "
        "[data-testid=\"stMainBlockContainer\"]')].map(e => e.scrollHeight), 1000)")
    page.set_viewport_size({"width": 1400, "height": min(int(height) + 80, 6000)})
    page.wait_for_timeout(2000)  # charts resize with an animation
    screenshot(page, name)
    page.set_viewport_size({"width": 1400, "height": 1000})


def _open_every_page(page, base_url: str, prefix: str) -> None:
    pages = nav_pages()
    assert {"Dashboard", "Monitor", "Results"} <= {t for _, t, _ in pages}
    for n, (_file, title, url_path) in enumerate(pages):
        page.goto(base_url + ("/" if n == 0 else f"/{url_path}"))
        wait_app(page)
        page.get_by_role("heading", name=title, level=1).first.wait_for(timeout=30000)
        page.wait_for_timeout(1500)  # echarts draws after the element arrives
        wait_app(page)
        no_exception(page)
        _tall_screenshot(page, f"{prefix}-{url_path}")
        # the sidebar lists every page
        nav = page.locator("[data-testid='stSidebarNav']")
        for _f, other, _u in pages:
            assert nav.get_by_text(other, exact=True).count() >= 1, f"{other} missing from nav"
    assert not page.js_errors, page.js_errors


@pytest.fixture
def ui(home, request):
    """The conftest's UI server, with a choice: "supervisor" (the default: an empty ledger and
    the real supervisor) or "seeded" (a seeded ledger and no supervisor, so the seeded jobs
    stay as recorded instead of being reconciled)."""
    _need_chromium()
    mode = getattr(request, "param", "supervisor")
    sup = None
    if mode == "seeded":
        from tests.seed import seed

        seed()
    else:
        sup = SupervisorProcess(home).start()
    server = UiServer(home)
    yield server
    server.stop()
    if sup:
        sup.stop()


def test_every_page_opens_on_an_empty_ledger(ui, page):
    _open_every_page(page, ui.url, "empty")
    page.goto(ui.url + "/")
    wait_app(page)
    page.get_by_text("Supervisor running").first.wait_for(timeout=30000)


@pytest.mark.parametrize("ui", ["seeded"], indirect=True)
def test_every_page_opens_on_a_seeded_ledger(ui, page):
    _open_every_page(page, ui.url, "seeded")
    # Dashboard: a recent run's link opens its Monitor view
    page.goto(ui.url + "/")
    wait_app(page)
    page.get_by_text("Active jobs").first.wait_for(timeout=30000)
    link = page.get_by_role("link", name="#3 sft run 2").first
    assert link.get_attribute("href").endswith("monitor?job=3")
    tabs = len(page.context.pages)
    link.click()  # a page link: Monitor opens in this tab, on that job
    page.wait_for_url("**/monitor?job=3", timeout=30000)
    wait_app(page)
    page.get_by_role("heading", name="sft run 2").first.wait_for(timeout=30000)
    assert len(page.context.pages) == tabs
    no_exception(page)
    # Results: tick two rows of the table (a canvas grid: click the checkbox column)
    page.goto(ui.url + "/results")
    wait_app(page)
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for(timeout=30000)
    box = grid.bounding_box()
    for row in (0, 3):
        page.mouse.click(box["x"] + 16, box["y"] + 35 * (row + 1) + 17)
        wait_app(page)
    page.get_by_text("Comparison of 2 results").first.wait_for(timeout=30000)
    page.get_by_role("button", name="Selection (2) as CSV").wait_for(timeout=30000)
    page.wait_for_timeout(1500)
    no_exception(page)
    _tall_screenshot(page, "seeded-results-compare")
    # the comparison tab with its chart and config diff
    page.get_by_role("tab", name="Training runs").click()
    page.get_by_text("Differences only").first.wait_for(timeout=30000)
    page.wait_for_timeout(1500)
    no_exception(page)
    _tall_screenshot(page, "seeded-results-training")
    assert not page.js_errors, page.js_errors
