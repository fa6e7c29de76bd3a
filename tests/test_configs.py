"""core.configs: the issue's examples validate as-is; a table of bad inputs, each with its message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from core import configs
from core.configs import ConfigError, parse_config, schema_fields, template, to_yaml

SFT_EXAMPLE = """\
kind: sft
model: {name: ./tiny}          # hub id or local path
data: {dataset: alpaca, limit: 64}
lora: {r: 8, alpha: 16}
training: {epochs: 1, batch_size: 4, learning_rate: 5e-4, max_steps: 20}
"""

RAFT_EXAMPLE = """\
kind: raft
model: {name: ./tiny}
data: {dataset: humaneval, limit: 8}
raft: {preset: conservative, cycles: 2, verifier: humaneval}
training: {batch_size: 4, learning_rate: 5e-5}
"""

BASE = "kind: sft\nmodel: {name: tiny}\ndata: {dataset: alpaca}\n"


def errors_of(source, **kw) -> list[configs.ConfigIssue]:
    with pytest.raises(ConfigError) as exc:
        parse_config(source, **kw)
    return exc.value.errors


def test_issue_examples_validate_as_is():
    sft = parse_config(SFT_EXAMPLE)
    assert isinstance(sft, configs.SFTConfig)
    assert sft.training.learning_rate == 5e-4  # YAML 1.1 reads '5e-4' as a string
    assert (sft.lora.r, sft.lora.alpha, sft.data.limit, sft.training.max_steps) == (8, 16, 64, 20)
    raft = parse_config(RAFT_EXAMPLE)
    assert isinstance(raft, configs.RAFTConfig)
    assert raft.training.learning_rate == 5e-5
    assert (raft.raft.samples_per_prompt, raft.raft.keep_percent, raft.raft.reward_threshold, raft.raft.temperature) == (8, 80.0, 0.5, 0.7)


def test_existing_relative_paths_become_absolute(tmp_path):
    (tmp_path / "tiny").mkdir()
    cfg = parse_config(SFT_EXAMPLE, base_dir=tmp_path)
    assert cfg.model.name == str(tmp_path / "tiny")
    # A name that is no local path stays a hub id.
    assert parse_config(SFT_EXAMPLE.replace("./tiny", "Qwen/Qwen2.5-Coder-0.5B-Instruct")).model.name == "Qwen/Qwen2.5-Coder-0.5B-Instruct"


BAD = [
    # (what, yaml, field, exact message or substring, line)
    ("string for a float", BASE + "training: {learning_rate: abc}\n", "training.learning_rate", "training.learning_rate must be a number, got 'abc'", 4),
    ("unknown key with suggestion", BASE + "training:\n  learning_rat: 1e-4\n", "training.learning_rat", "unknown key 'learning_rat' in training (did you mean 'learning_rate'?)", 5),
    ("unknown section", BASE + "trainng: {epochs: 2}\n", "trainng", "unknown key 'trainng' (did you mean 'training'?)", 4),
    ("key in the wrong section", "kind: raft\nmodel: {name: tiny}\ndata: {dataset: humaneval}\ntraining: {cycles: 3}\n", "training.cycles", "unknown key 'cycles' in training (did you mean 'raft.cycles'?)", 4),
    ("out of range", BASE + "training: {learning_rate: 5}\n", "training.learning_rate", "training.learning_rate must be > 0 and <= 1, got 5", 4),
    ("below minimum", BASE + "lora: {r: 0}\n", "lora.r", "lora.r must be >= 1 and <= 1024, got 0", 4),
    ("percent out of range", "kind: raft\nmodel: {name: tiny}\ndata: {dataset: humaneval}\nraft: {keep_percent: 150}\n", "raft.keep_percent", "raft.keep_percent must be > 0 and <= 100, got 150", 4),
    ("fraction for an int", BASE + "training: {batch_size: 2.5}\n", "training.batch_size", "training.batch_size must be a whole number, got 2.5", 4),
    ("wrong type: bool", BASE + "model: {name: tiny, gradient_checkpointing: maybe}\n", "model.gradient_checkpointing", "model.gradient_checkpointing must be true or false, got 'maybe'", 4),
    ("wrong type: section", "kind: sft\nmodel: tiny\ndata: {dataset: alpaca}\n", "model", "model must be a section (a mapping of keys to values), got 'tiny'", 2),
    ("wrong type: list", "kind: command\ncommand: 5\n", "command", "command must be a list, got 5", 2),
    ("bad choice", BASE + "model: {name: tiny, dtype: bf17}\n", "model.dtype", "model.dtype must be one of auto, bf16, fp16, fp32, got 'bf17' (did you mean 'bf16'?)", 4),
    ("zero steps", BASE + "training: {max_steps: 0}\n", "training.max_steps", "training.max_steps must be -1 (the epochs decide) or at least 1, got 0", 4),
    ("missing section", "kind: sft\nmodel: {name: tiny}\n", "data", "section 'data' is required", None),
    ("missing field", "kind: sft\nmodel: {dtype: auto}\ndata: {dataset: alpaca}\n", "model.name", "model.name is required", 2),
    ("unknown kind", "kind: sfx\n", "kind", "kind must be one of sft, raft, benchmark, verify, ", 1),
    ("no kind", "model: {name: tiny}\n", "kind", "kind is required (one of sft, raft, benchmark, verify, ", None),
    ("unknown dataset", "kind: sft\nmodel: {name: tiny}\ndata: {dataset: alpacca}\n", "data.dataset", "data.dataset: unknown dataset 'alpacca'; known: alpaca, metamath", 3),
    ("dataset for another job kind", "kind: sft\nmodel: {name: tiny}\ndata: {dataset: livecodebench}\n", "data.dataset", "data.dataset: 'livecodebench' is not a dataset for SFT; SFT datasets: alpaca", 3),
    ("missing dataset file", "kind: sft\nmodel: {name: tiny}\ndata: {dataset: ./nope/train.jsonl}\n", "data.dataset", "data.dataset: file not found: ./nope/train.jsonl", 3),
    ("unknown verifier", "kind: raft\nmodel: {name: tiny}\ndata: {dataset: humaneval}\nraft: {verifier: humanevl}\n", "raft.verifier", "raft.verifier: unknown verifier 'humanevl'; known: humaneval", 4),
    ("yaml syntax", "kind: sft\nmodel: {name: tiny\ndata: x\n", "", "YAML syntax error", 3),
    ("not a mapping", "- kind: sft\n", "", "config must be a mapping with a 'kind' key, got a list", None),
    ("empty file", "", "", "config is empty", None),
]


@pytest.mark.parametrize("what,text,field,message,line", BAD, ids=[b[0] for b in BAD])
def test_bad_inputs_name_field_and_line(what, text, field, message, line):
    errs = errors_of(text)
    match = [e for e in errs if e.field == field]
    assert match, f"{what}: no error on {field!r}: {errs}"
    assert message in match[0].message, (what, match[0].message)
    assert match[0].line == line, (what, match[0])


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_malformed_jsonl_line_names_the_line(tmp_path):
    good = json.dumps({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]})
    path = _write(tmp_path / "train.jsonl", [good, good, '{"messages": [ broken'])
    errs = errors_of(f"kind: sft\nmodel: {{name: tiny}}\ndata: {{dataset: {path}}}\n")
    assert errs[0].field == "data.dataset" and errs[0].line == 3
    assert errs[0].message.startswith("data.dataset: train.jsonl: line 3: invalid JSON"), errs[0].message


def test_jsonl_record_missing_field_names_line_and_field(tmp_path):
    path = _write(tmp_path / "inst.jsonl", [json.dumps({"instruction": "a", "output": "b"}), json.dumps({"instruction": "c"})])
    errs = errors_of(f"kind: sft\nmodel: {{name: tiny}}\ndata: {{dataset: {path}}}\n")
    assert errs[0].message == "data.dataset: inst.jsonl: line 2: missing field 'output'"


def test_local_jsonl_is_accepted_and_made_absolute(tmp_path, monkeypatch):
    _write(tmp_path / "chat.jsonl", [json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})])
    monkeypatch.chdir(tmp_path)
    cfg = parse_config("kind: sft\nmodel: {name: tiny}\ndata: {dataset: chat.jsonl}\n")
    assert cfg.data.dataset == str(tmp_path / "chat.jsonl")


def test_raft_file_in_a_catalogue_schema_takes_its_verifier(tmp_path):
    rec = {"task_id": "t/0", "prompt": "def f():\n", "canonical_solution": "    return 1\n", "test": "def check(c):\n    assert c() == 1\n", "entry_point": "f"}
    path = _write(tmp_path / "probs.jsonl", [json.dumps(rec)])
    cfg = parse_config(f"kind: raft\nmodel: {{name: tiny}}\ndata: {{dataset: {path}}}\n")
    assert configs.dataset_verifier(cfg.data.dataset) == "humaneval"
    chat = _write(tmp_path / "chat.jsonl", [json.dumps({"messages": [{"role": "user", "content": "q"}]})])
    errs = errors_of(f"kind: raft\nmodel: {{name: tiny}}\ndata: {{dataset: {chat}}}\n")
    assert errs[0].field == "raft.verifier" and "raft.verifier is required" in errs[0].message


def test_overrides_apply_after_the_file_and_only_what_was_typed():
    cfg = parse_config(SFT_EXAMPLE, overrides=["training.epochs=3", "lora.target_modules=q_proj,v_proj"])
    assert cfg.training.epochs == 3
    assert cfg.training.learning_rate == 5e-4  # the file's value: no default replaced it
    assert cfg.lora.target_modules == ["q_proj", "v_proj"]
    assert parse_config(SFT_EXAMPLE, overrides=["training.learning_rate=1e-4"]).training.learning_rate == 1e-4
    errs = errors_of(SFT_EXAMPLE, overrides=["training.learning_rate=5"])
    assert errs[0].message == "training.learning_rate must be > 0 and <= 1, got 5 (from an override)"
    assert errs[0].line is None
    errs = errors_of(SFT_EXAMPLE, overrides=["training.learning_rate"])
    assert "must look like section.key=value" in errs[0].message


def test_kind_argument_fills_or_rejects():
    body = "model: {name: tiny}\ndata: {dataset: alpaca}\n"
    assert parse_config(body, kind="sft").kind == "sft"
    errs = errors_of(SFT_EXAMPLE, kind="raft")
    assert errs[0].message == "this is a sft config, expected raft"


def test_preset_fills_only_unset_fields():
    text = "kind: raft\nmodel: {name: tiny}\ndata: {dataset: humaneval}\nraft: {preset: aggressive, temperature: 0.3}\n"
    r = parse_config(text).raft
    assert (r.samples_per_prompt, r.keep_percent, r.reward_threshold) == (16, 30.0, 0.7)
    assert r.temperature == 0.3  # explicit wins over the preset
    custom = parse_config(text.replace("aggressive", "custom")).raft
    assert (custom.samples_per_prompt, custom.keep_percent, custom.reward_threshold, custom.temperature) == (8, 80.0, 0.5, 0.3)
    assert parse_config(text.replace("temperature: 0.3", "keep_percent: 50%")).raft.keep_percent == 50.0


def test_round_trip_through_yaml():
    for text in (SFT_EXAMPLE, RAFT_EXAMPLE):
        cfg = parse_config(text)
        again = parse_config(to_yaml(cfg))
        assert again == cfg
        assert yaml.safe_load(to_yaml(cfg))["kind"] == cfg.kind


def test_numbers_as_strings_everywhere_a_number_goes():
    cfg = parse_config(BASE + "training: {learning_rate: '3e-4', weight_decay: '1e-2', epochs: '2'}\n")
    assert (cfg.training.learning_rate, cfg.training.weight_decay, cfg.training.epochs) == (3e-4, 1e-2, 2)


@pytest.mark.parametrize("kind,preset", [("sft", None), ("sft", "default"), ("raft", "conservative"), ("raft", "aggressive"), ("raft", "custom"), ("benchmark", None), ("command", None)])
def test_templates_validate_and_carry_help(kind, preset):
    text = template(kind, preset)
    cfg = parse_config(text)
    assert cfg.kind == kind
    assert "#" in text and "learning_rate" in text if kind in ("sft", "raft") else True
    if kind == "raft":
        assert cfg.raft.preset == preset
        assert cfg.raft.samples_per_prompt == configs.RAFT_PRESETS[preset]["samples_per_prompt"]


def test_template_rejects_unknown_preset():
    with pytest.raises(ValueError, match="unknown RAFT preset 'wild'"):
        template("raft", "wild")


def test_schema_fields_are_typed_defaulted_bounded_and_documented():
    for kind in configs.KINDS:
        docs = schema_fields(kind)
        assert docs and all(d.help for d in docs), kind
    lr = {d.path: d for d in schema_fields("sft")}["training.learning_rate"]
    assert (lr.type, lr.default, lr.bounds) == ("float", 2e-4, {"gt": 0.0, "le": 1.0})
    raft = {d.path: d for d in schema_fields("raft")}
    assert raft["training.learning_rate"].default == 5e-5
    assert raft["raft.samples_per_prompt"].default == 8  # the default preset's value
    assert raft["model.dtype"].choices == ("auto", "bf16", "fp16", "fp32")
    assert raft["model.name"].required


def test_shipped_config_files_validate():
    files = sorted((Path(__file__).resolve().parent.parent / "data" / "configs").glob("*.yaml"))
    assert files
    for path in files:
        cfg = configs.load_config_file(path)
        assert cfg.kind in configs.KINDS, path


def test_job_resources():
    assert configs.job_resources(parse_config(SFT_EXAMPLE)) == {"executor": "local", "profile": None, "gpus": 1, "nodes": 1}
    cmd = parse_config("kind: command\ncommand: echo hi\ngpus: 2\nenv: {DEBUG: 1}\n")
    assert cmd.command == ["echo", "hi"] and cmd.env == {"DEBUG": "1"}
    assert configs.job_resources(cmd)["gpus"] == 2


def test_configs_module_stays_light():
    """Pages and the supervisor validate configs: that must not pull in torch & co."""
    import subprocess
    import sys

    repo = Path(__file__).resolve().parent.parent
    code = (
        "import sys; from core import configs; "
        f"configs.parse_config({RAFT_EXAMPLE!r}); configs.template('sft'); configs.schema_fields('raft'); "
        "bad = [m for m in ('torch', 'transformers', 'peft', 'trl', 'datasets') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=repo, check=True)


def test_several_nodes_need_the_slurm_executor():
    text = "kind: sft\nmodel: {name: x}\ndata: {dataset: alpaca}\nexecutor: {name: ray, nodes: 2}\n"
    with pytest.raises(configs.ConfigError) as exc:
        configs.parse_config(text)
    issue = exc.value.errors[0]
    assert "only the slurm executor runs a job on several nodes" in issue.message
    assert issue.line == 4
    ok = configs.parse_config(text.replace("ray", "slurm"))
    assert ok.executor.nodes == 2
