"""What the sample inspector and the flip view show: a run's items from its samples.jsonl.

Code runs: one row per sample with the verdict, its status and message and the verifier's
per-test records (name, passed, message: the failing line and expected vs actual where the
verifier says it). Scored runs: one row per item with the output, the reference and the
scores. Light (pandas only, inside functions).
"""
from __future__ import annotations

from core import comparison


def overview(rows: list[dict], metric: str | None = None):
    """One line per item: Item, Samples, Passed, Score (the metric per item), Status, Message."""
    import pandas as pd

    metric = metric or (comparison.metrics_of(rows) or [None])[0]
    scores = comparison.item_scores(rows, metric) if metric else None
    grouped = comparison.rows_by_item(rows)
    lines = []
    for item, group in grouped.items():
        first_bad = next((r for r in group if r.get("passed") is False), None)
        line = {"Item": item, "Samples": len(group)}
        if comparison.is_code(rows):
            line["Passed"] = sum(bool(r.get("passed")) for r in group)
            line["Status"] = (first_bad or group[0]).get("status", "")
            line["Message"] = (first_bad or {}).get("message", "")
        if scores is not None and item in scores.values:
            line["Score"] = scores.per_item(item)
        lines.append(line)
    return pd.DataFrame(lines), metric


def tests_table(row: dict):
    """The verifier's per-test records of one sample: name, passed, status, the failing
    line and expected vs actual where the verifier reports them, and its message."""
    import pandas as pd

    columns = ["Test", "Passed", "Status", "Line", "Expected", "Actual", "Message"]
    tests = row.get("tests") or []
    return pd.DataFrame([{"Test": t.get("name", ""), "Passed": bool(t.get("passed")),
                          "Status": t.get("status", ""), "Line": t.get("line", ""),
                          "Expected": t.get("expected", ""), "Actual": t.get("actual", ""),
                          "Message": t.get("message", "")}
                         for t in tests], columns=columns)


def first_failure(row: dict) -> str:
    """"line: expected X, got Y" of the first failing test that says so, else ""."""
    for t in row.get("tests") or []:
        if t.get("passed"):
            continue
        where = t.get("line") or t.get("name", "")
        if t.get("expected") or t.get("actual"):
            return f"{where}: expected {t.get('expected', '')}, got {t.get('actual', '')}"
    return ""


def verdict_line(row: dict) -> str:
    """"pass" / "fail: <message>" for a code sample; the scores for a scored item."""
    if "passed" in row and "scores" not in row:
        if row.get("passed") is None:
            return "not verified (the run was stopped)"
        status = row.get("status") or ("pass" if row["passed"] else "fail")
        if row["passed"]:
            return status
        detail = first_failure(row)
        line = f"{status}: {row.get('message') or 'no message'}"
        return f"{line} ({detail})" if detail and detail not in line else line
    scores = row.get("scores") or {}
    return ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in scores.items())


def reference_text(row: dict) -> str | None:
    ref = row.get("reference")
    if ref is None:
        return None
    if isinstance(ref, list):
        return " | ".join(str(r) for r in ref[:10])
    return str(ref)
