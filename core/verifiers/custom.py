"""Problems from hand-written tests (the Verifiers page's "write your own tests").

Each verifier gets a few plain fields; `custom_problem` turns them into a record in the
verifier's own schema, so the page runs exactly the code path a dataset problem runs.
"""
from __future__ import annotations

import json

from core.verifiers.base import ProblemError

FIELDS: dict[str, dict[str, str]] = {
    "humaneval": {
        "entry_point": "add",
        "prompt": 'def add(a: int, b: int) -> int:\n    """Return the sum of a and b."""\n',
        "test": ("def check(candidate):\n    assert candidate(2, 3) == 5\n"
                 "    assert candidate(-1, 1) == 0\n"),
    },
    "mbpp": {
        "test_list": "assert add(2, 3) == 5\nassert add(-1, 1) == 0",
        "test_setup_code": "",
    },
    "livecodebench": {
        "tests": json.dumps([{"input": "2 3\n", "output": "5\n"},
                             {"input": "-1 1\n", "output": "0\n"}], indent=1),
        "testtype": "stdin",
        "func_name": "",
    },
    "math": {"answer": "\\frac{1}{2}"},
    "gsm8k": {"answer": "42"},
}
STARTER_CODE = {
    "humaneval": "def add(a: int, b: int) -> int:\n    return a + b\n",
    "mbpp": "def add(a, b):\n    return a + b\n",
    "livecodebench": "a, b = map(int, input().split())\nprint(a + b)\n",
    "math": "The answer is $\\frac{1}{2}$.",
    "gsm8k": "#### 42",
}


def template(verifier: str) -> dict[str, str]:
    return dict(FIELDS[verifier])


def custom_problem(verifier: str, fields: dict[str, str]) -> dict:
    """A record in the verifier's schema from the page's fields. ProblemError names the
    field that does not work."""
    f = {k: (v if isinstance(v, str) else str(v)) for k, v in fields.items()}
    if verifier == "humaneval":
        if not f.get("entry_point", "").strip().isidentifier():
            raise ProblemError("entry_point must be a Python function name")
        if "def check(" not in f.get("test", ""):
            raise ProblemError("test must define check(candidate)")
        return {"task_id": "custom", "prompt": f.get("prompt", ""), "test": f["test"],
                "entry_point": f["entry_point"].strip(), "canonical_solution": ""}
    if verifier == "mbpp":
        tests = [t for t in f.get("test_list", "").splitlines() if t.strip()]
        if not tests:
            raise ProblemError("test_list needs at least one assert line")
        return {"task_id": "custom", "text": "", "code": "", "test_list": tests,
                "test_setup_code": f.get("test_setup_code", ""), "challenge_test_list": []}
    if verifier == "livecodebench":
        try:
            tests = json.loads(f.get("tests", ""))
        except ValueError as exc:
            raise ProblemError(f"tests must be a JSON list of {{input, output}}: {exc}") from None
        if not isinstance(tests, list) or not tests or not all(
                isinstance(t, dict) and "input" in t and "output" in t for t in tests):
            raise ProblemError("tests must be a non-empty JSON list of {input, output}")
        kind = f.get("testtype", "stdin")
        if kind not in ("stdin", "functional"):
            raise ProblemError("testtype must be stdin or functional")
        if kind == "functional" and not f.get("func_name", "").strip().isidentifier():
            raise ProblemError("func_name is needed for functional tests")
        cases = [{"input": str(t["input"]), "output": str(t["output"]), "testtype": kind}
                 for t in tests]
        meta = {"func_name": f["func_name"].strip()} if kind == "functional" else {}
        return {"question_title": "custom", "question_content": "", "platform": "custom",
                "starter_code": "", "public_test_cases": json.dumps(cases),
                "private_test_cases": "[]", "metadata": json.dumps(meta)}
    if verifier == "math":
        if not f.get("answer", "").strip():
            raise ProblemError("answer is empty")
        return {"problem": "", "answer": f["answer"].strip(), "level": "", "type": "custom"}
    if verifier == "gsm8k":
        if not f.get("answer", "").strip():
            raise ProblemError("answer is empty")
        return {"question": "", "answer": f"#### {f['answer'].strip()}"}
    raise ProblemError(f"no custom tests for verifier '{verifier}'")
