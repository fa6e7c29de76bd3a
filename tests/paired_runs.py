"""Two benchmark runs on shared items, written as the benchmark runner writes them
(samples.jsonl + a result row), for the comparison, CLI and page tests."""
from __future__ import annotations

import json
from pathlib import Path

from core import ledger


def code_rows(outcomes: dict[str, list[bool]], prefix: str = "") -> list[dict]:
    """samples.jsonl rows of a code run: item id -> one verdict per sample."""
    rows = []
    for item, verdicts in outcomes.items():
        for j, ok in enumerate(verdicts):
            rows.append({"id": item, "sample": j, "prompt": f"Write {item}",
                         "output": f"{prefix}def f():\n    return {j}\n", "passed": ok,
                         "reward": float(ok), "status": "pass" if ok else "fail",
                         "message": "" if ok else "test 1: assert f() == 3: AssertionError",
                         "tests": [{"name": "test 1", "passed": ok,
                                    "message": "" if ok else "assert f() == 3: expected 3, got 0",
                                    "status": "pass" if ok else "fail",
                                    "line": "" if ok else "assert f() == 3",
                                    "expected": "" if ok else "3", "actual": "" if ok else "0"}]})
    return rows


def add_run(home: Path, job_id: int, benchmark: str, rows: list[dict], model: str,
            primary: str = "pass@1", metrics: dict | None = None) -> int:
    """Write JOB_DIR/samples.jsonl and a result row for it; returns the result id."""
    job_dir = home / "jobs" / str(job_id)
    job_dir.mkdir(parents=True, exist_ok=True)
    path = job_dir / f"samples-{benchmark}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    if metrics is None:
        passed = [r["passed"] for r in rows]
        metrics = {"pass@1": sum(passed) / len(passed)}
    with ledger.writer() as conn:
        return ledger.insert_result(conn, job_id, {
            "model": model, "benchmark": benchmark, "metrics": metrics, "primary_metric": primary,
            "samples": len({r["id"] for r in rows}), "duration_s": 1.0, "details": str(path),
            "source": "sample"})


def humaneval_pair(home: Path, job_a: int = 1, job_b: int = 2, n: int = 100) -> None:
    """A base run passing 30 of n items and a tuned run passing 36: 10 fail->pass, 4 pass->fail."""
    a = {f"HumanEval/{i}": [i < 30] for i in range(n)}
    b = {f"HumanEval/{i}": [(i < 26) or (30 <= i < 40)] for i in range(n)}
    add_run(home, job_a, "humaneval", code_rows(a), "base-model")
    add_run(home, job_b, "humaneval", code_rows(b, "# tuned\n"), "base-model + adapter")
