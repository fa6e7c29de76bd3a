"""Turning pydantic errors into one sentence per field, with did-you-mean and ranges."""
from __future__ import annotations

import difflib
import typing
from typing import Any, Literal, Union

from pydantic import BaseModel

from core.configs.errors import ConfigIssue
from core.configs.yamlfile import _line_for


def _issue_from_error(model_cls: type[BaseModel], err: dict, lines: dict, override_paths: set[tuple]) -> ConfigIssue:
    loc = tuple(err["loc"])
    path = ".".join(str(x) for x in loc)
    etype = err["type"]
    value = err.get("input")
    msg = _message(model_cls, loc, path, etype, err, value)
    line = None if _from_override(loc, override_paths) else _line_for(lines, loc, key=etype == "extra_forbidden")
    if _from_override(loc, override_paths):
        msg += " (from an override)"
    return ConfigIssue(path, msg, line)


def _from_override(loc: tuple, override_paths: set[tuple]) -> bool:
    return any(tuple(str(x) for x in loc[: len(p)]) == p for p in override_paths)


def _message(model_cls: type[BaseModel], loc: tuple, path: str, etype: str, err: dict, value: Any) -> str:
    if etype == "extra_forbidden":
        return _unknown_key_message(model_cls, loc)
    if etype == "missing":
        info = _field_at(model_cls, loc)
        if info is not None and _is_section(info.annotation):
            return f"section '{path}' is required"
        return f"{path} is required"
    if etype in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{path} must be {_range_text(model_cls, loc)}, got {_show(value)}"
    if etype in ("float_parsing", "float_type"):
        return f"{path} must be a number, got {_show(value)}"
    if etype in ("int_parsing", "int_type", "int_from_float"):
        return f"{path} must be a whole number, got {_show(value)}"
    if etype in ("bool_parsing", "bool_type"):
        return f"{path} must be true or false, got {_show(value)}"
    if etype in ("string_type",):
        return f"{path} must be text, got {_show(value)}"
    if etype in ("string_too_short",):
        return f"{path} must not be empty"
    if etype == "literal_error":
        choices = _literal_choices(_field_at(model_cls, loc))
        return f"{path} must be one of {', '.join(choices)}, got {_show(value)}{_suggest(str(value), choices)}"
    if etype in ("model_type", "model_attributes_type", "dict_type"):
        return f"{path} must be a section (a mapping of keys to values), got {_show(value)}"
    if etype == "list_type":
        return f"{path} must be a list, got {_show(value)}"
    if etype == "too_short":
        return f"{path} must not be empty"
    if etype == "value_error":
        text = str(err.get("ctx", {}).get("error", err.get("msg", "")))
        return f"{path} {text}".strip()  # a whole-config check has no path
    return f"{path}: {err.get('msg', 'invalid value')}"


def _unknown_key_message(model_cls: type[BaseModel], loc: tuple) -> str:
    key = str(loc[-1])
    parent = loc[:-1]
    parent_cls = _model_at(model_cls, parent)
    known = list(parent_cls.model_fields) if parent_cls is not None else []
    where = f" in {'.'.join(str(x) for x in parent)}" if parent else ""
    hint = _suggest(key, known)
    if not hint:
        # A key put in the wrong section: training.cycles -> raft.cycles.
        for name, info in model_cls.model_fields.items():
            sub = _section_cls(info.annotation)
            if sub is not None and key in sub.model_fields and (name,) != tuple(parent):
                hint = f" (did you mean '{name}.{key}'?)"
                break
    return f"unknown key '{key}'{where}{hint}"


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return str(value)


def _dedupe(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    seen, out = set(), []
    for i in issues:
        if (i.field, i.message) not in seen:
            seen.add((i.field, i.message))
            out.append(i)
    return out


def _section_cls(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _is_section(annotation: Any) -> bool:
    return _section_cls(annotation) is not None


def _model_at(model_cls: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    cls: type[BaseModel] | None = model_cls
    for part in loc:
        if cls is None or str(part) not in cls.model_fields:
            return None
        cls = _section_cls(cls.model_fields[str(part)].annotation)
    return cls


def _field_at(model_cls: type[BaseModel], loc: tuple):
    if not loc:
        return None
    parent = _model_at(model_cls, loc[:-1])
    if parent is None:
        return None
    return parent.model_fields.get(str(loc[-1]))


def _bounds(info) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if info is None:
        return out
    for meta in info.metadata:
        for name in ("gt", "ge", "lt", "le"):
            if getattr(meta, name, None) is not None:
                out[name] = getattr(meta, name)
    return out


def _fmt_num(x: Any) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return str(x)


def _range_text(model_cls: type[BaseModel], loc: tuple) -> str:
    b = _bounds(_field_at(model_cls, loc))
    parts = []
    if "gt" in b:
        parts.append(f"> {_fmt_num(b['gt'])}")
    if "ge" in b:
        parts.append(f">= {_fmt_num(b['ge'])}")
    if "lt" in b:
        parts.append(f"< {_fmt_num(b['lt'])}")
    if "le" in b:
        parts.append(f"<= {_fmt_num(b['le'])}")
    return " and ".join(parts) if parts else "in range"


def _literal_choices(info) -> list[str]:
    if info is None:
        return []
    for arg in _flatten(info.annotation):
        if typing.get_origin(arg) is Literal:
            return [str(a) for a in typing.get_args(arg)]
    return []


def _flatten(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is Union or str(origin) == "types.UnionType" or type(annotation).__name__ == "UnionType":
        out = []
        for a in typing.get_args(annotation):
            out.extend(_flatten(a))
        return out
    return [annotation]
