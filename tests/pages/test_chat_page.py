"""AppTest for the Chat page: starting a served model from the list, then a streamed
conversation, saving it as training data, and A/B mode against a real served tiny model."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from core import datasets, jobs
from tests.conftest import REPO
from tests.serving.served import start_served, stop_served

PAGE = str(REPO / "pages/chat.py")


def _run():
    return AppTest.from_file(PAGE, default_timeout=120).run()


def test_nothing_served_offers_the_list_and_start_queues_a_serve_job(home):
    at = _run()
    assert not at.exception
    assert any("No served model is running" in i.value for i in at.info)
    options = at.selectbox(key="chat_start_pick").options
    assert options[0] == "tiny (offline) · tiny: the offline test model"
    at.button(key="chat_start").click().run()
    assert not at.exception
    [job] = jobs.list_jobs(kinds=("serve",))
    assert job["status"] == "QUEUED" and json.loads(job["config"])["model"] == "tiny"
    assert any("loading the model" in i.value for i in at.info)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    s, mp = start_served(tmp_path_factory, "chatpage")
    yield s
    stop_served(s, mp)


def _captions(at):
    return [c.value for c in at.caption]


def test_streamed_conversation_and_save_as_training_data(served, tmp_path):
    at = _run()
    assert not at.exception
    assert at.selectbox(key="chat_a").value == served.job["id"]
    at.slider(key="chat_temperature").set_value(0.0)
    at.number_input(key="chat_max_tokens").set_value(8)
    at.chat_input(key="chat_input").set_value("What is the capital of France?").run()
    assert not at.exception
    history = at.session_state["chat_history"]["chat_a"]
    assert [m["role"] for m in history] == ["user", "assistant"] and history[1]["content"]
    assert any("TTFT" in c and "tok/s" in c and "8 tokens" in c for c in _captions(at))
    target = tmp_path / "chats.jsonl"
    at.text_input(key="chat_save_path").set_value(str(target))
    at.button(key="chat_save").click().run()
    assert not at.exception and at.success
    records = datasets.validate_file(target, "chat")
    assert [m["role"] for m in records[0]["messages"]] == ["system", "user", "assistant"]


def test_ab_mode_sends_one_prompt_to_both_sides(served):
    at = _run()
    at.button_group(key="chat_mode").set_value("A/B").run()
    assert not at.exception
    at.number_input(key="chat_max_tokens").set_value(5)
    at.chat_input(key="chat_input").set_value("Name three colours.").run()
    assert not at.exception
    history = at.session_state["chat_history"]
    assert history["chat_a"][-1]["role"] == history["chat_b"][-1]["role"] == "assistant"
    assert sum("TTFT" in c for c in _captions(at)) >= 2


def test_engine_4xx_is_shown_and_the_prompt_is_not_kept(served, monkeypatch):
    from core import chat

    monkeypatch.setattr(chat.Params, "body", lambda self: {"model": "not-this-one", "max_tokens": 2})
    at = _run()
    at.chat_input(key="chat_input").set_value("hi").run()
    assert not at.exception
    assert any("answered 400" in e.value for e in at.error)
    assert at.session_state["chat_history"]["chat_a"] == []


def test_monitor_shows_the_endpoint_of_a_served_model(served):
    at = AppTest.from_file(str(REPO / "pages/monitor.py"), default_timeout=60)
    at.query_params["job"] = str(served.job["id"])
    at.run()
    assert not at.exception
    assert any(served.endpoint in c.value for c in at.caption)


def test_a_served_model_that_died_is_reported_with_its_reason(home):
    from core import ledger

    job_id = jobs.submit("serve", {"model": "tiny", "executor": {"gpus": 0}})
    assert ledger.transition(job_id, ("QUEUED",), "FAILED",
                             error="exited with code 1:\nerror: the transformers server exited with code -9 while serving")
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["chat_a"] = job_id  # the model this chat was talking to
    at.run()
    assert not at.exception
    assert any(f"Served model #{job_id} failed" in e.value and "code -9 while serving" in e.value
               for e in at.error)
