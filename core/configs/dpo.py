"""The `dpo` job kind: DPO (TRL DPOTrainer + LoRA) on preference pairs."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from core.configs.sections import DataSection, ExecutorSection, LoraSection, ModelSection, TrainingSection, _Job, _Section


class DpoTrainingSection(TrainingSection):
    """DPO moves a model that already answers well: a small learning rate."""

    learning_rate: float = Field(5e-6, gt=0.0, le=1.0, description="Peak learning rate (AdamW).")
    logging_steps: int = Field(1, ge=1, le=100_000, description="Print loss, rewards and margins every N steps.")


class DpoSection(_Section):
    beta: float = Field(0.1, gt=0.0, le=10.0, description="Strength of the pull towards the reference model (higher = stay closer).")
    loss_type: Literal["sigmoid", "hinge", "ipo", "robust", "bco_pair", "sppo_hard", "apo_zero", "apo_down", "sigmoid_norm"] = Field("sigmoid", description="Preference loss: sigmoid is the DPO paper's; ipo, hinge and the others are variants.")
    label_smoothing: float = Field(0.0, ge=0.0, lt=0.5, description="Assumed fraction of flipped labels (robust / conservative DPO).")


class DPOConfig(_Job):
    """DPO: raise the likelihood of chosen over rejected replies, relative to the reference model."""

    kind: Literal["dpo"] = Field("dpo", description="Job kind.")
    model: ModelSection = Field(description="The model to align.")
    data: DataSection = Field(description="Preference pairs (prompt / chosen / rejected).")
    dpo: DpoSection = Field(default_factory=DpoSection, description="Preference loss settings.")
    lora: LoraSection = Field(default_factory=LoraSection, description="LoRA adapter settings.")
    training: DpoTrainingSection = Field(default_factory=DpoTrainingSection, description="Optimiser and schedule.")
    executor: ExecutorSection = Field(default_factory=ExecutorSection, description="Where and on how many GPUs to run.")
