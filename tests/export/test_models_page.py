"""The Models page (AppTest) over a real trained adapter: list with provenance, export from the
page and see the verdict, delete refused while in use, download refused offline."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import jobs, ledger
from tests.conftest import REPO
from tests.export.conftest import run_export

PAGE = str(REPO / "pages/models.py")


def _run(at: AppTest | None = None) -> AppTest:
    at = (at or AppTest.from_file(PAGE, default_timeout=60)).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _table(at: AppTest):
    return next(df for df in at.dataframe).value


def test_models_page_lists_exports_and_verifies(trained, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    before = {j["id"] for j in jobs.list_jobs(kinds=["export"])}
    with ledger.writer() as conn:  # a benchmark of the adapter, as the benchmark runner records it
        ledger.insert_result(conn, None, {"model": f"{trained.tiny} + {trained.adapter}", "benchmark": "humaneval",
                                          "primary_metric": "pass@1", "metrics": {"pass@1": 0.25}, "samples": 4})
    at = _run()
    table = _table(at)
    kinds = dict(zip(table["Path"], table["Kind"]))
    assert kinds[str(trained.tiny)] == "tiny (offline)"
    assert kinds[str(trained.adapter)] == "LoRA adapter"
    row = table[table["Path"] == str(trained.adapter)].iloc[0]
    assert row["Job"] == f"#{trained.job_id}" and row["Dataset"] == "alpaca" and row["Steps"] == "8"
    assert row["Base"] == str(trained.tiny) and row["Size"].endswith("KB")
    assert row["Latest scores"] == "humaneval pass@1 0.250"
    assert any("HF_HUB_OFFLINE" in i.value for i in at.info)  # download: one sentence why not

    # Export from the page: a job is queued with the adapter's training job as source.
    at.selectbox(key="models_selected").set_value(str(trained.adapter))
    at = _run(at)
    out = tmp_path / "from-page"
    at.text_input(key="models_export_out").set_value(str(out))
    at = _run(at)
    at.button(key="models_export_run").click()
    at = _run(at)
    assert any("queued as job" in s.value for s in at.success), [e.value for e in at.error]
    [job] = [j for j in jobs.list_jobs(kinds=["export"]) if j["id"] not in before]
    cfg = jobs.get(job["id"])["config"]
    assert cfg["source"]["job"] == trained.job_id and cfg["export"]["out_dir"] == str(out)

    # While that export is queued the adapter is in use: no delete.
    assert any("In use by job" in w.value for w in at.warning)
    assert at.button(key="models_delete_run").disabled

    # The supervisor's part, in this process: run the job, close it.
    assert run_export(cfg, Path(job["job_dir"])) == 0
    assert ledger.transition(job["id"], ("QUEUED",), "COMPLETED", exit_code=0)

    at = _run(at)
    table = _table(at)
    row = table[table["Path"] == str(out)].iloc[0]
    assert row["Kind"] == "merged export" and row["Verification"] == "passed" and row["Job"] == f"#{trained.job_id}"
    at.selectbox(key="models_selected").set_value(str(out))
    at = _run(at)
    details = " ".join(m.value for m in at.markdown)
    assert "passed" in details and "token agreement 1.0000" in details
    card = (out / "README.md").read_text()  # the model card carries the adapter's benchmark
    assert "| humaneval | pass@1 | 0.2500 | 4 |" in card

    # Chat: "Serve it" queues a serve job of this export.
    at.button(key="models_serve_run").click()
    at = _run(at)
    serve = jobs.list_jobs(kinds=["serve"])[0]
    assert jobs.get(serve["id"])["config"]["model"] == str(out)
    assert jobs.request_stop(serve["id"]) == "STOPPED"

    # The same directory again without overwrite: refused in one sentence, nothing queued.
    at.selectbox(key="models_selected").set_value(str(trained.adapter))
    at = _run(at)
    at.text_input(key="models_export_out").set_value(str(out))
    at = _run(at)
    at.button(key="models_export_run").click()
    at = _run(at)
    assert [e.value for e in at.error] == [f"export.out_dir: {out} already exists; pass --overwrite to replace it"]
    assert len(jobs.list_jobs(kinds=["export"])) == len(before) + 1

    # Delete the export: confirmation first, then it is gone from disk and from the table.
    at.selectbox(key="models_selected").set_value(str(out))
    at = _run(at)
    assert at.button(key="models_delete_run").disabled
    at.checkbox(key="models_delete_sure").check()
    at = _run(at)
    at.button(key="models_delete_run").click()
    at = _run(at)
    assert not out.exists() and str(out) not in list(_table(at)["Path"])
    assert any(f"deleted {out}" in s.value for s in at.success)
