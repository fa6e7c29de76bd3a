"""AppTest for the Config page: YAML editor validated against the schema, templates, saved
configs (overwrite asks first), launch.

streamlit-ace shows up in AppTest as an unknown component that returns its initial value, so
the tests set `cfg_text` (the page's copy of the editor text) or use the plain text area.
"""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from core import config_store, configs, jobs
from core.paths import configs_dir
from tests.conftest import REPO

PAGE = str(REPO / "pages/config.py")
MONITOR = str(REPO / "pages/monitor.py")

GOOD = """kind: sft
model: {name: tiny}
data: {dataset: alpaca, limit: 8}
lora: {r: 4, alpha: 8}
training: {epochs: 1, batch_size: 2, learning_rate: 5e-4, max_steps: 3}
"""
BAD = """kind: sft
model: {name: tiny}
data: {dataset: alpaca}
training:
  learning_rate: -1
  epoch: 2
"""


def _run(text: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    if text is not None:
        at.session_state["cfg_text"] = text
    return at.run()


def _ace(at: AppTest) -> dict:
    found = []

    def walk(node):
        for child in getattr(node, "children", {}).values():
            if type(child).__name__ == "UnknownElement" and "streamlit_ace" in str(child.proto):
                found.append(json.loads(child.proto.json_args))
            walk(child)
    walk(at._tree)
    assert len(found) == 1, "expected one streamlit-ace editor"
    return found[0]


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_starts_from_the_sft_template_in_a_dark_yaml_editor(home):
    at = _run()
    assert not at.exception
    assert at.title[0].value == "Config"
    ace = _ace(at)
    assert ace["mode"] == "yaml" and ace["theme"] == "tomorrow_night"
    assert ace["defaultValue"] == configs.template("sft")
    assert "Valid sft config." in [s.value for s in at.success]
    assert not at.button(key="cfg_launch").disabled


def test_errors_name_line_and_field_and_mark_the_editor(home):
    at = _run(BAD)
    assert not at.exception
    assert _errors(at) == [
        "**line 5** · `training.learning_rate` — training.learning_rate must be > 0 and <= 1, got -1",
        "**line 6** · `training.epoch` — unknown key 'epoch' in training (did you mean 'epochs'?)",
    ]
    assert [(a["row"], a["type"]) for a in _ace(at)["annotations"]] == [(4, "error"), (5, "error")]
    assert at.button(key="cfg_launch").disabled


def test_yaml_syntax_error_and_missing_dataset_file(home):
    at = _run("kind: sft\nmodel: {name: tiny\n")
    assert len(_errors(at)) == 1 and "YAML syntax error" in _errors(at)[0]
    assert _errors(at)[0].startswith("**line ")
    at = _run("kind: sft\nmodel: {name: tiny}\ndata:\n  dataset: ./nope.jsonl\n")
    assert _errors(at) == ["**line 4** · `data.dataset` — data.dataset: file not found: ./nope.jsonl"]


def test_uncached_hub_model_is_refused_before_launch(home):
    at = _run(GOOD.replace("{name: tiny}", "{name: Qwen/Not-Cached-Anywhere}"))
    [error] = _errors(at)
    assert error.startswith("**line 2** · `model.name` — model.name: model 'Qwen/Not-Cached-Anywhere' "
                            "is not in the Hugging Face cache and the hub is offline")
    assert at.button(key="cfg_launch").disabled


def test_templates_fill_the_editor_and_ask_before_discarding_edits(home):
    at = _run()
    at.selectbox(key="cfg_template").set_value("RAFT · aggressive").run()
    at.button(key="cfg_use_template").click().run()
    assert at.session_state["cfg_text"] == configs.template("raft", "aggressive")
    assert _ace(at)["defaultValue"] == configs.template("raft", "aggressive")
    assert "Valid raft config." in [s.value for s in at.success]
    # edit, then ask for another template: the page asks first
    at.session_state["cfg_text"] = GOOD
    at.run()
    assert any("unsaved changes" in c.value for c in at.caption)
    at.selectbox(key="cfg_template").set_value("SFT").run()
    at.button(key="cfg_use_template").click().run()
    assert "Discard your unsaved changes" in at.warning[0].value
    assert at.session_state["cfg_text"] == GOOD
    at.button(key="cfg_cancel").click().run()
    assert not at.warning and at.session_state["cfg_text"] == GOOD
    at.button(key="cfg_use_template").click().run()
    at.button(key="cfg_confirm").click().run()
    assert at.session_state["cfg_text"] == configs.template("sft")


def test_save_load_and_overwrite_asks_first(home):
    at = _run(GOOD)
    at.text_input(key="cfg_save_name").input("small run").run()
    at.button(key="cfg_save").click().run()
    assert not at.exception
    assert config_store.load("small run") == GOOD
    assert any("Saved to" in s.value and "small run.yaml" in s.value for s in at.success)
    assert at.selectbox(key="cfg_saved").options == ["small run.yaml"]
    # same name with other text: asks, and the file stays as it was until confirmed
    at.session_state["cfg_text"] = GOOD.replace("max_steps: 3", "max_steps: 4")
    at.run()
    at.button(key="cfg_save").click().run()
    assert "small run.yaml already exists. Overwrite it?" in at.warning[0].value
    assert config_store.load("small run") == GOOD
    at.button(key="cfg_cancel").click().run()
    assert config_store.load("small run") == GOOD
    at.button(key="cfg_save").click().run()
    at.button(key="cfg_confirm").click().run()
    assert "max_steps: 4" in config_store.load("small run")


def test_bad_save_names_stay_in_the_configs_folder(home):
    at = _run(GOOD)
    at.text_input(key="cfg_save_name").input("../escape").run()
    at.button(key="cfg_save").click().run()
    assert "config name '../escape' must not contain a path separator" in _errors(at)
    assert list(configs_dir().iterdir()) == []
    assert not (home / "escape.yaml").exists()


def test_load_and_delete_saved_configs(home):
    config_store.save("other", GOOD)
    at = _run()
    at.selectbox(key="cfg_saved").set_value("other.yaml").run()
    at.button(key="cfg_load").click().run()
    assert at.session_state["cfg_text"] == GOOD
    assert _ace(at)["defaultValue"] == GOOD
    assert at.text_input(key="cfg_save_name").value == "other.yaml"
    assert any("From saved config other.yaml" == c.value for c in at.caption)
    at.button(key="cfg_delete").click().run()
    assert "Delete the saved config other.yaml?" in at.warning[0].value
    assert config_store.exists("other")
    at.button(key="cfg_confirm").click().run()
    assert not config_store.exists("other")


def test_launch_from_the_editor_queues_and_moves_to_monitor(home):
    nav = (f"import streamlit as st\nst.navigation([st.Page({PAGE!r}), "
           f"st.Page({MONITOR!r})]).run()\n")
    at = AppTest.from_string(nav, default_timeout=30)
    at.session_state["cfg_text"] = GOOD
    at.run()
    at.text_input(key="cfg_job_name").input("from yaml").run()
    at.button(key="cfg_launch").click().run()
    assert not at.exception
    [job] = jobs.list_jobs()
    assert job["name"] == "from yaml" and job["kind"] == "sft"
    config = json.loads(job["config"])
    assert config["training"]["learning_rate"] == 5e-4  # YAML's string '5e-4' became a number
    assert config["training"]["max_steps"] == 3 and config["data"]["limit"] == 8
    assert at.title[0].value == "Monitor"
    assert at.selectbox(key="mon_job").value == job["id"]


def test_plain_text_editor_counts_text_typed_just_before_a_click(home):
    at = _run()
    at.toggle(key="cfg_plain").set_value(True).run()
    area = at.text_area[0]
    assert area.value == configs.template("sft")
    area.input(GOOD)
    at.text_input(key="cfg_save_name").input("typed")
    at.button(key="cfg_save").click().run()  # the text and the click arrive together
    assert config_store.load("typed") == GOOD
    area = at.text_area[0]
    area.input(BAD).run()
    assert len(_errors(at)) == 2 and at.button(key="cfg_launch").disabled


def test_cluster_executor_needs_a_usable_profile(home):
    profiles = pytest.importorskip("core.runner.profiles")
    text = GOOD + "executor:\n  name: ray\n  profile: lab\n"
    at = _run(text)
    [error] = _errors(at)
    assert error.startswith("**line 8** · `executor.profile` — executor.profile: no cluster profile named 'lab'")
    assert at.button(key="cfg_launch").disabled
    profiles.add("lab", "ray", address="http://head:8265")
    at = _run(text)
    assert not _errors(at)
    at.button(key="cfg_launch").click().run()
    [job] = jobs.list_jobs()
    assert (job["executor"], job["profile"]) == ("ray", "lab")
