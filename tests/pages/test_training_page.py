"""AppTest for the Training page: SFT and RAFT forms, errors under their fields, launch."""
from __future__ import annotations

import json
import sys
import types

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from core import configs, jobs
from tests.conftest import REPO

PAGE = str(REPO / "pages/training.py")
MONITOR = str(REPO / "pages/monitor.py")
CONFIG = str(REPO / "pages/config.py")


def _run() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=30).run()


def _nav(*pages: str) -> AppTest:
    script = "import streamlit as st\nst.navigation([%s]).run()\n" % ", ".join(
        f"st.Page({p!r})" for p in pages)
    return AppTest.from_string(script, default_timeout=30).run()


def _type_option(at: AppTest, key: str, value: str) -> None:
    """What the browser sends when a user types a value that is not an option
    (`accept_new_options`); AppTest can only pick listed options, so list it first."""
    box = at.selectbox(key=key)
    if value not in box.options:
        box.options.append(value)
    box.set_value(value)


def _column_of(at: AppTest, key: str):
    """The layout block that holds the widget `key` (errors render in the same block)."""
    def walk(node, block):
        if type(node).__name__ in ("Column", "Tab"):
            block = node
        for child in getattr(node, "children", {}).values():
            if getattr(child, "key", None) == key:
                return block
            found = walk(child, block)
            if found is not None:
                return found
        return None
    return walk(at._tree, None)


def _errors_near(at: AppTest, key: str) -> list[str]:
    block = _column_of(at, key)
    assert block is not None, f"no widget {key}"
    out = []

    def walk(node):
        for child in getattr(node, "children", {}).values():
            if type(child).__name__ == "Error":
                out.append(child.value)
            walk(child)
    walk(block)
    return out


def test_both_forms_start_valid_with_presets(home):
    at = _run()
    assert not at.exception
    assert at.title[0].value == "Training"
    assert [t.label for t in at.tabs][:2] == ["SFT", "RAFT"]
    assert not at.error
    model = at.selectbox(key="train_sft_model")
    assert model.value == "tiny"
    assert model.options[0] == "tiny (offline, CPU)"
    assert any(o.startswith("Qwen2.5-Coder") for o in model.options)
    assert any(o.startswith("DeepSeek-Coder") for o in model.options)
    sft_data = at.selectbox(key="train_sft_dataset")
    assert sft_data.options == ["Alpaca", "MetaMathQA", "GSM8K", "xLAM function calling 60k"]
    assert at.selectbox(key="train_raft_dataset").value == "gsm8k"
    # RAFT starts from the conservative preset, as the schema documents it
    assert at.selectbox(key="train_raft_preset").value == "conservative"
    assert {k: at.number_input(key=f"train_raft_{k}").value for k in
            ("samples_per_prompt", "temperature", "keep_percent", "reward_threshold")} == \
        configs.RAFT_PRESETS["conservative"]
    assert at.text_input(key="train_sft_learning_rate").value == "2e-4"
    assert at.text_input(key="train_raft_learning_rate").value == "5e-5"
    assert at.selectbox(key="train_raft_verifier").options[0] == "the dataset's own (gsm8k)"
    assert not at.button(key="train_sft_launch").disabled


def test_bad_values_show_under_their_field_and_block_launch(home):
    at = _run()
    at.text_input(key="train_sft_learning_rate").input("fast").run()
    at.number_input(key="train_sft_max_steps").set_value(0).run()
    assert not at.exception
    assert _errors_near(at, "train_sft_learning_rate") == [
        "training.learning_rate must be a number, got 'fast'"]
    assert _errors_near(at, "train_sft_max_steps") == [
        "training.max_steps must be -1 (the epochs decide) or at least 1, got 0"]
    assert _errors_near(at, "train_sft_epochs") == []
    assert at.button(key="train_sft_launch").disabled
    assert jobs.list_jobs() == []
    at.text_input(key="train_sft_learning_rate").input("5e-5").run()
    at.number_input(key="train_sft_max_steps").set_value(5).run()
    assert not at.error and not at.button(key="train_sft_launch").disabled


