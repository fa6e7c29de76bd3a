"""core.joblist: the Jobs page's filtered, paged listing and the GPU slots; and the CLI's view
of both (`halo-forge jobs` filters, `show` actions, `checkpoints`, `slots`, `resume --checkpoint`)."""
from __future__ import annotations

import json

from core import cli, jobs, joblist, ledger
from tests.seed import seed


def test_search_filters_pages_and_newest_first(home):
    ids = seed()
    everything = joblist.search(per_page=3)
    assert everything["total"] == len(ids) and everything["pages"] == -(-len(ids) // 3)
    assert [j["id"] for j in everything["jobs"]] == sorted(ids.values(), reverse=True)[:3]
    last = joblist.search(per_page=3, page=99)  # clamped to the last page
    assert last["page"] == last["pages"] and last["jobs"]
    raft = joblist.search(kinds=["raft"])
    assert raft["jobs"] and {j["kind"] for j in raft["jobs"]} == {"raft"}
    two = joblist.search(statuses=["RUNNING", "FAILED"])
    assert {j["id"] for j in two["jobs"]} == {ids["RUNNING"], ids["FAILED"]}
    assert joblist.search(name="SFT RUN")["total"] == 4  # any case
    assert joblist.search(name="100%_")["total"] == 0  # LIKE wildcards are literal
    assert joblist.search(executors=["slurm"])["total"] == 0
    running = next(j for j in two["jobs"] if j["status"] == "RUNNING")
    assert running["actions"] == ["stop"] and running["progress"]["fraction"] == 0.5


def test_slots_show_holders_and_the_queue_in_claim_order(home, monkeypatch):
    from core.runner import daemon

    monkeypatch.setattr(daemon, "status", lambda: {"running": True, "pid": 1, "slots": 2, "gpus": 2})
    a = jobs.submit("command", {"command": ["echo", "a"], "gpus": 1})
    b = jobs.submit("command", {"command": ["echo", "b"], "gpus": 1}, priority=5)
    held = jobs.submit("command", {"command": ["echo", "c"], "gpus": 1})
    with ledger.writer() as conn:
        conn.exec_driver_sql("UPDATE job SET status='RUNNING', env=? WHERE id=?",
                             (json.dumps({"HIP_VISIBLE_DEVICES": "1"}), held))
    info = joblist.slots()
    assert info["slots"] == 2 and info["used"] == 1 and info["free"] == 1
    assert info["holders"] == [{"job": held, "name": "echo c", "status": "RUNNING", "gpus": 1,
                                "devices": ["1"]}]
    assert [(q["id"], q["place"]) for q in info["queue"]] == [(b, 1), (a, 2)]  # priority first


def test_cli_views(home, capsys, monkeypatch):
    ids = seed()
    assert cli.main(["jobs", "--kind", "raft", "--status", "FAILED,RUNNING"]) == 0
    out = capsys.readouterr().out
    assert f"{ids['FAILED']:>5}  FAILED" in out and "RUNNING" not in out  # RUNNING is an sft job
    assert cli.main(["show", str(ids["STOPPING"])]) == 0
    assert "actions: none" in capsys.readouterr().out
    assert cli.main(["show", str(ids["STOPPED"])]) == 0
    assert "actions: retry, resume, resume_from, delete" in capsys.readouterr().out
    assert cli.main(["stop", str(ids["STOPPING"])]) == 2
    assert "already stopping" in capsys.readouterr().err
    assert cli.main(["slots"]) == 0
    assert "queued #1" in capsys.readouterr().out


def test_cli_checkpoints_and_resume_from_one(home, capsys):
    from core import paths

    ids = seed()
    job = ids["FAILED"]  # a raft run: only folders with raft_state.json resume
    good = paths.job_dir(job) / "output"
    good.mkdir(parents=True)
    (good / "raft_state.json").write_text("{}")
    with ledger.writer() as conn:
        ledger.add_event(conn, "CHECKPOINT_SAVED", job, {"path": str(good), "step": 7})
    assert cli.main(["checkpoints", str(job)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("step       7") and "resumable" in line and line.endswith(str(good))
    assert cli.main(["resume", str(job), "--checkpoint", str(good)]) == 0
    new = int(capsys.readouterr().out.strip())
    assert jobs.get(new)["config"]["training"]["resume_from"] == str(good)
