"""The `grpo` job kind: GRPO (TRL GRPOTrainer + LoRA) rewarded by our verifiers, with presets."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from core.configs.sections import DataSection, ExecutorSection, LoraSection, ModelSection, TrainingSection, _Job, _Section

# Named recipes; a preset fills only the fields the user left unset.
GRPO_PRESETS: dict[str, dict[str, Any]] = {
    # TRL's defaults: DAPO token-level loss, no KL term (no reference model in memory).
    "dapo": {"loss_type": "dapo", "beta": 0.0, "epsilon": 0.2, "scale_rewards": "group", "temperature": 1.0},
    # DeepSeekMath's GRPO: per-sequence loss, KL to the reference model.
    "grpo": {"loss_type": "grpo", "beta": 0.04, "epsilon": 0.2, "scale_rewards": "group", "temperature": 1.0},
    # Dr. GRPO: no length or difficulty bias (constant normaliser, rewards not scaled by std).
    "dr_grpo": {"loss_type": "dr_grpo", "beta": 0.0, "epsilon": 0.2, "scale_rewards": "none", "temperature": 1.0},
}
GRPO_PRESETS["custom"] = dict(GRPO_PRESETS["dapo"])
EXTRA_REWARDS = ("format", "length_penalty")


class GrpoTrainingSection(TrainingSection):
    """GRPO counts optimizer steps in grpo.steps; a gentler learning rate than SFT."""

    batch_size: int = Field(8, ge=1, le=4096, description="Completions per device per step (a multiple of grpo.num_generations, with grad_accum).")
    learning_rate: float = Field(1e-5, gt=0.0, le=1.0, description="Peak learning rate (AdamW).")
    logging_steps: int = Field(1, ge=1, le=100_000, description="Print loss, rewards and KL every N steps.")
    save_steps: int = Field(50, ge=1, le=10_000_000, description="Save a checkpoint every N steps.")

    @field_validator("max_steps")
    @classmethod
    def _steps_live_in_grpo(cls, v: int) -> int:
        if v != -1:
            raise ValueError(f"must stay -1 (got {v}): GRPO counts its steps in grpo.steps")
        return v


class GrpoSection(_Section):
    preset: Literal["dapo", "grpo", "dr_grpo", "custom"] = Field("dapo", description="Loss recipe; explicit fields below override it.")
    verifier: str | None = Field(None, description="Verifier whose verdicts are the reward (empty = the dataset's own).")
    steps: int = Field(100, ge=1, le=10_000_000, description="Optimizer steps to train.")
    num_generations: int = Field(8, ge=2, le=512, description="Completions sampled per prompt (the group the advantages are relative to).")
    max_completion_length: int = Field(256, ge=1, le=32_768, description="Maximum tokens generated per completion.")
    temperature: float | None = Field(None, gt=0.0, le=2.0, description="Sampling temperature (default: from the preset).")
    beta: float | None = Field(None, ge=0.0, le=10.0, description="KL coefficient; 0 = no reference model (default: from the preset).")
    loss_type: Literal["grpo", "dapo", "dr_grpo", "bnpo", "cispo"] | None = Field(None, description="How token losses are aggregated (default: from the preset).")
    epsilon: float | None = Field(None, gt=0.0, lt=1.0, description="Clipping range of the probability ratio (default: from the preset).")
    scale_rewards: Literal["group", "batch", "none"] | None = Field(None, description="Divide advantages by the reward std of the group, the batch, or not at all (default: from the preset).")
    num_iterations: int = Field(1, ge=1, le=64, description="Optimisation passes over each generated batch (mu).")
    generation_batch_size: int | None = Field(None, ge=2, le=65_536, description="Completions generated at once and then trained on in steps of batch_size (empty = one step's worth).")
    extra_rewards: list[Literal["format", "length_penalty"]] = Field(default_factory=list, description="Shaping rewards added to the verifier's: format (a fenced code block or final answer), length_penalty.")
    reward_weights: list[float] | None = Field(None, description="Weights of the verifier reward then each extra reward, in order (empty = all 1).")
    length_target: int = Field(256, ge=1, le=32_768, description="length_penalty: completions longer than this many tokens lose reward.")
    verify_timeout_s: float = Field(10.0, gt=0.0, le=3600.0, description="Wall-clock limit per completion in the verifier's sandbox, in seconds.")
    partial_credit: bool = Field(False, description="Reward = fraction of tests passed instead of all-or-nothing.")
    verify_workers: int | None = Field(None, ge=1, le=1024, description="Parallel sandboxes per reward batch (empty = one per CPU core).")
    use_vllm: bool = Field(False, description="Generate with vLLM (needs vLLM and a GPU; not exercised on the build machines).")
    vllm_mode: Literal["colocate", "server"] = Field("colocate", description="use_vllm: vLLM inside the job (colocate) or a separate trl vllm-serve (server).")

    @field_validator("extra_rewards")
    @classmethod
    def _once_each(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"lists a reward twice: {v}")
        return v

    @field_validator("reward_weights")
    @classmethod
    def _one_weight_per_reward(cls, v: list[float] | None, info: ValidationInfo) -> list[float] | None:
        extras = info.data.get("extra_rewards", [])
        if v is not None and len(v) != 1 + len(extras):
            raise ValueError(f"needs {1 + len(extras)} weights (the verifier, then "
                             f"{', '.join(extras) or 'no extras'}), got {len(v)}")
        return v

    @model_validator(mode="after")
    def _apply_preset(self) -> "GrpoSection":
        for key, value in GRPO_PRESETS[self.preset].items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)
        return self


class GRPOConfig(_Job):
    """GRPO: sample a group per prompt, reward each completion with a verifier, push the policy
    towards the completions that beat their group."""

    kind: Literal["grpo"] = Field("grpo", description="Job kind.")
    model: ModelSection = Field(description="The model to improve.")
    data: DataSection = Field(description="Prompt set (each record needs a verifier).")
    grpo: GrpoSection = Field(default_factory=GrpoSection, description="Sampling, reward and loss settings.")
    lora: LoraSection = Field(default_factory=LoraSection, description="LoRA adapter settings.")
    training: GrpoTrainingSection = Field(default_factory=GrpoTrainingSection, description="Optimiser and checkpoints.")
    executor: ExecutorSection = Field(default_factory=ExecutorSection, description="Where and on how many GPUs to run.")

    @model_validator(mode="after")
    def _whole_groups(self) -> "GRPOConfig":
        per_step = self.training.batch_size * self.training.grad_accum
        gen = self.grpo.generation_batch_size
        if gen is None and per_step % self.grpo.num_generations:
            raise ValueError(f"training.batch_size x training.grad_accum ({per_step}) must be a multiple of "
                             f"grpo.num_generations ({self.grpo.num_generations}): each step scores whole groups")
        if gen is not None and (gen % self.training.batch_size or gen % self.grpo.num_generations):
            raise ValueError(f"grpo.generation_batch_size ({gen}) must be a multiple of training.batch_size "
                             f"({self.training.batch_size}) and of grpo.num_generations ({self.grpo.num_generations})")
        return self
