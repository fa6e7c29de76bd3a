"""A small verifiable task for the tiny model, used by the RAFT test and bench/raft_cycle.py.

Eight HumanEval-schema problems ("return the number of days in a week"), checked by the real
HumanEval verifier. A short full fine-tune on their solutions (`pretrain_rows`) gives a tiny
model that sometimes solves them, which is the starting point RAFT needs to show a real gain.
"""

from __future__ import annotations

import json
from pathlib import Path

FACTS: list[tuple[str, int]] = [
    ("How many days are in a week?", 7),
    ("How many legs does a spider have?", 8),
    ("How many sides does a triangle have?", 3),
    ("How many months are in a year?", 12),
    ("How many hours are in a day?", 24),
    ("How many minutes are in an hour?", 60),
    ("How many sides does a hexagon have?", 6),
    ("How many players are on a football team?", 11),
]


def problem(i: int, question: str, n: int) -> dict:
    return {
        "task_id": f"toy/{i}",
        "prompt": f'def answer():\n    """{question}"""\n',
        "canonical_solution": f"    return {n}\n",
        "test": f"def check(candidate):\n    assert candidate() == {n}\n",
        "entry_point": "answer",
    }


def problems() -> list[dict]:
    return [problem(i, q, n) for i, (q, n) in enumerate(FACTS)]


def solution(n: int) -> str:
    return f"```python\ndef answer():\n    return {n}\n```"


def pretrain_rows(copies: int = 4) -> list[dict]:
    """Chat records (user: the RAFT prompt, assistant: the right function), `copies` each."""
    from core import datasets

    return [
        {"messages": [{"role": "user", "content": datasets.to_prompt("humaneval", p)}, {"role": "assistant", "content": solution(n)}]}
        for p, (_, n) in zip(problems(), FACTS)
        for _ in range(copies)
    ]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def pretrain_config(model: str, data: Path, steps: int = 100) -> dict:
    """Full fine-tune, loss on the replies only: learns the format and some answers."""
    return {
        "kind": "sft",
        "model": {"name": model},
        "data": {"dataset": str(data)},
        "lora": {"enabled": False},
        "training": {"max_steps": steps, "batch_size": 8, "learning_rate": 2e-3, "assistant_only_loss": True, "logging_steps": 50, "save_steps": 100000},
    }


def raft_config(model: str, data: Path, **raft_fields) -> dict:
    """RAFT settings under which the tiny model learns within a few cycles (LoRA, lr 3e-3)."""
    return {
        "kind": "raft",
        "model": {"name": model},
        "data": {"dataset": str(data)},
        "raft": {"verifier": "humaneval", "max_new_tokens": 32, "gen_batch_size": 64, **raft_fields},
        "lora": {"r": 16, "alpha": 32, "dropout": 0.0},
        "training": {"learning_rate": 3e-3, "lr_scheduler": "constant", "batch_size": 4, "epochs": 8},
    }


def grpo_config(model: str, data: Path, *, steps: int, save_steps: int = 1000, **grpo_fields) -> dict:
    """GRPO settings under which the tiny model learns the toy task (found by trying; smaller
    groups or a higher learning rate made it forget the digits): every step sees all 8 prompts
    x 8 generations at temperature 0.7, and each generated batch serves 8 optimizer steps
    (num_iterations) with a wide clip range; LoRA at lr 1e-3. 24 steps = 3 generations =
    192 completions, what 3 RAFT cycles sample."""
    return {
        "kind": "grpo",
        "model": {"name": model},
        "data": {"dataset": str(data)},
        "grpo": {"verifier": "humaneval", "steps": steps, "num_generations": 8, "max_completion_length": 32,
                 "temperature": 0.7, "num_iterations": 8, "epsilon": 0.5, **grpo_fields},
        "lora": {"r": 16, "alpha": 32, "dropout": 0.0},
        "training": {"learning_rate": 1e-3, "lr_scheduler": "constant", "batch_size": 64, "save_steps": save_steps},
    }


def sampled_rate(model_dir: str, adapter: str | None, probs: list[dict], samples: int = 16, seed: int = 123) -> float:
    """Verification rate of a model (+ adapter) on `probs`: sample as RAFT does (temperature
    0.7, 32 new tokens) and score with the real HumanEval verifier. The RAFT and GRPO tests
    and bench/rl.py measure gains with it."""
    from core import datasets
    from core.models.loading import load_model_and_tokenizer
    from core.training import raft

    loaded = load_model_and_tokenizer({"name": model_dir, "adapter": adapter})
    prompt_set = raft.PromptSet("humaneval", probs, [datasets.to_prompt("humaneval", p) for p in probs], "humaneval")
    out, _, _ = raft.generate(loaded.model, loaded.tokenizer, prompt_set.prompts, samples_per_prompt=samples,
                              temperature=0.7, max_new_tokens=32, batch_size=64, seed=seed)
    raft.score(out, prompt_set, partial_credit=False)
    return sum(s.passed for s in out) / len(out)
