"""Read-side of results: the benchmark results table, comparisons, exports, and training-run
comparison (curves and config diff).

The Results page and `halo-forge results` both call these; nothing here writes the ledger.
Light module: pandas only, imported inside the functions that build frames.
"""
from __future__ import annotations

import csv
import io
import json
import math
from typing import Any, Iterable

from core import kinds, ledger, monitor

# Columns the table always has, in this order; benchmark-specific metrics go between the
# pass@k columns and "Primary metric".
LEAD_COLUMNS = ["ID", "Job", "Model", "Benchmark", "Pass@1", "Pass@5"]
TAIL_COLUMNS = ["Primary metric", "Primary value", "ci_low", "ci_high", "Samples", "Duration (s)",
                "Energy (Wh)", "Peak memory (MiB)", "Data", "Overlap", "Date", "Model path"]
FORMATS = ("csv", "json")
# What the Results page draws in a cell with no value (Pass@5 of a benchmark without it, energy
# where no tool reports power, ...). The table keeps such cells missing (NaN/None): numbers stay
# numbers for sorting and formats, and the exports write an empty field and null. Streamlit
# would draw them as the text "None" unless told otherwise (st.dataframe's placeholder).
EMPTY_CELL = "–"
TRAINING_KINDS = (*kinds.training_kinds(), "command")
X_AXES = ("step", "time")


class ResultsError(ValueError):
    """A request the results module cannot honour; one sentence naming the bad value."""


# ---- benchmark results --------------------------------------------------------------------

def table(models: Iterable[str] | None = None, benchmarks: Iterable[str] | None = None):
    """Every benchmark result, newest first, as the Results table shows it.

    Columns: LEAD_COLUMNS, one column per other metric any benchmark reported (e.g. anls,
    accuracy, wer), TAIL_COLUMNS. `models` / `benchmarks` keep only those values (None or
    empty keeps all).
    """
    import pandas as pd

    raw = ledger.results_df()
    if raw.empty:
        return pd.DataFrame(columns=LEAD_COLUMNS + TAIL_COLUMNS)
    extras = [c for c in raw.columns if c not in _RESULT_COLUMNS and c not in ("pass@1", "pass@5")]
    df = pd.DataFrame({
        "ID": raw["id"].astype(int),
        "Job": raw["job_id"].astype("Int64"),
        "Model": raw["model"].map(model_label),
        "Benchmark": raw["benchmark"],
        "Pass@1": raw["pass_at_1"].astype(float),
        "Pass@5": raw["pass_at_5"].astype(float),
    })
    for col in sorted(extras):
        df[col] = pd.to_numeric(raw[col], errors="coerce")
    df["Primary metric"] = raw["primary_metric"]
    df["Primary value"] = raw["primary_value"].astype(float)
    bounds = [primary_interval(r.get("details_path"), r.get("primary_metric"))
              for r in raw[["details_path", "primary_metric"]].to_dict("records")]
    df["ci_low"] = [b[0] for b in bounds]
    df["ci_high"] = [b[1] for b in bounds]
    df["Samples"] = raw["samples"].astype(int)
    df["Duration (s)"] = raw["duration_s"].astype(float)
    usage = _job_usage([int(j) for j in raw["job_id"].dropna()])
    # Empty (NaN, null in JSON) where the GPU tools reported nothing: not reported, not 0.
    df["Energy (Wh)"] = [usage.get(j, (None, None))[0] for j in raw["job_id"]]
    df["Peak memory (MiB)"] = [usage.get(j, (None, None))[1] for j in raw["job_id"]]
    df[["Energy (Wh)", "Peak memory (MiB)"]] = df[["Energy (Wh)", "Peak memory (MiB)"]].astype(float)
    df["Data"] = raw["source"] if "source" in raw else None
    df["Overlap"] = [overlap_cell(v) for v in raw["overlap"]] if "overlap" in raw else None
    df["Date"] = raw["created_at"].dt.floor("s")
    df["Model path"] = raw["model"]
    return filter_table(df, models, benchmarks)


def stamp() -> tuple[int, int]:
    """What table() depends on in the ledger: (result rows, newest result id). A result is
    written with its job's final transition (energy and peak memory in the same transaction)
    and leaves with its job or a prune, so a page may keep a table while this is unchanged."""
    with ledger.reader() as conn:
        n, newest = conn.execute("SELECT COUNT(*), MAX(id) FROM result").first()
    return int(n or 0), int(newest or 0)


