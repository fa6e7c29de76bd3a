"""core.results: the results table, filters, exports, comparisons, training-run comparison."""
from __future__ import annotations

import pandas as pd

import csv
import io
import json
import math
import time

import pytest

from core import cli, ledger, results
from tests.seed import seed


def _add_result(model: str, benchmark: str, metrics: dict, primary: str, **extra) -> int:
    with ledger.writer() as conn:
        return ledger.insert_result(conn, None, {"model": model, "benchmark": benchmark,
                                                 "metrics": metrics, "primary_metric": primary,
                                                 "samples": extra.get("samples", 10),
                                                 "duration_s": extra.get("duration_s"),
                                                 "created_at": extra.get("created_at")})


def _add_run(name: str, config: dict, points: list[tuple[int, float, float]],
             kind: str = "sft", metric: str = "loss") -> int:
    with ledger.writer() as conn:
        job_id = ledger.insert_job(conn, kind=kind, name=name, config=json.dumps(config))
        conn.exec_driver_sql(
            "INSERT INTO metric (job_id, step, time, name, value) VALUES (?, ?, ?, ?, ?)",
            [(job_id, s, t, metric, v) for s, t, v in points])
    return job_id


# ---- table --------------------------------------------------------------------------------

def test_empty_ledger_gives_an_empty_table_with_the_columns(home):
    df = results.table()
    assert df.empty
    assert list(df.columns) == results.LEAD_COLUMNS + results.TAIL_COLUMNS
    assert results.export(df, "json") == "[]\n"
    assert results.export(df, "csv").strip() == ",".join(df.columns)


def test_table_has_one_row_per_result_newest_first(home):
    seed()
    df = results.table()
    assert list(df["ID"]) == [4, 3, 2, 1]
    row = df.iloc[0]
    assert row["Model"] == "Qwen/Qwen2.5-Coder-0.5B-Instruct" and row["Benchmark"] == "mbpp"
    assert row["Pass@1"] == 0.5 and row["Pass@5"] == pytest.approx(0.7)
    assert row["Primary metric"] == "pass@1" and row["Primary value"] == 0.5
    assert row["Samples"] == 20 and row["Duration (s)"] == 12.5
    assert str(row["Date"].tz) == "UTC"


def test_stamp_moves_with_results_and_labels_match_label(home):
    empty = results.stamp()
    seed()
    seeded = results.stamp()
    assert seeded != empty and seeded[0] == 4
    assert results.stamp() == seeded  # nothing written: a page may keep its table
    df = results.table()
    assert results.labels(df) == {int(r["ID"]): results.label(r) for r in results.records(df)}
    rid = _add_result("m", "humaneval", {"pass@1": 0.1}, "pass@1")
    assert results.stamp() == (5, rid)
    with ledger.writer() as conn:
        conn.execute("DELETE FROM result WHERE id = ?", (1,))
    assert results.stamp() == (4, rid)  # a deletion moves it too


def test_details_path_reads_one_row(home):
    rid = _add_result("m", "humaneval", {"pass@1": 0.1}, "pass@1")
    with ledger.writer() as conn:
        conn.execute("UPDATE result SET details_path = '/x/samples.jsonl' WHERE id = ?", (rid,))
    assert results.details_path(rid) == "/x/samples.jsonl"
    assert results.details_path(rid + 1) is None


def test_benchmark_specific_metrics_get_their_own_columns(home):
    _add_result("llava", "docvqa", {"anls": 0.61}, "anls")
    _add_result("whisper", "librispeech", {"wer": 0.12, "cer": 0.05}, "wer", duration_s=3.0)
    df = results.table()
    assert set(results.metric_columns(df)) == {"Pass@1", "Pass@5", "anls", "cer", "wer"}
    whisper = df[df["Model"] == "whisper"].iloc[0]
    assert whisper["wer"] == 0.12 and math.isnan(whisper["anls"]) and math.isnan(whisper["Pass@1"])
    assert whisper["Primary value"] == 0.12
    # the table's column order: fixed lead, metrics, fixed tail
    assert list(df.columns[:6]) == results.LEAD_COLUMNS
    assert list(df.columns[-len(results.TAIL_COLUMNS):]) == results.TAIL_COLUMNS


def test_filters_by_model_and_benchmark(home):
    seed()
    assert set(results.table(models=["tiny"])["Model"]) == {"tiny"}
    df = results.table(models=["tiny"], benchmarks=["mbpp"])
    assert len(df) == 1 and df.iloc[0]["ID"] == 2
    assert len(results.table(models=[], benchmarks=[])) == 4
    assert results.options(results.table()) == {
        "models": ["Qwen/Qwen2.5-Coder-0.5B-Instruct", "tiny"], "benchmarks": ["humaneval", "mbpp"]}


