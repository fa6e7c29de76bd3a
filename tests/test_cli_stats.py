"""halo-forge results compare and halo-forge contamination."""
from __future__ import annotations

import json

import pytest

from core import cli, stats
from tests.paired_runs import humaneval_pair


def test_results_compare_prints_the_significance_line(home, capsys):
    humaneval_pair(home)
    assert cli.main(["results", "compare", "1", "2"]) == 0
    out = capsys.readouterr().out.strip()
    p = stats.mcnemar_exact(4, 10)
    assert out.startswith("job 1 → job 2: humaneval pass@1: 30.0% → 36.0%, Δ +6.0 pts [")
    assert out.endswith(f"p = {p:.2f}, not significant at 0.05 (n = 100)")


def test_results_compare_json_has_the_figures(home, capsys):
    humaneval_pair(home)
    assert cli.main(["results", "compare", "1", "2", "--json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert entry["p_value"] == pytest.approx(stats.mcnemar_exact(4, 10))
    assert entry["delta"] == pytest.approx(0.06)
    assert entry["ci_low"] < entry["delta"] < entry["ci_high"]
    assert (entry["n"], entry["a_only"], entry["b_only"]) == (100, 4, 10)


def test_results_compare_bad_input_is_one_line(home, capsys):
    humaneval_pair(home)
    assert cli.main(["results", "compare", "1"]) == 2
    assert "needs two job ids (A B), got 1" in capsys.readouterr().err
    assert cli.main(["results", "compare", "1", "9"]) == 2
    assert "job 9 has no benchmark result" in capsys.readouterr().err


def test_results_export_still_works_and_has_intervals(home, capsys):
    humaneval_pair(home)
    assert cli.main(["results", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_id = {r["ID"]: r for r in rows}
    assert (by_id[1]["ci_low"], by_id[1]["ci_high"]) == pytest.approx(stats.wilson(30, 100))


def test_contamination_lists_overlapping_items(home, tmp_path, capsys):
    from core import contamination

    text = dict(contamination.benchmark_items("humaneval"))["HumanEval/3"]
    train = tmp_path / "t.jsonl"
    train.write_text(json.dumps({"instruction": "x", "output": text}) + "\n")
    assert cli.main(["contamination", "--train", str(train), "--benchmark", "humaneval"]) == 0
    out = capsys.readouterr().out
    assert "of 164 humaneval items share a 13-gram with file:" in out.splitlines()[0]
    assert "  HumanEval/3: " in out and "training record(s) 1" in out
    assert cli.main(["contamination", "--train", str(train), "--benchmark", "humaneval",
                     "--json", "--ngram", "8", "--fail-on-overlap"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ngram"] == 8 and "HumanEval/3" in [o["id"] for o in report["overlapping"]]


def test_contamination_clean_and_bad_input(home, capsys):
    assert cli.main(["contamination", "--train", "alpaca", "--benchmark", "mbpp",
                     "--fail-on-overlap"]) == 0
    assert capsys.readouterr().out.startswith("0 of ")
    assert cli.main(["contamination", "--train", "alpaca", "--benchmark", "imagenet"]) == 2
    assert "--benchmark: unknown benchmark 'imagenet'" in capsys.readouterr().err