def _job_usage(job_ids: list[int]) -> dict[int, tuple[float | None, float | None]]:
    """(energy_wh, peak_mem_mb) of the jobs that produced results, one query."""
    if not job_ids:
        return {}
    ids = sorted(set(job_ids))
    marks = ",".join(f":j{i}" for i in range(len(ids)))
    with ledger.reader() as conn:
        rows = conn.execute(f"SELECT id, energy_wh, peak_mem_mb FROM job WHERE id IN ({marks})",
                            {f"j{i}": j for i, j in enumerate(ids)}).all()
    return {r[0]: (r[1], r[2]) for r in rows}


# Folder names a training run gives its outputs: on their own they do not say which run.
_GENERIC = {"adapter", "model", "merged", "output", "final", "lora"}


def model_label(name: str) -> str:
    """How a model is shown: hub ids and presets as they are, a model under the halo-forge
    models folder by its name there (so `tiny` and `/home/.../models/tiny` are one model), a
    job's output as "job #6 adapter", any other directory by its folder name."""
    from pathlib import Path

    from core import paths

    text = str(name or "").strip()
    if not text.startswith(("/", "~", ".")):
        return text  # a hub id (Org/Name) or a preset alias
    p = Path(text).expanduser()
    try:
        p = p.resolve()
    except OSError:
        pass
    for root, fmt in ((paths.models_dir(), "{rel}"), (paths.jobs_dir(), "job")):
        try:
            rel = p.relative_to(root.resolve())
        except ValueError:
            continue
        if fmt == "job" and rel.parts and rel.parts[0].isdigit():
            rest = [part for part in rel.parts[1:] if part != "output"]
            return " ".join([f"job #{int(rel.parts[0])}", *rest[-2:]])
        if fmt != "job" and rel.parts:
            return "/".join(rel.parts)
    if p.name in _GENERIC or p.name.startswith(("checkpoint-", "cycle-")):
        return f"{p.parent.name}/{p.name}"
    return p.name or text


_RESULT_COLUMNS = {"id", "job_id", "model", "benchmark", "pass_at_1", "pass_at_5",
                   "primary_metric", "primary_value", "metrics", "samples", "duration_s",
                   "details_path", "source", "created_at", "overlap"}
_INTERVALS: dict[tuple, tuple[float | None, float | None]] = {}


def primary_interval(details_path: str | None, metric: str | None) -> tuple[float | None, float | None]:
    """95 % interval of a result's primary score from its per-item details (Wilson for a
    proportion, bootstrap otherwise); (None, None) when the details are gone or unreadable."""
    import os

    from core import comparison

    if not isinstance(details_path, str) or not details_path or not isinstance(metric, str):
        return None, None
    try:
        key = (details_path, os.stat(details_path).st_mtime, metric)
    except OSError:
        return None, None
    if key not in _INTERVALS:
        try:
            iv = comparison.score_interval(comparison.read_details(details_path), metric)
            _INTERVALS[key] = (iv.low, iv.high)
        except (comparison.ComparisonError, ValueError):
            _INTERVALS[key] = (None, None)
    return _INTERVALS[key]


def overlap_cell(value: Any) -> str | None:
    """The Overlap column: "3/164" (items sharing an n-gram with the adapter's training data
    of the items checked), or None when no check ran."""
    from core import contamination

    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    try:
        data = json.loads(value) if isinstance(value, str) else value
    except json.JSONDecodeError:
        return None
    reports = data if isinstance(data, list) else [data]
    return ", ".join(contamination.short_summary(r) for r in reports if isinstance(r, dict)) or None


def filter_table(df, models: Iterable[str] | None = None, benchmarks: Iterable[str] | None = None):
    models, benchmarks = list(models or []), list(benchmarks or [])
    if models:
        df = df[df["Model"].isin(models)]
    if benchmarks:
        df = df[df["Benchmark"].isin(benchmarks)]
    return df.reset_index(drop=True)


def metric_columns(df) -> list[str]:
    """The score columns of a results table (pass@k and benchmark-specific metrics)."""
    return [c for c in df.columns
            if c not in LEAD_COLUMNS[:4] and c not in TAIL_COLUMNS]


# ---- significance -------------------------------------------------------------------------

COMPARISON_COLUMNS = ["benchmark", "metric", "result_a", "result_b", "model_a", "model_b", "n",
                      "n_a", "n_b", "a", "b", "delta", "ci_low", "ci_high", "p_value", "test",
                      "a_only", "b_only", "significant", "sentence", "note"]


