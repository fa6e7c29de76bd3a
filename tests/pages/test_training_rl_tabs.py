"""AppTest for the Training page's GRPO and DPO tabs: presets, errors under fields, launch, YAML."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core import configs, jobs
from tests.conftest import REPO
from tests.pages.test_training_page import _errors_near

PAGE = str(REPO / "pages/training.py")


def _run() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=30).run()


def test_grpo_and_dpo_tabs_start_valid_from_the_schema(home):
    at = _run()
    assert not at.exception and not at.error
    assert [t.label for t in at.tabs] == ["SFT", "RAFT", "GRPO", "DPO"]
    assert at.selectbox(key="train_grpo_dataset").options == at.selectbox(key="train_raft_dataset").options
    assert at.selectbox(key="train_grpo_grpo_preset").value == "dapo"
    assert at.selectbox(key="train_grpo_loss_type").value == "dapo"
    assert at.number_input(key="train_grpo_beta").value == 0.0
    assert at.number_input(key="train_grpo_num_generations").value == 8
    assert at.selectbox(key="train_grpo_verifier").options[0] == "the dataset's own (gsm8k)"
    assert at.selectbox(key="train_dpo_dataset").options[0] == "UltraFeedback (binarized preferences)"
    assert at.selectbox(key="train_dpo_dpo_loss_type").value == "sigmoid"
    assert at.text_input(key="train_dpo_learning_rate").value == "5e-6"
    assert not at.button(key="train_grpo_launch").disabled and not at.button(key="train_dpo_launch").disabled


def test_grpo_preset_fills_the_recipe_and_an_edit_makes_it_custom(home):
    at = _run()
    at.selectbox(key="train_grpo_grpo_preset").set_value("grpo").run()
    assert at.number_input(key="train_grpo_beta").value == configs.GRPO_PRESETS["grpo"]["beta"]
    assert at.selectbox(key="train_grpo_loss_type").value == "grpo"
    at.number_input(key="train_grpo_epsilon").set_value(0.3).run()
    assert at.selectbox(key="train_grpo_grpo_preset").value == "custom"
    assert at.number_input(key="train_grpo_beta").value == 0.04  # the edit keeps the rest


def test_bad_grpo_values_show_under_their_field_and_block_launch(home):
    at = _run()
    at.number_input(key="train_grpo_steps").set_value(0).run()
    at.number_input(key="train_grpo_beta").set_value(-1.0).run()
    assert _errors_near(at, "train_grpo_steps") == ["grpo.steps must be >= 1 and <= 10000000, got 0"]
    assert _errors_near(at, "train_grpo_beta") == ["grpo.beta must be >= 0 and <= 10, got -1.0"]
    assert at.button(key="train_grpo_launch").disabled
    at.number_input(key="train_grpo_steps").set_value(5).run()
    at.number_input(key="train_grpo_beta").set_value(0.0).run()
    at.number_input(key="train_grpo_num_generations").set_value(3).run()
    assert any("must be a multiple of grpo.num_generations (3)" in e.value for e in at.error)
    assert at.button(key="train_grpo_launch").disabled and jobs.list_jobs() == []


def test_launch_grpo_and_dpo_queue_their_jobs(home):
    at = _run()
    at.number_input(key="train_grpo_steps").set_value(3).run()
    at.button(key="train_grpo_launch").click().run()
    assert not at.exception
    at = _run()
    at.button(key="train_dpo_launch").click().run()
    queued = {j["kind"]: j for j in jobs.list_jobs()}
    assert set(queued) == {"grpo", "dpo"}
    grpo = configs.parse_config(queued["grpo"]["config"])
    assert grpo.grpo.steps == 3 and grpo.grpo.loss_type == "dapo" and grpo.data.dataset == "gsm8k"
    assert configs.parse_config(queued["dpo"]["config"]).data.dataset == "ultrafeedback"


def test_grpo_edit_as_yaml_hands_a_valid_config_to_the_editor(home):
    at = _run()
    at.button(key="train_grpo_yaml").click().run()
    text = at.session_state["cfg_incoming"]
    cfg = configs.parse_config(text)
    assert cfg.kind == "grpo" and cfg.grpo.preset == "dapo" and cfg.grpo.num_generations == 8
