"""MBPP: the problem's assert lines, one test each, run in the sandbox.

Problems are MBPP records {task_id, text, code, test_list, test_setup_code,
challenge_test_list}. The function the tests call is found in the first test (the prompt
names it); the completion's code block that defines it is used.
"""
from __future__ import annotations

import ast
import builtins
import re

from core.verifiers import codeutil, sandbox
from core.verifiers.base import ProblemError, Verdict, Verifier, require


def function_under_test(test_list: list[str]) -> str | None:
    """The first called name in the tests that is not a builtin (the function under test)."""
    for test in test_list:
        try:
            tree = ast.parse(test)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                    not hasattr(builtins, node.func.id):
                return node.func.id
    m = re.search(r"assert\s+(?:not\s+)?\(?\s*([A-Za-z_]\w*)\s*\(", " ".join(test_list))
    return m.group(1) if m else None


class MBPPVerifier(Verifier):
    name = "mbpp"
    description = ("Python functions scored by the problem's assert lines "
                   "(MBPP schema: text, test_list, test_setup_code).")
    default_dataset = "mbpp"

    @classmethod
    def extra_options(cls) -> dict[str, str]:
        return {**codeutil.SANDBOX_OPTIONS,
                "challenge_tests": "also run challenge_test_list (default false)"}

    def spec(self, problem: dict, completion: str) -> dict:
        require(problem, ("test_list",), "MBPP")
        tests = list(problem["test_list"])
        if self.options.get("challenge_tests"):
            tests += list(problem.get("challenge_test_list") or [])
        if not all(isinstance(t, str) for t in tests):
            raise ProblemError("MBPP test_list must be a list of strings")
        func = function_under_test(tests)
        program, _ = codeutil.extract_code(completion, "python", must_define=func)
        setup = problem.get("test_setup_code") or ""
        return codeutil.precompile({
            "kind": "pytests",
            "program": program,
            # As MBPP's own harness runs it, in one namespace: the setup, then the program
            # (whose own definitions win). The tests' objects of the setup's classes then
            # reach the program as instances of its copy (see sandbox_server/harness.enc_arg).
            # Run apart, so the program's tracebacks keep its own line numbers.
            **({"program_setup": setup} if setup.strip() else {}),
            "setup": problem.get("test_setup_code") or "",
            "tests": [{"name": f"test {i + 1}: {t.strip()[:80]}", "code": t, "kind": "test"}
                      for i, t in enumerate(tests)],
            "bind": {},
            "stop_on_fail": not self.partial_credit,
            **codeutil.sandbox_limits(self),
        })

    def _verify(self, problem: dict, completion: str) -> Verdict:
        result = sandbox.run(self.spec(problem, completion))
        return codeutil.to_verdict(result, partial_credit=self.partial_credit,
                                   output_cap=self.output_cap)

    @staticmethod
    def examples() -> list[dict]:
        return EXAMPLES


EXAMPLES = [
    {
        "title": "Count the vowels",
        "problem": {
            "task_id": 90001,
            "text": "Write a function to count the vowels (a, e, i, o, u, either case) in a string.",
            "code": "def count_vowels(s):\n    return sum(c in 'aeiouAEIOU' for c in s)",
            "test_list": ["assert count_vowels('hello') == 2",
                          "assert count_vowels('RHYTHM') == 0",
                          "assert count_vowels('Audio') == 4"],
            "test_setup_code": "", "challenge_test_list": [],
        },
        "completion": "def count_vowels(s):\n    return sum(c in 'aeiouAEIOU' for c in s)\n",
    },
    {
        "title": "Second largest distinct value",
        "problem": {
            "task_id": 90002,
            "text": "Write a function to find the second largest distinct number in a list, "
                    "or None when there is none.",
            "code": ("def second_largest(xs):\n    v = sorted(set(xs))\n"
                     "    return v[-2] if len(v) > 1 else None"),
            "test_list": ["assert second_largest([3, 1, 4, 4]) == 3",
                          "assert second_largest([7]) is None",
                          "assert second_largest([-2, -5, -2]) == -5"],
            "test_setup_code": "", "challenge_test_list": [],
        },
        "completion": ("Here it is:\n```python\ndef second_largest(xs):\n    v = sorted(set(xs))\n"
                       "    return v[-2] if len(v) > 1 else None\n```\n"),
    },
]