def test_launch_checks_model_and_dataset_before_queueing(home):
    at = _run()
    _type_option(at, "train_sft_model", "Qwen/Not-Cached-Anywhere")
    at.run()
    _type_option(at, "train_sft_dataset", "no/such/file.jsonl")
    at.run()
    assert not at.error  # type and range checks pass; the world is checked on Launch
    at.button(key="train_sft_launch").click().run()
    assert not at.exception
    model_errors = _errors_near(at, "train_sft_model")
    assert len(model_errors) == 1
    assert "'Qwen/Not-Cached-Anywhere' is not in the Hugging Face cache" in model_errors[0]
    assert _errors_near(at, "train_sft_dataset") == ["data.dataset: file not found: no/such/file.jsonl"]
    assert "Nothing was queued" in at.warning[0].value
    assert jobs.list_jobs() == []
    # Editing a field clears launch errors (they describe the old values).
    at.selectbox(key="train_sft_dataset").set_value("alpaca").run()
    assert not at.error


def test_launch_queues_the_validated_config(home):
    at = _run()
    at.number_input(key="train_sft_max_steps").set_value(5).run()
    at.number_input(key="train_sft_batch_size").set_value(2).run()
    at.number_input(key="train_sft_limit").set_value(16).run()
    at.text_input(key="train_sft_learning_rate").input("1e-3").run()
    at.number_input(key="train_sft_lora_r").set_value(4).run()
    at.number_input(key="train_sft_lora_alpha").set_value(8).run()
    at.checkbox(key="train_sft_gradient_checkpointing").check().run()
    at.text_input(key="train_sft_name").input("my first run").run()
    at.button(key="train_sft_launch").click().run()
    assert not at.exception
    [job] = jobs.list_jobs()
    assert job["kind"] == "sft" and job["name"] == "my first run" and job["status"] == "QUEUED"
    config = json.loads(job["config"])
    assert config["model"] == {**config["model"], "name": "tiny", "gradient_checkpointing": True}
    assert config["data"]["dataset"] == "alpaca" and config["data"]["limit"] == 16
    assert config["training"]["max_steps"] == 5 and config["training"]["batch_size"] == 2
    assert config["training"]["learning_rate"] == pytest.approx(1e-3)
    assert (config["lora"]["r"], config["lora"]["alpha"]) == (4, 8)
    assert at.session_state["monitor_job"] == job["id"]
    # on its own (outside the app's navigation) the page stays and says what it did
    assert f"Queued job #{job['id']}" in at.success[0].value


def test_launch_moves_to_monitor_on_the_new_job(home):
    at = _nav(PAGE, MONITOR)
    at.number_input(key="train_sft_max_steps").set_value(3).run()
    at.text_input(key="train_sft_name").input("watch me").run()
    at.button(key="train_sft_launch").click().run()
    assert not at.exception
    [job] = jobs.list_jobs()
    assert at.title[0].value == "Monitor"
    assert at.selectbox(key="mon_job").value == job["id"]
    assert any("watch me" in m.value for m in at.markdown)
    # back on Training later: no stale "Queued job #N" note
    at.switch_page(PAGE).run()
    assert at.title[0].value == "Training"
    assert not [s.value for s in at.success if "Queued job" in s.value]


def test_raft_presets_fill_fields_and_edits_make_it_custom(home):
    at = _run()
    at.selectbox(key="train_raft_preset").set_value("aggressive").run()
    values = {k: at.number_input(key=f"train_raft_{k}").value for k in
              ("samples_per_prompt", "temperature", "keep_percent", "reward_threshold")}
    assert values == configs.RAFT_PRESETS["aggressive"]
    at.number_input(key="train_raft_temperature").set_value(1.1).run()
    assert at.selectbox(key="train_raft_preset").value == "custom"
    at.number_input(key="train_raft_cycles").set_value(2).run()
    at.selectbox(key="train_raft_dataset").set_value("mbpp").run()
    assert at.selectbox(key="train_raft_verifier").options[0] == "the dataset's own (mbpp)"
    at.button(key="train_raft_launch").click().run()
    assert not at.exception and not at.error
    [job] = jobs.list_jobs()
    raft = json.loads(job["config"])["raft"]
    assert raft["preset"] == "custom" and raft["cycles"] == 2
    assert (raft["samples_per_prompt"], raft["keep_percent"], raft["reward_threshold"]) == (16, 30.0, 0.7)
    assert raft["temperature"] == pytest.approx(1.1)
    assert raft["verifier"] is None  # the dataset's own


