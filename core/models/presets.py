"""Model presets for the pages and the CLI. LIGHT: no torch, no transformers.

A preset is a name to show and the `model.name` it fills in (a hub id, or a local directory
for the tiny offline model).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TINY_PRESET_LABEL = "tiny (offline, CPU)"


@dataclass(frozen=True)
class ModelPreset:
    label: str
    name: str  # what goes into model.name
    params: str  # rough size, for display
    notes: str = ""


TINY_ALIAS = "tiny"  # model.name that means "the tiny model under HALO_FORGE_HOME"


def tiny_model_dir() -> Path:
    """Where the tiny preset lives (built on first use by the runners, or `halo-forge models tiny`)."""
    from core.paths import models_dir  # light; read at call time so HALO_FORGE_HOME can change

    return models_dir() / "tiny"


def model_presets() -> list[ModelPreset]:
    """The presets in display order; the tiny one first because it runs anywhere."""
    return [
        ModelPreset(TINY_PRESET_LABEL, TINY_ALIAS, "0.7M", f"built offline into {tiny_model_dir()}; noise until trained"),
        ModelPreset("Qwen2.5-Coder 0.5B Instruct", "Qwen/Qwen2.5-Coder-0.5B-Instruct", "0.5B"),
        ModelPreset("Qwen2.5-Coder 1.5B Instruct", "Qwen/Qwen2.5-Coder-1.5B-Instruct", "1.5B"),
        ModelPreset("Qwen2.5-Coder 7B Instruct", "Qwen/Qwen2.5-Coder-7B-Instruct", "7B"),
        ModelPreset("DeepSeek-Coder 1.3B Instruct", "deepseek-ai/deepseek-coder-1.3b-instruct", "1.3B"),
        ModelPreset("Qwen2.5 0.5B Instruct", "Qwen/Qwen2.5-0.5B-Instruct", "0.5B"),
        ModelPreset("Qwen2.5 1.5B Instruct", "Qwen/Qwen2.5-1.5B-Instruct", "1.5B"),
        ModelPreset("Qwen2.5 7B Instruct", "Qwen/Qwen2.5-7B-Instruct", "7B"),
        ModelPreset("Mistral 7B Instruct v0.3", "mistralai/Mistral-7B-Instruct-v0.3", "7B"),
    ]


def preset_names() -> list[str]:
    """model.name values of all presets (for autocomplete)."""
    return [p.name for p in model_presets()]


def find_preset(label_or_name: str) -> ModelPreset | None:
    for p in model_presets():
        if label_or_name in (p.label, p.name):
            return p
    return None
