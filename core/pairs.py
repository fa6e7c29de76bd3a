"""Preference pairs from verdicts: a passing completion as chosen, a failing one as rejected.

A RAFT run keeps every sample with its verdict (JOB_DIR/cycles/cycle_N.jsonl), a GRPO run
every scored completion (JOB_DIR/samples.jsonl), a benchmark every completion
(OUTPUT/samples.jsonl). For each prompt with at least one pass and one failure we write
`per_prompt` pairs in the preference schema DPO reads (prompt, chosen, rejected as strings),
plus where they came from (task_id, job, statuses).

Only verdicts that judged the completion count: a pass is status "pass"; a failure is
fail / error / timeout / compile_error. "toolchain_missing" and "not verified" (stopped
before it ran) say nothing about the completion and are skipped.

LIGHT module (stdlib + the ledger): the CLI and the Datasets page call it.
"""
from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

FAILED = ("fail", "error", "timeout", "compile_error")
KINDS = ("raft", "grpo", "benchmark")


@dataclass
class Scored:
    key: str  # what identifies the prompt (task id, else the prompt text)
    prompt: str
    completion: str
    passed: bool
    status: str
    origin: str  # file:line


@dataclass
class PairsReport:
    path: Path
    pairs: int
    prompts: int  # prompts seen
    prompts_paired: int
    samples: int
    skipped: int  # samples whose verdict says nothing about the completion

    def summary(self) -> str:
        return (f"{self.pairs} pairs from {self.prompts_paired} of {self.prompts} prompts "
                f"({self.samples} verified samples, {self.skipped} skipped) -> {self.path}")


class PairsError(ValueError):
    """The job cannot give pairs: the message says why in one sentence."""


def sample_files(job: dict) -> list[Path]:
    """Where a finished job keeps its verified samples, oldest first."""
    kind = job.get("kind")
    if kind not in KINDS:
        raise PairsError(f"job {job.get('id')} is a {kind} job; pairs come from {', '.join(KINDS)} jobs")
    job_dir = Path(job.get("job_dir") or "")
    if kind == "raft":
        files = sorted((job_dir / "cycles").glob("cycle_*.jsonl"), key=lambda p: int(p.stem.split("_")[1]))
    elif kind == "grpo":
        files = [job_dir / "samples.jsonl"]
    else:
        cfg = job.get("config")
        cfg = json.loads(cfg) if isinstance(cfg, str) else (cfg or {})
        out = Path(cfg.get("output_dir") or job_dir)
        files = [out / "samples.jsonl"]
    files = [f for f in files if f.is_file()]
    if not files:
        raise PairsError(f"job {job.get('id')} has no verified samples yet (looked in {job_dir})")
    return files


def read_scored(files: list[Path]) -> tuple[list[Scored], int]:
    """Samples whose verdict judged the completion, and how many others were skipped."""
    out, skipped = [], 0
    for path in files:
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    raise PairsError(f"{path.name} line {n}: invalid JSON") from None
                text = row.get("completion", row.get("output"))
                passed, status = row.get("passed"), str(row.get("status", ""))
                if not isinstance(text, str) or passed is None or not row.get("prompt"):
                    skipped += 1
                    continue
                if "not verified" in str(row.get("message", "")) or (not passed and status not in FAILED):
                    skipped += 1
                    continue
                if passed and status and status != "pass":
                    skipped += 1  # a verdict that contradicts itself is no evidence
                    continue
                key = str(row.get("task_id", row.get("id", row["prompt"])))
                out.append(Scored(key, row["prompt"], text, bool(passed), status or ("pass" if passed else "fail"),
                                  f"{path.name}:{n}"))
    return out, skipped


def build_pairs(samples: list[Scored], *, per_prompt: int = 1, seed: int = 0) -> list[dict]:
    """Up to `per_prompt` (pass, fail) pairs per prompt; distinct completions first, picked
    with `seed` so the first samples are not favoured."""
    rng = random.Random(seed)
    by_key: dict[str, list[Scored]] = {}
    for s in samples:
        by_key.setdefault(s.key, []).append(s)
    pairs = []
    for key, group in by_key.items():
        good = _distinct([s for s in group if s.passed], rng)
        bad = _distinct([s for s in group if not s.passed], rng)
        for c, r in list(zip(good, bad))[:per_prompt]:
            pairs.append({
                "prompt": c.prompt, "chosen": c.completion, "rejected": r.completion,
                "task_id": key, "chosen_status": c.status, "rejected_status": r.status,
                "chosen_from": c.origin, "rejected_from": r.origin,
            })
    return pairs


def _distinct(group: list[Scored], rng: random.Random) -> list[Scored]:
    rng.shuffle(group)
    seen, first, rest = set(), [], []
    for s in group:
        (rest if s.completion in seen else first).append(s)
        seen.add(s.completion)
    return first + rest


def write_pairs(job: dict, out: str | os.PathLike, *, per_prompt: int = 1, seed: int = 0) -> PairsReport:
    """Build pairs from a job's samples and write them as JSONL (atomically) to `out`."""
    if per_prompt < 1:
        raise PairsError(f"per_prompt must be at least 1, got {per_prompt}")
    samples, skipped = read_scored(sample_files(job))
    pairs = build_pairs(samples, per_prompt=per_prompt, seed=seed)
    if not pairs:
        raise PairsError(f"job {job.get('id')}: no prompt has both a passing and a failing sample "
                         f"({len(samples)} verified samples), so there is no pair to write")
    path = Path(out).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs), encoding="utf-8")
    os.replace(tmp, path)
    return PairsReport(path, len(pairs), len({s.key for s in samples}), len({p["task_id"] for p in pairs}),
                       len(samples), skipped)


def pairs_from_job(job_id: int, out: str | os.PathLike, *, per_prompt: int = 1, seed: int = 0) -> PairsReport:
    """`halo-forge datasets pairs --from-job ID --out F` and the Datasets page button."""
    from core import ledger

    job = ledger.get_job(int(job_id))
    if job is None:
        raise PairsError(f"--from-job: no job {job_id}")
    return write_pairs(job, out, per_prompt=per_prompt, seed=seed)


def candidate_jobs(limit: int = 100) -> list[dict]:
    """Finished jobs that may hold verified samples, newest first (for the Datasets page)."""
    from core import ledger

    return [j for j in ledger.list_jobs(kinds=KINDS, limit=limit) if j.get("status") in ("COMPLETED", "STOPPED")]


def pairs_to_datasets(job_id: int, name: str, *, per_prompt: int = 1, replace: bool = False) -> PairsReport:
    """The Datasets page button: pairs into the user's datasets folder as NAME.jsonl, where
    Training's DPO tab lists them."""
    from core import dataimport

    path = dataimport.target_path(name)  # checks the name
    if path.exists() and not replace:
        raise PairsError(f"a dataset named '{path.stem}' already exists; choose another name or replace it")
    return pairs_from_job(job_id, path, per_prompt=per_prompt)


def job_label(job: dict) -> str:
    return f"#{job['id']} {job.get('name') or ''} ({job['kind']}, {job['status'].lower()})"
