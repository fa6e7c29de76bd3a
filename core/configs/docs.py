"""Field documentation and YAML templates, generated from the models."""
from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import BaseModel

from core.configs.messages import _bounds, _flatten, _fmt_num, _literal_choices, _section_cls
from core.configs.grpo import GRPO_PRESETS
from core.configs.raft import RAFT_PRESETS
from core.configs.registry import KINDS, MODELS


@dataclass(frozen=True)
class FieldDoc:
    path: str  # "training.learning_rate"
    type: str  # "float", "int", "bool", "str", "choice", "list[str] | str", ...
    default: Any  # JSON-able; None when the field is required or empty by default
    bounds: dict[str, Any]  # subset of gt/ge/lt/le
    help: str
    choices: tuple[str, ...] = ()
    required: bool = False


def schema_fields(kind: str) -> list[FieldDoc]:
    """Every leaf field of a job kind, in file order (sections flattened to dotted paths)."""
    if kind not in MODELS:
        raise ValueError(f"unknown kind '{kind}'; known: {', '.join(KINDS)}")
    out: list[FieldDoc] = []
    _walk_fields(MODELS[kind], "", out)
    if kind == "raft":
        preset = RAFT_PRESETS["conservative"]
        out = [
            FieldDoc(f.path, f.type, preset[f.path.split(".")[1]], f.bounds, f.help, f.choices, f.required)
            if f.path.startswith("raft.") and f.path.split(".")[1] in preset
            else f
            for f in out
        ]
    if kind == "grpo":  # unset recipe fields show what the default preset fills in
        preset = GRPO_PRESETS["dapo"]
        out = [
            FieldDoc(f.path, f.type, preset[f.path.split(".")[1]], f.bounds, f.help, f.choices, f.required)
            if f.path.startswith("grpo.") and f.path.split(".")[1] in preset
            else f
            for f in out
        ]
    return out


def _walk_fields(cls: type[BaseModel], prefix: str, out: list[FieldDoc]) -> None:
    for name, info in cls.model_fields.items():
        sub = _section_cls(info.annotation)
        path = f"{prefix}{name}"
        if sub is not None:
            _walk_fields(sub, path + ".", out)
            continue
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        out.append(
            FieldDoc(
                path=path,
                type=_type_name(info.annotation),
                default=default,
                bounds=_bounds(info),
                help=info.description or "",
                choices=tuple(_literal_choices(info)),
                required=info.is_required(),
            )
        )


def _type_name(annotation: Any) -> str:
    parts = []
    for a in _flatten(annotation):
        if a is type(None):
            continue
        if typing.get_origin(a) is Literal:
            parts.append("choice")
        elif isinstance(a, type) and typing.get_origin(a) is None:
            parts.append(a.__name__)
        else:
            parts.append(str(a).replace("typing.", ""))
    return " | ".join(parts)


_TEMPLATE_VALUES: dict[str, dict[str, Any]] = {
    "sft": {"model.name": "tiny", "data.dataset": "alpaca"},
    "raft": {"model.name": "tiny", "data.dataset": "humaneval", "raft.verifier": "humaneval"},
    "benchmark": {"model.name": "tiny", "benchmark.name": "humaneval"},
    "grpo": {"model.name": "tiny", "data.dataset": "humaneval", "grpo.verifier": "humaneval"},
    "dpo": {"model.name": "tiny", "data.dataset": "ultrafeedback"},
    "verify": {"verifier": "humaneval", "samples": "samples.jsonl"},
    "command": {"command": ["python", "-c", "print('Step 1/1')"]},
    "export": {"source.model": "tiny"},
    "serve": {"model": "tiny", "executor.gpus": 0},
}


_TEMPLATE_SKIP = {"executor.profile", "model.adapter", "training.output_dir", "training.resume_from", "output_dir", "out", "cwd"}


def template(kind: str, preset: str | None = None) -> str:
    """Commented YAML for the Config page: every field with its default and help.

    preset: 'default' for sft; 'conservative' | 'aggressive' | 'custom' for raft;
    'dapo' | 'grpo' | 'dr_grpo' | 'custom' for grpo.
    The sft, raft, benchmark and command templates validate as they are.
    """
    if kind not in MODELS:
        raise ValueError(f"unknown kind '{kind}'; known: {', '.join(KINDS)}")
    presets = {"raft": RAFT_PRESETS, "grpo": GRPO_PRESETS}.get(kind)
    if presets is not None:
        preset = preset or next(iter(presets))
        if preset not in presets:
            raise ValueError(f"unknown {kind.upper()} preset '{preset}'; known: {', '.join(presets)}")
    elif preset not in (None, "default"):
        raise ValueError(f"kind {kind} has only the 'default' preset, got '{preset}'")
    values = dict(_TEMPLATE_VALUES[kind])
    if presets is not None:
        values[f"{kind}.preset"] = preset
        for key, v in presets[preset].items():
            values[f"{kind}.{key}"] = v
    lines = [f"# halo-forge {kind} job" + (f" ({preset} preset)" if preset else ""), f"kind: {kind}"]
    section = None
    for f in schema_fields(kind):
        if f.path == "kind" or f.path in _TEMPLATE_SKIP:
            continue
        head, _, leaf = f.path.rpartition(".")
        value = values.get(f.path, f.default)
        if head and head != section:
            lines.append(f"{head}:")
            section = head
        elif not head:
            section = None
        indent = "  " if head else ""
        if value is None:
            rendered = "null"
        else:
            rendered = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
            if rendered.endswith("\n...") or rendered.endswith("..."):
                rendered = rendered.replace("\n...", "").replace("...", "").strip()
        lines.append(f"{indent}{leaf}: {rendered}  # {_bounds_hint(f)}{f.help}")
    return "\n".join(lines) + "\n"


def _bounds_hint(f: FieldDoc) -> str:
    if f.choices:
        return f"[{' | '.join(f.choices)}] "
    if f.bounds:
        parts = []
        for key, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            if key in f.bounds:
                parts.append(f"{sym}{_fmt_num(f.bounds[key])}")
        return f"[{' '.join(parts)}] "
    return ""
