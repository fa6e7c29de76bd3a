"""Reward functions for TRL's GRPOTrainer: our sandboxed verifiers, plus optional shaping terms.

TRL 1.16 calls every entry of `reward_funcs` as

    func(prompts=[...], completions=[...], completion_ids=[...], **columns, trainer_state=...,
         log_extra=..., log_metric=...) -> list[float | None]

where `columns` are the dataset's other columns, one value per completion (repeated over the
generations of a prompt), and a completion is a string (plain prompts) or a list of messages
(chat prompts). It names each function by `__name__` (or its class name), and logs
`rewards/<name>/mean` and `rewards/<name>/std` per function.

`VerifierReward` maps that call onto `Verifier.verify_batch`: every completion in its own
sandbox, in parallel, verdicts in input order. A completion that crashes, hangs or attacks the
sandbox gets an error verdict (reward 0); an exception from the verifier itself scores the
whole batch 0 with a printed line rather than ending the training run.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any, Callable

EXTRA_REWARDS = ("format", "length_penalty")
_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*\n.*?```", re.DOTALL)


def completion_text(completion: Any) -> str:
    """The generated text of one completion, whether TRL passed a string or chat messages."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        return "".join(str(m.get("content", "")) for m in completion if isinstance(m, dict))
    if isinstance(completion, dict):
        return str(completion.get("content", ""))
    return str(completion)


class VerifierReward:
    """A TRL reward function backed by a registry verifier.

    records: the problem records, indexed by the dataset column `record_index`.
    samples_path: when given, every scored completion is appended there as a JSON line
    (prompt, completion, verdict), the same facts RAFT keeps per cycle, so preference pairs
    can be built from a GRPO run (core.pairs).
    Keeps counters (`calls`, `verdicts`, `passed`, `seconds`) for the summary and bench/rl.py.
    """

    def __init__(self, verifier: str, records: list[dict], *, partial_credit: bool = False,
                 workers: int | None = None, emit: Callable[[str], None] = print,
                 prompts: list[str] | None = None,
                 samples_path: Path | None = None, timeout_s: float = 10.0):
        from core.verifiers import registry

        self.verifier = registry.get(verifier, partial_credit=partial_credit, timeout_s=timeout_s)
        self.__name__ = verifier  # TRL logs rewards/<name>/mean
        self.records = records
        self.workers = workers
        self.emit = emit
        self.prompts = prompts
        self.samples_path = samples_path
        self.calls = 0
        self.verdicts = 0
        self.passed = 0
        self.seconds = 0.0
        self.statuses: dict[str, int] = {}
        self.last_rate: float | None = None

    def __call__(self, prompts: list, completions: list, completion_ids: list | None = None,
                 *, record_index: list[int], log_metric: Callable[[str, float], None] | None = None,
                 **kwargs: Any) -> list[float]:
        if len(record_index) != len(completions):
            raise ValueError(f"reward: {len(completions)} completions but {len(record_index)} record indices")
        pairs = [(self.records[int(i)], completion_text(c)) for i, c in zip(record_index, completions)]
        t0 = time.perf_counter()
        try:
            verdicts = self.verifier.verify_batch(pairs, workers=self.workers)
        except Exception as exc:  # the run outlives a broken verifier: this batch scores 0
            self.emit(f"reward: verifier {self.__name__} failed on a batch of {len(pairs)}: "
                      f"{type(exc).__name__}: {exc}; the batch scores 0")
            verdicts = []
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        if len(verdicts) != len(pairs):
            verdicts = [None] * len(pairs)
        rewards, passes = [], 0
        for v in verdicts:
            passed = bool(getattr(v, "passed", False))
            passes += passed
            rewards.append(float(getattr(v, "reward", 0.0)) if v is not None else 0.0)
            status = str(getattr(v, "status", "error"))
            self.statuses[status] = self.statuses.get(status, 0) + 1
        self.verdicts += len(pairs)
        self.passed += passes
        self.last_rate = passes / len(pairs) if pairs else 0.0
        if self.samples_path is not None:
            self._write(record_index, pairs, verdicts, kwargs.get("trainer_state"))
        if log_metric is not None:  # averaged per logging step, logged beside kl and entropy
            log_metric("verification_rate", self.last_rate)
        return rewards

    def _write(self, record_index: list[int], pairs: list, verdicts: list, state: Any) -> None:
        step = int(getattr(state, "global_step", 0)) + 1  # the step these samples train
        with open(self.samples_path, "a", encoding="utf-8") as f:
            for i, (record, text), v in zip(record_index, pairs, verdicts):
                row = {
                    "step": step,
                    "prompt_index": int(i),
                    "task_id": record.get("task_id", int(i)),
                    "prompt": self.prompts[int(i)] if self.prompts else None,
                    "completion": text,
                    "passed": bool(getattr(v, "passed", False)),
                    "reward": float(getattr(v, "reward", 0.0)) if v is not None else 0.0,
                    "status": str(getattr(v, "status", "error")),
                    # a batch the verifier failed on judged nothing: pairs must not use it
                    "message": str(getattr(v, "message", "") or "")[:300] if v is not None
                    else "not verified: the verifier failed on this batch",
                }
                f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")

    def verdicts_per_s(self) -> float | None:
        return round(self.verdicts / self.seconds, 2) if self.seconds > 0 else None


def format_reward(prompts: list, completions: list, **_: Any) -> list[float]:
    """1.0 when the answer is one fenced code block or ends with a \\boxed{} / '#### N' answer:
    the shape the verifiers read most reliably."""
    out = []
    for c in completions:
        text = completion_text(c)
        ok = bool(_FENCE.search(text)) or "\\boxed{" in text or re.search(r"####\s*\S", text) is not None
        out.append(1.0 if ok else 0.0)
    return out


def length_penalty(target_tokens: int) -> Callable[..., list[float]]:
    """0 up to `target_tokens` completion tokens, then falling linearly to -1 at twice that."""

    def length_penalty(prompts: list, completions: list, completion_ids: list | None = None, **_: Any) -> list[float]:
        out = []
        for i, c in enumerate(completions):
            n = len(completion_ids[i]) if completion_ids is not None else len(completion_text(c).split())
            over = max(0, n - target_tokens)
            out.append(-min(1.0, over / max(1, target_tokens)))
        return out

    return length_penalty


def build_reward_funcs(verifier: VerifierReward, extras: list[str], *, length_target: int) -> list:
    """The verifier first, then the named extras in config order (reward_weights follow it)."""
    funcs: list = [verifier]
    for name in extras:
        if name == "format":
            funcs.append(format_reward)
        elif name == "length_penalty":
            funcs.append(length_penalty(length_target))
        else:
            raise ValueError(f"grpo.extra_rewards: unknown reward '{name}'; known: {', '.join(EXTRA_REWARDS)}")
    return funcs
