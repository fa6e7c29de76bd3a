"""AppTest for the Datasets page: catalogue, filters, paging, preview, local files, and
"Train on this"."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from core import datasets as ds
from tests.conftest import REPO

PAGE = str(REPO / "pages/datasets.py")
TRAINING = REPO / "pages/training.py"


def _run() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=30).run()


def _table_names(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value["dataset"])


def _infos(at: AppTest) -> list[str]:
    return [i.value for i in at.info]


def test_catalogue_with_offline_note_and_first_records(home):
    at = _run()
    assert not at.exception
    assert at.title[0].value == "Datasets"
    assert _table_names(at) == [e.title for e in ds.entries()]
    assert any(text.startswith("Offline (HF_HUB_OFFLINE") for text in _infos(at))
    assert at.selectbox(key="ds_selected").value == "alpaca"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Records": "24", "Fields": "3", "Source": "shipped sample"}
    assert "offline: using the shipped sample of 24 records" in _infos(at)
    assert [e.label for e in at.expander] == [f"Record {i}" for i in range(1, 6)]
    first = ds.load_records("alpaca").records[0]
    assert json.loads(at.json[0].value) == first
    contents = [m.markdown[0].value for m in at.chat_message]
    assert contents[:2] == [ds.to_prompt("alpaca", first), first["output"]]


def test_filters_by_type_and_source(home):
    at = _run()
    at.multiselect(key="ds_types").set_value(["benchmark"]).run()
    assert not at.exception
    assert _table_names(at) == [e.title for e in ds.entries("benchmark")]
    assert "alpaca" not in at.selectbox(key="ds_selected").options
    at.multiselect(key="ds_sources").set_value(["package"]).run()
    assert _table_names(at) == ["HumanEval"]
    assert {m.label: m.value for m in at.metric}["Records"] == "164"
    at.multiselect(key="ds_sources").set_value(["local file"]).run()
    assert "No dataset matches these filters." in [w.value for w in at.warning]


def test_pages_through_records(home):
    at = _run()
    at.selectbox(key="ds_selected").set_value("gsm8k").run()
    at.selectbox(key="ds_page_size").set_value(10).run()
    at.number_input(key="ds_page").set_value(3).run()
    assert not at.exception
    assert [e.label for e in at.expander] == [f"Record {i}" for i in range(21, 25)]
    record = ds.load_records("gsm8k").records[20]
    assert json.loads(at.json[0].value) == record
    # Switching dataset goes back to page 1.
    at.selectbox(key="ds_selected").set_value("math").run()
    assert at.number_input(key="ds_page").value == 1
    assert at.expander[0].label == "Record 1"


def test_code_dataset_shows_prompt_and_reference(home):
    at = _run()
    at.selectbox(key="ds_selected").set_value("mbpp").run()
    assert not at.exception
    record = ds.load_records("mbpp").records[0]
    assert at.code[0].value == ds.to_prompt("mbpp", record)
    assert any(record["code"] in m.markdown[0].value for m in at.chat_message)
    fields = at.dataframe[1].value
    assert set(fields["field"]) == set(ds.get("mbpp").fields)
    assert all(fields["required"])


def test_local_files_are_listed_previewed_and_checked(home):
    root = home / "datasets"
    root.mkdir(exist_ok=True)
    chat = {"messages": [{"role": "user", "content": "2+2?"},
                         {"role": "assistant", "content": "4"}]}
    (root / "mine.jsonl").write_text(json.dumps(chat) + "\n" + json.dumps(chat) + "\n")
    (root / "broken.jsonl").write_text(json.dumps(chat) + "\n{not json\n")
    (root / "nofields.jsonl").write_text(json.dumps({"x": 1}) + "\n")
    at = _run()
    assert {"mine.jsonl", "broken.jsonl", "nofields.jsonl"} <= set(_table_names(at))
    at.selectbox(key="ds_selected").set_value(str(root / "mine.jsonl")).run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric} == {"Records": "2", "Fields": "1",
                                                     "Source": "local file"}
    assert [m.markdown[0].value for m in at.chat_message][:2] == ["2+2?", "4"]
    at.selectbox(key="ds_selected").set_value(str(root / "broken.jsonl")).run()
    assert [e.value for e in at.error] == [
        "line 2: invalid JSON (Expecting property name enclosed in double quotes at column 2)"]
    at.selectbox(key="ds_selected").set_value(str(root / "nofields.jsonl")).run()
    assert at.error[0].value.startswith("nofields.jsonl: line 1: unrecognised record")


def test_train_on_this_selects_the_dataset(home):
    at = _run()
    at.selectbox(key="ds_selected").set_value("gsm8k").run()
    at.button(key="ds_train").click().run()
    assert not at.exception
    assert at.session_state["train_dataset"] == "gsm8k"
    assert at.session_state["train_kind"] == "sft"
    # On its own (outside the app's navigation) the page cannot switch: it says so.
    assert any("Training page" in w.value and "'gsm8k' is selected" in w.value
               for w in at.warning)


@pytest.mark.skipif(not TRAINING.is_file(), reason="pages/training.py not written yet")
def test_train_on_this_opens_the_training_page(home):
    nav = f"""
import streamlit as st
st.navigation([st.Page({PAGE!r}), st.Page({str(TRAINING)!r})]).run()
"""
    at = AppTest.from_string(nav, default_timeout=30).run()
    at.selectbox(key="ds_selected").set_value("mbpp").run()
    at.button(key="ds_train").click().run()
    assert at.session_state["train_dataset"] == "mbpp"
    assert at.session_state["train_kind"] == "raft"
    assert not any(b.key == "ds_train" for b in at.button)  # now on the Training page
