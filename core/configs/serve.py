"""The `serve` job kind: one model behind an OpenAI-compatible endpoint (core/serving/)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from core.configs.sections import ExecutorSection, _Job


class ServeConfig(_Job):
    """Serve a model (hub id, local dir, tiny, GGUF file, export) or a finished SFT/RAFT job."""

    kind: Literal["serve"] = Field("serve", description="Job kind.")
    model: str | None = Field(None, min_length=1, description="Hub id (cached), local model directory, 'tiny', a merged export or a .gguf file.")
    job: int | None = Field(None, ge=1, description="A finished SFT/RAFT job: its adapter is served on its base (or its full model).")
    adapter: str | None = Field(None, description="A LoRA adapter directory to serve on top of the model (merged into a temporary directory first).")
    engine: Literal["auto", "transformers", "vllm", "llamacpp"] = Field("auto", description="Server: auto = llama.cpp for GGUF, vLLM on a GPU when installed, else transformers serve.")
    host: str = Field("127.0.0.1", min_length=1, description="Address the endpoint listens on; anything beyond loopback requires the halo-forge token as a Bearer header.")
    port: int = Field(8000, ge=0, le=65535, description="Port of the endpoint; the next free one when taken (0 = any free port).")
    idle_minutes: float = Field(30.0, ge=0.0, le=60 * 24 * 365, description="Stop after this many minutes without a request (0 = never).")
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field("auto", description="Weights dtype for transformers and vLLM (auto = as saved).")
    n_ctx: int = Field(2048, ge=16, le=1_048_576, description="Context length for llama.cpp (GGUF).")
    ready_timeout_s: float = Field(900.0, gt=0.0, le=86_400.0, description="Give up when the engine has not answered /v1/models after this many seconds.")
    executor: ExecutorSection = Field(default_factory=ExecutorSection, description="Where to run; gpus = 0 serves on the CPU without holding a GPU slot.")

    @model_validator(mode="after")
    def _one_source(self) -> "ServeConfig":
        if (self.model is None) == (self.job is None):
            raise ValueError("give either model or job (the model to serve), not both")
        if self.job is not None and self.adapter:
            raise ValueError("adapter cannot be combined with job (the job's own adapter is served)")
        if self.executor.name != "local":
            raise ValueError("a served model runs on this machine (executor.name local): its "
                             "endpoint is a loopback port here")
        return self
