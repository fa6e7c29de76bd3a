"""Parsing a config: YAML or dict, overrides, validation, checks, and writing it back."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from core.configs.checks import _semantic_checks
from core.configs.errors import ConfigError, ConfigIssue
from core.configs.messages import _dedupe, _issue_from_error, _show, _suggest
from core.configs.registry import JobConfig, KINDS, MODELS
from core.configs.yamlfile import _apply_overrides, _deep_copy, _line_for, _load_yaml


def _model_for(data: Any, kind: str | None, lines: dict) -> type[BaseModel]:
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue("", f"config must be a mapping with a 'kind' key, got {_show(data)}")])
    file_kind = data.get("kind")
    if file_kind is None and kind is not None:
        data["kind"] = file_kind = kind
    if file_kind is None:
        raise ConfigError([ConfigIssue("kind", f"kind is required (one of {', '.join(KINDS)})")])
    if file_kind not in MODELS:
        hint = _suggest(str(file_kind), KINDS)
        raise ConfigError([ConfigIssue("kind", f"kind must be one of {', '.join(KINDS)}, got {_show(file_kind)}{hint}", _line_for(lines, ("kind",)))])
    if kind is not None and file_kind != kind:
        raise ConfigError([ConfigIssue("kind", f"this is a {file_kind} config, expected {kind}", _line_for(lines, ("kind",)))])
    return MODELS[file_kind]


def parse_config(
    source: str | dict,
    *,
    overrides: list[str] | tuple[str, ...] = (),
    kind: str | None = None,
    base_dir: str | os.PathLike | None = None,
    check_files: bool = True,
) -> JobConfig:
    """Validate YAML text (or a dict) plus overrides into a typed config.

    kind: expected kind (e.g. from `train sft`); fills a missing `kind:` and rejects another.
    check_files: check dataset / samples files and catalogue names (off only for forms that
    validate field by field while the user types).
    Raises ConfigError listing every problem, with YAML line numbers where known.
    """
    lines: dict[tuple, tuple[int, int]] = {}
    if isinstance(source, str):
        data, lines = _load_yaml(source)
    elif isinstance(source, dict):
        data = _deep_copy(source)
    else:
        raise ConfigError([ConfigIssue("", f"config must be YAML text or a mapping, got {type(source).__name__}")])
    override_paths = _apply_overrides(data, overrides)
    model_cls = _model_for(data, kind, lines)
    try:
        cfg = model_cls.model_validate(data)
    except ValidationError as exc:
        issues = [_issue_from_error(model_cls, err, lines, override_paths) for err in exc.errors()]
        raise ConfigError(_dedupe(issues)) from None
    if check_files:
        issues = _semantic_checks(cfg, Path(base_dir) if base_dir else Path.cwd(), lines)
        if issues:
            raise ConfigError(issues)
    return cfg


def load_config_file(path: str | os.PathLike, *, overrides: list[str] | tuple[str, ...] = (), kind: str | None = None) -> JobConfig:
    """Read and validate a YAML config file; relative paths resolve against the current directory."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigIssue("", f"config file not found: {p}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigIssue("", f"cannot read config file {p}: {exc}")]) from None
    return parse_config(text, overrides=overrides, kind=kind)


def to_yaml(cfg: BaseModel) -> str:
    """The config as sectioned YAML (empty fields left out); parse_config(to_yaml(c)) == c."""
    data = cfg.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)


def to_json_dict(cfg: BaseModel) -> dict:
    """Plain JSON-able dict (what job.json stores)."""
    return cfg.model_dump(mode="json")
