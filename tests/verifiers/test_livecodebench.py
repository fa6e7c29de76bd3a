"""LiveCodeBench: stdin/stdout programs in every language the machine has, function calls."""
from __future__ import annotations

import json

import pytest

from core.verifiers import languages
from core.verifiers.livecodebench import LiveCodeBenchVerifier, decode_tests


def stdin_problem(pairs) -> dict:
    tests = [{"input": i, "output": o, "testtype": "stdin"} for i, o in pairs]
    return {"question_title": "Double", "question_content": "Print 2n.", "platform": "atcoder",
            "starter_code": "", "public_test_cases": json.dumps(tests[:1]),
            "private_test_cases": json.dumps(tests[1:]), "metadata": "{}"}


# n=1 right, n=2 wrong answer, n=3 crash, n=4 endless loop: one compile covers four outcomes.
DOUBLE = stdin_problem([("1\n", "2\n"), ("2\n", "4\n"), ("3\n", "6\n"), ("4\n", "8\n")])
PROGRAMS = {
    "python": ("n = int(input())\nif n == 2:\n    print(5)\nelif n == 3:\n    raise RuntimeError('boom')\n"
               "elif n == 4:\n    while True:\n        pass\nelse:\n    print(2 * n)\n"),
    "c": ("#include <stdio.h>\n#include <stdlib.h>\nint main(void){int n;if(scanf(\"%d\",&n)!=1)return 1;"
          "if(n==2){puts(\"5\");return 0;}if(n==3)abort();if(n==4){volatile long x=0;for(;;)x++;}"
          "printf(\"%d\\n\",2*n);return 0;}\n"),
    "cpp": ("#include <cstdio>\n#include <stdexcept>\nint main(){int n;if(std::scanf(\"%d\",&n)!=1)return 1;"
            "if(n==2){std::puts(\"5\");return 0;}if(n==3)throw std::runtime_error(\"boom\");"
            "if(n==4){volatile long x=0;for(;;)x++;}std::printf(\"%d\\n\",2*n);}\n"),
    "rust": ("use std::io::Read;\nfn main(){let mut s=String::new();std::io::stdin().read_to_string(&mut s)"
             ".unwrap();let n:i64=s.trim().parse().unwrap();if n==2{println!(\"5\");return;}"
             "if n==3{panic!(\"boom\");}if n==4{let mut x:u64=0;loop{x=std::hint::black_box(x+1);}}"
             "println!(\"{}\",2*n);}\n"),
    "go": ("package main\nimport \"fmt\"\nfunc main(){var n int;fmt.Scan(&n);if n==2{fmt.Println(5);return};"
           "if n==3{panic(\"boom\")};if n==4{x:=0;for{x++}};fmt.Println(2*n)}\n"),
    "javascript": ("const n=parseInt(require('fs').readFileSync(0,'utf8'));if(n===2){console.log(5)}"
                   "else if(n===3){throw new Error('boom')}else if(n===4){for(;;){}}"
                   "else{console.log(2*n)}\n"),
}
BROKEN = {"python": "print(\n", "c": "int main( {\n", "cpp": "int main( {\n",
          "rust": "fn main( {\n", "go": "package main\nfunc main( {\n",
          "javascript": "const = ;\n"}


@pytest.mark.parametrize("lang", languages.LANGUAGES)
def test_pass_fail_crash_timeout_in_each_language(clean, lang):
    v = LiveCodeBenchVerifier(language=lang, timeout_s=1, partial_credit=True)
    verdict = v.verify(DOUBLE, f"```{lang}\n{PROGRAMS[lang]}```")
    if not languages.toolchain(lang).available:
        assert verdict.status == "toolchain_missing" and not verdict.passed
        return
    assert [t.status for t in verdict.tests] == ["pass", "fail", "error", "timeout"], verdict
    assert (verdict.tests[1].expected, verdict.tests[1].actual) == ("'4'", "'5'")
    assert verdict.status == "fail" and not verdict.passed
    assert verdict.reward == pytest.approx(0.25)
    good = PROGRAMS[lang].replace("n==2", "n==-2").replace("n == 2", "n == -2") \
        .replace("n===2", "n===-2").replace("n==3", "n==-3").replace("n == 3", "n == -3") \
        .replace("n===3", "n===-3").replace("n==4", "n==-4").replace("n == 4", "n == -4") \
        .replace("n===4", "n===-4")
    verdict = LiveCodeBenchVerifier(language=lang, timeout_s=5).verify(DOUBLE, good)
    assert verdict.passed and verdict.status == "pass" and len(verdict.tests) == 4, verdict


@pytest.mark.parametrize("lang", languages.LANGUAGES)
def test_compile_errors_are_never_a_pass(clean, lang):
    verdict = LiveCodeBenchVerifier(language=lang).verify(DOUBLE, BROKEN[lang])
    expected = "compile_error" if languages.toolchain(lang).available else "toolchain_missing"
    assert verdict.status == expected and not verdict.passed and verdict.reward == 0.0


def test_a_program_that_only_compiles_does_not_pass(clean):
    verdict = LiveCodeBenchVerifier(language="c").verify(DOUBLE, "int main(void){return 0;}\n")
    assert verdict.status == "fail" and not verdict.passed


