"""core.forms: form values <-> config, issues mapped to form fields, presets, choices, launch."""
from __future__ import annotations

import json

import pytest
import yaml

from core import configs, forms, jobs


def test_defaults_come_from_the_schema_and_validate(home):
    for kind in forms.FORM_KINDS:
        values = forms.defaults(kind)
        assert set(values) == set(forms.field_paths(kind))
        config, errors = forms.validate(kind, values)
        assert errors == {} and config["kind"] == kind
    sft = forms.defaults("sft")
    docs = {f.path: f.default for f in configs.schema_fields("sft")}
    assert (sft["epochs"], sft["batch_size"], sft["lora_r"]) == \
        (docs["training.epochs"], docs["training.batch_size"], docs["lora.r"])
    assert float(sft["learning_rate"]) == docs["training.learning_rate"]
    assert forms.defaults("raft")["temperature"] == configs.RAFT_PRESETS["conservative"]["temperature"]


@pytest.mark.parametrize("value, text", [(2e-4, "2e-4"), (5e-5, "5e-5"), (1e-3, "1e-3"),
                                         (0.01, "0.01"), (0.5, "0.5"), (1.0, "1")])
def test_learning_rates_read_as_written(value, text):
    assert forms.format_number(value) == text
    assert float(text) == value


def test_build_config_sections_and_omits_empty_optionals():
    values = dict(forms.defaults("raft"), limit=None, verifier="", profile="lab", model=" tiny ")
    config = forms.build_config("raft", values)
    assert config["model"]["name"] == "tiny"
    assert "limit" not in config["data"] and "verifier" not in config["raft"]
    assert "profile" not in config["executor"]  # local: a profile means nothing
    values["executor"] = "ray"
    assert forms.build_config("raft", values)["executor"] == {"name": "ray", "profile": "lab"}


def test_issues_map_to_form_fields():
    values = dict(forms.defaults("sft"), learning_rate="5e-5x", epochs=0, lora_alpha=-1)
    config, errors = forms.validate("sft", values, full=False)
    assert config is None
    assert errors == {
        "epochs": ["training.epochs must be >= 1 and <= 1000, got 0"],
        "learning_rate": ["training.learning_rate must be a number, got '5e-5x'"],
        "lora_alpha": ["lora.alpha must be >= 1 and <= 4096, got -1"],
    }
    unmapped = forms.errors_by_field("sft", [configs.ConfigIssue("lora.dropout", "bad", 3),
                                             configs.ConfigIssue("", "whole file")])
    assert unmapped == {forms.GENERAL: ["bad", "whole file"]}


def test_string_numbers_are_accepted_like_yaml():
    values = dict(forms.defaults("sft"), learning_rate="5e-5", max_steps="5")
    config, errors = forms.validate("sft", values, full=False)
    assert errors == {}
    assert config["training"]["learning_rate"] == 5e-5 and config["training"]["max_steps"] == 5


def test_full_checks_report_model_and_dataset_together(home):
    values = dict(forms.defaults("sft"), model="Org/Not-Cached", dataset="humaneval")
    _, quick = forms.validate("sft", values, full=False)
    assert quick == {}
    _, errors = forms.validate("sft", values, full=True)
    assert errors["dataset"] == ["data.dataset: 'humaneval' is not a dataset for SFT; "
                                 "SFT datasets: alpaca, metamath, gsm8k, xlam"]
    assert "model 'Org/Not-Cached' is not in the Hugging Face cache" in errors["model"][0]
    _, errors = forms.validate("sft", dict(values, model="./no/such/dir", dataset="alpaca"))
    assert errors["model"][0].startswith("model.name: model directory ./no/such/dir does not exist")


def test_a_local_model_directory_passes(home, tmp_path):
    model = tmp_path / "my-model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    config, errors = forms.validate("sft", dict(forms.defaults("sft"), model=str(model)))
    assert errors == {} and config["model"]["name"] == str(model)


def test_launch_queues_or_raises_without_writing(home):
    with pytest.raises(forms.FormError) as exc:
        forms.launch("sft", dict(forms.defaults("sft"), max_steps=0))
    assert list(exc.value.errors) == ["max_steps"]
    assert jobs.list_jobs() == []
    job_id = forms.launch("sft", dict(forms.defaults("sft"), max_steps=5), name="  ")
    job = jobs.get(job_id)
    assert job["name"] == "sft tiny on alpaca"  # blank name -> the default one
    assert job["config"]["training"]["max_steps"] == 5


