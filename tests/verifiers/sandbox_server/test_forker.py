"""with_code: the zygote compiles a pooled run's program, or leaves it to the program process."""
from __future__ import annotations

import marshal
import warnings

from core.verifiers.sandbox_server.forker import COMPILE_HERE_MAX, with_code


def part(program: str, **extra) -> bytes:
    return marshal.dumps({"kind": "pytests", "program": program, "timeout_s": 3, **extra})


def test_a_program_is_compiled_and_its_text_dropped():
    out = marshal.loads(with_code(part("def f(x):\n    return x + 1\n", export=["f"])))
    assert "program" not in out
    assert out["export"] == ["f"] and out["timeout_s"] == 3
    ns: dict = {}
    exec(out["code"], ns)
    assert ns["f"](1) == 2
    assert out["code"].co_filename == "solution.py"


def test_what_the_program_process_must_compile_itself_is_left_as_it_came():
    for raw in (part("def f(:\n"),                                # its SyntaxError, reported there
                part("assert (1, 'always true')\n"),              # its SyntaxWarning, printed there
                part("x = 1\n" * (COMPILE_HERE_MAX // 6 + 1)),    # too big for the unlimited zygote
                marshal.dumps({"kind": "stdio", "program": "print(1)"}),
                b"not marshal"):
        assert with_code(raw) is raw


def test_the_warnings_filters_are_left_as_they_were():
    before = list(warnings.filters)
    with_code(part("assert (1, 'always true')\n"))
    with_code(part("def f():\n    return 1 is 1\n"))
    assert warnings.filters == before


def test_a_warning_still_reaches_the_programs_own_stderr(sandbox):
    from core.verifiers import codeutil

    spec = codeutil.precompile({
        "kind": "pytests", "program": "def f():\n    return 1 is 1\n", "setup": "",
        "tests": [{"name": "t", "code": "assert f() == True", "kind": "test"}],
        "export": ["f"], "bind": {"f": "f"}, "timeout_s": 5})
    result = sandbox.run(spec)
    assert result["status"] == "pass"
    assert "SyntaxWarning" in result["stderr"]


def run_program(sandbox, program: str, test: str):
    from core.verifiers import codeutil

    return sandbox.run(codeutil.precompile({
        "kind": "pytests", "program": program, "setup": "",
        "tests": [{"name": "t", "code": test, "kind": "test"}],
        "export": ["f"], "bind": {"f": "f"}, "timeout_s": 5}))


def test_the_program_runs_with_the_garbage_collector_on(sandbox):
    # the forker runs without it (each page it writes is a fault); its children must not
    result = run_program(sandbox, "import gc\ndef f():\n    return gc.isenabled()\n",
                         "assert f() is True")
    assert result["status"] == "pass", result


def test_a_program_too_big_for_the_zygote_still_runs(sandbox):
    program = "def f():\n    return 7\n" + "x = 1\n" * (COMPILE_HERE_MAX // 6 + 1)
    result = run_program(sandbox, program, "assert f() == 7")
    assert result["status"] == "pass", result
