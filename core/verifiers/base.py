"""The one small verifier interface: a problem and a completion in, a Verdict out.

A LIGHT module (stdlib only): pages, the CLI and the supervisor import it.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Sequence

STATUSES = ("pass", "fail", "timeout", "error", "compile_error", "toolchain_missing")
OUTPUT_CAP = 8192  # characters of stdout / stderr kept in a verdict


@dataclass
class TestResult:
    name: str
    passed: bool
    message: str = ""
    status: str = ""  # pass|fail|timeout|error: why this test did not pass
    # Where a test that did not pass failed: the test's line, and for a comparison
    # (`assert f(x) == y`, or a stdio test's output) the expected and the actual value, as
    # short text. Empty when not known.
    line: str = ""
    expected: str = ""
    actual: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Verdict:
    passed: bool
    reward: float
    status: str
    tests: list[TestResult] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    duration_s: float = 0.0
    message: str = ""  # one line saying why, for anything but a pass

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"verdict status must be one of {', '.join(STATUSES)}, "
                             f"got {self.status!r}")
        # A pass is only ever the "pass" status: nothing else may carry passed=True.
        if self.passed != (self.status == "pass"):
            raise ValueError(f"verdict passed={self.passed} contradicts status {self.status!r}")

    def to_dict(self) -> dict:
        return {
            "passed": self.passed, "reward": self.reward, "status": self.status,
            "tests": [t.to_dict() for t in self.tests], "stdout": self.stdout,
            "stderr": self.stderr, "duration_s": round(self.duration_s, 4),
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Verdict":
        tests = [TestResult(**t) for t in data.get("tests", [])]
        return cls(passed=bool(data["passed"]), reward=float(data["reward"]),
                   status=data["status"], tests=tests, stdout=data.get("stdout", ""),
                   stderr=data.get("stderr", ""), duration_s=float(data.get("duration_s", 0.0)),
                   message=data.get("message", ""))


def cap(text: str, limit: int = OUTPUT_CAP) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... [{len(text) - limit} more characters cut]"


def make_verdict(status: str, tests: Sequence[TestResult] = (), *, partial_credit: bool = False,
                 stdout: str = "", stderr: str = "", duration_s: float = 0.0,
                 message: str = "", output_cap: int = OUTPUT_CAP) -> Verdict:
    """Build a verdict with the reward rule in one place.

    Pass needs a "pass" status AND at least one test AND every test passed: a program that
    only compiles, or a problem without tests, never passes.
    """
    tests = list(tests)
    if status == "pass" and (not tests or not all(t.passed for t in tests)):
        status = "fail"
        message = message or ("the problem has no tests" if not tests else "a test failed")
    passed = status == "pass"
    if passed:
        reward = 1.0
    elif partial_credit and tests and status not in ("compile_error", "toolchain_missing"):
        reward = sum(t.passed for t in tests) / len(tests)
    else:
        reward = 0.0
    return Verdict(passed=passed, reward=reward, status=status, tests=tests,
                   stdout=cap(stdout, output_cap), stderr=cap(stderr, output_cap),
                   duration_s=duration_s, message=message)


def error_verdict(message: str, status: str = "error", duration_s: float = 0.0) -> Verdict:
    return Verdict(passed=False, reward=0.0, status=status, duration_s=duration_s,
                   message=message)


def default_workers() -> int:
    """Twice the cores: a sandboxed run spends part of its time waiting on process hand-offs,
    so a few more runs in flight than cores keep the CPUs busy."""
    return max(2, 2 * (os.cpu_count() or 1))


class Verifier:
    """Base class. Subclasses set `name` and `description` and implement `_verify`.

    Options common to all verifiers: partial_credit (reward = fraction of tests passed),
    timeout_s (wall clock per completion), output_cap (characters of stdout/stderr kept).
    """

    name = "base"
    description = ""
    default_dataset: str | None = None  # what verify_file looks task ids up in

    def __init__(self, partial_credit: bool = False, timeout_s: float = 10.0,
                 output_cap: int = OUTPUT_CAP, **options: Any) -> None:
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self.partial_credit = bool(partial_credit)
        self.timeout_s = float(timeout_s)
        self.output_cap = int(output_cap)
        unknown = set(options) - set(self.extra_options())
        if unknown:
            raise ValueError(f"verifier '{self.name}' has no option {sorted(unknown)[0]!r}; "
                             f"options: {', '.join(self.option_names())}")
        self.options = options

    @classmethod
    def extra_options(cls) -> dict[str, str]:
        """Verifier-specific options: name -> one-line description."""
        return {}

    @classmethod
    def option_names(cls) -> list[str]:
        return ["partial_credit", "timeout_s", "output_cap", *cls.extra_options()]

    # ---------------------------------------------------------------- public API
    def verify(self, problem: dict, completion: str) -> Verdict:
        start = time.monotonic()
        try:
            verdict = self._verify(problem, completion)
        except ProblemError as exc:  # the problem record is malformed: say which field
            verdict = error_verdict(str(exc))
        if not verdict.duration_s:
            verdict.duration_s = time.monotonic() - start
        return verdict

    def verify_batch(self, pairs: Iterable[tuple[dict, str]], workers: int | None = None,
                     on_result: Callable[[int, Verdict], None] | None = None,
                     should_stop: Callable[[], bool] | None = None) -> list[Verdict]:
        """Verify (problem, completion) pairs on a pool of `workers` threads (each waits on
        its own sandbox process), returning verdicts in input order. An exception from one
        pair becomes that pair's error verdict; the batch carries on. When `should_stop`
        turns true, pairs not started yet get an error verdict saying so."""
        pairs = list(pairs)
        workers = max(1, min(workers or default_workers(), len(pairs) or 1))

        def one(index: int) -> Verdict:
            if should_stop is not None and should_stop():
                verdict = error_verdict("not verified: stop requested")
            else:
                problem, completion = pairs[index]
                try:
                    verdict = self.verify(problem, completion)
                except Exception as exc:  # a bug or a hostile input must not end the batch
                    verdict = error_verdict(f"verifier error: {type(exc).__name__}: {exc}")
            if on_result is not None:
                on_result(index, verdict)
            return verdict

        if workers == 1:
            return [one(i) for i in range(len(pairs))]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"verify-{self.name}") as pool:
            return list(pool.map(one, range(len(pairs))))

    # ---------------------------------------------------------------- for subclasses
    def _verify(self, problem: dict, completion: str) -> Verdict:
        raise NotImplementedError

    def task_id(self, problem: dict) -> str | None:
        value = problem.get("task_id")
        return None if value is None else str(value)

    def verdict(self, status: str, tests: Sequence[TestResult] = (), **kw: Any) -> Verdict:
        return make_verdict(status, tests, partial_credit=self.partial_credit,
                            output_cap=self.output_cap, **kw)


class ProblemError(ValueError):
    """A problem record lacks a field or has one of the wrong type."""


def require(problem: dict, fields: Sequence[str], schema: str) -> None:
    if not isinstance(problem, dict):
        raise ProblemError(f"a {schema} problem must be a JSON object, got {type(problem).__name__}")
    for name in fields:
        if name not in problem:
            raise ProblemError(f"{schema} problem is missing the field '{name}'")
