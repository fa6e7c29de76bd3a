"""Instrumented asserts: the same outcome as the plain statement, and what was compared."""
from __future__ import annotations

import pytest

from core.verifiers.sandbox_server.asserts import HELPER, Comparisons, compile_test, show


def run(source: str, ns: dict | None = None):
    """(exception type or None, Comparisons, namespace) of running `source` instrumented."""
    ns = dict(ns or {})
    compared = Comparisons()
    ns[HELPER] = compared
    try:
        exec(compile_test(source, "<test 0>"), ns)
    except BaseException as exc:  # noqa: BLE001 - the outcome is what is compared
        return type(exc), compared, ns
    return None, compared, ns


def plain(source: str, ns: dict | None = None):
    ns = dict(ns or {})
    try:
        exec(compile(source, "<plain>", "exec"), ns)
    except BaseException as exc:  # noqa: BLE001
        return type(exc)
    return None


@pytest.mark.parametrize("source", [
    "assert 1 == 1", "assert 1 == 2", "assert 1 != 1", "assert 2 > 1", "assert 1 >= 2",
    "assert 1 < 2", "assert 3 <= 2", "assert None is None", "assert None is not None",
    "assert 2 in [1, 2]", "assert 3 in [1, 2]", "assert 3 not in [1]", "assert 'a' not in 'abc'",
    "assert 1 < 2 < 3", "assert 1 < 3 < 2", "assert [1] == [1.0], 'message'",
    "assert float('nan') == float('nan')", "assert {} == []",
    "assert undefined_name == 1",  # NameError, not an assertion
    "assert 1 == 1 / 0",  # ZeroDivisionError
    "for i in range(3):\n    assert i < 2",
    "def f():\n    assert 1 == 2\nf()",
])
def test_outcome_is_that_of_the_plain_statement(source):
    assert run(source)[0] is plain(source)


def test_operands_are_evaluated_once_in_order():
    source = "log = []\ndef t(x):\n    log.append(x)\n    return x\nassert t(1) == t(2)"
    exc, _, ns = run(source)
    assert exc is AssertionError and ns["log"] == [1, 2]


def test_the_result_object_reaches_the_assert_unchanged():
    class Ambiguous:
        def __eq__(self, other):
            return self

        def __bool__(self):
            raise ValueError("truth value is ambiguous")

    exc, _, _ = run("assert a == 1", {"a": Ambiguous()})
    assert exc is ValueError is plain("assert a == 1", {"a": Ambiguous()})


def test_expected_is_the_side_without_the_call():
    exc, compared, _ = run("def candidate(x):\n    return x + 1\nassert candidate(1) == 3")
    assert compared.explain(3, show) == ("3", "2", "expected 3, got 2")
    exc, compared, _ = run("def candidate(x):\n    return x + 1\nassert 3 == candidate(1)")
    assert compared.explain(3, show) == ("3", "2", "expected 3, got 2")


def test_other_operators_say_what_was_false():
    _, compared, _ = run("def f():\n    return 5\nassert f() < 3")
    assert compared.explain(3, show) == ("< 3", "5", "not 5 < 3")
    _, compared, _ = run("def f():\n    return 5\nassert 3 > f()")  # mirrored
    assert compared.explain(3, show) == ("< 3", "5", "not 3 > 5")
    _, compared, _ = run("def f():\n    return 5\nassert 4 in f() or True")
    assert compared.failed is None  # not a single comparison: not instrumented


def test_explain_only_for_the_line_that_failed():
    _, compared, _ = run("try:\n    assert 1 == 2\nexcept AssertionError:\n    pass\nassert False")
    assert compared.explain(5, show) == ("", "", "")  # the false comparison was on line 2
    assert compared.explain(2, show)[2] == "expected 2, got 1"


def test_show_is_short_and_never_calls_program_objects():
    class Remote:  # stands for harness.Remote: reprlib dispatches on the type's name
        def __repr__(self):
            raise AssertionError("a program object must not be asked for its repr")

    assert show(Remote()) == "<an object of the program>"
    assert show([Remote(), 1]) == "[<an object of the program>, 1]"
    assert len(show("x" * 10_000)) < 200
    assert len(show(list(range(10_000)))) < 200
    assert show(10 ** 5000).startswith("<") or len(show(10 ** 5000)) < 300
