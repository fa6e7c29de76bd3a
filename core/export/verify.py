"""Load an export back with its consumer and compare it with its source (heavy: torch).

The source (base + adapter, unmerged, in fp32 on CPU) greedily continues each fixed prompt by
32 tokens. Prompt + continuation is then fed, as the same token ids, to the source and to the
export (transformers for merged, llama.cpp for GGUF); at each of the 32 positions we compare
the two next-token choices (token agreement, teacher-forced so that one early flip does not
count 31 times) and the logits (largest absolute difference). For GGUF, llama.cpp's own
tokenizer is also compared with the source's on each prompt text.

Pass rule (THRESHOLDS): agreement at least the format's minimum; fp32 merged exports also need
max_abs_logit_diff <= 1e-3; GGUF also needs every prompt tokenised identically.
"""
from __future__ import annotations

import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Ours: code and chat, short enough for a 1024-position model.
PROMPTS = [
    "def add(a, b):\n    return",
    "What is the capital of France?",
    "<|im_start|>user\nWrite a Python function that returns 42.<|im_end|>\n<|im_start|>assistant\n",
    "for i in range(10):\n    print(",
]
NEW_TOKENS = 32

# Minimum teacher-forced token agreement per export type. Lower bits, lower floor: 4-bit
# quants legitimately flip near-ties (a random or barely trained model is all near-ties).
THRESHOLDS = {"merged:fp32": 0.99, "merged:bf16": 0.90, "merged:fp16": 0.90,
              "f32": 0.99, "f16": 0.95, "bf16": 0.95, "q8_0": 0.90, "q6_k": 0.85,
              "q5_k_m": 0.80, "q4_k_m": 0.70, "q4_0": 0.70}
MAX_LOGIT_DIFF_FP32 = 1e-3


@dataclass
class Reference:
    prompt: str
    ids: list[int]  # prompt + greedy continuation
    n_prompt: int
    logits: Any  # numpy float32 [NEW_TOKENS, vocab]: the source's logits at the compared positions


def reference(model, tokenizer, prompts: list[str] = PROMPTS, new_tokens: int = NEW_TOKENS) -> list[Reference]:
    """The source's greedy continuations and logits (model: base + adapter, eval mode)."""
    import torch

    device = next(model.parameters()).device
    refs = []
    for prompt in prompts:
        ids = tokenizer(prompt, return_tensors="pt")["input_ids"].to(device)
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                 max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                 pad_token_id=tokenizer.pad_token_id or 0)
            logits = _logits(model, out)
        n = ids.shape[1]
        refs.append(Reference(prompt, out[0].tolist(), n, logits[n - 1:n - 1 + new_tokens]))
    return refs


def _logits(model, ids):
    import torch

    with torch.inference_mode():
        return model(input_ids=ids).logits[0].float().cpu().numpy()


def _compare(refs: list[Reference], export_logits: list[Any]) -> dict[str, Any]:
    import numpy as np

    agree = total = 0
    max_diff = 0.0
    per_prompt = []
    for ref, got in zip(refs, export_logits):
        vocab = min(ref.logits.shape[1], got.shape[1])
        a, b = ref.logits[:, :vocab], got[:, :vocab]
        same = int((a.argmax(-1) == b.argmax(-1)).sum())
        diff = float(np.abs(a - b).max())
        agree, total, max_diff = agree + same, total + len(a), max(max_diff, diff)
        per_prompt.append({"prompt": ref.prompt, "prompt_tokens": ref.n_prompt,
                           "token_agreement": same / len(a), "max_abs_logit_diff": diff})
    return {"token_agreement": agree / total if total else 0.0, "max_abs_logit_diff": max_diff,
            "positions": total, "per_prompt": per_prompt}


def check_merged(export_dir: Path, refs: list[Reference], dtype_name: str, device: str = "cpu") -> dict[str, Any]:
    """Reload a merged export with transformers and compare it with the source."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(export_dir), dtype=torch.float32).to(device).eval()
    got = [_logits(model, torch.tensor([r.ids], device=device))[r.n_prompt - 1:r.n_prompt - 1 + NEW_TOKENS] for r in refs]
    del model
    result = _compare(refs, got)
    key = f"merged:{dtype_name}"
    result.update(consumer="transformers", compared_as=key, min_token_agreement=THRESHOLDS[key])
    ok = result["token_agreement"] >= THRESHOLDS[key]
    if dtype_name == "fp32":
        result["max_logit_diff_allowed"] = MAX_LOGIT_DIFF_FP32
        ok = ok and result["max_abs_logit_diff"] <= MAX_LOGIT_DIFF_FP32
    result["passed"] = bool(ok)
    return result


def check_gguf(gguf: Path, refs: list[Reference], tokenizer, quant: str) -> dict[str, Any]:
    """Load a GGUF file with llama.cpp and compare it with the source."""
    import numpy as np
    from llama_cpp import Llama

    n_ctx = max(len(r.ids) for r in refs) + 8
    llm = Llama(model_path=str(gguf), n_ctx=n_ctx, n_batch=n_ctx, logits_all=True, verbose=False,
                seed=0, n_threads=max(1, min(4, _cpus())))
    got, tok_match = [], []
    try:
        for r in refs:
            llm.reset()
            llm.eval(r.ids)
            scores = np.array(llm.scores[: len(r.ids)], dtype=np.float32)
            got.append(scores[r.n_prompt - 1:r.n_prompt - 1 + NEW_TOKENS])
            ours = llm.tokenize(r.prompt.encode("utf-8"), add_bos=_adds_bos(tokenizer), special=True)
            tok_match.append(ours == r.ids[: r.n_prompt])
    finally:
        llm.close()
    result = _compare(refs, got)
    for item, same in zip(result["per_prompt"], tok_match):
        item["same_tokens"] = same
    result["tokenizer_agreement"] = sum(tok_match) / len(tok_match) if tok_match else 0.0
    result.update(consumer="llama.cpp", compared_as=quant, min_token_agreement=THRESHOLDS[quant])
    result["passed"] = bool(result["token_agreement"] >= THRESHOLDS[quant] and all(tok_match))
    return result


def _adds_bos(tokenizer) -> bool:
    probe = tokenizer("a")["input_ids"]
    return bool(probe) and tokenizer.bos_token_id is not None and probe[0] == tokenizer.bos_token_id


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def engine_versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("torch", "transformers", "peft", "safetensors", "llama-cpp-python", "sentencepiece"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    from core.export.converter import LLAMA_CPP_PYTHON_VERSION

    out["convert_hf_to_gguf"] = f"llama.cpp vendored in llama-cpp-python {LLAMA_CPP_PYTHON_VERSION}"
    return out
