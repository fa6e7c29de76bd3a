"""The `verify` job kind: score a JSONL of completions."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from core.configs.sections import CpuExecutorSection, _Job


class VerifyConfig(_Job):
    """Score a JSONL file of completions with a verifier."""

    kind: Literal["verify"] = Field("verify", description="Job kind.")
    verifier: str = Field(min_length=1, description="Verifier name (humaneval, mbpp, ...).")
    samples: str = Field(min_length=1, description="JSONL file of samples (task_id, completion, ...).")
    dataset: str | None = Field(None, description="Problem set the task ids refer to (empty = the verifier's own dataset).")
    out: str | None = Field(None, description="Output JSONL of verdicts (empty = JOB_DIR/verdicts.jsonl).")
    workers: int | None = Field(None, ge=1, le=1024, description="Parallel sandboxes (empty = twice the CPU cores: runs wait on I/O and process start-up).")
    partial_credit: bool = Field(False, description="Reward = fraction of tests passed instead of all-or-nothing.")
    timeout_s: float = Field(10.0, gt=0.0, le=3600.0, description="Wall-clock limit per completion, in seconds.")
    executor: CpuExecutorSection = Field(default_factory=CpuExecutorSection, description="Where to run.")
