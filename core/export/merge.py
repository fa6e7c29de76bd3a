"""Load an export's source (base + LoRA adapter) and save it merged (heavy: torch, PEFT).

PEFT's own `merge_and_unload` folds the adapter into the base weights; transformers saves the
result as safetensors (sharded above `max_shard_size`) with the tokenizer, chat template and
generation config, so any transformers-based consumer loads it with no PEFT at all.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from core.export.source import Source
from core.models.tiny import declare_added_tokens

# Files a tokenizer may need that save_pretrained does not always write back: a
# SentencePiece model (llama.cpp's converter reads tokenizer.model) and legacy extras.
_TOKENIZER_EXTRAS = ("tokenizer.model", "added_tokens.json", "special_tokens_map.json")
TORCH_DTYPES = ("fp32", "bf16", "fp16")


def torch_dtype(name: str):
    import torch

    return {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[name]


def saved_dtype_name(model_dir: str) -> str:
    """The dtype a model was saved in (its config), as fp32 / bf16 / fp16 (fp32 if unknown)."""
    from core.export.source import model_files_dir, read_json

    d = model_files_dir(model_dir)
    cfg = read_json(d / "config.json") if d else {}
    raw = str(cfg.get("dtype") or cfg.get("torch_dtype") or "float32")
    return {"bfloat16": "bf16", "float16": "fp16"}.get(raw, "fp32")


def tokenizer_dir(source: Source) -> str:
    """Where the tokenizer comes from: the adapter when training saved one there, else the model."""
    if source.kind == "adapter" and (Path(source.path) / "tokenizer_config.json").is_file():
        return source.path
    return source.weights_dir


def load_source(source: Source, device: str, dtype: Any):
    """(model, tokenizer) of the source in eval mode: base + adapter (unmerged) or the model."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_dir(source))
    model = AutoModelForCausalLM.from_pretrained(source.weights_dir, dtype=dtype)
    if source.kind == "adapter":
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, source.path)
    return model.to(device).eval(), tok


def merge(model):
    """The plain transformers model with any LoRA adapter folded in."""
    from peft import PeftModel

    return model.merge_and_unload() if isinstance(model, PeftModel) else model


def save_merged(model, tokenizer, source: Source, out: Path, dtype: Any, max_shard_size: str) -> list[str]:
    """Write the merged model, tokenizer, chat template and generation config into out."""
    out.mkdir(parents=True, exist_ok=True)
    model = model.to("cpu", dtype=dtype)
    model.save_pretrained(str(out), max_shard_size=max_shard_size)
    tokenizer.save_pretrained(str(out))
    declare_added_tokens(out, tokenizer)  # what llama.cpp's converter reads special tokens from
    for name in _TOKENIZER_EXTRAS:
        if (out / name).exists():
            continue
        for src_dir in (tokenizer_dir(source), source.weights_dir):
            from core.export.source import model_files_dir

            d = model_files_dir(src_dir)
            if d is not None and (d / name).is_file():
                shutil.copyfile(d / name, out / name)
                break
    return sorted(p.name for p in out.iterdir())
