"""Resolve, place and load models for the job processes (heavy: imports torch at call time).

`resolve_model` is light (no torch): the CLI can use it to fail fast. The others import torch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.models.presets import TINY_ALIAS, tiny_model_dir


class ModelNotFoundError(RuntimeError):
    """A model name that is neither a local directory nor a reachable/cached hub model."""


def _offline() -> bool:
    return any(os.environ.get(k, "").strip().lower() in ("1", "true", "yes", "on") for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _looks_like_path(name: str) -> bool:
    return name.startswith(("./", "../", "/", "~")) or name.count("/") > 1


def cached_hub_models() -> list[str]:
    """Model repos in the Hugging Face cache (empty when the cache is missing or unreadable)."""
    try:
        from huggingface_hub import scan_cache_dir

        info = scan_cache_dir()
    except Exception:
        return []
    return sorted(r.repo_id for r in info.repos if r.repo_type == "model")


def local_model_dirs() -> list[str]:
    """Model directories we know about: HALO_FORGE_HOME/models/* and ./<dir> with a config.json."""
    found: list[Path] = []
    roots = [tiny_model_dir().parent, Path.cwd()]
    for root in roots:
        if not root.is_dir():
            continue
        for child in sorted(root.iterdir()):
            if (child / "config.json").is_file() or (child / "adapter_config.json").is_file():
                found.append(child.resolve())
    return sorted({str(p) for p in found})


def resolve_model(name: str, *, build_tiny: bool = True) -> str:
    """A loadable name: a local directory (absolute) or a hub id.

    'tiny' means the offline tiny model under HALO_FORGE_HOME (built here if missing).
    Offline (HF_HUB_OFFLINE) and not cached -> ModelNotFoundError at once, naming what is
    cached and what is on disk, instead of a long retry loop deep inside transformers.
    """
    name = name.strip()
    if name == TINY_ALIAS and not Path(name).exists():
        target = tiny_model_dir()
        from core.models.tiny import is_tiny_model_dir

        if not is_tiny_model_dir(target):  # missing, or built by an older version
            if not build_tiny:
                raise ModelNotFoundError(f"the tiny model is not built yet at {target}: run `halo-forge models tiny`")
            from core.models.tiny import ensure_tiny_model

            ensure_tiny_model(target)
        return str(target)
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelNotFoundError(f"model path {path} is a file; expected a model directory")
        return str(path.resolve())
    if _looks_like_path(name):
        raise ModelNotFoundError(
            f"model directory {name} does not exist"
            f" (build the tiny model with `halo-forge models tiny --out {name}` or use model name '{TINY_ALIAS}'){_known_suffix()}"
        )
    if _offline() and not _in_hub_cache(name):
        raise ModelNotFoundError(f"model '{name}' is not in the Hugging Face cache and the hub is offline (HF_HUB_OFFLINE=1){_known_suffix()}")
    return name


def _in_hub_cache(repo_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(repo_id, "config.json")
    except Exception:
        return False
    return isinstance(hit, str)


def _known_suffix() -> str:
    cached = cached_hub_models()
    local = local_model_dirs()
    return (
        f"; cached hub models: {', '.join(cached) or 'none'}"
        f"; local model directories: {', '.join(local) or 'none'}"
    )


# ----------------------------------------------------------------------------- device


def pick_device() -> str:
    """'cuda' for a ROCm or CUDA GPU (both appear as torch.cuda), else 'cpu'."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(device: str, requested: str = "auto"):
    """torch dtype for the device: auto = bf16 on a GPU that supports it, else fp16 on GPU, fp32 on CPU.

    fp16 on CPU is not a training dtype there, so it falls back to fp32.
    """
    import torch

    gpu = device.startswith("cuda")
    if requested == "auto":
        if gpu:
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    if requested == "fp16" and not gpu:
        return torch.float32
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[requested]


def dtype_name(dtype: Any) -> str:
    import torch

    return {torch.bfloat16: "bf16", torch.float16: "fp16", torch.float32: "fp32"}.get(dtype, str(dtype))


# ----------------------------------------------------------------------------- loading


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    device: str
    dtype: Any
    name_or_path: str


def _section(cfg: Any) -> dict:
    """Accept a whole job config, its model section, or plain dicts of either."""
    if hasattr(cfg, "model_dump"):
        cfg = cfg.model_dump()
    if isinstance(cfg, dict) and isinstance(cfg.get("model"), dict):
        cfg = cfg["model"]
    if not isinstance(cfg, dict) or not cfg.get("name"):
        raise ValueError("load_model_and_tokenizer needs a model section with a 'name'")
    return cfg


def load_tokenizer(name_or_path: str, trust_remote_code: bool = False):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(name_or_path, trust_remote_code=trust_remote_code)
    if tok.pad_token is None:
        # Padding must not be a token the model is trained to produce mid-text.
        tok.pad_token = tok.eos_token
    return tok


def load_model_and_tokenizer(cfg: Any, *, device: str | None = None, trainable_adapter: bool = False) -> LoadedModel:
    """Load model.name (+ model.adapter) onto the picked device with the picked dtype."""
    from transformers import AutoModelForCausalLM

    m = _section(cfg)
    name = resolve_model(m["name"])
    device = device or pick_device()
    dtype = pick_dtype(device, m.get("dtype", "auto"))
    trust = bool(m.get("trust_remote_code", False))
    tokenizer = load_tokenizer(name, trust)
    model = AutoModelForCausalLM.from_pretrained(name, dtype=dtype, trust_remote_code=trust)
    if m.get("adapter"):
        from peft import PeftModel

        adapter = Path(m["adapter"]).expanduser()
        if not (adapter / "adapter_config.json").is_file():
            raise ModelNotFoundError(f"model.adapter: no LoRA adapter (adapter_config.json) in {adapter}")
        model = PeftModel.from_pretrained(model, str(adapter), is_trainable=trainable_adapter)
    model.to(device)
    if not trainable_adapter:
        model.eval()
    return LoadedModel(model, tokenizer, device, dtype, name)
