"""The sample inspector reads what a real verdict carries (line, expected, actual)."""
from __future__ import annotations

from core import datasets, inspector
from core.verifiers import registry


def test_a_real_failing_verdict_shows_line_expected_and_actual():
    problem = {r["task_id"]: r for r in datasets.load_records("mbpp", source="sample").records}
    record = next(iter(problem.values()))
    wrong = "```python\n" + record["code"].replace("return", "return 1 + ", 1) + "\n```"
    verdict = registry.get("mbpp").verify(record, wrong)
    assert not verdict.passed
    # the row the benchmark runner writes for a code sample
    row = {"id": str(record["task_id"]), "sample": 0, "output": wrong, "passed": False,
           "status": verdict.status, "message": verdict.message,
           "tests": [t.to_dict() for t in verdict.tests]}
    table = inspector.tests_table(row)
    failing = table[~table["Passed"]].iloc[0]
    assert failing["Line"].startswith("assert ")
    assert failing["Expected"] and failing["Actual"] and failing["Expected"] != failing["Actual"]
    line = inspector.verdict_line(row)
    assert line.startswith(f"{verdict.status}: ") and "expected" in line
