"""Contamination check: word n-gram overlap between training data and a benchmark's items.

The usual decontamination setting: lowercase words (\\w+), 13-grams; a benchmark item that
shares at least one n-gram with any training record is reported with the matching text and
the training records it was found in. Items shorter than n words cannot share an n-gram and
are listed as not checked (never silently as clean).

Light module (stdlib; datasets are read through core.datasets and the shipped samples, no
media decoded): the CLI, the Training form and the job processes call it.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

NGRAM = 13
MAX_TEXT = 400  # characters of matching text kept per item
MAX_RECORDS = 5  # training record numbers kept per item
_WORD = re.compile(r"\w+")

# How each non-code benchmark names its items (as core.benchmarks.data does) and which
# fields hold its text; media fields are never read.
_ID_FIELDS = {"textvqa": "question_id", "docvqa": "questionId", "chartqa": "id",
              "mmstar": "index", "librispeech": "id", "commonvoice": "path", "xlam": "id"}
_SKIP_FIELDS = {"image", "audio", "flickr_original_url", "flickr_300k_url", "file", "path",
                "client_id", "ocr_tokens", "question_tokens", "image_classes"}


class ContaminationError(ValueError):
    """A training source or benchmark that cannot be read; one sentence."""


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def ngrams(tokens: list[str], n: int) -> Iterator[tuple[str, ...]]:
    for i in range(len(tokens) - n + 1):
        yield tuple(tokens[i:i + n])


def record_text(record: dict) -> str:
    """Every string in a record (nested lists and dicts too), media fields left out."""
    parts: list[str] = []

    def walk(value) -> None:
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                if k not in _SKIP_FIELDS:
                    walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(record)
    return "\n".join(parts)


# ---- sources --------------------------------------------------------------------------------


def benchmark_items(name: str, source: str = "auto") -> list[tuple[str, str]]:
    """(item id, text) for every item of a benchmark: the prompt and the reference answer.
    `source` as in core.datasets.load_records ("sample" never touches the hub or `datasets`)."""
    from core.benchmarks import catalogue

    try:
        bench = catalogue.get(name)
    except ValueError as exc:
        raise ContaminationError(f"--benchmark: {exc}") from None
    if bench.type_info.verified:  # programming problems live in core.datasets
        from core import datasets

        records = datasets.load_records(bench.name, source=source).records
        return [(str(r.get("task_id", r.get("question_id", i))), record_text(r))
                for i, r in enumerate(records)]
    return [(str(r.get(_ID_FIELDS.get(bench.name, "id"), i)), record_text(r))
            for i, r in enumerate(_sample_rows(bench))]


def _sample_rows(bench) -> list[dict]:
    from core import jsonl

    path = bench.sample_path
    if path is None or not path.is_file():
        raise ContaminationError(f"{bench.name}: no item text available offline ({path})")
    return jsonl.read(path, error=ContaminationError)


def training_texts(train: str, limit: int | None = None, source: str = "auto") -> tuple[str, list[str]]:
    """(resolved name, one text per record) of a catalogue dataset or a .jsonl/.json file."""
    from core import datasets

    try:
        loaded = datasets.load_records(train, limit=limit, source=source)
    except datasets.DatasetError as exc:
        raise ContaminationError(f"--train: {exc}") from None
    except ValueError as exc:
        raise ContaminationError(f"--train: {exc}") from None
    return loaded.name, [record_text(r) for r in loaded.records]


# ---- the check ------------------------------------------------------------------------------


@dataclass
class Overlap:
    id: str
    ngrams: int  # distinct n-grams of the item found in the training data
    fraction: float  # of the item's distinct n-grams
    text: str  # the longest matching stretch of the item, in its words
    train_records: list[int] = field(default_factory=list)  # 1-based record numbers


@dataclass
class Report:
    benchmark: str
    train: str
    ngram: int
    items: int
    checked: int
    train_records: int
    overlapping: list[Overlap]
    too_short: list[str]

    @property
    def contaminated(self) -> bool:
        return bool(self.overlapping)

    def to_dict(self) -> dict:
        return {**asdict(self), "contaminated": self.contaminated, "summary": self.summary()}

    def summary(self) -> str:
        head = (f"{len(self.overlapping)} of {self.checked} {self.benchmark} items share a "
                f"{self.ngram}-gram with {self.train} ({self.train_records} records)")
        if self.overlapping:
            ids = ", ".join(o.id for o in self.overlapping[:8])
            head += f": {ids}{', ...' if len(self.overlapping) > 8 else ''}"
        if self.too_short:
            head += f"; {len(self.too_short)} items shorter than {self.ngram} words not checked"
        return head


def check(train_texts: Iterable[str], items: list[tuple[str, str]], n: int = NGRAM,
          benchmark: str = "", train: str = "") -> Report:
    """Which benchmark items share a word n-gram with any training text."""
    if n < 1:
        raise ContaminationError(f"--ngram must be at least 1, got {n}")
    index: dict[tuple[str, ...], list[int]] = {}
    tokens_of: list[list[str]] = []
    too_short = []
    for pos, (item_id, text) in enumerate(items):
        toks = words(text)
        tokens_of.append(toks)
        if len(toks) < n:
            too_short.append(item_id)
        for g in set(ngrams(toks, n)):
            index.setdefault(g, []).append(pos)
    hits: dict[int, set[tuple[str, ...]]] = {}
    records: dict[int, list[int]] = {}
    count = 0
    for number, text in enumerate(train_texts, start=1):
        count += 1
        seen_here: set[int] = set()
        for g in ngrams(words(text), n):
            for pos in index.get(g, ()):
                hits.setdefault(pos, set()).add(g)
                seen_here.add(pos)
        for pos in seen_here:
            kept = records.setdefault(pos, [])
            if len(kept) < MAX_RECORDS:
                kept.append(number)
    overlapping = []
    for pos in sorted(hits):
        item_id, toks = items[pos][0], tokens_of[pos]
        total = len(set(ngrams(toks, n)))
        overlapping.append(Overlap(item_id, len(hits[pos]), round(len(hits[pos]) / total, 4),
                                   _matching_text(toks, hits[pos], n), records.get(pos, [])))
    return Report(benchmark, train, n, len(items), len(items) - len(too_short), count,
                  overlapping, too_short)


def _matching_text(tokens: list[str], grams: set[tuple[str, ...]], n: int) -> str:
    """The longest run of the item's words covered by matching n-grams."""
    covered = [False] * len(tokens)
    for i in range(len(tokens) - n + 1):
        if tuple(tokens[i:i + n]) in grams:
            for j in range(i, i + n):
                covered[j] = True
    best, start = (0, 0), None
    for i, c in enumerate(covered + [False]):
        if c and start is None:
            start = i
        elif not c and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    text = " ".join(tokens[best[0]:best[1]])
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + " ..."


