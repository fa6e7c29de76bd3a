"""The verifiers by name, for the pages, the CLI and the runners.

Light: importing this module imports no verifier module (each is loaded on first use) and
nothing heavy at all (no torch, transformers, datasets; sympy only inside a math comparison).
"""
from __future__ import annotations

import importlib
from typing import Any

from core.verifiers.base import Verifier

# name -> (module, class, one-line description). The descriptions live here too so that
# listing verifiers imports nothing.
_VERIFIERS: dict[str, tuple[str, str, str]] = {
    "humaneval": ("core.verifiers.humaneval", "HumanEvalVerifier",
                  "Python functions, scored by the problem's own check(candidate) tests."),
    "mbpp": ("core.verifiers.mbpp", "MBPPVerifier",
             "Python functions, scored by the problem's assert lines."),
    "livecodebench": ("core.verifiers.livecodebench", "LiveCodeBenchVerifier",
                      "Contest programs (stdin/stdout or function calls) in Python, C, C++, "
                      "Rust, Go or JavaScript."),
    "math": ("core.verifiers.mathverify", "MathVerifier",
             "Competition math: the final answer, compared numerically or with sympy."),
    "gsm8k": ("core.verifiers.mathverify", "GSM8KVerifier",
              "Grade-school math: the final number against the '#### N' answer."),
}


def names() -> list[str]:
    return list(_VERIFIERS)


def _check(name: str) -> str:
    key = (name or "").strip().lower()
    if key not in _VERIFIERS:
        raise ValueError(f"unknown verifier '{name}'; known: {', '.join(_VERIFIERS)}")
    return key


def verifier_class(name: str) -> type[Verifier]:
    module, cls, _ = _VERIFIERS[_check(name)]
    return getattr(importlib.import_module(module), cls)


def get(name: str, **options: Any) -> Verifier:
    """A verifier instance. Options: partial_credit, timeout_s, output_cap, and the
    verifier's own (see options(name)). An unknown option raises ValueError naming it."""
    return verifier_class(name)(**options)


def description(name: str) -> str:
    return _VERIFIERS[_check(name)][2]


def options(name: str) -> dict[str, str]:
    """Option name -> one-line description, the common ones first."""
    common = {"partial_credit": "reward = fraction of tests passed (default false)",
              "timeout_s": "wall-clock limit per completion, seconds (default 10)",
              "output_cap": "characters of stdout/stderr kept per verdict (default 8192)"}
    return {**common, **verifier_class(name).extra_options()}


def example_problems(name: str) -> list[dict]:
    """Hand-written problems in the verifier's own schema, each {title, problem, completion}
    (a completion that passes), for the Verifiers page."""
    return [dict(e) for e in verifier_class(name).examples()]


def default_dataset(name: str) -> str | None:
    return verifier_class(name).default_dataset
