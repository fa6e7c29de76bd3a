"""JSON Lines, read and written in one place.

Every reader in halo-forge (dataset files, benchmark samples, verifier samples, a run's
samples.jsonl) goes through `iter_records`, so a bad line is reported the same way everywhere:
"NAME line N: invalid JSON (...)" or "NAME line N: expected a JSON object, got a list".
Stdlib only.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator


class JsonlError(ValueError):
    """A line of a JSONL file is not a JSON object; the message names the file and line."""


def json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "an integer", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def parse_line(line: str, number: int, where: str = "", error: type[ValueError] = JsonlError) -> dict:
    """One non-blank line as a dict; `error` is raised (with file and line) otherwise."""
    prefix = f"{where} line {number}" if where else f"line {number}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise error(f"{prefix}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise error(f"{prefix}: expected a JSON object, got {json_type(record)}")
    return record


def iter_lines(lines: Iterable[str], where: str = "",
               error: type[ValueError] = JsonlError) -> Iterator[tuple[int, dict]]:
    """(line number, record) for each non-blank line."""
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, parse_line(line, number, where, error)


def iter_records(path: str | Path, error: type[ValueError] = JsonlError,
                 where: str | None = None) -> Iterator[tuple[int, dict]]:
    """(line number, record) for each non-blank line of a file, streamed."""
    path = Path(path)
    with path.open(encoding="utf-8") as f:
        yield from iter_lines(f, path.name if where is None else where, error)


def read(path: str | Path, error: type[ValueError] = JsonlError) -> list[dict]:
    return [record for _, record in iter_records(path, error)]


def write(path: str | Path, rows: Iterable[dict]) -> Path:
    """Write rows one JSON object a line (UTF-8, non-ASCII kept, odd values as str)."""
    path = Path(path)
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    return path
