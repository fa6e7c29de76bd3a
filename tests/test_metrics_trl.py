"""The one parser on lines our GRPO and DPO runners really printed (captured from TRL 1.16 runs
on the tiny model: tests/fixtures/trl_grpo_dpo_lines.txt): TRL's slash-separated keys become
the canonical names Monitor charts."""
from __future__ import annotations

from core.metrics import parse_line
from tests.conftest import REPO

LINES = (REPO / "tests" / "fixtures" / "trl_grpo_dpo_lines.txt").read_text().splitlines()


def _all() -> list:
    return [parse_line(line) for line in LINES]


def test_grpo_metrics_per_reward_function_kl_length_and_clip_ratio():
    grpo = next(p for p in _all() if p and "rewards_humaneval_mean" in p.metrics)
    assert grpo.step == 1
    for name in ("reward", "reward_std", "rewards_humaneval_mean", "rewards_humaneval_std", "verification_rate",
                 "kl", "entropy", "completions_mean_length", "completions_clipped_ratio", "clip_ratio_region_mean",
                 "clip_ratio_low_mean", "clip_ratio_high_mean", "frac_reward_zero_std"):
        assert name in grpo.metrics, name
    assert grpo.metrics["completions_mean_length"] == 8.0 and grpo.metrics["completions_clipped_ratio"] == 1.0


def test_dpo_metrics_chosen_rejected_margins_accuracies():
    dpo = next(p for p in _all() if p and "rewards_margins" in p.metrics)
    assert {"rewards_chosen", "rewards_rejected", "rewards_accuracies", "logps_chosen", "logps_rejected",
            "logits_chosen"} <= set(dpo.metrics)
    assert dpo.metrics["logps_chosen"] < 0


def test_progress_lines_of_both_runners():
    steps = [p for p in _all() if p and p.total_steps]
    assert [(p.step, p.total_steps) for p in steps] == [(1, 1), (1, 1)]
    assert steps[1].metrics["loss"] == 0.6931 and "grad_norm" in steps[1].metrics
