"""verify_file and the `kind: verify` job: input order, bad lines, progress and metric lines."""
from __future__ import annotations

import json
import signal

import pytest

from core.verifiers import job
from core.verifiers.humaneval import load_problems

PROBLEMS = list(load_problems().values())[:12]


@pytest.fixture(autouse=True)
def keep_signal_handlers():
    """job.run installs the stop handler; give pytest its own back afterwards."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_verify_file_keeps_input_order(clean, tmp_path):
    rows = [{"task_id": p["task_id"], "completion": p["canonical_solution"] if i % 3 else
             "    return None\n", "completion_id": i} for i, p in enumerate(PROBLEMS)]
    samples = write(tmp_path / "s.jsonl", rows)
    out = tmp_path / "out" / "v.jsonl"
    summary = job.verify_file("humaneval", samples, out, workers=4)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["task_id"] for x in lines] == [r["task_id"] for r in rows]
    assert [x["passed"] for x in lines] == [bool(i % 3) for i in range(len(rows))]
    assert all({"task_id", "passed", "status", "reward", "completion_id"} <= set(x) for x in lines)
    assert summary["samples"] == 12 and summary["passed"] == 8
    failed = lines[0]["tests"][0]  # HumanEval/0 with `return None`: its first assert compares
    assert failed["line"].startswith("assert candidate(") and failed["actual"] == "None"
    assert failed["expected"] == "True"
    assert summary["pass_rate"] == pytest.approx(8 / 12)


def test_bad_lines_raise_naming_the_line_and_field(tmp_path):
    samples = tmp_path / "bad.jsonl"
    samples.write_text('{"task_id": "HumanEval/0", "completion": "x"}\n{"task_id": "HumanEval/1"}\n')
    with pytest.raises(ValueError, match="line 2 is missing the field 'completion'"):
        job.verify_file("humaneval", samples, tmp_path / "o.jsonl")
    samples.write_text('{"task_id": "HumanEval/0", "completion": "x"}\nnot json\n')
    with pytest.raises(ValueError, match="line 2: invalid JSON"):
        job.verify_file("humaneval", samples, tmp_path / "o.jsonl")
    samples.write_text('{"task_id": "Nope/1", "completion": "x"}\n')
    with pytest.raises(ValueError, match="line 1: task_id 'Nope/1' is not in the humaneval"):
        job.verify_file("humaneval", samples, tmp_path / "o.jsonl")
    assert not (tmp_path / "o.jsonl").exists()  # nothing written for bad input


def test_inline_problems_for_other_verifiers(tmp_path):
    rows = [{"task_id": "g1", "completion": "#### 4", "question": "2+2?",
             "answer": "2+2=4\n#### 4"},
            {"task_id": "g2", "completion": "the answer is 5",
             "problem": {"question": "2+2?", "answer": "#### 4"}}]
    out = tmp_path / "v.jsonl"
    summary = job.verify_file("gsm8k", write(tmp_path / "s.jsonl", rows), out)
    assert [json.loads(x)["passed"] for x in out.read_text().splitlines()] == [True, False]
    assert summary["statuses"] == {"pass": 1, "fail": 1}


def test_problems_looked_up_in_a_dataset_file(tmp_path):
    data = write(tmp_path / "mbpp.jsonl", [{"task_id": 7, "text": "double",
                                            "code": "def double(x):\n    return 2 * x",
                                            "test_list": ["assert double(2) == 4"],
                                            "test_setup_code": "", "challenge_test_list": []}])
    samples = write(tmp_path / "s.jsonl", [{"task_id": 7, "completion": "def double(x):\n    return x + x\n"}])
    summary = job.verify_file("mbpp", samples, tmp_path / "v.jsonl", dataset=str(data))
    assert summary["passed"] == 1


def test_job_run_prints_progress_and_metric(clean, tmp_path, capsys):
    rows = [{"task_id": p["task_id"], "completion": p["canonical_solution"]} for p in PROBLEMS[:4]]
    rows.append({"task_id": PROBLEMS[4]["task_id"], "completion": "    return 0\n"})
    samples = write(tmp_path / "s.jsonl", rows)
    code = job.run({"verifier": "humaneval", "samples": str(samples), "workers": 2,
                    "partial_credit": True, "timeout_s": 5}, tmp_path)
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert "Step 5/5" in out
    metric = json.loads(next(x for x in out if x.startswith('{"metric"')))["metric"]
    assert metric["step"] == 5 and metric["pass_rate"] == pytest.approx(0.8)
    assert (tmp_path / "verdicts.jsonl").read_text().count("\n") == 5
    assert json.loads((tmp_path / "verify_summary.json").read_text())["passed"] == 4


def test_job_run_stops_between_samples(tmp_path, capsys):
    from core.runner import signals

    rows = [{"task_id": "g", "completion": "#### 4", "question": "?", "answer": "#### 4"}] * 50
    samples = write(tmp_path / "s.jsonl", rows)
    signals.request_stop()
    try:
        code = job.run({"verifier": "gsm8k", "samples": str(samples), "workers": 1}, tmp_path)
    finally:
        signals.reset()
    assert code == 0
    summary = json.loads((tmp_path / "verify_summary.json").read_text())
    assert summary["stopped"] and summary["verified"] < 50


def test_job_run_bad_config(tmp_path, capsys):
    assert job.run({"verifier": "humaneval"}, tmp_path) == 2
    assert "needs 'verifier' and 'samples'" in capsys.readouterr().out
