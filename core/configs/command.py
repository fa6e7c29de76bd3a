"""The `command` job kind: any command line."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from core.configs.sections import CpuExecutorSection, _Job


class CommandConfig(_Job):
    """Any command line, run and followed like the built-in jobs."""

    kind: Literal["command"] = Field("command", description="Job kind.")
    command: list[str] = Field(min_length=1, description="Program and arguments (no shell).")
    gpus: int = Field(0, ge=0, le=64, description="GPUs the command needs.")
    cwd: str | None = Field(None, description="Working directory (empty = JOB_DIR).")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    executor: CpuExecutorSection = Field(default_factory=CpuExecutorSection, description="Where to run.")

    @field_validator("command", mode="before")
    @classmethod
    def _split_command(cls, v: Any) -> Any:
        if isinstance(v, str):
            import shlex

            return shlex.split(v)
        return v

    @field_validator("env", mode="before")
    @classmethod
    def _env_strings(cls, v: Any) -> Any:
        # YAML turns `DEBUG: 1` into an int; environment values are strings.
        if isinstance(v, dict):
            return {str(k): "" if x is None else (str(x).lower() if isinstance(x, bool) else str(x)) for k, x in v.items()}
        return v
