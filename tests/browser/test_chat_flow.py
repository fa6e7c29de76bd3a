"""Chat in Chromium: start the tiny model from the page and see it become ready, send a
message and see the reply stream in with its TTFT and tokens/s, stop a long reply, then the
A/B view side by side."""
from __future__ import annotations

import os
import re
import signal

from core import jobs
from core.models.presets import tiny_model_dir
from core.models.tiny import build_tiny_model
from tests.browser.conftest import no_exception, screenshot, wait_app


def test_chat_streams_a_reply_and_shows_ab(ui, page):
    build_tiny_model(tiny_model_dir(), seed=0)
    try:
        _chat_flow(ui, page)
    finally:  # the supervisor leaves jobs running when it stops: end the served model here
        for job in jobs.list_jobs(kinds=("serve",)):
            if job.get("pid"):
                try:
                    os.killpg(job["pid"], signal.SIGKILL)
                except ProcessLookupError:
                    pass


def _chat_flow(ui, page):
    page.goto(f"{ui.url}/chat")
    wait_app(page)
    # Start the first model in the list (tiny) from the page and watch it become ready.
    page.get_by_role("button", name="Start serving").click()
    page.get_by_text("loading the model").first.wait_for(timeout=30000)
    screenshot(page, "chat-starting")
    try:
        page.locator("[data-testid='stChatInputTextArea']").wait_for(timeout=240000)
    finally:
        screenshot(page, "chat-open")
    [job] = jobs.list_jobs(kinds=("serve",))
    assert job["status"] == "RUNNING" and job["endpoint"]
    wait_app(page)
    page.get_by_text("System prompt and sampling").first.click()
    page.get_by_role("slider").first.press("Home")  # temperature 0: greedy, the same every run
    wait_app(page)
    tokens = page.get_by_label("Max tokens")
    tokens.fill("24")
    tokens.press("Enter")
    wait_app(page)
    box = page.locator("[data-testid='stChatInputTextArea']")
    box.fill("What is the capital of France?")
    box.press("Enter")
    reply = page.locator("[data-testid='stChatMessage']").nth(1)
    reply.wait_for(timeout=60000)
    page.get_by_text("tok/s").first.wait_for(timeout=60000)
    no_exception(page)
    assert reply.inner_text().strip()
    screenshot(page, "chat-reply")

    # Stop mid-stream: what had arrived stays, marked stopped.
    tokens.fill("4000")
    tokens.press("Enter")
    wait_app(page)
    box.fill("Write a haiku about rain.")
    box.press("Enter")
    page.locator("[data-testid='stChatMessage']").nth(3).wait_for(timeout=60000)
    page.wait_for_function(
        "() => { const m = document.querySelectorAll(\"[data-testid='stChatMessage']\");"
        " return m.length >= 4 && m[3].innerText.trim().length > 20; }", timeout=60000)
    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text("stopped", exact=True).wait_for(timeout=30000)
    wait_app(page)
    stopped = page.locator("[data-testid='stChatMessage']").nth(3).inner_text()
    assert stopped.strip() and "4000 tokens" not in stopped
    screenshot(page, "chat-stopped")
    tokens.fill("24")
    tokens.press("Enter")
    wait_app(page)

    page.get_by_role("button", name="New chat").click()
    wait_app(page)
    page.get_by_text("A/B", exact=True).first.click()
    wait_app(page)
    box.fill("Name three colours.")
    box.press("Enter")
    page.get_by_text("Model B").first.wait_for(timeout=30000)
    page.wait_for_function(
        "() => (document.body.innerText.match(/tok\\/s/g) || []).length >= 2", timeout=90000)
    wait_app(page)
    no_exception(page)
    assert page.get_by_text("Model A").count() >= 1
    replies = page.locator("[data-testid='stChatMessage']")
    assert replies.count() == 4  # one prompt and one reply on each side
    # each side its own TTFT and tokens/s (a sampled reply may end early on its end token)
    stats = page.get_by_text(re.compile(r"^TTFT \d+\.\d+ s · (?:[\d.]+|-) tok/s · \d+ tokens$"))
    assert stats.count() == 2
    screenshot(page, "chat-ab")
    assert not page.js_errors, page.js_errors
