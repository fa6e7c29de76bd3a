"""Benchmark items: records from the hub (by name, when online) or from our shipped samples.

Records keep their dataset's own schema; `Item` adds what a runner needs (prompt, references,
decoded image or audio). Imports PIL and numpy; `datasets` only when the hub is used.
"""
from __future__ import annotations

import json
import wave
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Callable

import numpy as np

from core.benchmarks import metrics
from core.benchmarks.catalogue import MEDIA, Benchmark

AUDIO_RATE = 16_000
VQA_SUFFIX = "\nAnswer the question using a single word or phrase."
MC_SUFFIX = "\nAnswer with the option's letter from the given choices directly."

Log = Callable[[str], None]


class BenchmarkDataError(ValueError):
    """A benchmark record or sample file is unusable; the message names the record and field."""


@dataclass
class Item:
    id: str
    prompt: str
    reference: Any
    record: dict  # JSON-safe copy of the source record (no pixels or samples)
    image: Any = None  # PIL.Image (RGB)
    audio: np.ndarray | None = None  # float32 mono at AUDIO_RATE
    extra: dict = field(default_factory=dict)


@dataclass
class Loaded:
    items: list[Item]
    source: str  # "hub" | "sample" | "package"
    note: str | None = None


# ---------------------------------------------------------------------------- loading


def load(bench: Benchmark, limit: int | None = None, log: Log = print) -> Loaded:
    """Items of a benchmark: the hub when online, else our shipped sample (with a note)."""
    if bench.type_info.verified:  # programming problems live in core.datasets
        return _load_code(bench, limit, log)
    from core.datasets import is_offline  # the one offline test the project shares

    if is_offline():
        loaded = _from_sample(bench, limit)
        loaded.note = (f"offline: using the shipped sample of {bench.title} "
                       f"({len(loaded.items)} items, data/benchmarks/{bench.sample})")
    else:
        try:
            loaded = Loaded(_from_hub(bench, limit), "hub")
        except Exception as exc:  # gated, missing, network: say why, then use the sample
            loaded = _from_sample(bench, limit)
            loaded.note = (f"could not load {bench.hub_path} from the hub "
                           f"({type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}); "
                           f"using the shipped sample ({len(loaded.items)} items)")
    if loaded.note:
        log(f"note: {loaded.note}")
    return loaded


def _load_code(bench: Benchmark, limit: int | None, log: Log) -> Loaded:
    from core import datasets

    ds = datasets.load_records(bench.name, limit=limit, source="auto")
    if ds.note:
        log(f"note: {ds.note}")
    items = [code_item(bench, r, i) for i, r in enumerate(ds.records)]
    return Loaded(items, ds.source, ds.note)


def _from_hub(bench: Benchmark, limit: int | None) -> list[Item]:
    import datasets

    ds = datasets.load_dataset(bench.hub_path, bench.hub_config, split=bench.hub_split,
                               streaming=True)
    if bench.type_info.media == "audio":
        ds = ds.cast_column("audio", datasets.Audio(sampling_rate=AUDIO_RATE))
    rows = islice(ds, limit) if limit else ds
    return [make_item(bench, dict(row), i, base=None) for i, row in enumerate(rows)]


def _from_sample(bench: Benchmark, limit: int | None) -> Loaded:
    path = bench.sample_path
    if path is None or not path.is_file():
        raise BenchmarkDataError(f"{bench.name}: no shipped sample at {path}")
    from core import jsonl

    items = []
    for number, row in jsonl.iter_records(path, error=BenchmarkDataError):
        items.append(make_item(bench, row, len(items), base=path.parent, where=f"{path.name} line {number}"))
        if limit and len(items) >= limit:
            break
    return Loaded(items, "sample")


# ---------------------------------------------------------------------------- media


def open_image(value: Any, base: Path | None):
    """A PIL RGB image from a datasets Image value, {"path"}/{"bytes"} dict or a path."""
    import io

    from PIL import Image

    if hasattr(value, "convert"):
        return value.convert("RGB")
    if isinstance(value, dict):
        if value.get("bytes"):
            return Image.open(io.BytesIO(value["bytes"])).convert("RGB")
        value = value.get("path")
    if isinstance(value, str) and value:
        path = Path(value)
        if not path.is_absolute() and base is not None:
            path = base / path
        with Image.open(path) as img:
            return img.convert("RGB")
    raise BenchmarkDataError(f"unreadable image value of type {type(value).__name__}")


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise BenchmarkDataError(f"{path.name}: only 16-bit PCM WAV is supported")
        rate, channels = w.getframerate(), w.getnchannels()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0
    if channels > 1:
        x = x.reshape(-1, channels).mean(axis=1)
    return x, rate


