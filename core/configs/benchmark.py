"""The `benchmark` job kind."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from core.configs.sections import ExecutorSection, ModelSection, _Job, _Section


class BenchmarkSection(_Section):
    name: str = Field(min_length=1, description="Benchmark to run (humaneval, mbpp, ...), several separated by commas, or a suite (code-suite, vlm-suite, audio-suite).")
    limit: int | None = Field(None, ge=1, le=10_000_000, description="Score at most this many problems (empty = all).")
    samples: int = Field(1, ge=1, le=1000, description="Completions per problem (n in pass@k).")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature; 0 = greedy.")
    batch_size: int = Field(8, ge=1, le=4096, description="Prompts per generation call.")
    max_new_tokens: int | None = Field(None, ge=1, le=32_768, description="Maximum tokens generated per completion; empty: each benchmark's type default (code 512, VLM 32, audio 128, agentic 256).")
    k: list[int] = Field(default_factory=lambda: [1, 5], min_length=1, description="pass@k values to report (only k <= samples are computed).")

    @field_validator("name")
    @classmethod
    def _known_benchmark(cls, v: str) -> str:
        from core.benchmarks import catalogue  # light: names and metrics only

        # one benchmark, a comma-separated list, or a named suite (one result row each)
        return ",".join(b.name for b in catalogue.expand(v))

    @field_validator("k")
    @classmethod
    def _positive_k(cls, v: list[int]) -> list[int]:
        if any(x < 1 for x in v):
            raise ValueError(f"every k must be at least 1, got {v}")
        return sorted(set(v))


class BenchmarkConfig(_Job):
    """Generate completions for a benchmark and score them with its metric."""

    kind: Literal["benchmark"] = Field("benchmark", description="Job kind.")
    model: ModelSection = Field(description="The model (and optional adapter) to evaluate.")
    benchmark: BenchmarkSection = Field(description="What to run and how to sample.")
    output_dir: str | None = Field(None, description="Where samples and results go (empty = JOB_DIR).")
    executor: ExecutorSection = Field(default_factory=ExecutorSection, description="Where and on how many GPUs to run.")
