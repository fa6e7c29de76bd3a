"""What a serve job serves, read from files only (light: the Chat page and the CLI use it too).

A source is a hub id (cached), a local model directory, `tiny`, a GGUF file, an exported or
merged model directory, or a finished SFT/RAFT job: its JOB_DIR/summary.json names the adapter
(or full model) it saved, its job.json names the base model.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from core import paths


class SourceError(ValueError):
    """A model, adapter or job that cannot be served; the message is one sentence."""


@dataclass
class Source:
    model: str  # hub id, local dir or .gguf file (before `resolve_model`)
    adapter: str | None = None  # a LoRA adapter directory to put on `model`
    label: str = ""  # what the user picked, for names and logs


def from_job(job_id: int) -> Source:
    """The model a finished training job produced: its adapter on its base, or its full model."""
    job_dir = paths.job_dir(int(job_id))
    try:
        spec = json.loads((job_dir / "job.json").read_text())
    except (OSError, ValueError):
        raise SourceError(f"job {job_id} has no readable job.json in {job_dir}") from None
    if spec.get("kind") not in ("sft", "raft"):
        raise SourceError(f"job {job_id} is a {spec.get('kind')} job; only SFT and RAFT jobs "
                          f"leave a model to serve")
    try:
        summary = json.loads((job_dir / "summary.json").read_text())
    except (OSError, ValueError):
        raise SourceError(f"job {job_id} has not finished training (no summary.json in "
                          f"{job_dir})") from None
    base = ((spec.get("config") or {}).get("model") or {}).get("name")
    label = f"job {job_id}"
    for key in ("merged", "model_path"):  # a full model stands on its own
        if summary.get(key) and Path(summary[key]).is_dir():
            return Source(summary[key], None, label)
    adapter = summary.get("adapter")
    if not adapter or not Path(adapter).is_dir():
        raise SourceError(f"job {job_id} saved no adapter or model (stopped before the end?)")
    if (Path(adapter) / "config.json").is_file() and not (Path(adapter) / "adapter_config.json").is_file():
        return Source(adapter, None, label)  # RAFT with lora disabled saves a full model there
    if not base:
        raise SourceError(f"job {job_id}'s config names no base model")
    return Source(base, adapter, label)


def check_adapter(adapter: str) -> str:
    path = Path(adapter).expanduser()
    if not (path / "adapter_config.json").is_file():
        raise SourceError(f"adapter {adapter} is not a LoRA adapter directory "
                          f"(no adapter_config.json)")
    return str(path.resolve())


def gguf_file(model: str) -> str | None:
    """The absolute path when `model` names a GGUF file; SourceError when it names a missing one."""
    if not model.lower().endswith(".gguf"):
        return None
    path = Path(model).expanduser()
    if not path.is_file():
        raise SourceError(f"GGUF file {model} does not exist")
    return str(path.resolve())