# ---- export -------------------------------------------------------------------------------

def test_csv_and_json_exports_hold_exactly_the_rows_given(home):
    seed()
    _add_result("whisper", "librispeech", {"wer": 0.12}, "wer")  # empty cells in other columns
    df = results.table(benchmarks=["librispeech", "mbpp"])
    rows = list(csv.DictReader(io.StringIO(results.export(df, "csv"))))
    data = json.loads(results.export(df, "json"))
    assert [int(r["ID"]) for r in rows] == [d["ID"] for d in data] == list(df["ID"])
    assert list(rows[0]) == list(df.columns) == list(data[0])
    whisper = next(d for d in data if d["Model"] == "whisper")
    assert whisper["Pass@1"] is None and whisper["wer"] == 0.12 and whisper["Job"] is None
    whisper_csv = next(r for r in rows if r["Model"] == "whisper")
    assert whisper_csv["Pass@1"] == "" and float(whisper_csv["wer"]) == 0.12
    tiny = next(d for d in data if d["Model"] == "tiny")
    assert tiny["Pass@1"] == 0.25 and tiny["Samples"] == 20
    assert tiny["Date"].endswith("+00:00") and tiny["Date"][:4].isdigit()


def test_export_refuses_an_unknown_format(home):
    with pytest.raises(results.ResultsError, match="format must be one of csv, json"):
        results.export(results.table(), "xlsx")


def test_cli_results_export_matches_the_table(home, tmp_path, capsys):
    seed()
    out = tmp_path / "r.json"
    assert cli.main(["results", "--format", "json", "--out", str(out)]) == 0
    assert json.loads(out.read_text()) == results.records(results.table())
    assert cli.main(["results", "--format", "csv"]) == 0
    printed = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["Model"] for r in printed] == list(results.table()["Model"])


# ---- comparison ---------------------------------------------------------------------------

def test_comparison_puts_selected_results_side_by_side(home):
    seed()
    _add_result("llava", "docvqa", {"anls": 0.61}, "anls")
    df = results.table()
    picked = df[df["ID"].isin([1, 5])]
    data = results.comparison(picked)
    job = int(df[df["ID"] == 1]["Job"].iloc[0])
    # headers name the job, as the rest of the page does; a result without one, its own id
    tiny, llava = f"tiny · humaneval · job #{job}", "llava · docvqa · result #5"
    assert data["categories"] == ["Pass@1", "Pass@5", "anls"]  # only metrics one of them has
    assert data["groups"] == {llava: [None, None, 0.61],
                              tiny: [0.25, pytest.approx(0.45), None]}
    table = data["table"]
    assert list(table.columns) == [llava, tiny]
    assert table.loc["anls", llava] == 0.61
    assert table.loc["Samples", tiny] == 20


# ---- training runs ------------------------------------------------------------------------

def test_training_runs_are_jobs_with_metrics_newest_first(home):
    ids = seed()
    runs = results.training_runs()
    run_ids = [r["id"] for r in runs]
    assert run_ids == sorted(run_ids, reverse=True)
    assert ids["QUEUED"] not in run_ids  # no metrics
    assert ids["benchmark"] not in run_ids  # not a training run
    assert ids["RUNNING"] in run_ids
    assert len(results.training_runs(limit=2)) == 2


def test_curves_by_step_and_by_time_since_start(home):
    t0 = time.time() - 1000
    a = _add_run("a", {}, [(s, t0 + 2 * s, 1.0 / s) for s in range(1, 11)])
    b = _add_run("b", {}, [(s, t0 + 500 + s, 2.0 / s) for s in range(1, 6)])
    c = _add_run("c", {}, [(1, t0, 0.5)], metric="reward_mean")
    runs = [{"id": j, "name": n} for j, n in ((a, "a"), (b, "b"), (c, "c"))]
    by_step = results.curves(runs, "loss")
    assert [s["name"] for s in by_step] == [f"#{a} a", f"#{b} b"]  # c has no loss
    assert by_step[0]["x"] == list(range(1, 11)) and by_step[0]["y"][0] == 1.0
    by_time = results.curves(runs, "loss", x="time")
    assert by_time[0]["x"][:3] == [0, 2, 4] and by_time[1]["x"][:3] == [0, 1, 2]
    assert results.metric_names([a, c]) == ["loss", "reward_mean"]
    with pytest.raises(results.ResultsError, match="x axis"):
        results.curves(runs, "loss", x="epoch")


