"""Fill the SFT form in a real browser (a typed local model path, tiny settings), see a bad
value flagged under its field, launch, land on Monitor and watch the job complete."""
from __future__ import annotations

import json

import pytest

from core import jobs
from tests.browser.conftest import no_exception, screenshot, wait_app
from tests.conftest import wait_for


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from core.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-browser")


def _widget(page, key: str):
    return page.locator(f".st-key-{key}")


def _fill_number(page, key: str, value: str) -> None:
    box = _widget(page, key).locator("input")
    box.fill(value)
    box.press("Enter")
    wait_app(page)


def _type_option(page, key: str, text: str) -> None:
    """Type a value that is not among the selectbox's options (accept_new_options)."""
    _widget(page, key).locator("input").click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    wait_app(page)


def test_launch_sft_from_the_form_and_see_it_on_monitor(ui, page, tiny_model):
    page.goto(f"{ui.url}/training")
    wait_app(page)
    _widget(page, "train_sft_model").wait_for(timeout=30000)
    no_exception(page)
    screenshot(page, "training-form")
    page.get_by_role("tab", name="RAFT").click()
    _widget(page, "train_raft_preset").wait_for(timeout=15000)
    wait_app(page)
    screenshot(page, "training-raft-form")
    for tab, key, shot in (("GRPO", "train_grpo_grpo_preset", "training-grpo-form"),
                           ("DPO", "train_dpo_dpo_beta", "training-dpo-form")):
        page.get_by_role("tab", name=tab).click()
        _widget(page, key).wait_for(timeout=15000)
        wait_app(page)
        no_exception(page)
        screenshot(page, shot)
    page.get_by_role("tab", name="SFT").click()
    wait_app(page)

    _type_option(page, "train_sft_model", str(tiny_model))
    _fill_number(page, "train_sft_max_steps", "5")
    _fill_number(page, "train_sft_batch_size", "2")
    _fill_number(page, "train_sft_limit", "8")

    # A bad value is flagged under its own field and Launch waits for a fix.
    rate = _widget(page, "train_sft_learning_rate").locator("input")
    rate.fill("fast")
    rate.press("Enter")
    wait_app(page)
    error = page.get_by_text("training.learning_rate must be a number, got 'fast'")
    error.wait_for(timeout=15000)
    assert _widget(page, "train_sft_launch").locator("button").is_disabled()
    screenshot(page, "training-field-error")
    rate.fill("1e-3")
    rate.press("Enter")
    error.wait_for(state="detached", timeout=15000)
    wait_app(page)

    name = _widget(page, "train_sft_name").locator("input")
    name.fill("browser sft")
    name.press("Enter")
    wait_app(page)
    screenshot(page, "training-filled")
    assert jobs.list_jobs() == []
    _widget(page, "train_sft_launch").locator("button").click()

    page.wait_for_url("**/monitor**", timeout=30000)
    wait_app(page)
    [job] = jobs.list_jobs()
    assert job["name"] == "browser sft"
    config = json.loads(job["config"])
    assert config["model"]["name"] == str(tiny_model)
    assert (config["training"]["max_steps"], config["training"]["batch_size"],
            config["data"]["limit"]) == (5, 2, 8)
    assert config["training"]["learning_rate"] == 1e-3
    page.get_by_role("heading", name="browser sft").wait_for(timeout=30000)
    no_exception(page)
    screenshot(page, "training-launched-monitor")

    wait_for(lambda: jobs.get(job["id"])["status"] in ("COMPLETED", "FAILED", "STOPPED"), 300,
             interval=0.5, what="the SFT job to finish")
    final = jobs.get(job["id"])
    assert final["status"] == "COMPLETED", final.get("error")
    page.locator("[data-testid='stMarkdownContainer']", has_text="COMPLETED").first.wait_for(
        timeout=30000)
    no_exception(page)
    screenshot(page, "training-completed-monitor")
    assert not page.js_errors, page.js_errors
