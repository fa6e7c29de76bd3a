"""Chromium: upload a CSV on Datasets, map it, see the chat-template preview, import it, and
find it listed; a malformed upload shows its line and column."""
from __future__ import annotations

from pathlib import Path

from core.models.loading import resolve_model
from tests.browser.conftest import screenshot, wait_app

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "imports"


def _upload(page, ui, name: str) -> None:
    page.goto(ui.url + "/datasets")
    wait_app(page)
    page.get_by_role("tab", name="Add a dataset").click()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(FIX / name))
    wait_app(page)


def test_upload_map_preview_and_import(page, ui, home):
    resolve_model("tiny")
    _upload(page, ui, "good.jsonl")
    page.get_by_text("Training text preview").wait_for(timeout=30000)
    assert "<|im_start|>user" in page.locator("[data-testid='stCode']").first.inner_text()
    page.get_by_role("button", name="Import").click()
    page.get_by_text("Imported 3 records as").wait_for(timeout=30000)
    screenshot(page, "datasets-import")
    assert (home / "datasets" / "good.jsonl").is_file()
    page.reload()
    wait_app(page)
    # Listed beside the catalogue (the table is a canvas; the Preview picker is DOM).
    page.get_by_role("tab", name="Browse").click()
    page.locator("[data-testid='stSelectbox']").filter(has_text="Preview").click()
    page.get_by_role("option", name="good.jsonl (local file)").wait_for(timeout=10000)
    assert not page.js_errors


def test_malformed_upload_names_line_and_column(page, ui, home):
    _upload(page, ui, "bad_columns.csv")
    alert = page.locator("[data-testid='stAlert']").filter(has_text="line 3")
    alert.wait_for(timeout=30000)
    assert "3 values but the header has 2 columns" in alert.inner_text()
    screenshot(page, "datasets-import-error")
    assert not (home / "datasets").exists() or not any((home / "datasets").iterdir())


def test_preference_pairs_show_chosen_beside_rejected(page, ui, home):
    page.goto(ui.url + "/datasets")
    wait_app(page)
    page.locator("[data-testid='stSelectbox']").filter(has_text="Preview").click()
    page.get_by_role("option", name="UltraFeedback (binarized preferences) (shipped sample)").click()
    wait_app(page)
    page.get_by_text("Pair 1").first.wait_for(timeout=30000)
    chosen = page.get_by_text("Chosen", exact=True).first
    rejected = page.get_by_text("Rejected", exact=True).first
    chosen.wait_for(timeout=15000)
    a, b = chosen.bounding_box(), rejected.bounding_box()
    assert abs(a["y"] - b["y"]) < 5 and b["x"] > a["x"] + 100  # side by side
    page.get_by_text("The capital of France is Paris.").first.scroll_into_view_if_needed()
    screenshot(page, "datasets-preference-pairs")
    assert not page.js_errors
