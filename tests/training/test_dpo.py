"""DPO runner on the tiny model with the preference sample we ship (ultrafeedback schema)."""

from __future__ import annotations

import json

from core import datasets
from core.metrics import parse_line
from core.training import dpo


def _config(model, **training) -> dict:
    return {
        "kind": "dpo",
        "model": {"name": str(model)},
        "data": {"dataset": "ultrafeedback", "source": "sample", "max_length": 128},
        "dpo": {"beta": 0.1},
        "lora": {"r": 8, "alpha": 16, "dropout": 0.0},
        "training": {"batch_size": 4, "learning_rate": 5e-3, "lr_scheduler": "constant", "max_steps": 10,
                     "save_steps": 1000, **training},
    }


def _mean(xs):
    return sum(xs) / len(xs)


def test_dpo_raises_the_chosen_vs_rejected_margin(tiny_model, tmp_path, capsys):
    assert dpo.run(_config(tiny_model), tmp_path) == 0
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["steps"] == 10 and summary["pairs"] == 20 and not summary["stopped"]

    # The margin measured directly: log p(chosen) - log p(rejected) over the reply tokens,
    # the trained adapter against the model it started from, on the shipped pairs.
    from core.models.loading import load_model_and_tokenizer

    pairs = [datasets.to_preference(r) for r in datasets.load_records("ultrafeedback", source="sample").records]
    base = load_model_and_tokenizer({"name": str(tiny_model)})
    trained = load_model_and_tokenizer({"name": str(tiny_model), "adapter": summary["adapter"]})
    before = dpo.logp_margins(base.model, base.tokenizer, pairs)
    after = dpo.logp_margins(trained.model, trained.tokenizer, pairs)
    gained = sum(a > b for a, b in zip(after, before))
    print(f"mean log-prob margin {_mean(before):.3f} -> {_mean(after):.3f}; up for {gained}/{len(pairs)} pairs")
    assert _mean(after) > _mean(before) + 1.0 and gained > len(pairs) // 2

    # TRL's metrics, through the one parser: margins, accuracies, chosen/rejected rewards.
    parsed = [p for p in map(parse_line, out.splitlines()) if p and "rewards_margins" in p.metrics]
    assert len(parsed) == 10
    assert {"rewards_chosen", "rewards_rejected", "rewards_accuracies", "logps_chosen"} <= set(parsed[0].metrics)
    assert _mean([p.metrics["rewards_margins"] for p in parsed[-3:]]) > _mean([p.metrics["rewards_margins"] for p in parsed[:3]])
    losses = [p for p in map(parse_line, out.splitlines()) if p and "loss" in p.metrics and p.total_steps == 10]
    assert [p.step for p in losses] == list(range(1, 11))


def test_dpo_stop_then_resume(tiny_model, tmp_path, capsys):
    out_dir = tmp_path / "out"
    calls = {"n": 0}

    def stop_after_2() -> bool:  # asked once before training, then after every step
        calls["n"] += 1
        return calls["n"] >= 3

    cfg = _config(tiny_model, max_steps=4, output_dir=str(out_dir))
    assert dpo.run(cfg, tmp_path / "first", should_stop=stop_after_2) == 0
    assert "stop requested: stopped at step 2" in capsys.readouterr().out
    assert (out_dir / "checkpoint-2" / "trainer_state.json").is_file() and not (out_dir / "adapter").exists()

    cfg["training"]["resume_from"] = "latest"
    assert dpo.run(cfg, tmp_path / "second") == 0
    steps = [p.step for p in map(parse_line, capsys.readouterr().out.splitlines()) if p and "loss" in p.metrics]
    assert steps == [3, 4]
    summary = json.loads((tmp_path / "second" / "summary.json").read_text())
    assert summary["resumed_from"] == str(out_dir / "checkpoint-2") and summary["steps"] == 4
    assert (out_dir / "adapter" / "adapter_config.json").is_file()


def test_preference_files_in_every_usual_form(tmp_path):
    """Strings with a prompt, chat lists with a prompt, and chat lists that carry the prompt."""
    rows = [
        {"prompt": "2+2?", "chosen": "4", "rejected": "5"},
        {"prompt": [{"role": "user", "content": "2+3?"}], "chosen": [{"role": "assistant", "content": "5"}],
         "rejected": [{"role": "assistant", "content": "6"}]},
        {"chosen": [{"role": "user", "content": "2+4?"}, {"role": "assistant", "content": "6"}],
         "rejected": [{"role": "user", "content": "2+4?"}, {"role": "assistant", "content": "7"}]},
    ]
    path = tmp_path / "prefs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    records = datasets.validate_file(path)
    assert datasets.detect_schema(records[0]) == "preference" and datasets.schema_uses("preference") == ("dpo",)
    converted = [datasets.to_preference(r) for r in records]
    assert [c["prompt"][0]["content"] for c in converted] == ["2+2?", "2+3?", "2+4?"]
    assert [(c["chosen"][0]["content"], c["rejected"][0]["content"]) for c in converted] == [("4", "5"), ("5", "6"), ("6", "7")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(rows[0]) + "\n" + json.dumps({"prompt": "x", "chosen": "y", "rejected": 3}) + "\n")
    try:
        datasets.validate_file(bad)
    except datasets.DatasetError as exc:
        assert str(exc) == "line 2: field 'rejected' must be a string or a list, got an integer"
    else:
        raise AssertionError("a rejected reply that is a number must be refused")
