"""The sections job kinds share: model, data, LoRA, training, executor."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core import executor_kinds


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelSection(_Section):
    name: str = Field(min_length=1, description="Hugging Face model id or local model directory ('tiny' = the offline tiny model).")
    adapter: str | None = Field(None, description="Optional path to a LoRA adapter to load on top of the model.")
    dtype: Literal["auto", "bf16", "fp16", "fp32"] = Field("auto", description="Weights dtype; auto = bf16 where the GPU supports it, fp32 on CPU.")
    gradient_checkpointing: bool = Field(False, description="Trade compute for memory by recomputing activations in the backward pass.")
    trust_remote_code: bool = Field(False, description="Allow model code shipped with a hub repository to run.")


class DataSection(_Section):
    dataset: str = Field(min_length=1, description="Catalogue name (alpaca, humaneval, ...) or path to a .jsonl/.json file.")
    limit: int | None = Field(None, ge=1, le=10_000_000, description="Use at most this many records (empty = all).")
    source: Literal["auto", "hub", "sample"] = Field("auto", description="Where to read a catalogue dataset: hub, the shipped sample, or auto (hub when online).")
    max_length: int = Field(1024, ge=16, le=131_072, description="Maximum tokens per training example; longer ones are truncated.")
    watch_benchmarks: list[str] = Field(default_factory=list, description="Benchmarks to check the training data against before training starts (word 13-gram overlap; findings in JOB_DIR/overlap.json and the log).")

    @field_validator("watch_benchmarks", mode="before")
    @classmethod
    def _watched(cls, v: Any) -> Any:
        from core.benchmarks import catalogue  # light: names only

        if isinstance(v, str):
            v = [p for p in v.split(",") if p.strip()]
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            names: list[str] = []
            for x in v:
                names += [b.name for b in catalogue.expand(x) if b.name not in names]
            return names
        return v


class LoraSection(_Section):
    enabled: bool = Field(True, description="Train a LoRA adapter; false = full fine-tuning of every weight.")
    r: int = Field(16, ge=1, le=1024, description="LoRA rank.")
    alpha: int = Field(32, ge=1, le=4096, description="LoRA scaling numerator (scale = alpha / r).")
    dropout: float = Field(0.05, ge=0.0, lt=1.0, description="Dropout on the LoRA path.")
    target_modules: list[str] | str = Field("all-linear", description="Modules to adapt: a list of names, or 'all-linear'.")

    @field_validator("target_modules", mode="before")
    @classmethod
    def _modules(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip()
            if v == "all-linear":
                return v
            parts = [p.strip() for p in v.split(",") if p.strip()]
            if parts:
                return parts
        if isinstance(v, list) and v and all(isinstance(x, str) and x.strip() for x in v):
            return [x.strip() for x in v]
        raise ValueError("must be 'all-linear' or a non-empty list of module names")


class TrainingSection(_Section):
    epochs: int = Field(1, ge=1, le=1000, description="Passes over the data (per cycle for RAFT).")
    batch_size: int = Field(4, ge=1, le=4096, description="Examples per device per step.")
    grad_accum: int = Field(1, ge=1, le=1024, description="Gradient accumulation steps (effective batch = batch_size x grad_accum x GPUs).")
    learning_rate: float = Field(2e-4, gt=0.0, le=1.0, description="Peak learning rate (AdamW).")
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = Field("linear", description="Learning-rate schedule after warm-up.")
    max_steps: int = Field(-1, ge=-1, le=10_000_000, description="Stop after this many optimizer steps; -1 = the epochs decide.")
    warmup_ratio: float = Field(0.0, ge=0.0, lt=1.0, description="Fraction of the steps spent warming the learning rate up.")
    weight_decay: float = Field(0.0, ge=0.0, le=1.0, description="AdamW weight decay.")
    max_grad_norm: float = Field(1.0, ge=0.0, le=1000.0, description="Clip gradients to this norm (0 = no clipping).")
    logging_steps: int = Field(10, ge=1, le=100_000, description="Print loss, lr and grad norm every N steps.")
    save_steps: int = Field(100, ge=1, le=10_000_000, description="Save a checkpoint every N steps.")
    save_total_limit: int | None = Field(3, ge=1, le=1000, description="Keep only the newest N checkpoints (empty = all).")
    seed: int = Field(42, ge=0, le=2**32 - 1, description="Random seed for data order and initialisation.")
    output_dir: str | None = Field(None, description="Where checkpoints and the adapter go (empty = JOB_DIR/output).")
    resume_from: str | None = Field(None, description="Resume from a checkpoint directory, or 'latest' for the newest one in output_dir.")
    merge: bool = Field(False, description="Also save the model with the LoRA adapter merged in.")
    export_after: Literal["none", "merged", "gguf-f16", "gguf-q8_0", "gguf-q4_k_m"] = Field("none", description="When the job completes, queue a verified export of its final model: merged safetensors or GGUF (f16, q8_0, q4_k_m).")
    assistant_only_loss: bool = Field(False, description="SFT: compute the loss on assistant replies only (needs a chat template TRL can mark; RAFT always trains on completions only).")

    @field_validator("max_steps")
    @classmethod
    def _no_zero_steps(cls, v: int) -> int:
        if v == 0:
            raise ValueError("must be -1 (the epochs decide) or at least 1, got 0")
        return v


class _ExecutorBase(_Section):
    name: Literal[executor_kinds.names()] = Field("local", description="Where the job runs: this machine, a Ray cluster, or Slurm.")
    profile: str | None = Field(None, description="Saved cluster profile to use (address, partition, ...).")
    nodes: int = Field(1, ge=1, le=1024, description="Machines to run on (Slurm multi-node).")


    @model_validator(mode="after")
    def _nodes_need_slurm(self) -> "_ExecutorBase":
        if self.nodes > 1 and not executor_kinds.get(self.name).multi_node:
            multi = ", ".join(k.name for k in executor_kinds.EXECUTORS.values() if k.multi_node)
            raise ValueError(f"asks for nodes: {self.nodes}, but only the {multi} executor runs a job on "
                             f"several nodes (executor.name is '{self.name}')")
        return self


class ExecutorSection(_ExecutorBase):
    gpus: int = Field(1, ge=0, le=64, description="GPUs per node; more than 1 runs several training processes.")


class CpuExecutorSection(_ExecutorBase):
    """For jobs that need no GPU (verify, command): GPUs are asked for by the job itself."""


class _Job(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)
