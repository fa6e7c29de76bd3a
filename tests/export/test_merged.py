"""Merged export: base + SFT adapter folded in, equal to the unmerged pair, with a model card."""
from __future__ import annotations

import json
from pathlib import Path

from core.export import service
from tests.export.conftest import run_export


def test_merged_export_equals_base_plus_adapter(trained, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path / "merged"
    config, where = service.check(service.build_config(job=trained.job_id, fmt="merged", out_dir=str(out)))
    config["export"]["max_shard_size"] = "1MB"  # the tiny model is 2.9 MB: sharding is exercised
    assert where == out and not out.exists()
    assert run_export(config, tmp_path / "job") == 0

    shards = sorted(p.name for p in out.glob("model-*.safetensors"))
    assert len(shards) >= 2 and (out / "model.safetensors.index.json").is_file()
    for name in ("config.json", "generation_config.json", "tokenizer.json", "tokenizer.model",
                 "chat_template.jinja", "README.md", "verification.json", "export.json"):
        assert (out / name).is_file(), name
    assert not list(tmp_path.glob(".merged.partial-*"))

    # Independently of the job's own check: merged == base + adapter (fp32).
    tok = AutoTokenizer.from_pretrained(out)
    ids = tok("def add(a, b):\n    return a + b\n", return_tensors="pt")["input_ids"]
    base = AutoModelForCausalLM.from_pretrained(trained.tiny, dtype=torch.float32)
    pair = PeftModel.from_pretrained(base, str(trained.adapter)).eval()
    merged = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    with torch.inference_mode():
        diff = (pair(input_ids=ids).logits - merged(input_ids=ids).logits).abs().max().item()
        plain = AutoModelForCausalLM.from_pretrained(trained.tiny, dtype=torch.float32).eval()
        moved = (plain(input_ids=ids).logits - merged(input_ids=ids).logits).abs().max().item()
    assert diff < 1e-4
    assert moved > 1e-3  # the adapter really changed the model: the check above means something
    assert tok.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False) == \
        "<|im_start|>user\nhi<|im_end|>\n"

    v = json.loads((out / "verification.json").read_text())
    assert v["passed"] and v["consumer"] == "transformers" and v["token_agreement"] == 1.0
    assert v["max_abs_logit_diff"] < 1e-4 and len(v["prompts"]) == 4 and v["new_tokens"] == 32
    assert {"torch", "transformers", "peft"} <= set(v["engine_versions"])

    card = (out / "README.md").read_text()
    meta = json.loads((out / "export.json").read_text())
    assert meta["provenance"]["job"] == trained.job_id and meta["provenance"]["steps"] == 8
    assert str(trained.tiny) in card and "alpaca" in card and "| Steps | 8 |" in card
    assert "halo-forge 0.1.0" in card and "passed" in card and '"max_steps": 8' in card
