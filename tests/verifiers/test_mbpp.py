"""MBPP: assert lines as tests, the tested function found from them."""
from __future__ import annotations

import pytest

from core.verifiers.mbpp import MBPPVerifier, function_under_test

PROBLEM = {
    "task_id": 9101, "text": "Write a function to reverse the words of a sentence.",
    "code": "def reverse_words(s):\n    return ' '.join(s.split()[::-1])",
    "test_list": ["assert reverse_words('a b c') == 'c b a'",
                  "assert reverse_words('one') == 'one'",
                  "assert reverse_words('') == ''"],
    "test_setup_code": "", "challenge_test_list": ["assert reverse_words(' x  y ') == 'y x'"],
}


def test_reference_code_passes_and_variants_fail_time_out_crash(clean):
    v = MBPPVerifier(timeout_s=1)
    assert v.verify(PROBLEM, PROBLEM["code"]).passed
    assert v.verify(PROBLEM, "def reverse_words(s):\n    return s\n").status == "fail"
    assert v.verify(PROBLEM, "def reverse_words(s):\n    while True:\n        pass\n").status == "timeout"
    crash = v.verify(PROBLEM, "def reverse_words(s):\n    return s.nope()\n")
    assert crash.status == "error" and "AttributeError" in crash.message


def test_chat_answer_with_fences_and_helpers(clean):
    completion = ("I'll split and join.\n\n```python\nimport re\n\ndef _words(s):\n"
                  "    return re.findall(r'\\S+', s)\n\ndef reverse_words(s):\n"
                  "    return ' '.join(reversed(_words(s)))\n```\n\nExample:\n```\n"
                  "reverse_words('a b')\n```")
    verdict = MBPPVerifier(challenge_tests=True).verify(PROBLEM, completion)
    assert verdict.passed and len(verdict.tests) == 4


def test_tests_may_use_the_programs_classes_and_imports(clean):
    problem = {"task_id": 9102, "text": "Longest chain of pairs.",
               "test_list": ["assert max_chain([Pair(5, 24), Pair(15, 25), Pair(27, 40), "
                             "Pair(50, 60)], 4) == 3",
                             "assert math.isclose(ratio(1, 3), 0.3333333, rel_tol=1e-6)"],
               "test_setup_code": "", "challenge_test_list": []}
    code = ("import math\nclass Pair:\n    def __init__(self, a, b):\n        self.a, self.b = a, b\n"
            "def max_chain(pairs, n):\n    pairs = sorted(pairs, key=lambda p: p.b)\n"
            "    count, end = 0, float('-inf')\n    for p in pairs:\n"
            "        if p.a > end:\n            count, end = count + 1, p.b\n    return count\n"
            "def ratio(a, b):\n    return a / b\n")
    assert MBPPVerifier().verify(problem, code).passed


def test_partial_credit(clean):
    v = MBPPVerifier(partial_credit=True)
    verdict = v.verify(PROBLEM, "def reverse_words(s):\n    return s\n")
    assert verdict.reward == pytest.approx(2 / 3)


def test_function_under_test_skips_builtins():
    assert function_under_test(["assert sorted(f(1)) == [1]"]) == "f"
    assert function_under_test(["assert set(similar_elements((3, 4), (5, 4))) == set((4,))"]) \
        == "similar_elements"


def test_bad_problem_is_an_error_verdict():
    verdict = MBPPVerifier().verify({"text": "x"}, "def f(): pass")
    assert verdict.status == "error" and "test_list" in verdict.message


SETUP_PROBLEM = {
    "task_id": 9103, "text": "Write a function to find the area of a rectangle.",
    "code": "def area(r):\n    return r.w * r.h",
    "test_list": ["assert area(Rect(3, 4)) == 12", "assert area(Rect(1, 1)) == 1"],
    "test_setup_code": "class Rect:\n    def __init__(self, w, h):\n        self.w, self.h = w, h\n",
    "challenge_test_list": [],
}


def test_setup_code_runs_before_the_program_and_keeps_its_line_numbers(clean):
    v = MBPPVerifier(timeout_s=2)
    assert v.verify(SETUP_PROBLEM, SETUP_PROBLEM["code"]).passed
    # An error at the program's top level names the program's own line 3, not a line
    # shifted by the setup's length (the setup used to be pasted above the program).
    broken = v.verify(SETUP_PROBLEM, "def area(r):\n    return r.w * r.h\nraise ValueError('x')\n")
    assert broken.status == "error" and 'solution.py", line 3' in broken.stderr, broken
    syntax = v.verify(SETUP_PROBLEM, "def area(r):\n    return r.w * r.h\n\nx = (1,\n")
    assert syntax.status == "compile_error" and "(solution.py, line 4)" in syntax.message, syntax


def test_a_setup_that_raises_is_named_as_the_problems_fault(clean):
    problem = dict(SETUP_PROBLEM, test_setup_code="import nonexistent_module_xyz\n")
    verdict = MBPPVerifier(timeout_s=2).verify(problem, SETUP_PROBLEM["code"])
    assert not verdict.passed and "test setup failed: ModuleNotFoundError" in verdict.message, verdict
