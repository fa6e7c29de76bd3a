"""AppTest for the Results page (seeded and empty), its exports, and the access check."""
from __future__ import annotations

import csv
import io
import json

import pytest
import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from core import dashboard, hardware, ledger, results, stats
from tests.conftest import REPO
from tests.seed import seed

PAGE = str(REPO / "pages/results.py")
APP = str(REPO / "app.py")


@pytest.fixture
def media(monkeypatch):
    """Keep each run's in-memory media storage, to read what a download button serves."""
    stores: list[MemoryMediaFileStorage] = []
    managers: list[MediaFileManager] = []

    class Recording(MemoryMediaFileStorage):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            stores.append(self)

    class Managers(MediaFileManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            managers.append(self)

    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", Recording)
    monkeypatch.setattr(app_test_module, "MediaFileManager", Managers)

    def download(at: AppTest, key: str) -> str:
        button = next(b for b in at.get("download_button") if b.key == key)
        url = button.proto.url
        if button.proto.deferred_file_id:  # made on click: click it
            url = managers[-1].execute_deferred(button.proto.deferred_file_id)
        return stores[-1].get_file(url.rsplit("/", 1)[-1]).content.decode()

    return download


def _run(at: AppTest | None = None) -> AppTest:
    return (at or AppTest.from_file(PAGE, default_timeout=30)).run()


def _chart(at: AppTest, key: str) -> dict:
    for el in at.get("bidi_component"):
        if el.proto.id.endswith(key):
            return json.loads(el.proto.json)["options"]
    raise AssertionError(f"no chart {key}")


def _select(at: AppTest, rows: list[int]) -> AppTest:
    at.session_state["res_table"] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return at.run()


def test_empty_ledger_says_how_to_get_results(home):
    at = _run()
    assert not at.exception
    infos = [i.value for i in at.info]
    assert len(infos) == 3  # results, samples (the same hint), training runs
    assert "No benchmark results yet" in infos[0] and "halo-forge benchmark run" in infos[0]
    assert infos[1] == infos[0]
    assert "No training runs with metrics yet" in infos[2]
    assert not at.dataframe and not at.get("download_button") and not at.get("bidi_component")


def test_table_shows_every_result_and_filters(home):
    seed()
    at = _run()
    assert not at.exception
    shown = at.dataframe[0].value
    expected = results.table()
    assert list(shown["ID"]) == list(expected["ID"])
    assert list(shown.columns) == list(expected.columns)
    at.multiselect(key="res_models").select("tiny").run()
    shown = at.dataframe[0].value
    assert set(shown["Model"]) == {"tiny"} and len(shown) == 2
    at.multiselect(key="res_benchmarks").select("mbpp").run()
    assert list(at.dataframe[0].value["ID"]) == [2]
    assert "1 of 4 results" in " ".join(c.value for c in at.caption)


def test_export_all_holds_exactly_the_rows_shown(home, media):
    seed()
    with ledger.writer() as conn:  # a row with empty cells
        ledger.insert_result(conn, None, {"model": "whisper", "benchmark": "librispeech",
                                          "metrics": {"wer": 0.2}, "primary_metric": "wer"})
    at = _run()
    at.multiselect(key="res_benchmarks").select("librispeech").select("mbpp").run()
    shown = at.dataframe[0].value
    assert len(shown) == 3
    rows = list(csv.DictReader(io.StringIO(media(at, "res_dl_all_csv"))))
    data = json.loads(media(at, "res_dl_all_json"))
    assert [int(r["ID"]) for r in rows] == [d["ID"] for d in data] == list(shown["ID"])
    assert list(rows[0]) == list(shown.columns)
    for d, (_, s) in zip(data, shown.iterrows()):
        assert d["Model"] == s["Model"] and d["Benchmark"] == s["Benchmark"]
        assert d["Pass@1"] == (None if s["Pass@1"] != s["Pass@1"] else s["Pass@1"])
    assert next(d for d in data if d["Model"] == "whisper")["wer"] == 0.2


def test_selected_rows_are_compared_and_exported(home, media):
    seed()
    at = _run()
    assert not [e for e in at.get("bidi_component") if e.proto.id.endswith("res_compare_chart")]
    assert not [b for b in at.get("download_button") if "selection" in b.key]
    at = _select(at, [0, 3])
    assert not at.exception
    shown = at.dataframe[0].value
    picked = [int(shown.iloc[0]["ID"]), int(shown.iloc[3]["ID"])]
    side = at.dataframe[1].value
    job = int(shown.iloc[0]["Job"])  # headers name jobs, like everything else on the page
    assert list(side.columns) == [
        f"Qwen/Qwen2.5-Coder-0.5B-Instruct · mbpp · job #{job}", f"tiny · humaneval · job #{job}"]
    assert side.loc["Pass@1"].tolist() == [0.5, 0.25]
    chart = _chart(at, "res_compare_chart")
    assert chart["xAxis"]["data"] == ["Pass@1", "Pass@5"]
    assert [s["data"] for s in chart["series"]] == [[50.0, 70.0], [25.0, 45.0]]
    data = json.loads(media(at, "res_dl_selection_json"))
    assert [d["ID"] for d in data] == picked
    rows = list(csv.DictReader(io.StringIO(media(at, "res_dl_selection_csv"))))
    assert [int(r["ID"]) for r in rows] == picked


def test_training_run_comparison(home):
    ids = seed()
    at = _run()
    picked = at.multiselect(key="res_runs").value
    assert picked == [ids["STOPPED"], ids["FAILED"], ids["COMPLETED"]]  # newest three
    assert at.selectbox(key="res_metric").value == "loss"
    chart = _chart(at, "res_curves")
    # smoothing on by default: a faded raw curve and a smoothed one per run
    assert len(chart["series"]) == 6
    assert chart["series"][0]["lineStyle"]["opacity"] == 0.25
    at.slider(key="res_smoothing").set_value(0.0).run()
    chart = _chart(at, "res_curves")
    assert len(chart["series"]) == 3 and chart["series"][0]["data"][0] == [1, pytest.approx(2.0 * 0.951229 + 0.6, rel=1e-5)]
    at.radio(key="res_x").set_value("time").run()
    chart = _chart(at, "res_curves")
    assert chart["xAxis"]["name"] == "seconds since start" and chart["series"][0]["data"][0][0] == 0
    # config diff: differences only by default (learning rate and dataset differ here)
    diff = at.dataframe[-1].value
    assert sorted(diff.index) == ["data.dataset", "kind", "training.learning_rate"]
    at.toggle(key="res_diff_only").set_value(False).run()
    assert "training.batch_size" in at.dataframe[-1].value.index
    assert not at.exception


def test_metric_choice_and_run_without_it(home):
    ids = seed()
    at = _run()
    at.multiselect(key="res_runs").set_value([ids["RUNNING"]]).run()
    assert at.selectbox(key="res_metric").options == ["loss", "lr"]
    at.selectbox(key="res_metric").set_value("lr").run()
    chart = _chart(at, "res_curves")
    assert chart["yAxis"]["name"] == "lr"
    at.multiselect(key="res_runs").set_value([]).run()
    assert "Pick one or more runs" in " ".join(c.value for c in at.caption)


# ---- access check (app.py) ----------------------------------------------------------------

@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv("HALO_FORGE_TOKEN", "s3cret-token")
    monkeypatch.setattr(hardware, "sample_gpus", lambda: [])
    monkeypatch.setattr(dashboard, "_live_cache", {"at": 0.0, "gpus": []})
    return "s3cret-token"


def _app(token: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    if token is not None:
        at.query_params["token"] = token
    return at.run()


def _titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def test_missing_token_shows_only_the_token_prompt(home, token):
    seed()
    at = _app()
    assert not at.exception
    assert _titles(at) == ["halo-forge"]
    assert "enter the token" in at.info[0].value
    assert not at.metric and not at.dataframe and not at.error


def test_wrong_token_is_refused(home, token):
    seed()
    at = _app("wrong-token")
    assert _titles(at) == ["halo-forge"] and at.error[0].value == "Wrong token."
    assert not at.metric and not at.dataframe
    at.text_input(key="access_token_input").input("also-wrong").run()
    assert "Dashboard" not in _titles(at)


def test_right_token_opens_the_dashboard(home, token):
    seed()
    at = _app(token)
    assert not at.exception
    assert "Dashboard" in _titles(at) and at.metric
    typed = _app()
    typed.text_input(key="access_token_input").input(token).run()
    assert "Dashboard" in _titles(typed)
    at.switch_page("pages/results.py").run()
    assert "Results" in _titles(at)  # the session stays admitted on other pages


def test_no_token_set_means_open_on_loopback(home, monkeypatch):
    monkeypatch.delenv("HALO_FORGE_TOKEN", raising=False)
    monkeypatch.setattr(hardware, "sample_gpus", lambda: [])
    at = _app()
    assert "Dashboard" in _titles(at)


def test_a_deleted_run_drops_out_of_the_comparison(home):
    from core import jobs

    ids = seed()
    at = _run()
    assert ids["STOPPED"] in at.multiselect(key="res_runs").value
    jobs.delete(ids["STOPPED"])
    at.run()
    assert not at.exception
    assert at.multiselect(key="res_runs").value == [ids["FAILED"], ids["COMPLETED"]]
    assert f"#{ids['STOPPED']}" not in " ".join(at.dataframe[-1].value.columns)


def _paired(home):
    from tests.paired_runs import humaneval_pair

    humaneval_pair(home)
    return _run()


def test_two_selected_results_show_a_significance_line_and_flips(home, media):
    at = _paired(home)
    assert not at.exception
    table = at.dataframe[0].value
    assert {"ci_low", "ci_high", "Overlap"} <= set(table.columns)
    row = table[table["ID"] == table["ID"].min()].iloc[0]
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(stats.wilson(30, 100))
    # rows are newest first; the oldest selected result is the baseline whatever the order
    at = _select(at, [0, 1])
    lines = [m.value for m in at.markdown if "Δ" in m.value]
    assert len(lines) == 1, [m.value for m in at.markdown]
    assert lines[0].startswith("- #1 → #2 humaneval pass@1: 30.0% → 36.0%, Δ +6.0 pts [")
    assert "not significant at 0.05 (n = 100)" in lines[0]
    expected = stats.mcnemar_exact(4, 10)
    assert f"p = {expected:.2f}" in lines[0]
    exported = json.loads(media(at, "res_dl_sig_json"))
    assert exported[0]["p_value"] == pytest.approx(expected)
    assert exported[0]["ci_low"] < 0.06 < exported[0]["ci_high"]
    header = media(at, "res_dl_sig_csv").splitlines()[0].split(",")
    assert {"p_value", "ci_low", "ci_high", "delta", "n"} <= set(header)
    flips = [e for e in at.expander if e.label.startswith("Flips #1 → #2")]
    assert flips and "pass → fail (4)" in flips[0].label and "fail → pass (10)" in flips[0].label


def test_sample_inspector_shows_items_and_per_test_output(home):
    at = _paired(home)
    at.selectbox(key="res_inspect_result").set_value(1).run()
    overview = next(d.value for d in at.dataframe if "Item" in d.value.columns)
    assert len(overview) == 100 and overview["Passed"].sum() == 30
    at.session_state["res_inspect_items"] = {"selection": {"rows": [50], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    texts = [m.value for m in at.markdown]
    assert any(t.startswith("**HumanEval/50 · sample 0**: fail: test 1: assert f() == 3") and
               t.endswith("(assert f() == 3: expected 3, got 0)") for t in texts), texts
    tests = [d.value for d in at.dataframe if "Test" in d.value.columns]
    assert tests and tests[0].iloc[0]["Message"] == "assert f() == 3: expected 3, got 0"
    first = tests[0].iloc[0]
    assert (first["Line"], first["Expected"], first["Actual"]) == ("assert f() == 3", "3", "0")


def test_models_by_short_name_once_and_no_none_cells(home):
    """`tiny` and its directory are one model; a score no result has is not a column of
    "None"s; ids and full paths stay in the data (and exports) but off the screen."""
    from core import paths

    tiny_dir = paths.models_dir() / "tiny"
    with ledger.writer() as conn:
        for model in ("tiny", str(tiny_dir)):
            ledger.insert_result(conn, None, {"model": model, "benchmark": "humaneval",
                                              "metrics": {"pass@1": 0.5}, "primary_metric": "pass@1"})
    at = _run()
    assert not at.exception
    assert at.multiselect(key="res_models").options == ["tiny"]
    grid = at.dataframe[0]
    assert set(grid.value["Model"]) == {"tiny"}
    assert set(grid.value["Model path"]) == {"tiny", str(tiny_dir)}
    order = list(grid.proto.column_order)
    assert "Pass@5" not in order and "ID" not in order and "Model path" not in order
    assert "Pass@1" in order and "Job" in order


def test_cells_empty_in_some_rows_show_a_dash_not_none(home):
    """A column with values in some rows only (Pass@5, anls, Job, energy, Data): its empty
    cells are drawn as results.EMPTY_CELL (Streamlit writes "None" without a placeholder),
    while the data keeps them missing for sorting and the exports."""
    seed()
    with ledger.writer() as conn:
        ledger.insert_result(conn, None, {"model": "tiny-llava", "benchmark": "docvqa",
                                          "metrics": {"anls": 0.1}, "primary_metric": "anls"})
    at = _run()
    assert not at.exception
    grid = at.dataframe[0]
    order = list(grid.proto.column_order)
    for col in ("Pass@5", "anls", "Job", "Data"):
        assert col in order and grid.value[col].isna().any() and grid.value[col].notna().any(), col
    assert grid.proto.placeholder == results.EMPTY_CELL == "–"
    at = _select(at, [0, 1])  # docvqa beside a code result: anls and Pass@1 are half empty
    side = at.dataframe[1]
    assert side.value.isna().any().any() and side.proto.placeholder == results.EMPTY_CELL