def resample(x: np.ndarray, rate: int, target: int = AUDIO_RATE) -> np.ndarray:
    """Band-limited resampling through the FFT."""
    if rate == target:
        return x.astype(np.float32)
    n_out = int(round(len(x) * target / rate))
    y = np.fft.irfft(np.fft.rfft(x)[: n_out // 2 + 1], n=n_out) * (n_out / len(x))
    return y.astype(np.float32)


def open_audio(value: Any, base: Path | None) -> np.ndarray:
    """Float32 mono samples at 16 kHz from a datasets Audio value (dict with array, or a
    decoder object), a {"path"} dict or a WAV path."""
    if hasattr(value, "get_all_samples"):  # datasets >= 4 decodes through torchcodec
        samples = value.get_all_samples()
        x = samples.data.numpy()
        x = x.mean(axis=0) if x.ndim > 1 else x
        return resample(x.astype(np.float32), int(samples.sample_rate))
    if isinstance(value, dict) and value.get("array") is not None:
        return resample(np.asarray(value["array"], dtype=np.float32), int(value["sampling_rate"]))
    path = value.get("path") if isinstance(value, dict) else value
    if isinstance(path, str) and path:
        p = Path(path)
        if not p.is_absolute() and base is not None:
            p = base / p
        x, rate = read_wav(p)
        return resample(x, rate)
    raise BenchmarkDataError(f"unreadable audio value of type {type(value).__name__}")


def _plain(row: dict) -> dict:
    """The record without pixels or samples, for samples.jsonl."""
    out = {}
    for key, value in row.items():
        if key in MEDIA:
            path = value.get("path") if isinstance(value, dict) else getattr(value, "filename", None)
            out[key] = {"path": path} if path else None
        elif isinstance(value, (str, int, float, bool, list, dict)) or value is None:
            out[key] = value
        else:
            out[key] = str(value)
    return out


# ---------------------------------------------------------------------------- items


def _need(row: dict, where: str, *names: str) -> Any:
    for name in names:
        if name in row and row[name] is not None:
            return row[name]
    raise BenchmarkDataError(f"{where}: missing field '{names[0]}'")


def make_item(bench: Benchmark, row: dict, index: int, base: Path | None, where: str | None = None) -> Item:
    where = where or f"{bench.name} record {index + 1}"
    builder = _BUILDERS.get(bench.name)
    if builder is None:
        raise BenchmarkDataError(f"{bench.name}: no item builder")
    item = builder(row, index, base, where)
    if base is not None:  # shipped media: record where it lies, from the repository root
        for key in MEDIA:
            value = item.record.get(key)
            if isinstance(value, dict) and value.get("path"):
                value["path"] = _repo_relative(base / value["path"])
    return item


def _repo_relative(path: Path) -> str:
    from core.paths import REPO_ROOT

    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path.resolve())


def _vqa(id_field: str, question_field: str, answers_field: str):
    def build(row: dict, index: int, base: Path | None, where: str) -> Item:
        question = _need(row, where, question_field, "question")
        answers = _need(row, where, answers_field, "answer")
        answers = [answers] if isinstance(answers, str) else [str(a) for a in answers]
        if not answers:
            raise BenchmarkDataError(f"{where}: field '{answers_field}' is empty")
        return Item(id=str(row.get(id_field, index)), prompt=question + VQA_SUFFIX,
                    reference=answers, record=_plain(row),
                    image=open_image(_need(row, where, "image"), base),
                    extra={"question": question})
    return build


def _mmstar(row: dict, index: int, base: Path | None, where: str) -> Item:
    question = _need(row, where, "question")
    answer = str(_need(row, where, "answer")).strip().upper()
    options = metrics.parse_options(question)
    if answer not in "ABCDEFGH" or len(answer) != 1:
        raise BenchmarkDataError(f"{where}: field 'answer' must be an option letter, got {answer!r}")
    return Item(id=str(row.get("index", index)), prompt=question + MC_SUFFIX, reference=answer,
                record=_plain(row), image=open_image(_need(row, where, "image"), base),
                extra={"options": options})


def _asr(text_field: str, id_field: str):
    def build(row: dict, index: int, base: Path | None, where: str) -> Item:
        text = _need(row, where, text_field)
        return Item(id=str(row.get(id_field, index)), prompt="", reference=str(text),
                    record=_plain(row), audio=open_audio(_need(row, where, "audio"), base))
    return build


def _xlam(row: dict, index: int, base: Path | None, where: str) -> Item:
    query = _need(row, where, "query")
    try:
        tools = json.loads(row["tools"]) if isinstance(row.get("tools"), str) else row.get("tools")
        answers = json.loads(row["answers"]) if isinstance(row.get("answers"), str) else row.get("answers")
    except json.JSONDecodeError as exc:
        raise BenchmarkDataError(f"{where}: field 'tools' or 'answers' is not valid JSON ({exc.msg})") from None
    if not isinstance(tools, list) or not isinstance(answers, list):
        raise BenchmarkDataError(f"{where}: fields 'tools' and 'answers' must hold JSON lists")
    return Item(id=str(row.get("id", index)), prompt=query, reference=answers, record=_plain(row),
                extra={"tools": tools})


_BUILDERS = {
    "textvqa": _vqa("question_id", "question", "answers"),
    "docvqa": _vqa("questionId", "question", "answers"),
    "chartqa": _vqa("id", "query", "label"),
    "mmstar": _mmstar,
    "librispeech": _asr("text", "id"),
    "commonvoice": _asr("sentence", "path"),
    "xlam": _xlam,
}


def code_item(bench: Benchmark, record: dict, index: int) -> Item:
    from core import datasets

    task = record.get("task_id", record.get("question_id", index))
    return Item(id=str(task), prompt=datasets.to_prompt(bench.name, record), reference=None,
                record=record)
