"""MATH and GSM8K: compare a completion's final answer with the reference answer.

No code runs: the answer is extracted and compared (core.verifiers.mathanswer). A completion
without an extractable answer fails with that message.
"""
from __future__ import annotations

from core.verifiers import mathanswer
from core.verifiers.base import ProblemError, TestResult, Verdict, Verifier, require


class MathVerifier(Verifier):
    name = "math"
    description = ("Competition math: the final answer (\\boxed{}, 'the answer is', last "
                   "number) against the reference, numerically or with sympy (MATH schema: "
                   "problem, solution or answer).")
    default_dataset = "math"

    def reference(self, problem: dict) -> str:
        if not isinstance(problem, dict):
            raise ProblemError("a MATH problem must be a JSON object")
        if problem.get("answer") not in (None, ""):
            return str(problem["answer"])
        require(problem, ("solution",), "MATH")
        gold = mathanswer.last_boxed(str(problem["solution"]))
        if gold is None:
            raise ProblemError("MATH solution has no \\boxed{} answer (give an 'answer' field)")
        return gold

    def predict(self, completion: str) -> str | None:
        return mathanswer.extract_answer(completion)

    def _verify(self, problem: dict, completion: str) -> Verdict:
        gold = self.reference(problem)
        pred = self.predict(completion)
        if pred is None:
            test = TestResult("final answer", False, "no final answer found", "fail")
            return self.verdict("fail", [test], message="no final answer found")
        ok = mathanswer.answers_match(pred, gold)
        message = "" if ok else f"expected {gold!r}, got {pred!r}"
        test = TestResult("final answer", ok, message, "pass" if ok else "fail")
        return self.verdict("pass" if ok else "fail", [test], message=message)

    @staticmethod
    def examples() -> list[dict]:
        return MATH_EXAMPLES


class GSM8KVerifier(MathVerifier):
    name = "gsm8k"
    description = ("Grade-school math: the number after '####' in the reference against the "
                   "completion's final number ('#### N', 'the answer is N', \\boxed{N}, last "
                   "number) (GSM8K schema: question, answer).")
    default_dataset = "gsm8k"

    def reference(self, problem: dict) -> str:
        require(problem, ("answer",), "GSM8K")
        gold = mathanswer.gsm8k_gold(str(problem["answer"]))
        if gold is None:  # a bare number is accepted too
            gold = str(problem["answer"]).strip()
        if mathanswer.to_number(mathanswer.normalise(gold)) is None:
            raise ProblemError(f"GSM8K answer has no '#### N' number: {gold[:60]!r}")
        return gold

    def predict(self, completion: str) -> str | None:
        return mathanswer.extract_gsm8k(completion)

    @staticmethod
    def examples() -> list[dict]:
        return GSM8K_EXAMPLES


MATH_EXAMPLES = [
    {"title": "A fraction in lowest terms",
     "problem": {"problem": "Simplify $\\frac{14}{21}$.", "level": "Level 1",
                 "type": "Prealgebra",
                 "solution": "Both divide by 7, so $\\frac{14}{21} = \\boxed{\\frac{2}{3}}$."},
     "completion": "Dividing numerator and denominator by 7 gives $\\boxed{\\dfrac{2}{3}}$."},
    {"title": "Solve a linear equation",
     "problem": {"problem": "If $4x + 3 = 23$, what is $x$?", "level": "Level 1",
                 "type": "Algebra", "solution": "$4x = 20$, so $x = \\boxed{5}$."},
     "completion": "Subtract 3: 4x = 20. Divide by 4. The answer is x = 5."},
    {"title": "An exact root",
     "problem": {"problem": "What is $\\sqrt{50}$ in simplest radical form?",
                 "level": "Level 2", "type": "Prealgebra",
                 "solution": "$\\sqrt{50} = \\sqrt{25}\\sqrt{2} = \\boxed{5\\sqrt{2}}$."},
     "completion": "$\\sqrt{50}=\\sqrt{25 \\cdot 2}$, so the final answer is $\\boxed{5\\sqrt 2}$."},
]

GSM8K_EXAMPLES = [
    {"title": "Eggs at the market",
     "problem": {"question": "A farmer collects 16 eggs a day, eats 3 and bakes with 4. He "
                             "sells the rest for $2 each. How much does he earn a day?",
                 "answer": "16 - 3 - 4 = <<16-3-4=9>>9 eggs are sold.\n9 * 2 = <<9*2=18>>18\n"
                           "#### 18"},
     "completion": "He sells 16 - 3 - 4 = 9 eggs, so he earns 9 * $2 = $18.\n#### 18"},
    {"title": "Pages per week",
     "problem": {"question": "Ana reads 12 pages on weekdays and 20 pages on each weekend "
                             "day. How many pages does she read in a week?",
                 "answer": "5 * 12 = <<5*12=60>>60\n2 * 20 = <<2*20=40>>40\n60 + 40 = "
                           "<<60+40=100>>100\n#### 100"},
     "completion": "Weekdays: 60 pages. Weekend: 40 pages. The answer is 100 pages."},
]
