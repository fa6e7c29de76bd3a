"""The `sft` job kind: supervised fine-tuning."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from core.configs.sections import DataSection, ExecutorSection, LoraSection, ModelSection, TrainingSection, _Job


class SFTConfig(_Job):
    """Supervised fine-tuning with LoRA (or full fine-tuning) on chat-formatted data."""

    kind: Literal["sft"] = Field("sft", description="Job kind.")
    model: ModelSection = Field(description="The model to fine-tune.")
    data: DataSection = Field(description="Training data.")
    lora: LoraSection = Field(default_factory=LoraSection, description="LoRA adapter settings.")
    training: TrainingSection = Field(default_factory=TrainingSection, description="Optimiser and schedule.")
    executor: ExecutorSection = Field(default_factory=ExecutorSection, description="Where and on how many GPUs to run.")