def run_check(train: str, benchmark: str, n: int = NGRAM, limit: int | None = None) -> Report:
    """`halo-forge contamination --train TRAIN --benchmark NAME`: load both and check."""
    name, texts = training_texts(train, limit)
    return check(texts, benchmark_items(benchmark), n, benchmark, name)


def run_checks(train: str, benchmarks: Iterable[str], n: int = NGRAM,
               source: str = "auto") -> list[dict]:
    """One report (as plain data) per benchmark, reading the training data once. Pages pass
    source="sample": catalogue data then comes from the shipped samples, so the UI process
    never imports `datasets` or waits on the hub (the job's own check reads what it trains on)."""
    name, texts = training_texts(train, source=source)
    return [check(texts, benchmark_items(b, source), n, b, name).to_dict() for b in benchmarks]


TRAINING_KINDS = ("sft", "raft")


def training_source_of(model_dir: str | Path | None) -> str | None:
    """The training data of an adapter or model that a halo-forge training job wrote: the
    job's data.dataset, found through the job.json of the job directory above it
    (JOB_DIR/output/adapter, JOB_DIR/output/checkpoint-N). None when it was not trained
    here or was written outside its job directory (training.output_dir elsewhere)."""
    import json

    if not model_dir:
        return None
    path = Path(model_dir).expanduser()
    for parent in [path, *list(path.parents)[:3]]:
        spec = parent / "job.json"
        if spec.is_file():
            try:
                data = json.loads(spec.read_text())
            except (OSError, ValueError):
                return None
            if data.get("kind") not in TRAINING_KINDS:
                return None
            dataset = ((data.get("config") or {}).get("data") or {}).get("dataset")
            return str(dataset) if dataset else None
    return None


def short_summary(report: dict) -> str:
    """"3/164" style cell for tables: overlapping of checked items."""
    return f"{len(report.get('overlapping') or [])}/{report.get('checked', 0)}"


def write(path: str | Path, reports: list[dict]) -> Path:
    import json

    path = Path(path)
    path.write_text(json.dumps(reports, indent=2) + "\n")
    return path
