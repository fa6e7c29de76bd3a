"""The registry: names, options, examples (each example passes), a light import."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.verifiers import base, registry

REPO = Path(__file__).resolve().parents[2]


def test_names_and_descriptions():
    assert registry.names() == ["humaneval", "mbpp", "livecodebench", "math", "gsm8k"]
    for name in registry.names():
        assert registry.description(name)
        assert "partial_credit" in registry.options(name)


def test_the_registry_says_which_verifiers_run_code_and_in_which_languages():
    from core.verifiers import languages

    assert registry.code_verifiers() == ["humaneval", "mbpp", "livecodebench"]
    assert registry.languages("humaneval") == ("python",)
    assert registry.languages("livecodebench") == languages.LANGUAGES
    assert registry.languages("math") == ()
    for name in registry.code_verifiers():  # each of them runs its code in the sandbox
        assert "fresh_harness" in registry.options(name)


def test_get_rejects_unknown_names_and_options():
    with pytest.raises(ValueError, match="unknown verifier 'nope'"):
        registry.get("nope")
    with pytest.raises(ValueError, match="no option 'colour'"):
        registry.get("humaneval", colour="red")
    with pytest.raises(ValueError, match="timeout_s"):
        registry.get("mbpp", timeout_s=0)


@pytest.mark.parametrize("name", ["humaneval", "mbpp", "livecodebench", "math", "gsm8k"])
def test_every_example_passes_and_a_wrong_answer_fails(clean, name):
    examples = registry.example_problems(name)
    assert len(examples) >= 2
    for example in examples:
        verifier = registry.get(name)
        assert verifier.verify(example["problem"], example["completion"]).passed, example["title"]
        assert not verifier.verify(example["problem"], "42 is not it\n").passed


def test_importing_the_registry_is_light():
    code = ("import sys, core.verifiers.registry as r\n"
            "r.names(); r.description('math')\n"
            "heavy = [m for m in ('torch', 'transformers', 'datasets', 'sympy', 'numpy') "
            "if m in sys.modules]\n"
            "print(heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"


def test_verdict_rules():
    assert base.make_verdict("pass", []).status == "fail"  # no tests: never a pass
    t = [base.TestResult("a", True), base.TestResult("b", False)]
    assert base.make_verdict("pass", t).status == "fail"
    v = base.make_verdict("fail", t, partial_credit=True)
    assert v.reward == 0.5 and not v.passed
    assert base.make_verdict("compile_error", t, partial_credit=True).reward == 0.0
    with pytest.raises(ValueError):
        base.Verdict(passed=True, reward=1.0, status="fail")
    with pytest.raises(ValueError):
        base.Verdict(passed=False, reward=0.0, status="maybe")
    d = base.make_verdict("fail", t, stdout="x" * 20000).to_dict()
    assert len(d["stdout"]) < 9000 and d["tests"][1] == {"name": "b", "passed": False,
                                                         "message": "", "status": "",
                                                         "line": "", "expected": "",
                                                         "actual": ""}
    assert base.Verdict.from_dict(d).to_dict() == d


def test_verify_batch_keeps_order_and_survives_exceptions():
    class Flaky(base.Verifier):
        name = "flaky"

        def _verify(self, problem, completion):
            if completion == "boom":
                raise RuntimeError("bug")
            return self.verdict("pass" if completion == "ok" else "fail",
                                [base.TestResult("t", completion == "ok")])

    verdicts = Flaky().verify_batch([({}, c) for c in ["ok", "boom", "no", "ok"] * 10], workers=3)
    assert [v.status for v in verdicts] == ["pass", "error", "fail", "pass"] * 10
    assert "bug" in verdicts[1].message
