"""The `raft` job kind: reward-ranked fine-tuning, with its presets."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from core.configs.sections import DataSection, ExecutorSection, LoraSection, ModelSection, TrainingSection, _Job, _Section


RAFT_PRESETS: dict[str, dict[str, Any]] = {
    "conservative": {"samples_per_prompt": 8, "keep_percent": 80.0, "reward_threshold": 0.5, "temperature": 0.7},
    "aggressive": {"samples_per_prompt": 16, "keep_percent": 30.0, "reward_threshold": 0.7, "temperature": 0.8},
}


RAFT_PRESETS["custom"] = dict(RAFT_PRESETS["conservative"])  # what custom starts from


class RaftTrainingSection(TrainingSection):
    """RAFT fine-tunes on the model's own filtered samples: a gentler default learning rate."""

    learning_rate: float = Field(5e-5, gt=0.0, le=1.0, description="Peak learning rate (AdamW).")
    logging_steps: int = Field(1, ge=1, le=100_000, description="Print loss, lr and grad norm every N steps.")


class RaftSection(_Section):
    preset: Literal["conservative", "aggressive", "custom"] = Field("conservative", description="Sampling/filtering preset; explicit fields below override it.")
    cycles: int = Field(3, ge=1, le=1000, description="Generate-verify-train cycles.")
    verifier: str | None = Field(None, description="Verifier that scores samples (empty = the dataset's own).")
    samples_per_prompt: int | None = Field(None, ge=1, le=512, description="Completions sampled per prompt (default: from the preset).")
    keep_percent: float | None = Field(None, gt=0.0, le=100.0, description="Keep the top N percent of samples that pass the threshold (default: from the preset).")
    reward_threshold: float | None = Field(None, ge=0.0, le=1.0, description="Minimum reward for a sample to be kept (default: from the preset).")
    temperature: float | None = Field(None, ge=0.0, le=2.0, description="Sampling temperature; 0 = greedy (default: from the preset).")
    max_new_tokens: int = Field(256, ge=1, le=32_768, description="Maximum tokens generated per completion.")
    gen_batch_size: int = Field(32, ge=1, le=4096, description="Sequences generated together in one batched call (prompts x samples).")
    partial_credit: bool = Field(False, description="Reward = fraction of tests passed instead of all-or-nothing.")

    @field_validator("keep_percent", mode="before")
    @classmethod
    def _percent_sign(cls, v: Any) -> Any:
        return v.strip().rstrip("%").strip() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _apply_preset(self) -> "RaftSection":
        # Fill only what the user left unset (None): explicit fields always win.
        for key, value in RAFT_PRESETS[self.preset].items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)
        return self


class RAFTConfig(_Job):
    """Reward-ranked fine-tuning: sample, verify, keep the best, fine-tune, repeat."""

    kind: Literal["raft"] = Field("raft", description="Job kind.")
    model: ModelSection = Field(description="The model to improve.")
    data: DataSection = Field(description="Prompt set (each record needs a verifier).")
    raft: RaftSection = Field(default_factory=RaftSection, description="Cycle, sampling and filtering settings.")
    lora: LoraSection = Field(default_factory=LoraSection, description="LoRA adapter settings.")
    training: RaftTrainingSection = Field(default_factory=RaftTrainingSection, description="Per-cycle fine-tuning settings.")
    executor: ExecutorSection = Field(default_factory=ExecutorSection, description="Where and on how many GPUs to run.")
