"""Item-level scores from samples.jsonl and paired comparisons of two runs."""
from __future__ import annotations

import pytest

from core import comparison, stats
from tests.paired_runs import add_run, code_rows, humaneval_pair


def _scored(values: dict[str, float], metric: str) -> list[dict]:
    return [{"id": i, "prompt": "", "output": str(v), "reference": ["x"], "scores": {metric: v}}
            for i, v in values.items()]


def _asr(edits: dict[str, tuple[int, int]]) -> list[dict]:
    return [{"id": i, "output": "", "reference": "", "scores": {
        "wer": e / n, "cer": 0.0, "word_errors": e, "ref_words": n, "char_errors": 0,
        "ref_chars": 10}} for i, (e, n) in edits.items()]


def test_code_rows_give_pass_at_k_per_item():
    rows = code_rows({"a": [True, False, False, False, False], "b": [False] * 5})
    assert comparison.metrics_of(rows) == ["pass@1", "pass@5"]
    s = comparison.item_scores(rows, "pass@1")
    assert s.values == {"a": pytest.approx(0.2), "b": 0.0}
    assert comparison.item_scores(rows, "pass@5").values["a"] == 1.0
    with pytest.raises(comparison.ComparisonError, match="pass@k"):
        comparison.item_scores(rows, "anls")


def test_binary_runs_use_mcnemar_on_the_common_items():
    a = code_rows({f"HumanEval/{i}": [i < 30] for i in range(100)})
    b = code_rows({f"HumanEval/{i}": [(i < 26) or (30 <= i < 40)] for i in range(100)})
    r = comparison.compare_rows(a, b, "pass@1")
    assert (r["n"], r["a_only"], r["b_only"], r["test"]) == (100, 4, 10, "exact McNemar")
    assert r["delta"] == pytest.approx(0.06)
    assert r["p_value"] == pytest.approx(stats.mcnemar_exact(4, 10))
    assert "note" not in r
    assert r["sentence"].startswith("Δ +6.0 pts [") and r["sentence"].endswith("(n = 100)")


def test_different_item_sets_compare_on_the_intersection_and_say_so():
    a = code_rows({f"t{i}": [True] for i in range(10)})
    b = code_rows({f"t{i}": [i % 2 == 0] for i in range(5, 20)})
    r = comparison.compare_rows(a, b, "pass@1")
    assert r["n"] == 5 and r["note"] == "compared on the 5 items both runs scored (A has 10, B has 15)"
    with pytest.raises(comparison.ComparisonError, match="share no items"):
        comparison.compare_rows(a, code_rows({"other": [True]}), "pass@1")


def test_continuous_metric_uses_the_permutation_test():
    a = _scored({f"q{i}": 0.5 for i in range(20)}, "anls")
    b = _scored({f"q{i}": 0.5 + (0.02 if i % 2 else 0.0) for i in range(20)}, "anls")
    r = comparison.compare_rows(a, b, "anls")
    assert r["test"] == "paired permutation" and r["delta"] == pytest.approx(0.01)
    assert r["p_value"] < 0.01  # ten equal improvements, no losses
    assert r["ci_low"] > 0


def test_wer_compares_corpus_rates_and_is_lower_is_better():
    a = _asr({"u1": (2, 10), "u2": (3, 30)})
    b = _asr({"u1": (1, 10), "u2": (3, 30)})
    r = comparison.compare_rows(a, b, "wer")
    assert (r["a"], r["b"]) == (pytest.approx(5 / 40), pytest.approx(4 / 40))
    assert not comparison.higher_is_better("wer")
    moved = comparison.changed_items(a, b, "wer", better_high=False)
    assert [e["id"] for e in moved["better"]] == ["u1"] and moved["worse"] == []
    assert "word_errors" not in comparison.metrics_of(a)


def test_flips_list_pass_to_fail_and_fail_to_pass_with_both_completions():
    a = code_rows({"x": [True], "y": [False], "z": [True]})
    b = code_rows({"x": [False], "y": [True], "z": [True]}, prefix="# B\n")
    moved = comparison.changed_items(a, b, "pass@1")
    assert [e["id"] for e in moved["worse"]] == ["x"] and [e["id"] for e in moved["better"]] == ["y"]
    worse = moved["worse"][0]
    assert worse["rows_a"][0]["passed"] and not worse["rows_b"][0]["passed"]
    assert worse["rows_b"][0]["output"].startswith("# B")


def test_score_interval_wilson_for_pass_at_1():
    rows = code_rows({f"t{i}": [i < 3] for i in range(10)})
    iv = comparison.score_interval(rows, "pass@1")
    assert iv.method == "wilson" and (iv.low, iv.high) == stats.wilson(3, 10)


def test_compare_jobs_reads_the_ledger(home):
    humaneval_pair(home)
    [entry] = comparison.compare_jobs(1, 2)
    assert entry["benchmark"] == "humaneval" and entry["n"] == 100
    assert (entry["a_only"], entry["b_only"]) == (4, 10)
    line = comparison.describe(entry)
    assert line.startswith("humaneval pass@1: 30.0% → 36.0%, Δ +6.0 pts [")
    with pytest.raises(comparison.ComparisonError, match="job 7 has no benchmark result"):
        comparison.compare_jobs(1, 7)


def test_missing_details_is_one_sentence(home, tmp_path):
    add_run(home, 3, "mbpp", code_rows({"1": [True]}), "m")
    (home / "jobs" / "3" / "samples-mbpp.jsonl").unlink()
    humaneval_pair(home, 4, 5)
    with pytest.raises(comparison.ComparisonError, match="share no benchmark"):
        comparison.compare_jobs(3, 4)
    add_run(home, 6, "mbpp", code_rows({"1": [True]}), "m")
    with pytest.raises(comparison.ComparisonError, match="per-item details not found"):
        comparison.compare_jobs(3, 6)
