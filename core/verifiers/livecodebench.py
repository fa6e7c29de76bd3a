"""LiveCodeBench (code_generation_lite): stdin/stdout tests and function-call tests.

Problems are LiveCodeBench records {question_title, question_content, platform, starter_code,
public_test_cases, private_test_cases, metadata} whose test fields are JSON strings (or the
compressed upstream form) of [{input, output, testtype: "stdin" | "functional"}]; metadata
holds func_name for functional problems. The language comes from the `language` option, else
the problem's own `language` field, else Python.

- stdin tests: the program reads the input and its output is compared here, line by line
  (trailing blanks ignored; numbers within 1e-6 match). Python, C, C++, Rust, Go, JavaScript.
- functional tests: each input line is one JSON argument; the result must equal the expected
  JSON value (tuples compare as lists). Python (a Solution class or a plain function) and
  JavaScript (the LeetCode `var name = function` style or a class Solution).
A language whose toolchain is not installed gives toolchain_missing, never a pass.
"""
from __future__ import annotations

import json

from core.verifiers import codeutil, languages, lcbcodec, sandbox
from core.verifiers.base import ProblemError, Verdict, Verifier, error_verdict, require

FIELDS = ("public_test_cases",)

# Imports a contest solution may take for granted (LiveCodeBench's grader provides the same
# kind of preamble). Not `from math import *`: it would shadow the builtin pow.
PY_HEADER = (
    "import sys, os, io, math, re, string, heapq, bisect, itertools, functools, collections, "
    "operator, copy, json, random, statistics, fractions, decimal, datetime\n"
    "from typing import *\nfrom collections import *\nfrom itertools import *\n"
    "from functools import *\nfrom heapq import *\nfrom bisect import *\n"
    "from math import gcd, lcm, sqrt, isqrt, ceil, floor, log, log2, log10, comb, perm, "
    "factorial, inf, pi, e, hypot, prod\n"
    "sys.setrecursionlimit(50000)\n"
)
NORM_SETUP = (
    "def _halo_norm(v):\n"
    "    if isinstance(v, (list, tuple)):\n"
    "        return [_halo_norm(x) for x in v]\n"
    "    if isinstance(v, dict):\n"
    "        return {k: _halo_norm(x) for k, x in v.items()}\n"
    "    return v\n"
)
JS_FUNCTIONAL = """
;(function () {
  const __args = require('fs').readFileSync(0, 'utf8').split('\\n')
    .filter((l) => l.trim().length > 0).map((l) => JSON.parse(l));
  const __name = %s;
  let __fn;
  if (typeof Solution === 'function' && Solution.prototype &&
      typeof Solution.prototype[__name] === 'function') {
    const __s = new Solution();
    __fn = (...a) => __s[__name](...a);
  } else {
    __fn = eval(__name);
  }
  const __r = __fn(...__args);
  process.stdout.write(JSON.stringify(__r === undefined ? null : __r) + '\\n');
})();
"""


def decode_tests(raw) -> list[dict]:
    try:
        return lcbcodec.decode_tests(raw)
    except lcbcodec.LcbCodecError as exc:
        raise ProblemError(f"LiveCodeBench test cases do not decode: {exc}") from None


def func_name(problem: dict) -> str | None:
    try:
        return lcbcodec.func_name(problem)
    except lcbcodec.LcbCodecError as exc:
        raise ProblemError(str(exc)) from None


def functional_args(text: str) -> list:
    try:
        return [json.loads(line) for line in text.split("\n") if line.strip()]
    except ValueError as exc:
        raise ProblemError(f"a functional test input is not JSON lines: {exc}") from None


