"""Item-level scores of a benchmark run and paired comparisons of two runs.

A benchmark job writes one line per completion to samples.jsonl (the result row's
details_path): code rows carry `passed` per sample, scored rows (VLM, audio, agentic) carry
`scores`. Here they become one value per item and metric, so two runs compare item by item
(core.stats) on the items both scored, and every score gets its own interval.

Light module (numpy, no torch): the Results page and `halo-forge results compare` call it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core import jsonl, stats
from core.benchmarks.metrics import pass_at_k

# Corpus-level rates: per item (edits, reference length); the score is a ratio of sums.
RATIO_METRICS = {"wer": ("word_errors", "ref_words"), "cer": ("char_errors", "ref_chars")}


class ComparisonError(ValueError):
    """Two runs that cannot be compared, or a run without item-level details; one sentence."""


@dataclass(frozen=True)
class ItemScores:
    metric: str
    values: dict[str, float]  # item id -> value (for ratio metrics: the numerator)
    weights: dict[str, float] | None = None  # item id -> denominator (ratio metrics only)

    def __len__(self) -> int:
        return len(self.values)

    def per_item(self, item: str) -> float:
        """The item's own score (for ratio metrics, its own rate)."""
        if self.weights is None:
            return self.values[item]
        w = self.weights[item]
        return self.values[item] / w if w else float(self.values[item] > 0)


# ---- reading a run's details ----------------------------------------------------------------

_CACHE: dict[str, tuple[float, list[dict]]] = {}


def read_details(path: str | Path | None) -> list[dict]:
    """The rows of a run's samples.jsonl (cached on the file's modification time)."""
    if not path:
        raise ComparisonError("this result has no per-item details (details_path is empty)")
    p = Path(path)
    try:
        mtime = os.stat(p).st_mtime
    except OSError:
        raise ComparisonError(f"per-item details not found: {p}") from None
    hit = _CACHE.get(str(p))
    if hit and hit[0] == mtime:
        return hit[1]
    try:
        rows = jsonl.read(p, error=ComparisonError)
    except UnicodeDecodeError:
        raise ComparisonError(f"{p.name} is not UTF-8 text") from None
    if len(_CACHE) > 64:
        _CACHE.clear()
    _CACHE[str(p)] = (mtime, rows)
    return rows


def _keyed(rows: list[dict]) -> list[tuple[str, dict]]:
    """(item key, row): the id, with "#2", "#3" for repeats of an id in scored rows."""
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        base = str(row.get("id"))
        seen[base] = seen.get(base, 0) + 1
        out.append((base if seen[base] == 1 else f"{base}#{seen[base]}", row))
    return out


def is_code(rows: list[dict]) -> bool:
    return bool(rows) and "passed" in rows[0] and "scores" not in rows[0]


def metrics_of(rows: list[dict]) -> list[str]:
    """The metrics that can be scored per item from these rows."""
    if not rows:
        return []
    if is_code(rows):
        n = min(_code_counts(rows).values(), key=lambda t: t[0], default=(0, 0))[0]
        return ["pass@1"] + [f"pass@{k}" for k in (5, 10, 100) if k <= n] if n else []
    names: list[str] = []
    for row in rows:
        for key in (row.get("scores") or {}):
            if key not in names:
                names.append(key)
    ratio_parts = {p for parts in RATIO_METRICS.values() for p in parts}
    return [n for n in names if n not in ratio_parts]


def _code_counts(rows: list[dict]) -> dict[str, tuple[int, int]]:
    """Item id -> (samples, passed); rows of a stopped run (passed None) are left out."""
    counts: dict[str, list[int]] = {}
    for row in rows:
        if row.get("passed") is None:
            continue
        c = counts.setdefault(str(row.get("id")), [0, 0])
        c[0] += 1
        c[1] += bool(row["passed"])
    return {k: (n, c) for k, (n, c) in counts.items()}


def item_scores(rows: list[dict], metric: str) -> ItemScores:
    """One value per item for `metric` (pass@k per problem from its n samples)."""
    if is_code(rows):
        if not metric.startswith("pass@") or not metric[5:].isdigit():
            raise ComparisonError(f"code runs are scored by pass@k, not {metric!r}")
        k = int(metric[5:])
        counts = _code_counts(rows)
        return ItemScores(metric, {i: pass_at_k(n, c, k) for i, (n, c) in counts.items() if k <= n})
    values: dict[str, float] = {}
    weights: dict[str, float] | None = {} if metric in RATIO_METRICS else None
    for key, row in _keyed(rows):
        scores = row.get("scores") or {}
        if weights is not None:
            num, den = RATIO_METRICS[metric]
            if num in scores and den in scores:
                values[key], weights[key] = float(scores[num]), float(scores[den])
        elif scores.get(metric) is not None:
            values[key] = float(scores[metric])
    if not values:
        raise ComparisonError(f"no per-item {metric} in these details")
    return ItemScores(metric, values, weights)


# ---- one score, two runs --------------------------------------------------------------------


def score_interval(rows: list[dict], metric: str, **kw) -> stats.Interval:
    s = item_scores(rows, metric)
    ids = list(s.values)
    weights = [s.weights[i] for i in ids] if s.weights is not None else None
    return stats.interval([s.values[i] for i in ids], weights, **kw)


