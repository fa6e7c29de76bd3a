"""AppTest for the Monitor page on a seeded ledger."""
from __future__ import annotations

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