def test_fork_bomb_in_c_is_contained(clean):
    bomb = "#include <unistd.h>\nint main(void){for(;;)fork();}\n"
    verdict = LiveCodeBenchVerifier(language="c", timeout_s=1).verify(DOUBLE, bomb)
    assert not verdict.passed and verdict.status in ("timeout", "error", "fail")


def test_numbers_compare_with_tolerance_and_blank_lines_do_not_matter(clean):
    problem = stdin_problem([("", "0.3333333\n\n")])
    verdict = LiveCodeBenchVerifier().verify(problem, "print(1/3)\nprint()\n")
    assert verdict.passed


FUNCTIONAL = {
    "question_title": "Pair Sum", "question_content": "Count pairs i<j with sum == target.",
    "platform": "leetcode", "starter_code": "class Solution:\n    def countPairs(self, nums: List[int], target: int) -> int:\n        ",
    "public_test_cases": json.dumps([{"input": "[1, 2, 3, 4]\n5", "output": "2",
                                      "testtype": "functional"}]),
    "private_test_cases": json.dumps([{"input": "[1, 1, 1]\n2", "output": "3",
                                       "testtype": "functional"},
                                      {"input": "[]\n0", "output": "0",
                                       "testtype": "functional"}]),
    "metadata": json.dumps({"func_name": "countPairs"}),
}
SOLUTION = ("class Solution:\n    def countPairs(self, nums: List[int], target: int) -> int:\n"
            "        return sum(1 for i in range(len(nums)) for j in range(i + 1, len(nums))\n"
            "                   if nums[i] + nums[j] == target)\n")


def test_functional_python(clean):
    v = LiveCodeBenchVerifier(timeout_s=2)
    assert v.verify(FUNCTIONAL, f"```python\n{SOLUTION}```").passed
    plain = "def countPairs(nums, target):\n    return len([1 for i, a in enumerate(nums) for b in nums[i+1:] if a + b == target])\n"
    assert v.verify(FUNCTIONAL, plain).passed
    wrong = SOLUTION.replace("== target", "!= target")
    assert v.verify(FUNCTIONAL, wrong).status == "fail"
    crash = SOLUTION.replace("return sum", "return 1 // 0 + sum")
    verdict = v.verify(FUNCTIONAL, crash)
    assert verdict.status == "error" and "ZeroDivisionError" in verdict.message
    loop = SOLUTION.replace("return sum", "while True:\n            pass\n        return sum")
    assert v.verify(FUNCTIONAL, loop).status == "timeout"


@pytest.mark.skipif(not languages.toolchain("javascript").available, reason="no node")
def test_functional_javascript(clean):
    v = LiveCodeBenchVerifier(language="javascript", timeout_s=5)
    js = ("var countPairs = function(nums, target) {\n  let c = 0;\n"
          "  for (let i = 0; i < nums.length; i++)\n    for (let j = i + 1; j < nums.length; j++)\n"
          "      if (nums[i] + nums[j] === target) c++;\n  return c;\n};\n")
    assert v.verify(FUNCTIONAL, js).passed
    assert v.verify(FUNCTIONAL, js.replace("c++;", "c += 2;")).status == "fail"


def test_functional_tests_in_c_are_refused_not_passed():
    verdict = LiveCodeBenchVerifier(language="c").verify(FUNCTIONAL, "int countPairs(){return 0;}")
    assert not verdict.passed and verdict.status in ("error", "toolchain_missing")


def test_compressed_private_tests_decode():
    from core.datasets import encode_lcb_tests

    tests = [{"input": "1\n", "output": "2\n", "testtype": "stdin"}]
    assert decode_tests(encode_lcb_tests(tests)) == tests
    problem = dict(DOUBLE, private_test_cases=encode_lcb_tests(tests))
    assert [t["input"] for _, t in LiveCodeBenchVerifier().tests(problem)] == ["1\n", "1\n"]


def test_public_only_option_and_bad_records():
    v = LiveCodeBenchVerifier(public_only=True)
    assert len(v.tests(DOUBLE)) == 1
    verdict = LiveCodeBenchVerifier().verify({"question_title": "x"}, "print(1)")
    assert verdict.status == "error" and "public_test_cases" in verdict.message
    with pytest.raises(ValueError, match="unknown language"):
        LiveCodeBenchVerifier(language="cobol")


def test_stdio_output_past_the_cap(clean):
    # stderr is nobody's answer: a correct program that floods it passes. stdout is what the
    # test reads: flooding it fails honestly instead of being truncated into a pass.
    answer = "print(2 * int(input()))\n"
    noisy = "import sys\nsys.stderr.write('e' * (5 << 20))\n" + answer
    v = LiveCodeBenchVerifier(language="python").verify(DOUBLE, f"```python\n{noisy}```")
    assert v.passed, v
    assert v.stderr.startswith("eee")
    flood = answer + "print('9' * (5 << 20))\n"
    v = LiveCodeBenchVerifier(language="python").verify(DOUBLE, f"```python\n{flood}```")
    assert v.status == "fail" and "output limit exceeded" in v.message, v
