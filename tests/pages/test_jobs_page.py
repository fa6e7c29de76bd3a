"""AppTest for the Jobs page: filters, paging, per-job and bulk actions, delete with
confirmation, the queue's reorder buttons and the GPU slots."""
from __future__ import annotations

from streamlit.testing.v1 import AppTest

from core import jobs, paths
from tests.conftest import REPO
from tests.seed import seed

PAGE = str(REPO / "pages/jobs.py")


def _run(at: AppTest | None = None) -> AppTest:
    return (at or AppTest.from_file(PAGE, default_timeout=30)).run()


def _select(at: AppTest, rows: list[int]) -> AppTest:
    at.session_state["jobs_table"] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    return at.run()


def _ids(at: AppTest) -> list[int]:
    return [int(link.rsplit("=", 1)[1]) for link in at.dataframe[0].value["job"]]


def test_empty_ledger_says_how_to_start(home):
    at = _run()
    assert not at.exception
    assert "No jobs yet" in at.info[0].value


def test_every_job_newest_first_filtered_and_paged(home):
    ids = seed()
    at = _run()
    assert not at.exception
    assert _ids(at) == sorted(ids.values(), reverse=True)
    at.multiselect(key="jobs_status").select("RUNNING").select("FAILED").run()
    assert set(_ids(at)) == {ids["RUNNING"], ids["FAILED"]}
    at.multiselect(key="jobs_status").unselect("RUNNING").unselect("FAILED").run()
    at.multiselect(key="jobs_kind").select("raft").run()
    assert all(k == "raft" for k in at.dataframe[0].value["kind"])
    at.multiselect(key="jobs_kind").unselect("raft").run()
    at.text_input(key="jobs_name").input("HUMANEVAL").run()
    assert _ids(at) == [ids["benchmark"]]
    at.text_input(key="jobs_name").input("").run()
    for n in range(30):  # past one page of 25
        jobs.submit("command", {"command": ["echo", str(n)]})
    at.run()
    assert len(at.dataframe[0].value) == 25
    at.number_input(key="jobs_page").set_value(2).run()
    assert len(at.dataframe[0].value) == len(ids) + 30 - 25
    assert min(_ids(at)) == min(ids.values())


def test_bulk_stop_acts_on_the_jobs_that_allow_it(home):
    ids = seed()
    at = _run()
    order = _ids(at)
    rows = [order.index(ids[s]) for s in ("RUNNING", "QUEUED", "COMPLETED")]
    at = _select(at, rows)
    stop = at.button(key="jobs_bulk_stop")
    assert stop.label == "Stop (2)" and not stop.disabled  # not the completed one
    assert at.button(key="jobs_bulk_retry").label == "Retry (1)"
    stop.click().run()
    assert not at.exception
    assert jobs.get(ids["RUNNING"])["status"] == "STOPPING"
    assert jobs.get(ids["QUEUED"])["status"] == "STOPPED"
    assert jobs.get(ids["COMPLETED"])["status"] == "COMPLETED"
    assert at.success[0].value.startswith("Stop: #")


def test_delete_asks_first_then_removes_rows_and_directories(home):
    ids = seed()
    victims = [ids["FAILED"], ids["COMPLETED"]]
    for v in victims:
        paths.job_dir(v).mkdir(parents=True, exist_ok=True)
        (paths.job_dir(v) / "output.log").write_text("bye\n")
    at = _run()
    order = _ids(at)
    at = _select(at, [order.index(v) for v in victims] + [order.index(ids["RUNNING"])])
    assert at.button(key="jobs_bulk_delete").label == "Delete… (2)"  # not the running one
    at.button(key="jobs_bulk_delete").click().run()
    assert all(jobs.get(v) for v in victims)  # nothing yet: a question first
    assert "This cannot be undone" in at.warning[0].value
    at.button(key="jobs_delete_cancel").click().run()
    assert not at.warning and all(jobs.get(v) for v in victims)
    at = _select(at, [order.index(v) for v in victims])
    at.button(key="jobs_bulk_delete").click().run()
    at.button(key="jobs_delete_confirm").click().run()
    assert not at.exception
    for v in victims:
        assert not [j for j in jobs.list_jobs() if j["id"] == v]
        assert not paths.job_dir(v).exists()
    assert set(_ids(at)).isdisjoint(victims)


def test_queue_reorder_and_priority(home):
    a, b, c = (jobs.submit("command", {"command": ["echo", x]}, name=x) for x in "abc")
    at = _run()
    assert [q["id"] for q in jobs.queue()] == [a, b, c]
    at.button(key=f"jobs_up_{c}").click().run()
    assert [q["id"] for q in jobs.queue()] == [a, c, b]
    assert at.button(key=f"jobs_up_{a}").disabled  # already first
    at.button(key=f"jobs_down_{a}").click().run()
    assert [q["id"] for q in jobs.queue()] == [c, a, b]
    # one selected queued job: its own controls, priority included
    at = _select(at, [_ids(at).index(b)])
    at.number_input(key=f"jobs_priority_{b}").set_value(7).run()
    at.button(key=f"jobs_priority_set_{b}").click().run()
    assert not at.exception
    assert [q["id"] for q in jobs.queue()] == [b, c, a]
    assert "priority 7" in at.success[0].value


def test_gpu_slots_show_who_holds_what(home, monkeypatch):
    import json

    from core import ledger
    from core.runner import daemon

    monkeypatch.setattr(daemon, "status", lambda: {"running": True, "pid": 1, "slots": 2, "gpus": 2})
    held = jobs.submit("command", {"command": ["sleep", "9"], "gpus": 1}, name="holder")
    jobs.submit("command", {"command": ["echo"], "gpus": 1}, name="waiter")
    with ledger.writer() as conn:
        conn.exec_driver_sql("UPDATE job SET status='RUNNING', env=? WHERE id=?",
                             (json.dumps({"CUDA_VISIBLE_DEVICES": "1"}), held))
    at = _run()
    texts = [m.value for m in at.markdown]
    assert any("**1 of 2** GPU slots held · 1 free" in t for t in texts)
    holder = texts.index(f"[#{held} holder](/monitor?job={held})")
    assert texts[holder - 1] == "GPU **1**" and "1 slot" in texts[holder + 1]
    assert any("waiter" in t for t in texts)
