"""The verifiers by name, for the pages, the CLI and the runners.

Light: importing this module imports no verifier module (each is loaded on first use) and
nothing heavy at all (no torch, transformers, datasets; sympy only inside a math comparison).
"""
from __future__ import annotations

import importlib
from typing import Any, NamedTuple

from core.verifiers.base import Verifier
from core.verifiers.languages import LANGUAGES


class Entry(NamedTuple):
    module: str
    cls: str
    description: str  # one line; here so that listing verifiers imports nothing
    languages: tuple[str, ...] = ()  # code it runs in the sandbox; () for answer checkers


# The one list of verifiers: the pages, the CLI and the runners read it (a new verifier is
# one line here and its module).
_VERIFIERS: dict[str, Entry] = {
    "humaneval": Entry("core.verifiers.humaneval", "HumanEvalVerifier",
                       "Python functions, scored by the problem's own check(candidate) tests.",
                       ("python",)),
    "mbpp": Entry("core.verifiers.mbpp", "MBPPVerifier",
                  "Python functions, scored by the problem's assert lines.", ("python",)),
    "livecodebench": Entry("core.verifiers.livecodebench", "LiveCodeBenchVerifier",
                           "Contest programs (stdin/stdout or function calls) in Python, C, "
                           "C++, Rust, Go or JavaScript.", LANGUAGES),
    "math": Entry("core.verifiers.mathverify", "MathVerifier",
                  "Competition math: the final answer, compared numerically or with sympy."),
    "gsm8k": Entry("core.verifiers.mathverify", "GSM8KVerifier",
                   "Grade-school math: the final number against the '#### N' answer."),
}


def names() -> list[str]:
    return list(_VERIFIERS)


def code_verifiers() -> list[str]:
    """The verifiers that run code in the sandbox (the others check an answer)."""
    return [name for name, entry in _VERIFIERS.items() if entry.languages]


def languages(name: str) -> tuple[str, ...]:
    """The languages a verifier runs code in (the first is its default); () for none."""
    return _VERIFIERS[_check(name)].languages


def _check(name: str) -> str:
    key = (name or "").strip().lower()
    if key not in _VERIFIERS:
        raise ValueError(f"unknown verifier '{name}'; known: {', '.join(_VERIFIERS)}")
    return key


def verifier_class(name: str) -> type[Verifier]:
    entry = _VERIFIERS[_check(name)]
    return getattr(importlib.import_module(entry.module), entry.cls)


def get(name: str, **options: Any) -> Verifier:
    """A verifier instance. Options: partial_credit, timeout_s, output_cap, and the
    verifier's own (see options(name)). An unknown option raises ValueError naming it."""
    return verifier_class(name)(**options)


def description(name: str) -> str:
    return _VERIFIERS[_check(name)].description


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