def significance(df) -> list[dict]:
    """Paired comparisons of selected results: each result against the oldest selected result
    of the same benchmark (the baseline, usually the base model), on its primary metric, item
    by item. Entries that cannot be compared carry an `error` sentence instead of figures."""
    from core import comparison

    rows = sorted(records(df), key=lambda r: r["ID"])
    details = _details_paths([r["ID"] for r in rows])
    baseline: dict[str, dict] = {}
    out = []
    for row in rows:
        bench = row["Benchmark"]
        if bench not in baseline:
            baseline[bench] = row
            continue
        base = baseline[bench]
        metric = base.get("Primary metric") or "pass@1"
        entry = {"benchmark": bench, "metric": metric, "result_a": base["ID"],
                 "result_b": row["ID"], "model_a": base["Model"], "model_b": row["Model"]}
        try:
            entry.update(comparison.compare_rows(
                comparison.read_details(details.get(base["ID"])),
                comparison.read_details(details.get(row["ID"])), metric))
            entry["higher_is_better"] = comparison.higher_is_better(metric)
        except comparison.ComparisonError as exc:
            entry["error"] = str(exc)
        out.append(entry)
    return out


def _details_paths(result_ids: Iterable[int]) -> dict[int, str | None]:
    ids = sorted({int(i) for i in result_ids})
    if not ids:
        return {}
    with ledger.reader() as conn:
        rows = conn.execute(f"SELECT id, details_path FROM result WHERE id IN "
                            f"({','.join('?' * len(ids))})", tuple(ids)).all()
    return {r[0]: r[1] if isinstance(r[1], str) and r[1] else None for r in rows}


def details_path(result_id: int) -> str | None:
    """The per-item details file of one result row."""
    return _details_paths([result_id]).get(int(result_id))


def significance_line(entry: dict) -> str:
    """"#12 → #15 humaneval pass@1: Δ +4.3 pts [...], p = 0.21, not significant at 0.05 (n = 164)"."""
    head = f"#{entry['result_a']} \u2192 #{entry['result_b']} {entry['benchmark']} {entry['metric']}"
    if entry.get("error"):
        return f"{head}: not compared ({entry['error']})"
    lower = "" if entry.get("higher_is_better", True) else " (lower is better)"
    line = f"{head}{lower}: {entry['a']:.1%} \u2192 {entry['b']:.1%}, {entry['sentence']}"
    return f"{line}; {entry['note']}" if entry.get("note") else line


def significance_frame(entries: list[dict]):
    """The comparisons as a table (what the significance export holds)."""
    import pandas as pd

    cols = COMPARISON_COLUMNS + (["error"] if any("error" in e for e in entries) else [])
    return pd.DataFrame([{c: e.get(c) for c in cols} for e in entries], columns=cols)


def options(df) -> dict[str, list[str]]:
    """Filter choices: the distinct models and benchmarks of a table, sorted."""
    return {"models": sorted(df["Model"].dropna().unique().tolist()),
            "benchmarks": sorted(df["Benchmark"].dropna().unique().tolist())}


