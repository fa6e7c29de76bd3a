"""The GRPO reward adapter: TRL's reward_funcs call -> Verifier.verify_batch, with real sandboxes."""

from __future__ import annotations

import json

from core.training.rewards import VerifierReward, build_reward_funcs, completion_text, format_reward, length_penalty
from core.training.toytask import FACTS, problems, solution


def test_verdicts_in_order_and_a_hostile_completion_scores_zero_without_ending_the_batch(tmp_path):
    probs = problems()
    reward = VerifierReward("humaneval", probs, prompts=[p["prompt"] for p in probs], samples_path=tmp_path / "s.jsonl", timeout_s=2.0)
    hostile = [
        "```python\ndef answer():\n    raise SystemExit(3)\n```",
        "```python\nimport os\nos._exit(9)\n```",
        "```python\ndef answer():\n    while True:\n        pass\n```",
        "```python\ndef answer(:\n```",
    ]
    completions = [solution(FACTS[0][1]), hostile[0], solution(FACTS[2][1]), hostile[1], solution(99), hostile[2],
                   [{"role": "assistant", "content": solution(FACTS[6][1])}], hostile[3]]
    index = [0, 1, 2, 3, 4, 5, 6, 7]
    logged = {}
    out = reward(prompts=[""] * 8, completions=completions, completion_ids=None, record_index=index,
                 log_metric=lambda name, value: logged.__setitem__(name, value), trainer_state=None)
    assert out == [1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]  # order kept; the chat-form one too
    assert logged == {"verification_rate": 3 / 8}
    assert reward.__name__ == "humaneval"  # TRL logs rewards/humaneval/mean
    assert reward.verdicts == 8 and reward.passed == 3 and reward.verdicts_per_s() > 0
    rows = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert [r["passed"] for r in rows] == [o == 1.0 for o in out]
    assert rows[5]["status"] == "timeout" and rows[7]["status"] in ("compile_error", "fail", "error")
    assert rows[0]["task_id"] == "toy/0" and rows[0]["prompt"] == probs[0]["prompt"]


def test_a_broken_verifier_scores_the_batch_zero_and_says_so(tmp_path):
    said = []
    reward = VerifierReward("humaneval", problems(), emit=said.append, samples_path=tmp_path / "s.jsonl")

    def boom(*a, **k):
        raise RuntimeError("pool died")

    reward.verifier.verify_batch = boom
    assert reward(prompts=["", ""], completions=[solution(7), solution(8)], record_index=[0, 1]) == [0.0, 0.0]
    assert said and "pool died" in said[0] and "scores 0" in said[0]
    rows = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert [r["message"] for r in rows] == ["not verified: the verifier failed on this batch"] * 2  # pairs skip them


def test_extra_rewards_compose_in_config_order():
    reward = VerifierReward("humaneval", problems())
    funcs = build_reward_funcs(reward, ["format", "length_penalty"], length_target=4)
    assert funcs[0] is reward and [f.__name__ for f in funcs[1:]] == ["format_reward", "length_penalty"]
    assert format_reward([], [solution(7), "return 7", "so #### 7", "\\boxed{3}"]) == [1.0, 0.0, 1.0, 1.0]
    pen = length_penalty(4)
    assert pen([], ["a", "b", "c"], completion_ids=[[1] * 3, [1] * 6, [1] * 20]) == [0.0, -0.5, -1.0]
    assert completion_text([{"role": "assistant", "content": "x"}]) == "x"
