"""The `export` job kind: merge an adapter into its base, or convert to GGUF, then verify."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from core.configs.sections import ExecutorSection, _Job, _Section
from core.export import FORMATS, QUANTS  # noqa: F401 - declared once, light for the CLI


class ExportSourceSection(_Section):
    job: int | None = Field(None, ge=1, description="A completed training job: its final adapter (or model) is exported.")
    adapter: str | None = Field(None, description="A LoRA adapter directory (a job's adapter/ or one of its checkpoints).")
    base: str | None = Field(None, description="The adapter's base model (empty = the one recorded in adapter_config.json).")
    model: str | None = Field(None, description="A plain model to export instead (tiny, a cached hub id or a directory).")
    dtype: Literal["auto", "fp32", "bf16", "fp16"] = Field("auto", description="Dtype of the merged weights (auto = the base model's own).")

    @model_validator(mode="after")
    def _one_source(self) -> "ExportSourceSection":
        given = [n for n in ("job", "adapter", "model") if getattr(self, n) not in (None, "")]
        if len(given) != 1:
            raise ValueError("needs exactly one of job, adapter or model"
                             + (f" (got {', '.join(given)})" if given else ""))
        if self.base and self.model:
            raise ValueError("has a base, which goes with an adapter or a job, not with model")
        return self


class ExportSection(_Section):
    format: Literal["merged", "gguf"] = Field("merged", description="merged = safetensors with the adapter folded in; gguf = for llama.cpp, LM Studio, Ollama.")
    quant: Literal["f16", "bf16", "f32", "q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0"] | None = Field(None, description="GGUF type (empty = f16); k-quants need rows divisible by 256, others fall back.")
    out_dir: str | None = Field(None, description="Where the export goes (empty = HALO_FORGE_HOME/exports/<source>-<format>).")
    overwrite: bool = Field(False, description="Replace an existing out_dir (else the job refuses to start).")
    verify: bool = Field(True, description="Load the export back with its consumer and compare it with the source; a failed check fails the job.")
    max_shard_size: str = Field("2GB", pattern=r"^\d+(\.\d+)?\s*(B|KB|MB|GB|KiB|MiB|GiB)$", description="Largest safetensors shard of a merged export (e.g. 2GB, 500MB).")

    @model_validator(mode="after")
    def _quant_is_gguf(self) -> "ExportSection":
        if self.quant is not None and self.format != "gguf":
            raise ValueError(f"has quant '{self.quant}', which applies to format gguf only (format is {self.format})")
        return self


class ExportConfig(_Job):
    """Ship a trained model: merged safetensors or GGUF, each loaded back and verified."""

    kind: Literal["export"] = Field("export", description="Job kind.")
    source: ExportSourceSection = Field(description="What to export.")
    export: ExportSection = Field(default_factory=ExportSection, description="Format, quantization and destination.")
    executor: ExecutorSection = Field(default_factory=ExecutorSection, description="Where to run (a GPU speeds up verifying large models).")