def _plain(value: Any) -> Any:
    """A cell as plain JSON: NaN/NA -> None, timestamps -> ISO 8601, numpy -> Python."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def records(df) -> list[dict]:
    """The rows of a table as plain dicts (what the JSON export holds)."""
    cols = list(df.columns)
    return [{c: _plain(v) for c, v in zip(cols, row)} for row in df.itertuples(index=False)]


def export(df, fmt: str) -> str:
    """The rows of `df` as CSV (header + one line per row) or JSON (a list of objects).

    Empty cells are empty in CSV and null in JSON; dates are ISO 8601 in UTC.
    """
    fmt = (fmt or "").lower()
    if fmt not in FORMATS:
        raise ResultsError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    rows = records(df)
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    buf = io.StringIO()
    out = csv.DictWriter(buf, fieldnames=list(df.columns), lineterminator="\n")
    out.writeheader()
    for row in rows:
        out.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue()


def label(row: dict) -> str:
    """A short name for one result in a comparison: model · benchmark · job #N (job ids, as
    everywhere else on the page; a result written outside any job falls back to its own id)."""
    model = model_label(row.get("Model path") or row["Model"])
    owner = f"job #{row['Job']}" if row.get("Job") is not None else f"result #{row['ID']}"
    return f"{model} · {row['Benchmark']} · {owner}"


def labels(df) -> dict[int, str]:
    """{result id: label()} for every row of a table, reading only the columns label() uses."""
    cols = [df[c].tolist() for c in ("ID", "Model path", "Model", "Benchmark", "Job")]
    return {int(i): label({"ID": int(i), "Model path": path, "Model": model, "Benchmark": bench,
                           "Job": None if _plain(job) is None else int(job)})
            for i, path, model, bench, job in zip(*cols)}


def comparison(df) -> dict:
    """Side-by-side data for selected results: the metrics any of them has, one column each.

    Returns {"table": DataFrame (index = metric, one column per result),
             "categories": metric names, "groups": {result label: [value per metric]}}.
    """
    import pandas as pd

    rows = records(df)
    metrics = [c for c in metric_columns(df) if any(r.get(c) is not None for r in rows)]
    groups: dict[str, list] = {}
    for r in rows:
        name = label(r)
        if name in groups:  # one job, the same model and benchmark twice: tell them apart
            name = f"{name} (result #{r['ID']})"
        groups[name] = [r.get(m) for m in metrics]
    side = pd.DataFrame(groups, index=pd.Index(metrics, name="Metric"))
    for extra in ("Samples", "Duration (s)"):
        side.loc[extra] = [r.get(extra) for r in rows]
    return {"table": side, "categories": metrics, "groups": groups}


# ---- training runs ------------------------------------------------------------------------

def training_runs(limit: int = 300) -> list[dict]:
    """Jobs that can be compared as training runs: training or command jobs with metrics,
    newest first (id, name, kind, status, created_at, started_at, finished_at)."""
    kinds = ",".join(f"'{k}'" for k in TRAINING_KINDS)
    with ledger.reader() as conn:
        return [dict(r) for r in conn.execute(
            "SELECT id, name, kind, status, created_at, started_at, finished_at FROM job "
            f"WHERE kind IN ({kinds}) "
            "AND EXISTS (SELECT 1 FROM metric WHERE metric.job_id = job.id) "
            "ORDER BY id DESC LIMIT :n", {"n": int(limit)})]


def run_label(run: dict) -> str:
    return f"#{run['id']} {run['name']}"


def metric_names(job_ids: Iterable[int]) -> list[str]:
    """Every metric name any of the runs logged, sorted."""
    names: set[str] = set()
    for job_id in job_ids:
        names.update(monitor.metric_names(int(job_id)))
    return sorted(names)


def curves(runs: Iterable[dict], name: str, x: str = "step", max_points: int = 800) -> list[dict]:
    """One downsampled series per run for metric `name`, ready for charts.metric_chart.

    x = "step", or "time": seconds since the run's first point of that metric, so runs from
    different days overlay. Runs without the metric are left out.
    """
    if x not in X_AXES:
        raise ResultsError(f"x axis must be one of {', '.join(X_AXES)}, got {x!r}")
    out = []
    for run in runs:
        s = monitor.series(int(run["id"]), name, max_points=max_points, x=x)
        if not s["count"]:
            continue
        xs = s["x"]
        if x == "time":
            start = xs[0]
            xs = [round(v - start, 3) for v in xs]
        out.append({**s, "x": xs, "name": run_label(run), "job_id": int(run["id"])})
    return out


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key in sorted(value):
            out.update(_flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix or "(config)": value}


def flatten_config(config: dict | str) -> dict[str, Any]:
    """A nested config as dotted keys: {"training": {"lr": 1e-4}} -> {"training.lr": 1e-4}."""
    if isinstance(config, str):
        config = json.loads(config or "{}")
    return _flatten(config or {})


_MISSING = object()


def _cell(value: Any) -> str:
    if value is _MISSING:
        return EMPTY_CELL
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isfinite(value):
        value = float(f"{value:.12g}")  # 0.0006000000000000001 reads as 0.0006
    return json.dumps(value)


def config_diff(job_ids: Iterable[int], differences_only: bool = False):
    """Configs of several jobs side by side: one row per setting (dotted key), one column per
    run; with differences_only, just the settings whose values are not all the same (a setting
    one run lacks counts as different). Cells are text, "–" (EMPTY_CELL) where a run lacks the setting."""
    import pandas as pd

    columns: dict[str, dict[str, Any]] = {}
    for job_id in job_ids:
        job = ledger.get_job(int(job_id))
        if job is None:
            raise ResultsError(f"no job with id {job_id}")
        try:
            columns[run_label(job)] = flatten_config(job["config"])
        except json.JSONDecodeError as exc:
            raise ResultsError(f"job {job_id} has a config that is not valid JSON: {exc}") from exc
    keys = sorted({k for flat in columns.values() for k in flat})
    rows = {}
    for key in keys:
        values = [flat.get(key, _MISSING) for flat in columns.values()]
        distinct = {json.dumps(v, sort_keys=True) if v is not _MISSING else "\0missing" for v in values}
        if differences_only and len(distinct) <= 1:
            continue
        rows[key] = [_cell(v) for v in values]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(columns))
    frame.index.name = "Setting"
    return frame