def test_curves_are_downsampled(home):
    a = _add_run("big", {}, [(s, float(s), 1.0 / s) for s in range(1, 5001)])
    (s,) = results.curves([{"id": a, "name": "big"}], "loss", max_points=200)
    assert s["downsampled"] and s["count"] == 5000 and len(s["x"]) <= 201


def test_config_diff_all_and_differences_only(home):
    a = _add_run("a", {"model": {"name": "m"}, "training": {"lr": 1e-4, "epochs": 1}}, [(1, 0, 1)])
    b = _add_run("b", {"model": {"name": "m"}, "training": {"lr": 2e-4, "epochs": 1},
                       "lora": {"r": 8}}, [(1, 0, 1)])
    full = results.config_diff([a, b])
    assert list(full.columns) == [f"#{a} a", f"#{b} b"]
    assert list(full.index) == ["lora.r", "model.name", "training.epochs", "training.lr"]
    assert full.loc["training.lr"].tolist() == ["0.0001", "0.0002"]
    assert full.loc["lora.r"].tolist() == ["–", "8"]
    diff = results.config_diff([a, b], differences_only=True)
    assert list(diff.index) == ["lora.r", "training.lr"]
    c = _add_run("c", {"training": {"lr": 1e-4 * 6}}, [(1, 0, 1)])  # 0.0006000000000000001
    assert results.config_diff([c]).loc["training.lr"].tolist() == ["0.0006"]
    same = results.config_diff([a, a], differences_only=True)
    assert same.empty
    with pytest.raises(results.ResultsError, match="no job with id 999"):
        results.config_diff([999])


def test_flatten_config_keeps_lists_as_values():
    flat = results.flatten_config('{"a": {"b": [1, 2], "c": {}}, "d": "x"}')
    assert flat == {"a.b": [1, 2], "a.c": {}, "d": "x"}


def test_model_labels(home):
    from core import paths

    assert results.model_label("tiny") == "tiny"
    assert results.model_label("Qwen/Qwen2.5-Coder-0.5B-Instruct") == "Qwen/Qwen2.5-Coder-0.5B-Instruct"
    assert results.model_label(str(paths.models_dir() / "tiny")) == "tiny"
    assert results.model_label(str(paths.job_dir(6) / "output" / "merged")) == "job #6 merged"
    assert results.model_label("/data/runs/coder/adapter") == "coder/adapter"
    assert results.model_label("/data/models/my-model") == "my-model"


def test_energy_and_peak_memory_are_exported_and_null_when_not_reported(home):
    with ledger.writer() as conn:
        gpu_job = ledger.insert_job(conn, kind="benchmark", name="on gpu", config="{}",
                                    energy_wh=12.5, peak_mem_mb=2048.0)
        cpu_job = ledger.insert_job(conn, kind="benchmark", name="on cpu", config="{}",
                                    peak_mem_mb=300.0)
        for job_id in (gpu_job, cpu_job):
            ledger.insert_result(conn, job_id, {"model": "tiny", "benchmark": "humaneval",
                                                "metrics": {"pass@1": 0.5},
                                                "primary_metric": "pass@1", "samples": 2})
    df = results.table()
    rows = {r["Job"]: r for r in json.loads(results.export(df, "json"))}
    assert rows[gpu_job]["Energy (Wh)"] == 12.5 and rows[gpu_job]["Peak memory (MiB)"] == 2048.0
    assert rows[cpu_job]["Energy (Wh)"] is None and rows[cpu_job]["Peak memory (MiB)"] == 300.0
    by_job = {r["Job"]: r for r in csv.DictReader(io.StringIO(results.export(df, "csv")))}
    assert by_job[str(gpu_job)]["Energy (Wh)"] == "12.5" and by_job[str(cpu_job)]["Energy (Wh)"] == ""


def test_overlap_column_shows_overlapping_of_checked_items(home):
    report = {"benchmark": "humaneval", "ngram": 13, "checked": 164, "contaminated": True,
              "overlapping": [{"id": "HumanEval/3"}, {"id": "HumanEval/9"}]}
    with ledger.writer() as conn:
        ledger.insert_result(conn, None, {"model": "m", "benchmark": "humaneval",
                                          "metrics": {"pass@1": 0.1}, "primary_metric": "pass@1",
                                          "overlap": report})
        ledger.insert_result(conn, None, {"model": "m", "benchmark": "mbpp",
                                          "metrics": {"pass@1": 0.1}, "primary_metric": "pass@1"})
    df = results.table()
    cells = df.set_index("Benchmark")["Overlap"]
    assert cells["humaneval"] == "2/164" and pd.isna(cells["mbpp"])  # no check ran: empty
