"""Output comparison of stdio tests and the verdict fields built from a run."""
from __future__ import annotations

import signal
from types import SimpleNamespace

import pytest

from core.verifiers.sandbox_server.results import (compare_output, decode_capped, describe_exit,
                                                   fill_tests)
from core.verifiers.sandbox_server.results import tests_verdict as verdict_of


@pytest.mark.parametrize("got, expected, how, same", [
    ("1 2\n", "1 2", "tokens", True),
    ("1 2   \n\n", "1 2\n", "tokens", True),  # trailing blanks and blank lines
    ("1 2\n", "1 3\n", "tokens", False),
    ("0.1000000001\n", "0.1\n", "tokens", True),  # within 1e-6
    ("0.1001\n", "0.1\n", "tokens", False),
    ("1000001.5\n", "1000000.0\n", "tokens", False),  # relative 1e-6 of 1e6 is 1
    ("1000000.9\n", "1000000.0\n", "tokens", True),
    ("nan\n", "nan\n", "tokens", True),  # identical tokens match as text
    ("nan\n", "1\n", "tokens", False),
    ("inf\n", "1e309\n", "tokens", False),  # non-finite numbers never match by value
    ("1 2\n", "1\n2\n", "tokens", False),  # same tokens, different lines
    ("yes\n", "YES\n", "tokens", False),
    ("a\n", "a", "exact", False),
    ("a", "a", "exact", True),
    ("[1, [2, 3]]", "[1,[2,3]]", "json", True),
    ('{"a": 1}', '{"a": 2}', "json", False),
    ("not json", "[]", "json", False),
])
def test_compare_output(got, expected, how, same):
    assert compare_output(got, expected, how) is same


def test_decode_capped_marks_the_cut_and_survives_bad_utf8():
    assert decode_capped(b"abc", 10) == "abc"
    assert decode_capped(b"abcdef", 3) == "abc\n... [output cut]"
    assert decode_capped(b"\xff\xfeok", 10) == "\ufffd\ufffdok"


def test_describe_exit():
    assert describe_exit(3) == "exit code 3"
    assert describe_exit(-signal.SIGXCPU) == "killed by SIGXCPU (CPU time limit)"
    assert describe_exit(-signal.SIGKILL).startswith("killed by SIGKILL")
    assert describe_exit(-200) == "killed by 200"


def test_fill_tests_marks_the_first_missing_and_the_rest_not_run():
    done = [{"name": "a", "passed": False, "message": "x", "status": "fail"}]
    out = fill_tests(done, ["a", "b", "c"], "timeout", "timed out after 1 s")
    assert [(t["name"], t["status"]) for t in out] == [("a", "fail"), ("b", "timeout"),
                                                       ("c", "error")]
    assert out[2]["message"].startswith("not run")


def test_a_pass_needs_every_test_reported():
    spec = {"tests": [{"name": "a"}, {"name": "s", "kind": "step"}, {"name": "b"}]}
    ok = {"name": "a", "passed": True, "message": "", "status": "pass"}
    partial = SimpleNamespace(status="pass", message="", results=[ok])
    verdict = verdict_of(spec, partial)
    assert verdict["status"] == "fail"  # the harness said pass but test b never reported
    whole = SimpleNamespace(status="pass", message="", results=[ok, dict(ok, name="b")])
    assert verdict_of(spec, whole)["status"] == "pass"
    none = SimpleNamespace(status="pass", message="", results=[])
    assert verdict_of({"tests": []}, none)["status"] == "fail"
