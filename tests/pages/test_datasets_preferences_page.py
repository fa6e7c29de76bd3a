"""AppTest for the Datasets page's preference data: chosen and rejected side by side, and the
"Build pairs" button that turns a finished RAFT job's verdicts into a DPO dataset."""
from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import datasets as ds
from core import jobs, ledger
from tests.conftest import REPO

PAGE = str(REPO / "pages/datasets.py")


def _run() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=30).run()


def test_preference_pairs_show_chosen_and_rejected_side_by_side(home):
    at = _run()
    at.selectbox(key="ds_selected").set_value("ultrafeedback").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Records"] == "20"
    assert [e.label for e in at.expander][:2] == ["Pair 1", "Pair 2"]
    first = ds.load_records("ultrafeedback", source="sample").records[0]
    pair = at.expander[0]
    texts = [m.markdown[0].value for m in pair.chat_message]
    assert texts == [first["prompt"], first["chosen"][-1]["content"], first["rejected"][-1]["content"]]
    columns = pair.columns
    assert "Chosen" in columns[0].markdown[0].value and "Rejected" in columns[1].markdown[0].value
    assert at.button(key="ds_train").label == "Train on this"


def _finished_raft_job(home: Path) -> int:
    job_id = jobs.submit("raft", {"kind": "raft", "model": {"name": "tiny"}, "data": {"dataset": "humaneval"}}, name="toy")
    job_dir = Path(jobs.get(job_id)["job_dir"])
    (job_dir / "cycles").mkdir(parents=True)
    rows = [("t1", "good one", True, "pass"), ("t1", "bad one", False, "fail"),
            ("t2", "only good", True, "pass")]
    (job_dir / "cycles" / "cycle_1.jsonl").write_text("".join(
        json.dumps({"task_id": t, "prompt": f"solve {t}", "completion": c, "passed": p, "status": s}) + "\n"
        for t, c, p, s in rows))
    ledger.transition(job_id, ["QUEUED"], "STARTING")
    ledger.transition(job_id, ["STARTING"], "RUNNING")
    ledger.transition(job_id, ["RUNNING"], "COMPLETED")
    return job_id


def test_build_pairs_from_a_finished_job_lands_in_the_datasets_folder(home):
    job_id = _finished_raft_job(home)
    at = _run()
    assert at.selectbox(key="ds_pairs_job").value == job_id
    at.text_input(key="ds_pairs_name").set_value("toy-prefs").run()
    at.button(key="ds_pairs_go").click().run()
    assert not at.exception and not at.error
    assert at.success[0].value.startswith("1 pairs from 1 of 2 prompts")
    path = home / "datasets" / "toy-prefs.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["chosen"], r["rejected"]) for r in rows] == [("good one", "bad one")]
    # Building again under the same name is refused, and says so.
    at.button(key="ds_pairs_go").click().run()
    assert at.error[0].value == "a dataset named 'toy-prefs' already exists; choose another name or replace it"
    # The new file is listed as DPO data.
    at = _run()
    at.selectbox(key="ds_selected").set_value(str(path)).run()
    assert "Pair 1" in [e.label for e in at.expander]