def higher_is_better(metric: str) -> bool:
    """Every benchmark metric is higher-is-better except the error rates."""
    return metric not in RATIO_METRICS


def compare_rows(rows_a: list[dict], rows_b: list[dict], metric: str, **kw) -> dict:
    """Paired comparison of B against A on the items both scored.

    Returns plain data: n_a, n_b, n (common items), the core.stats.Paired fields, significant,
    sentence, and a note when the item sets differ."""
    sa, sb = item_scores(rows_a, metric), item_scores(rows_b, metric)
    common = [i for i in sa.values if i in sb.values]
    if not common:
        raise ComparisonError(f"the two runs share no items ({len(sa)} and {len(sb)} items, "
                              "none with the same id)")
    weights = None
    if sa.weights is not None:
        # The reference is the same text for both runs; its length comes from run A.
        weights = [sa.weights[i] for i in common]
    result = stats.paired([sa.values[i] for i in common], [sb.values[i] for i in common],
                          weights, **kw)
    out = {"metric": metric, "n_a": len(sa), "n_b": len(sb), **result.to_dict()}
    if len(common) != len(sa) or len(common) != len(sb):
        out["note"] = (f"compared on the {len(common)} items both runs scored "
                       f"(A has {len(sa)}, B has {len(sb)})")
    return out


def changed_items(rows_a: list[dict], rows_b: list[dict], metric: str,
                  better_high: bool = True) -> dict[str, list[dict]]:
    """Items whose score moved between A and B: {"worse": [...], "better": [...]}, biggest
    moves first. For 0/1 scores these are the pass -> fail and fail -> pass flips. Each entry
    holds the id, both scores and both runs' rows for that item (every sample)."""
    sa, sb = item_scores(rows_a, metric), item_scores(rows_b, metric)
    by_a, by_b = rows_by_item(rows_a), rows_by_item(rows_b)
    out: dict[str, list[dict]] = {"worse": [], "better": []}
    for item in sa.values:
        if item not in sb.values:
            continue
        va, vb = sa.per_item(item), sb.per_item(item)
        if va == vb:
            continue
        gain = (vb - va) if better_high else (va - vb)
        out["better" if gain > 0 else "worse"].append(
            {"id": item, "a": va, "b": vb, "change": vb - va,
             "rows_a": by_a.get(item, []), "rows_b": by_b.get(item, [])})
    for side in out.values():
        side.sort(key=lambda e: -abs(e["change"]))
    return out


def rows_by_item(rows: list[dict]) -> dict[str, list[dict]]:
    """Item key -> its rows (every sample of a code item; the one row of a scored item)."""
    if is_code(rows):
        grouped: dict[str, list[dict]] = {}
        for row in rows:
            grouped.setdefault(str(row.get("id")), []).append(row)
        return grouped
    return {key: [row] for key, row in _keyed(rows)}


# ---- runs in the ledger ---------------------------------------------------------------------


def job_results(job_id: int) -> list[dict]:
    """The result rows of one benchmark job (one per benchmark of a suite), oldest first."""
    from core import ledger

    df = ledger.results_df()
    if df.empty or "job_id" not in df:
        return []
    rows = df[df["job_id"] == int(job_id)].sort_values("id")
    return [{k: v for k, v in r.items()} for r in rows.to_dict("records")]


def compare_jobs(job_a: int, job_b: int, metric: str | None = None, **kw) -> list[dict]:
    """One paired comparison per benchmark both jobs ran, on its primary metric (or `metric`).

    Each entry: benchmark, job_a, job_b, model_a, model_b, and compare_rows' fields."""
    ra, rb = job_results(job_a), job_results(job_b)
    if not ra:
        raise ComparisonError(f"job {job_a} has no benchmark result")
    if not rb:
        raise ComparisonError(f"job {job_b} has no benchmark result")
    by_b = {r["benchmark"]: r for r in rb}
    out = []
    for a in ra:
        b = by_b.get(a["benchmark"])
        if b is None:
            continue
        name = metric or a.get("primary_metric") or "pass@1"
        entry = compare_rows(read_details(a.get("details_path")), read_details(b.get("details_path")),
                             name, **kw)
        out.append({"benchmark": a["benchmark"], "job_a": int(job_a), "job_b": int(job_b),
                    "result_a": int(a["id"]), "result_b": int(b["id"]),
                    "model_a": a["model"], "model_b": b["model"],
                    "higher_is_better": higher_is_better(name), **entry})
    if not out:
        raise ComparisonError(f"jobs {job_a} and {job_b} share no benchmark "
                              f"({', '.join(r['benchmark'] for r in ra)} vs "
                              f"{', '.join(r['benchmark'] for r in rb)})")
    return out


def describe(entry: dict) -> str:
    """One line: "humaneval pass@1: 30.0% -> 34.3%, Δ +4.3 pts [...], p = 0.21, ..."."""
    direction = "" if entry.get("higher_is_better", True) else " (lower is better)"
    line = (f"{entry['benchmark']} {entry['metric']}{direction}: {entry['a']:.1%} \u2192 "
            f"{entry['b']:.1%}, {entry['sentence']}")
    if entry.get("note"):
        line += f"; {entry['note']}"
    return line
