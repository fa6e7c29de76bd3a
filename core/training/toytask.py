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