def test_raft_local_file_without_verifier_needs_one(home):
    root = home / "datasets"
    root.mkdir(exist_ok=True)
    record = {"task_id": 1, "text": "Add two numbers.", "code": "def add(a, b):\n    return a + b",
              "test_list": ["assert add(1, 2) == 3"], "test_setup_code": "",
              "challenge_test_list": []}
    (root / "mine.jsonl").write_text(json.dumps(record) + "\n")
    chat = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    (root / "chat.jsonl").write_text(json.dumps(chat) + "\n")
    at = _run()
    raft_data = at.selectbox(key="train_raft_dataset")
    assert "mine.jsonl (local file, mbpp)" in raft_data.options
    assert "chat.jsonl (local file, chat)" not in raft_data.options  # SFT data only
    assert "chat.jsonl (local file, chat)" in at.selectbox(key="train_sft_dataset").options
    raft_data.set_value(str(root / "mine.jsonl")).run()
    assert at.selectbox(key="train_raft_verifier").options[0] == "the dataset's own (mbpp)"
    at.button(key="train_raft_launch").click().run()
    [job] = jobs.list_jobs()
    assert json.loads(job["config"])["data"]["dataset"] == str(root / "mine.jsonl")


def test_train_on_this_from_datasets_selects_tab_and_dataset_once(home):
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["train_dataset"] = "mbpp"
    at.session_state["train_kind"] = "raft"
    at.run()
    assert not at.exception
    assert at.session_state["train_tab"] == "RAFT"
    assert at.selectbox(key="train_raft_dataset").value == "mbpp"
    at.selectbox(key="train_raft_dataset").set_value("math").run()
    assert at.selectbox(key="train_raft_dataset").value == "math"  # not applied again


def test_form_survives_a_visit_to_another_page(home):
    at = _nav(PAGE, MONITOR)
    at.number_input(key="train_sft_epochs").set_value(3).run()
    at.switch_page(MONITOR).run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.number_input(key="train_sft_epochs").value == 3


def test_edit_as_yaml_hands_the_form_to_the_config_page(home):
    at = _nav(PAGE, CONFIG)
    at.number_input(key="train_sft_max_steps").set_value(7).run()
    at.button(key="train_sft_yaml").click().run()
    assert not at.exception
    assert at.title[0].value == "Config"
    text = at.session_state["cfg_text"]
    data = yaml.safe_load(text)
    assert data["kind"] == "sft" and data["training"]["max_steps"] == 7
    assert data["model"]["name"] == "tiny"
    assert "Valid sft config." in [s.value for s in at.success]


@pytest.fixture
def profiles_module(monkeypatch):
    """Stands in for core.runner.profiles (its owner has not written it yet): two profiles."""
    module = types.ModuleType("core.runner.profiles")
    module.load_all = lambda: {"big": {"executor": "slurm", "partition": "gpu"},
                               "lab": {"executor": "ray", "address": "ray://lab:10001"}}

    def check_usable(executor, profile):
        if profile is None:
            raise ValueError(f"executor {executor} needs a profile")
    module.check_usable = check_usable
    monkeypatch.setitem(sys.modules, "core.runner.profiles", module)
    import core.runner
    monkeypatch.setattr(core.runner, "profiles", module, raising=False)
    return module


def test_executor_offers_the_profiles_of_that_executor(home, profiles_module):
    at = _run()
    assert [s.key for s in at.selectbox if s.key == "train_sft_profile"] == []
    at.selectbox(key="train_sft_executor").set_value("slurm").run()
    profile = at.selectbox(key="train_sft_profile")
    assert profile.options == ["big"] and profile.value == "big"
    at.selectbox(key="train_sft_executor").set_value("ray").run()
    assert at.selectbox(key="train_sft_profile").options == ["lab"]


