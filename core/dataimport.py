"""Import a local JSONL, CSV or Parquet file as a training dataset.

read (every row, numbered as the user sees it: "line N" for JSONL/CSV, "row N" for Parquet)
-> detect (each column's type, and a suggested mapping onto a training format)
-> convert (each row to the format's record; the first bad row stops it, naming the line and
the column) -> write (a temporary file in the datasets folder, checked again by
core.datasets, then renamed into place: an import either lands whole or not at all).

Formats and their fields are core.datasets' generic schemas: instruction (instruction, input,
output), chat (messages), preference (prompt, chosen, rejected; TRL's preference format).
Light module: pandas/pyarrow only when a Parquet file is read.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import datasets as ds
from core import jsonl

EXTENSIONS = (".jsonl", ".csv", ".parquet")
# Target fields per format; the required ones first, optional ones listed in OPTIONAL.
FORMATS: dict[str, tuple[str, ...]] = {
    "instruction": ("instruction", "input", "output"),
    "chat": ("messages",),
    "preference": ("prompt", "chosen", "rejected"),
}
OPTIONAL = {"input"}
# Column names people use for each target field, best first (for the suggested mapping).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "instruction": ("instruction", "question", "query", "problem", "prompt", "text", "input"),
    "input": ("input", "context"),
    "output": ("output", "answer", "response", "completion", "solution", "target"),
    "messages": ("messages", "conversation", "conversations", "chat"),
    "prompt": ("prompt", "question", "instruction", "query"),
    "chosen": ("chosen", "preferred", "accepted"),
    "rejected": ("rejected", "dispreferred"),
}
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_ROWS = 2_000_000


class ImportFailure(ds.DatasetError):
    """An import that cannot proceed; the message names the line (or row) and the column."""


@dataclass
class Table:
    source: str  # file name, for messages
    columns: list[str]
    rows: list[tuple[str, dict]]  # ("line 3", {column: value})
    types: dict[str, str] = field(default_factory=dict)


# ---- reading ------------------------------------------------------------------------------

def read(data: bytes | str | Path, filename: str | None = None) -> Table:
    """Read a file (a path, or the bytes of a browser upload with its file name)."""
    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path.is_file():
            raise ImportFailure(f"no such file: {path}")
        filename, data = filename or path.name, path.read_bytes()
    ext = Path(filename or "").suffix.lower()
    if ext not in EXTENSIONS:
        raise ImportFailure(f"{filename}: unsupported file type '{ext or 'none'}'; expected "
                           f"one of {', '.join(EXTENSIONS)}")
    reader = {".jsonl": _read_jsonl, ".csv": _read_csv, ".parquet": _read_parquet}[ext]
    rows = reader(data, filename)
    if not rows:
        raise ImportFailure(f"{filename} is empty: no rows found")
    return _table(filename, rows)


def from_rows(records: list[dict], source: str) -> Table:
    """Rows already read (a hub dataset's first rows, core.hubpeek) as a table to map."""
    if not records:
        raise ImportFailure(f"{source} has no rows")
    return _table(source, [(f"row {i}", r) for i, r in enumerate(records, start=1)])


def _table(source: str, rows: list[tuple[str, dict]]) -> Table:
    if len(rows) > MAX_ROWS:
        raise ImportFailure(f"{source} has {len(rows)} rows; the importer takes at most {MAX_ROWS}")
    columns: list[str] = []
    for _, row in rows:
        columns.extend(c for c in row if c not in columns)
    table = Table(source, columns, rows)
    table.types = {c: _column_type([r.get(c) for _, r in rows]) for c in columns}
    return table


def _text(data: bytes, filename: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFailure(f"{filename}: line {line}: not UTF-8 text") from None


def _read_jsonl(data: bytes, filename: str) -> list[tuple[str, dict]]:
    lines = _text(data, filename).splitlines()
    return [(f"line {n}", r) for n, r in jsonl.iter_lines(lines, error=ImportFailure)]


def _read_csv(data: bytes, filename: str) -> list[tuple[str, dict]]:
    # Training cells (a whole conversation, a long solution) outgrow csv's 128 KiB default.
    csv.field_size_limit(max(csv.field_size_limit(), 64 * 2**20))
    reader = csv.reader(io.StringIO(_text(data, filename), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return []
    except csv.Error as exc:
        raise ImportFailure(f"line 1: unreadable CSV header ({exc})") from None
    header = [h.strip() for h in header]
    if not any(header) or len(set(header)) != len(header) or "" in header:
        raise ImportFailure("line 1: the CSV header needs a distinct, non-empty name for "
                           f"every column (got {header})")
    rows, start = [], reader.line_num + 1
    try:
        for values in reader:
            where, start = f"line {start}", reader.line_num + 1  # a quoted field may span lines
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise ImportFailure(f"{where}: {len(values)} values but the header has "
                                   f"{len(header)} columns")
            rows.append((where, dict(zip(header, values))))
    except csv.Error as exc:
        raise ImportFailure(f"line {reader.line_num}: unreadable CSV ({exc})") from None
    return rows


def _read_parquet(data: bytes, filename: str) -> list[tuple[str, dict]]:
    import pyarrow as pa  # only for Parquet
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise ImportFailure(f"{filename}: not a readable Parquet file ({exc})") from None
    return [(f"row {i}", _plain(r)) for i, r in enumerate(table.to_pylist(), start=1)]


def _plain(value: Any) -> Any:
    """Parquet values as JSON values (dates and decimals as text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _column_type(values: list) -> str:
    kinds = {jsonl.json_type(v) for v in values if v is not None}
    if not kinds:
        return "empty"
    return kinds.pop() if len(kinds) == 1 else "mixed (" + ", ".join(sorted(kinds)) + ")"


# ---- detection ----------------------------------------------------------------------------

def suggest(table: Table) -> dict:
    """A mapping {"format": ..., "columns": {target field: source column or None}} that fits
    the file's columns best (the user can change it)."""
    cols = set(table.columns)
    if {"chosen", "rejected"} <= cols:
        fmt = "preference"
    elif cols & set(SYNONYMS["messages"]):
        fmt = "chat"
    else:
        fmt = "instruction"
    return {"format": fmt, "columns": guess_columns(fmt, table.columns)}


def guess_columns(fmt: str, columns: list[str]) -> dict[str, str | None]:
    lower = {c.lower(): c for c in columns}
    out: dict[str, str | None] = {}
    for target in FORMATS[fmt]:
        taken = set(out.values())
        out[target] = next((lower[s] for s in SYNONYMS[target]
                            if s in lower and lower[s] not in taken), None)
    return out


# ---- conversion ---------------------------------------------------------------------------

def check_mapping(mapping: dict, columns: list[str]) -> tuple[str, dict[str, str | None]]:
    fmt = mapping.get("format")
    if fmt not in FORMATS:
        raise ImportFailure(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    chosen = mapping.get("columns") or {}
    out = {}
    for target in FORMATS[fmt]:
        source = chosen.get(target) or None
        if source is None and target not in OPTIONAL and not (fmt == "preference"
                                                              and target == "prompt"):
            raise ImportFailure(f"map a column to '{target}' (the {fmt} format needs it)")
        if source is not None and source not in columns:
            raise ImportFailure(f"column '{source}' (for '{target}') is not in the file; it "
                               f"has {', '.join(columns)}")
        out[target] = source
    return fmt, out


def convert(table: Table, mapping: dict) -> list[dict]:
    """Every row as a record of the mapped format; the first bad row raises, naming its line
    and column."""
    fmt, cols = check_mapping(mapping, table.columns)
    return [_record(fmt, cols, row, where) for where, row in table.rows]


def _record(fmt: str, cols: dict, row: dict, where: str) -> dict:
    if fmt == "instruction":
        rec = {"instruction": _string(row, cols["instruction"], where, "instruction"),
               "input": _string(row, cols["input"], where, "input", required=False) or "",
               "output": _string(row, cols["output"], where, "output")}
    elif fmt == "chat":
        rec = {"messages": _messages(row, cols["messages"], where)}
    else:
        rec = {k: _turns(row, cols[k], where, k) for k in ("chosen", "rejected")}
        if cols["prompt"]:
            rec = {"prompt": _turns(row, cols["prompt"], where, "prompt"), **rec}
    try:
        ds._check_record(rec, fmt, where) if fmt in ds._FIELD_TYPES else None
    except ds.DatasetError as exc:
        raise ImportFailure(str(exc)) from None
    return rec


def _value(row: dict, column: str, where: str, target: str) -> Any:
    if column not in row or row[column] is None:
        raise ImportFailure(f"{where}: column '{column}' (for '{target}') has no value")
    return row[column]


def _string(row: dict, column: str | None, where: str, target: str,
            required: bool = True) -> str | None:
    if column is None:
        return None
    value = row.get(column)
    if value is None and not required:
        return None
    value = _value(row, column, where, target)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ImportFailure(f"{where}: column '{column}' (for '{target}') must be text, got "
                           f"{jsonl.json_type(value)}")
    value = str(value)
    if required and not value.strip():
        raise ImportFailure(f"{where}: column '{column}' (for '{target}') is empty")
    return value


def _decoded(value: Any, where: str, column: str, target: str) -> Any:
    """A list stored as JSON text (CSV cells) is read as the list."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ImportFailure(f"{where}: column '{column}' (for '{target}') holds invalid "
                               f"JSON ({exc.msg})") from None
    return value


def _messages(row: dict, column: str, where: str) -> list:
    value = _decoded(_value(row, column, where, "messages"), where, column, "messages")
    if not isinstance(value, list):
        raise ImportFailure(f"{where}: column '{column}' (for 'messages') must be a list of "
                           f"{{role, content}} messages, got {jsonl.json_type(value)}")
    out = []
    for i, m in enumerate(value):
        if isinstance(m, dict) and "from" in m and "value" in m:  # ShareGPT's spelling
            m = {"role": {"human": "user", "gpt": "assistant"}.get(m["from"], m["from"]),
                 "content": m["value"]}
        if not isinstance(m, dict) or m.get("role") not in ds.ROLES \
                or not isinstance(m.get("content"), str):
            raise ImportFailure(f"{where}: column '{column}' message {i} needs a role "
                               f"({', '.join(ds.ROLES)}) and a text content")
        out.append({"role": m["role"], "content": m["content"]})
    if not out:
        raise ImportFailure(f"{where}: column '{column}' (for 'messages') is empty")
    return out


def _turns(row: dict, column: str, where: str, target: str) -> str | list:
    value = _decoded(_value(row, column, where, target), where, column, target)
    if isinstance(value, list):
        return _messages({column: value}, column, where)
    return _string({column: value}, column, where, target)


# ---- writing ------------------------------------------------------------------------------

def check_name(name: str) -> str:
    name = (name or "").strip()
    if name.endswith(".jsonl"):
        name = name[:-6]
    if not NAME_RE.match(name):
        raise ImportFailure(f"name must be 1 to 64 letters, digits, '_', '-' or '.', starting "
                           f"with a letter or digit, got {name!r}")
    return name


def target_path(name: str) -> Path:
    return ds.user_datasets_dir() / f"{check_name(name)}.jsonl"


def write(records: list[dict], name: str, fmt: str, replace: bool = False) -> Path:
    """Write records to DATASETS/NAME.jsonl atomically, after core.datasets accepts them."""
    path = target_path(name)
    if path.exists() and not replace:
        raise ImportFailure(f"a dataset named '{check_name(name)}' already exists; choose "
                           "another name or replace it")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as out:
            for rec in records:
                out.write(json.dumps(rec, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
        # .tmp files are not .jsonl, so a listing never shows a half-written one.
        ds.validate_file(tmp, fmt) if fmt in ds._FIELD_TYPES else None
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def import_file(data: bytes | str | Path, name: str, mapping: dict | None = None,
                filename: str | None = None, replace: bool = False) -> tuple[Path, int, dict]:
    """Read, convert and write; returns (path, records, mapping used)."""
    check_name(name)
    table = read(data, filename)
    mapping = mapping or suggest(table)
    records = convert(table, mapping)
    return write(records, name, mapping["format"], replace), len(records), mapping


def parse_map(text: str | None) -> dict[str, str]:
    """'output=answer,instruction=question' (the CLI's --map) as a dict."""
    out = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        target, sep, source = part.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise ImportFailure(f"--map entries look like FIELD=COLUMN, got {part.strip()!r}")
        out[target.strip()] = source.strip()
    return out