class LiveCodeBenchVerifier(Verifier):
    name = "livecodebench"
    description = ("Contest programs scored by stdin/stdout or function-call tests, in Python, "
                   "C, C++, Rust, Go or JavaScript (LiveCodeBench schema).")
    default_dataset = "livecodebench"

    @classmethod
    def extra_options(cls) -> dict[str, str]:
        return {**codeutil.SANDBOX_OPTIONS,
                "language": "python, c, cpp, rust, go or javascript (default: the problem's "
                            "`language` field, else python)",
                "public_only": "run only the public tests (default false)",
                "compile_timeout_s": "limit for the compiler, seconds (default 60)"}

    def __init__(self, **options) -> None:
        super().__init__(**options)
        if self.options.get("language"):
            languages.normalise(self.options["language"])  # unknown: ValueError now

    def tests(self, problem: dict) -> list[tuple[str, dict]]:
        require(problem, FIELDS, "LiveCodeBench")
        named = [(f"public {i + 1}", t) for i, t in
                 enumerate(decode_tests(problem["public_test_cases"]))]
        if not self.options.get("public_only"):
            named += [(f"private {i + 1}", t) for i, t in
                      enumerate(decode_tests(problem.get("private_test_cases") or "[]"))]
        for name, t in named:
            if not isinstance(t, dict) or "input" not in t or "output" not in t:
                raise ProblemError(f"LiveCodeBench test '{name}' needs input and output")
        return named

    def language(self, problem: dict) -> str:
        return languages.normalise(self.options.get("language") or problem.get("language")
                                   or "python")

    def _verify(self, problem: dict, completion: str) -> Verdict:
        tests = self.tests(problem)
        lang = self.language(problem)
        functional = any(t.get("testtype") == "functional" for _, t in tests)
        if lang == "python":
            spec = self._python_spec(problem, completion, tests, functional)
        else:
            chain = languages.toolchain(lang)
            if not chain.available:
                return error_verdict(f"{lang}: {chain.missing}", status="toolchain_missing")
            if functional and lang != "javascript":
                return error_verdict(f"function-call tests run in Python or JavaScript, "
                                     f"not {lang}")
            spec = self._native_spec(problem, completion, tests, functional, chain)
        result = sandbox.run(spec)
        return codeutil.to_verdict(result, partial_credit=self.partial_credit,
                                   output_cap=self.output_cap)

    def _python_spec(self, problem: dict, completion: str, tests, functional: bool) -> dict:
        fn = func_name(problem)
        code, _ = codeutil.extract_code(completion, "python", must_define=fn)
        program = PY_HEADER + code
        if not functional:
            return self._stdio_spec(program, tests, "python", compile_argv="python")
        if not fn:
            raise ProblemError("a functional LiveCodeBench problem needs metadata.func_name")
        owner = "Solution" if "Solution" in codeutil.top_level_names(code) else None
        call = f"Solution().{fn}" if owner else fn
        cases = []
        for name, t in tests:
            args = functional_args(t["input"])
            try:
                expected = json.loads(t["output"])
            except ValueError:
                raise ProblemError(f"test '{name}' output is not JSON") from None
            cases.append({"name": name, "kind": "test",
                          "code": f"assert _halo_norm({call}(*{args!r})) == "
                                  f"_halo_norm({expected!r})"})
        return codeutil.precompile({
            "kind": "pytests", "program": program, "setup": NORM_SETUP, "tests": cases,
            "bind": {}, "export": [owner or fn], "module_name": "__main__",
            "stop_on_fail": not self.partial_credit, **codeutil.sandbox_limits(self)})

    def _native_spec(self, problem, completion, tests, functional, chain) -> dict:
        fn = func_name(problem) if functional else None
        code, _ = codeutil.extract_code(completion, chain.language, must_define=fn)
        if functional:  # JavaScript: a harness reads the JSON arguments, prints the result
            code = code + JS_FUNCTIONAL % json.dumps(fn)
        spec = self._stdio_spec(code, tests, chain.language, compile_argv=chain.compile,
                                compare="json" if functional else "tokens")
        spec.update(source_name=chain.source_name, run=list(chain.run),
                    memory_kind=chain.memory_kind, env=dict(chain.env))
        return spec

    def _stdio_spec(self, program: str, tests, language: str, compile_argv,
                    compare: str = "tokens") -> dict:
        compile_argv = list(compile_argv) if isinstance(compile_argv, tuple) else compile_argv
        return {"kind": "stdio", "language": language, "program": program,
                "source_name": "main.py", "compile": compile_argv,
                "compile_timeout_s": float(self.options.get("compile_timeout_s", 60)),
                "tests": [{"name": name, "stdin": t["input"], "expected": t["output"],
                           "compare": compare} for name, t in tests],
                "stop_on_fail": not self.partial_credit, **codeutil.sandbox_limits(self)}

    @staticmethod
    def examples() -> list[dict]:
        return EXAMPLES


