"""Config errors: each names its dotted field, a one-sentence message and the YAML line."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConfigIssue:
    field: str  # dotted path, "" for the whole file
    message: str  # one sentence, names the field
    line: int | None = None  # 1-based line in the YAML source, when known

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class ConfigError(ValueError):
    """Invalid config: `errors` lists every problem found (field, message, line)."""

    def __init__(self, errors: list[ConfigIssue]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors) or "invalid config")
