"""Final-answer extraction and normalisation tables for MATH and GSM8K."""
from __future__ import annotations

import pytest

from core.verifiers import mathanswer as m
from core.verifiers.mathverify import GSM8KVerifier, MathVerifier

EXTRACT = [
    ("so the result is \\boxed{42}.", "42"),
    ("\\boxed{\\frac{a}{b^{2}}} and then \\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
    ("nested \\boxed{\\left(1, \\frac{\\sqrt{3}}{2}\\right)}", "\\left(1, \\frac{\\sqrt{3}}{2}\\right)"),
    ("\\fbox{7}", "7"),
    ("$\\boxed 9$", "9"),
    ("Therefore, the final answer is $3\\sqrt{2}$.\nDone", "$3\\sqrt{2}$."),
    ("The answer is: 12 apples", "12 apples"),
    ("We get 3 then 4 and finally 17.5 in total", "17.5"),
    ("no numbers here", None),
    ("", None),
]


@pytest.mark.parametrize("text,expected", EXTRACT)
def test_extract_answer(text, expected):
    assert m.extract_answer(text) == expected


NORMALISE = [
    ("$1,234$", "1234"), ("\\$12.50", "12.50"), ("\\dfrac{3}{4}", "(3)/(4)"),
    ("\\frac12", "(1)/(2)"), ("\\tfrac{1}{3}", "(1)/(3)"), ("\\sqrt{2}", "sqrt(2)"),
    ("90^\\circ", "90"), ("x = 5", "5"), ("12 \\text{ cm}", "12"), ("5 square units", "5"),
    ("\\left( 1, 2 \\right)", "(1,2)"), ("2\\pi", "2pi"), ("3 \\cdot 4", "3*4"),
    ("x^{2}", "x**(2)"), ("25\\%", "25%"), ("7.", "7"),
]


@pytest.mark.parametrize("raw,expected", NORMALISE)
def test_normalise(raw, expected):
    assert m.normalise(raw) == expected


MATCH = [
    ("\\frac{1}{2}", "0.5", True), ("\\dfrac{2}{4}", "\\frac{1}{2}", True),
    ("1,000", "1000", True), ("\\$12", "12", True), ("5\\sqrt{2}", "\\sqrt{50}", True),
    ("50\\%", "50", True), ("(1, 2)", "(1,2)", True), ("x=3", "3", True),
    ("\\frac34", "3/4", True), ("12 cm", "12", True), ("2\\pi", "\\pi \\cdot 2", True),
    ("0.333", "\\frac{1}{3}", False), ("0.3333333", "\\frac{1}{3}", True),
    ("x^2+2x+1", "(x+1)^2", True), ("2", "3", False), ("(1, 2)", "(2, 1)", False),
    ("\\sqrt{2}/2", "\\frac{\\sqrt{2}}{2}", True), ("-4", "4", False),
    ("10^{10^{10}}", "10^{10^{10}}", True),  # equal strings, never evaluated
    ("10^{100000}", "10^{99999}", False),  # refused by the guard, not computed
    ("__import__('os')", "0", False), (None, "1", False),
]


@pytest.mark.parametrize("pred,gold,expected", MATCH)
def test_answers_match(pred, gold, expected):
    assert m.answers_match(pred, gold) is expected


GSM8K = [
    ("So she has 5 + 3 = 8 apples.\n#### 8", "8"),
    ("The answer is 1,250 dollars.", "1250"),
    ("Total: $18.", "18"),
    ("\\boxed{72}", "72"),
    ("first 3, then 4, so 7 in the end", "7"),
    ("The final answer is 36.", "36"),
]


@pytest.mark.parametrize("text,expected", GSM8K)
def test_extract_gsm8k(text, expected):
    assert m.extract_gsm8k(text) == expected


def test_math_verifier_verdicts():
    problem = {"problem": "1/2 + 1/4?", "solution": "It is $\\boxed{\\frac{3}{4}}$.",
               "level": "Level 1", "type": "Algebra"}
    v = MathVerifier()
    assert v.verify(problem, "The answer is $\\frac{3}{4}$").passed
    assert v.verify(problem, "0.75").passed
    wrong = v.verify(problem, "\\boxed{2/3}")
    assert wrong.status == "fail" and "expected" in wrong.message and wrong.reward == 0.0
    assert v.verify(problem, "I don't know.").status == "fail"
    assert v.verify({"problem": "x", "answer": "7"}, "so 7").passed
    bad = v.verify({"problem": "x", "solution": "no box"}, "7")
    assert bad.status == "error" and "boxed" in bad.message


def test_gsm8k_verifier_verdicts():
    problem = {"question": "?", "answer": "2 + 2 = <<2+2=4>>4\n#### 4"}
    v = GSM8KVerifier()
    assert v.verify(problem, "2 plus 2 is 4.\n#### 4").passed
    assert v.verify(problem, "The answer is 4.0").passed
    assert not v.verify(problem, "#### 5").passed
    assert v.verify({"question": "?"}, "4").status == "error"