def _tests(*pairs: tuple[str, str], testtype: str = "stdin") -> str:
    return json.dumps([{"input": i, "output": o, "testtype": testtype} for i, o in pairs])


EXAMPLES = [
    {
        "title": "Maximum of N numbers (stdin)",
        "problem": {
            "question_title": "Largest Number",
            "question_content": "The first line holds N, the second N integers. Print the "
                                "largest of them.",
            "platform": "atcoder", "question_id": "ex-lcb-1", "contest_id": "example",
            "contest_date": "2025-01-01T00:00:00", "starter_code": "", "difficulty": "easy",
            "public_test_cases": _tests(("3\n1 5 2\n", "5\n")),
            "private_test_cases": _tests(("1\n-7\n", "-7\n"), ("4\n9 9 1 0\n", "9\n")),
            "metadata": "{}",
        },
        "completion": "n = int(input())\nprint(max(map(int, input().split())))\n",
        "completions": {
            "c": ("#include <stdio.h>\nint main(void){int n,x,m;scanf(\"%d\",&n);scanf(\"%d\",&m);"
                  "for(int i=1;i<n;i++){scanf(\"%d\",&x);if(x>m)m=x;}printf(\"%d\\n\",m);return 0;}\n"),
            "cpp": ("#include <bits/stdc++.h>\nint main(){int n;std::cin>>n;long long m=LLONG_MIN,x;"
                    "while(n--){std::cin>>x;m=std::max(m,x);}std::cout<<m<<\"\\n\";}\n"),
            "rust": ("use std::io::*;\nfn main(){let mut s=String::new();stdin().read_to_string(&mut s)"
                     ".unwrap();let v:Vec<i64>=s.split_whitespace().map(|x|x.parse().unwrap())"
                     ".collect();println!(\"{}\",v[1..].iter().max().unwrap());}\n"),
            "go": ("package main\nimport \"fmt\"\nfunc main(){var n,x int;fmt.Scan(&n);m:=-1<<62;"
                   "for i:=0;i<n;i++{fmt.Scan(&x);if x>m{m=x}};fmt.Println(m)}\n"),
            "javascript": ("const v=require('fs').readFileSync(0,'utf8').trim().split(/\\s+/)"
                           ".map(Number);console.log(Math.max(...v.slice(1)));\n"),
        },
    },
    {
        "title": "Running maximum (function call)",
        "problem": {
            "question_title": "Running Maximum",
            "question_content": "Return an array whose i-th element is the largest of "
                                "nums[0..i].",
            "platform": "leetcode", "question_id": "ex-lcb-2", "contest_id": "example",
            "contest_date": "2025-01-01T00:00:00",
            "starter_code": ("class Solution:\n    def runningMax(self, nums: List[int]) "
                             "-> List[int]:\n        "),
            "difficulty": "easy",
            "public_test_cases": _tests(("[1, 3, 2, 5]", "[1, 3, 3, 5]"), testtype="functional"),
            "private_test_cases": _tests(("[7]", "[7]"), ("[-1, -5, 0]", "[-1, -1, 0]"),
                                         testtype="functional"),
            "metadata": json.dumps({"func_name": "runningMax"}),
        },
        "completion": ("```python\nclass Solution:\n    def runningMax(self, nums: List[int]) -> "
                       "List[int]:\n        out, best = [], None\n        for x in nums:\n"
                       "            best = x if best is None else max(best, x)\n"
                       "            out.append(best)\n        return out\n```\n"),
        "completions": {
            "javascript": ("var runningMax = function(nums) {\n  let b = -Infinity;\n"
                           "  return nums.map((x) => (b = Math.max(b, x)));\n};\n"),
        },
    },
]