def test_executor_without_profiles_says_how_to_add_one(home, profiles_module):
    profiles_module.load_all = lambda: {}
    at = _run()
    at.selectbox(key="train_sft_executor").set_value("ray").run()
    assert any("No ray profile saved" in c.value for c in at.caption)
    at.button(key="train_sft_launch").click().run()
    assert "executor.profile: executor ray needs a profile" in [e.value for e in at.error]
    assert jobs.list_jobs() == []


def test_real_profiles_module_when_present(home):
    profiles = pytest.importorskip("core.runner.profiles")
    at = _run()
    at.selectbox(key="train_sft_executor").set_value("ray").run()
    at.button(key="train_sft_launch").click().run()
    assert any(e.startswith("executor.profile: the ray executor needs a cluster profile")
               for e in _errors_near(at, "train_sft_executor") + [e.value for e in at.error])
    assert jobs.list_jobs() == []
    profiles.add("lab", "ray", address="http://head:8265")
    at = _run()
    at.selectbox(key="train_sft_executor").set_value("ray").run()
    assert at.selectbox(key="train_sft_profile").value == "lab"
    at.number_input(key="train_sft_max_steps").set_value(2).run()
    at.button(key="train_sft_launch").click().run()
    assert not at.error
    [job] = jobs.list_jobs()
    assert (job["executor"], job["profile"]) == ("ray", "lab")


def test_trust_remote_code_switch_warns_and_is_in_the_config(home):
    from core import forms

    at = AppTest.from_file(str(REPO / "pages/training.py"), default_timeout=30).run()
    assert forms.TRUST_WARNING not in [w.value for w in at.warning]
    at.checkbox(key="train_sft_trust_remote_code").check().run()
    assert forms.TRUST_WARNING in [w.value for w in at.warning]
    values = {f: at.session_state[f"train_sft_{f}"] for f in ("model", "trust_remote_code")}
    config = forms.build_config("sft", {**forms.defaults("sft"), **values})
    assert config["model"]["trust_remote_code"] is True


def test_a_jobs_own_webhook_is_checked_kept_private_and_cleared(home):
    from core import credentials

    at = _run()
    at.text_input(key="train_sft_notify_url").input("not a url").run()
    at.button(key="train_sft_launch").click().run()
    assert "webhook must be an http:// or https:// URL" in " ".join(e.value for e in at.error)
    assert jobs.list_jobs() == []  # nothing queued
    at.text_input(key="train_sft_notify_url").input("https://hooks.example/T0/secret").run()
    at.button(key="train_sft_launch").click().run()
    [job] = jobs.list_jobs()
    assert credentials.notify_url(job["job_dir"]) == "https://hooks.example/T0/secret"
    assert at.text_input(key="train_sft_notify_url").value == ""
    assert "secret" not in job["config"]


def test_watched_benchmarks_are_checked_on_the_form_and_reach_the_config(home, tmp_path):
    from core import contamination

    text = dict(contamination.benchmark_items("humaneval"))["HumanEval/3"]
    train = tmp_path / "leaky.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in [
        {"instruction": "Say hi.", "output": "Hi."},
        {"instruction": "Finish this function.", "output": text}]))
    at = _run()
    assert at.button(key="train_sft_overlap_check").disabled  # nothing watched yet
    _type_option(at, "train_sft_dataset", str(train))
    at.multiselect(key="train_sft_watch_benchmarks").select("humaneval").select("mbpp").run()
    at.button(key="train_sft_overlap_check").click().run()
    assert not at.exception
    warnings = [w.value for w in at.warning if w.value.startswith("Overlap:")]
    assert len(warnings) == 1 and "HumanEval/3" in warnings[0]
    assert [s.value for s in at.success if s.value.startswith("No overlap: 0 of")]  # mbpp is clean
    at.button(key="train_sft_launch").click().run()
    [job] = jobs.list_jobs()
    assert json.loads(job["config"])["data"]["watch_benchmarks"] == ["humaneval", "mbpp"]
