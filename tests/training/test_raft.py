"""RAFT runner on the tiny model with the real HumanEval verifier.

The improvement test follows FIELD-NOTES: a short full fine-tune teaches the tiny model a toy
task well enough that it sometimes solves it; RAFT must then raise the verification rate,
measured from real sandboxed verdicts on the model's own samples.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import datasets
from core.metrics import parse_line
from core.training import raft
from core.training.toytask import FACTS, problems, raft_config, write_jsonl
from tests.training.conftest import read_jsonl


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("toy")
    return write_jsonl(d / "problems.jsonl", problems())


def rate(path: Path) -> float:
    rows = read_jsonl(path)
    return sum(r["passed"] for r in rows) / len(rows)


def eval_rate(model_dir: str, adapter: str | None, probs: list[dict], samples: int = 16) -> float:
    """Sample the same way RAFT does and score with the real verifier."""
    from core.models.loading import load_model_and_tokenizer

    loaded = load_model_and_tokenizer({"name": model_dir, "adapter": adapter})
    prompt_set = raft.PromptSet("humaneval", probs, [datasets.to_prompt("humaneval", p) for p in probs], "humaneval")
    out, _, _ = raft.generate(loaded.model, loaded.tokenizer, prompt_set.prompts, samples_per_prompt=samples, temperature=0.7, max_new_tokens=32, batch_size=64, seed=123)
    raft.score(out, prompt_set, partial_credit=False)
    return sum(s.passed for s in out) / len(out)


def test_raft_raises_the_verification_rate(toy_base, toy, tmp_path, capsys):
    probs = read_jsonl(toy)
    # 1. A short full fine-tune on correct solutions (the toy_base fixture): the model learns
    #    the format and some of the answers, not all of them.
    base = toy_base
    capsys.readouterr()

    # 2. RAFT on the same prompts, conservative preset (8 samples, temperature 0.7, keep 80 %).
    job = tmp_path / "raft"
    assert raft.run(raft_config(base, toy, cycles=3, preset="conservative"), job) == 0
    out = capsys.readouterr().out

    rates = [rate(job / "cycles" / f"cycle_{c}.jsonl") for c in (1, 2, 3)]
    before = eval_rate(base, None, probs)
    after = eval_rate(base, str(job / "output" / "adapter"), probs)
    print(f"per-cycle verification rates {rates}, held-out sampling before {before:.3f} after {after:.3f}")
    assert 0.05 < rates[0] < 0.9, rates  # it sometimes solves the task before RAFT
    assert rates[-1] > rates[0], rates
    assert after >= before + 0.1, (before, after)

    # The contract lines, as the supervisor will parse them.
    parsed = [parse_line(line) for line in out.splitlines()]
    cycles = [(p.cycle, p.total_cycles) for p in parsed if p and p.total_cycles is not None]
    assert cycles == [(1, 3), (2, 3), (3, 3)]
    # sampling progress as it goes (the first cycle is otherwise a minute of silence)
    sampled = [p.metrics["prompts_sampled"] for p in parsed if p and "prompts_sampled" in p.metrics]
    verified = [p.metrics["samples_verified"] for p in parsed if p and "samples_verified" in p.metrics]
    assert sampled.count(len(FACTS)) == 3 and verified.count(len(FACTS) * 8) == 3
    printed_rates = [p.metrics["verification_rate"] for p in parsed if p and "verification_rate" in p.metrics and "reward_mean" not in p.metrics]
    assert [round(r, 4) for r in printed_rates] == [round(r, 4) for r in rates]
    metric_lines = [json.loads(line)["metric"] for line in out.splitlines() if line.startswith('{"metric"') and '"cycle"' in line]
    assert len(metric_lines) == 3
    for m in metric_lines:
        assert {"reward_mean", "kept", "generate_s", "verify_s", "train_s"} <= set(m)
        assert m["kept"] > 0 and m["verify_s"] > 0 and m["train_s"] > 0

    # Every sample is on disk with its verdict; kept ones passed the threshold.
    rows = read_jsonl(job / "cycles" / "cycle_1.jsonl")
    assert len(rows) == len(FACTS) * 8
    assert all(r["status"] in ("pass", "fail", "error", "timeout", "compile_error") for r in rows)
    assert all(r["passed"] for r in rows if r["kept"])
    kept = sum(r["kept"] for r in rows)
    assert kept == -(-sum(r["passed"] for r in rows) * 80 // 100)  # ceil(80 % of the passes)
    summary = json.loads((job / "summary.json").read_text())
    assert summary["completed_cycles"] == 3 and [c["verification_rate"] for c in summary["cycles"]] == [round(r, 6) for r in rates]


def test_stop_between_cycles_then_resume_from_last_finished(tiny_model, toy, tmp_path, capsys):
    out_dir = tmp_path / "out"
    cfg = raft_config(str(tiny_model), toy, cycles=2, samples_per_prompt=2, max_new_tokens=8)
    cfg["training"]["output_dir"] = str(out_dir)

    def stop_in_cycle_2() -> bool:
        return (out_dir / raft.STATE_FILE).exists()  # cycle 1 finished: stop during cycle 2

    assert raft.run(cfg, tmp_path / "first", should_stop=stop_in_cycle_2) == 0
    first = capsys.readouterr().out
    state = json.loads((out_dir / raft.STATE_FILE).read_text())
    assert state["completed_cycles"] == 1 and Path(state["adapter"]).name == "cycle-1"
    assert "Cycle 2/2" in first and "stop requested: cycle 2 dropped" in first
    # each cycle's folder is a checkpoint a new job can resume from (Monitor's checkpoint list)
    cycle_1 = Path(state["adapter"])
    assert json.loads((cycle_1 / raft.STATE_FILE).read_text()) == state
    from core import job_actions

    assert job_actions.checkpoint_problem("raft", str(cycle_1)) is None
    assert not (out_dir / "adapter").exists()

    cfg["training"]["resume_from"] = "latest"
    assert raft.run(cfg, tmp_path / "second") == 0
    second = capsys.readouterr().out
    assert "resuming after cycle 1" in second
    assert "Cycle 1/2" not in second and "Cycle 2/2" in second
    assert sorted(p.name for p in (tmp_path / "second" / "cycles").iterdir()) == ["cycle_2.jsonl"]
    assert json.loads((out_dir / raft.STATE_FILE).read_text())["completed_cycles"] == 2
    assert (out_dir / "adapter" / "adapter_config.json").is_file()


def test_batched_left_padded_generation_matches_one_at_a_time(tiny_model, toy):
    """Left padding must not change what the model generates (greedy, same prompts)."""
    from core.models.loading import load_model_and_tokenizer

    loaded = load_model_and_tokenizer({"name": str(tiny_model)})
    probs = read_jsonl(toy)
    prompts = [datasets.to_prompt("humaneval", p) for p in probs[:3]] + ["Say hi."]  # very different lengths
    kw = dict(samples_per_prompt=1, temperature=0.0, max_new_tokens=12, seed=0)
    batched, _, _ = raft.generate(loaded.model, loaded.tokenizer, prompts, batch_size=8, **kw)
    single, _, _ = raft.generate(loaded.model, loaded.tokenizer, prompts, batch_size=1, **kw)
    assert [s.completion for s in batched] == [s.completion for s in single]
    assert all(s.new_tokens > 0 for s in batched)


def test_select_threshold_then_top_percent():
    S = raft.Sample
    samples = [S(0, 0, "a", reward=1.0), S(0, 1, "b", reward=0.4), S(1, 0, "c", reward=0.9), S(1, 1, "d", reward=0.6), S(2, 0, "e", reward=0.0)]
    kept = raft.select(samples, threshold=0.5, keep_percent=50, seed=0)
    assert [s.completion for s in kept] == ["a", "c"]  # 3 reach 0.5; the top half (ceil) is 2
    assert [s.kept for s in samples] == [True, False, True, False, False]
    assert raft.select([S(0, 0, "x", reward=0.2)], threshold=0.5, keep_percent=100, seed=0) == []
    ties = [S(i, 0, str(i), reward=1.0) for i in range(10)]
    picks = {tuple(s.prompt_index for s in raft.select([S(s.prompt_index, 0, s.completion, reward=1.0) for s in ties], threshold=0.5, keep_percent=30, seed=seed)) for seed in range(5)}
    assert len(picks) > 1  # ties are broken at random, not by position