def test_raft_presets_and_custom():
    assert forms.preset_values("aggressive") == configs.RAFT_PRESETS["aggressive"]
    values = forms.preset_values("aggressive")
    assert forms.preset_after_edit("aggressive", values) == "aggressive"
    assert forms.preset_after_edit("aggressive", dict(values, temperature=0.9)) == "custom"
    assert forms.preset_after_edit("custom", values) == "custom"
    with pytest.raises(ValueError, match="unknown RAFT preset 'wild'"):
        forms.preset_values("wild")


def test_to_yaml_is_short_and_round_trips(home):
    values = dict(forms.defaults("raft"), cycles=2, learning_rate="1e-4")
    text = forms.to_yaml("raft", values)
    data = yaml.safe_load(text)
    assert list(data) == ["kind", "model", "data", "raft", "lora", "training", "executor"]
    assert "max_new_tokens" not in data["raft"]  # only what the form sets
    parsed = configs.parse_config(text)
    assert parsed.raft.cycles == 2 and parsed.training.learning_rate == 1e-4


def test_choices(home):
    models = forms.model_choices(cached=["Org/Cached"], local=["/models/x"])
    assert models.options[0] == "tiny" and models.label("tiny") == "tiny (offline, CPU)"
    assert "Qwen/Qwen2.5-Coder-1.5B-Instruct" in models.options
    assert "deepseek-ai/deepseek-coder-1.3b-instruct" in models.options
    assert models.label("Org/Cached") == "Org/Cached (cached)"
    assert models.label("/models/x") == "/models/x (local)"
    assert models.with_value("typed/id").options[-1] == "typed/id"
    assert models.with_value("tiny") is models
    assert forms.dataset_choices("raft", home / "datasets").options == \
        ["gsm8k", "humaneval", "mbpp", "livecodebench", "math"]
    verifiers = forms.verifier_choices("alpaca")
    assert verifiers.label("") == "the dataset's own (it has none)"
    assert "humaneval" in verifiers.options
    assert forms.profile_choices("local") == []


def test_editor_text_checks_and_launch(home):
    good = configs.template("sft")
    cfg, issues = forms.check_text(good)
    assert issues == [] and cfg.kind == "sft"
    bad = good.replace("name: tiny", "name: Org/Not-Cached")
    cfg, issues = forms.check_text(bad)
    line = bad.splitlines().index(next(l for l in bad.splitlines() if "Org/Not-Cached" in l)) + 1
    assert cfg is None and [(i.field, i.line) for i in issues] == [("model.name", line)]
    assert forms.ace_annotations(issues) == [
        {"row": line - 1, "column": 0, "type": "error", "text": issues[0].message}]
    with pytest.raises(configs.ConfigError):
        forms.launch_text(bad)
    assert jobs.list_jobs() == []
    job_id = forms.launch_text(good, "t")
    assert jobs.get(job_id)["name"] == "t"
    for label in forms.TEMPLATES:  # every template the page offers is launchable as it is
        assert forms.check_text(forms.template_text(label))[1] == [], label
    assert json.loads(json.dumps(forms.ace_annotations([configs.ConfigIssue("", "x")]))) == []


def test_form_logic_stays_light(home):
    """The pages import core.forms: it must never pull in torch and friends."""
    import subprocess
    import sys

    from tests.conftest import REPO

    code = ("import sys; from core import forms, config_store; "
            "forms.validate('sft', dict(forms.defaults('sft'), model='Org/X')); "
            "forms.check_text(forms.template_text('RAFT · aggressive')); "
            "forms.model_choices(); forms.dataset_choices('raft', '.'); "
            "heavy = [m for m in ('torch', 'transformers', 'peft', 'trl', 'datasets') "
            "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_tiny_models_directory_is_not_listed_twice(home):
    from core.models.presets import tiny_model_dir

    models = forms.model_choices(local=[str(tiny_model_dir()), "/models/x"])
    assert models.options.count("tiny") == 1
    assert str(tiny_model_dir()) not in models.options and "/models/x" in models.options
