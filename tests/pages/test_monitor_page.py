"""AppTest for the Monitor page on a seeded ledger."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from core import jobs, monitor
from tests.seed import seed

from tests.conftest import REPO

PAGE = str(REPO / "pages/monitor.py")


def _run(**query):
    at = AppTest.from_file(PAGE, default_timeout=30)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def test_empty_ledger_says_how_to_start(home):
    at = _run()
    assert not at.exception
    assert "No jobs yet" in at.info[0].value


def test_defaults_to_newest_running_job(home):
    ids = seed()
    at = _run()
    assert not at.exception
    assert at.selectbox(key="mon_job").value == ids["STOPPING"]  # newest active job


def test_shows_progress_metrics_and_log(home):
    ids = seed()
    at = _run(job=str(ids["RUNNING"]))
    assert not at.exception
    assert at.selectbox(key="mon_job").value == ids["RUNNING"]
    labels = {m.label: m.value for m in at.metric}
    assert labels["Progress"] == "50.0 %"
    assert at.get("progress")[0].proto.text == "step 50/100"
    assert labels["loss"] == f"{monitor.latest_metrics(ids['RUNNING'])['loss']['value']:.4g}"
    assert "lr" in labels
    html = " ".join(h.proto.body for h in at.get("html"))
    assert "WARNING: something odd" in html and "Step 10/100" in html
    assert at.multiselect(key="mon_metrics").value == ["loss"]


def test_log_filter(home):
    ids = seed()
    at = _run(job=str(ids["RUNNING"]))
    at.text_input(key="mon_log_filter").input("warning").run()
    html = " ".join(h.proto.body for h in at.get("html"))
    assert "something odd" in html and "Step 10/100" not in html


def test_stop_needs_confirmation(home):
    ids = seed()
    at = _run(job=str(ids["RUNNING"]))
    at.button(key="mon_stop").click().run()
    assert jobs.get(ids["RUNNING"])["status"] == "RUNNING"  # nothing yet
    at.button(key="mon_stop_confirm").click().run()
    assert jobs.get(ids["RUNNING"])["status"] == "STOPPING"


def test_failed_job_shows_reason_and_retry_queues_a_copy(home):
    ids = seed()
    at = _run(job=str(ids["FAILED"]))
    assert "boom" in at.error[0].value
    before = len(jobs.list_jobs())
    at.button(key="mon_retry").click().run()
    assert len(jobs.list_jobs()) == before + 1
    newest = jobs.list_jobs(limit=1)[0]
    assert newest["retry_of"] == ids["FAILED"] and newest["status"] == "QUEUED"


def test_unknown_job_in_url_falls_back(home):
    seed()
    at = _run(job="9999")
    assert not at.exception
    assert "no job #9999" in at.warning[0].value


def test_picking_another_job_sticks_although_the_url_names_the_first(home):
    ids = seed()
    at = _run(job=str(ids["RUNNING"]))
    at.selectbox(key="mon_job").set_value(ids["FAILED"]).run()
    assert at.selectbox(key="mon_job").value == ids["FAILED"]
    at.run()  # a fragment tick or any later rerun must not snap back either
    assert at.selectbox(key="mon_job").value == ids["FAILED"]
    assert at.query_params["job"] == str(ids["FAILED"])


def test_a_finished_job_shows_its_energy_or_not_reported(home):
    from core import ledger

    ids = seed()
    with ledger.writer() as conn:
        ledger.update_job(conn, ids["COMPLETED"], energy_wh=3.456, peak_mem_mb=2560.0)
        ledger.update_job(conn, ids["FAILED"], peak_mem_mb=300.0)
    captions = [c.value for c in _run(job=str(ids["COMPLETED"])).caption]
    assert "Energy: 3.46 Wh · Peak memory: 2.50 GiB" in captions
    captions = [c.value for c in _run(job=str(ids["FAILED"])).caption]
    assert "Energy: not reported · Peak memory: 300 MiB" in captions


def test_a_stopping_job_offers_no_stop_and_no_eta(home):
    ids = seed()
    at = _run(job=str(ids["STOPPING"]))
    assert not at.exception
    assert not [b for b in at.button if b.key in ("mon_stop", "mon_stop_confirm")]
    assert any("Stop requested" in i.value for i in at.info)
    assert {m.label: m.value for m in at.metric}["ETA"] == "–"


def test_completed_training_offers_retry_but_not_resume(home):
    ids = seed()
    at = _run(job=str(ids["COMPLETED"]))
    keys = {b.key for b in at.button}
    assert "mon_retry" in keys and "mon_resume" not in keys
    at = _run(job=str(ids["STOPPED"]))
    assert {"mon_retry", "mon_resume"} <= {b.key for b in at.button}


def _checkpoint(job_id: int, step: int, trainer_state: bool = True):
    from core import ledger, paths

    path = paths.job_dir(job_id) / "output" / f"checkpoint-{step}"
    path.mkdir(parents=True)
    (path / "adapter_model.safetensors").write_bytes(b"\0" * 2048)
    if trainer_state:
        (path / "trainer_state.json").write_text("{}")
    with ledger.writer() as conn:
        ledger.add_event(conn, "CHECKPOINT_SAVED", job_id, {"path": str(path), "step": step})
    return path


def test_checkpoints_are_listed_and_one_can_be_resumed(home):
    ids = seed()
    job = ids["STOPPED"]
    first = _checkpoint(job, 10)
    _checkpoint(job, 20, trainer_state=False)
    at = _run(job=str(job))
    assert not at.exception
    assert any(s.value.startswith("Checkpoints (2)") for s in at.subheader)
    codes = [c.value for c in at.code]
    assert "output/checkpoint-10" in codes  # relative to the job directory
    buttons = [b for b in at.button if b.key.startswith("mon_resume_ckpt_")]
    assert [b.disabled for b in buttons] == [True, False]  # newest first; 20 has no trainer state
    assert "trainer_state.json" in buttons[0].help
    before = len(jobs.list_jobs())
    buttons[1].click().run()
    assert not at.exception
    assert len(jobs.list_jobs()) == before + 1
    new = jobs.list_jobs(limit=1)[0]
    assert json.loads(new["config"])["training"]["resume_from"] == str(first)
    assert at.selectbox(key="mon_job").value == new["id"]  # Monitor follows the new job


def test_a_new_checkpoint_brings_a_toast(home):
    ids = seed()
    job = ids["RUNNING"]
    at = _run(job=str(job))
    assert not at.toast  # none for what was there when the page opened
    _checkpoint(job, 30)
    at.run()
    assert [t.value for t in at.toast] == [f"Job #{job}: checkpoint saved at step 30"]
    at.run()
    assert not at.toast


def test_coming_back_to_the_same_url_opens_that_job(home):
    """Monitor on ?job=N, away to another page (the picker's state is dropped), back to the
    same ?job=N: that job, not the newest running one."""
    ids = seed()
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["mon_url_job"] = str(ids["FAILED"])  # written on the earlier visit
    at.query_params["job"] = str(ids["FAILED"])  # no picker state: it was dropped on leaving
    at.run()
    assert at.selectbox(key="mon_job").value == ids["FAILED"]
