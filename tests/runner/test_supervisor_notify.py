"""A real supervisor with a webhook that hangs: job output keeps being ingested while the
notification waits, then arrives on a retry; the HF token reaches the job only."""
from __future__ import annotations

import json
import sys
import textwrap

from core import credentials, jobs, ledger
from tests.conftest import SupervisorProcess, _kill_leftover_jobs, wait_for
from tests.test_notify import Hook

TOKEN = "hf_TestTokenValue1234"


def _cmd(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return [sys.executable, "-u", str(path)]


def test_a_hanging_webhook_never_delays_ingestion(home, tmp_path, monkeypatch):
    hook = Hook(delays=(7.0,))  # the first POST hangs past the client's 5 s timeout
    monkeypatch.setenv(credentials.NOTIFY_ENV, hook.url)
    credentials.set_hf_token(TOKEN)
    sup = SupervisorProcess(home).start()
    try:
        a = jobs.submit("command", {"command": _cmd(tmp_path, "a.py", f"""
            import os
            print("token seen" if os.environ.get("HF_TOKEN") == "{TOKEN}" else "no token")
            print("loss: 0.5")
        """)}, name="job a")
        wait_for(lambda: hook.hits >= 1, 30, what="the webhook to be called for job a")
        # The notifier now hangs on job a's POST; the supervisor goes on with job b.
        b = jobs.submit("command", {"command": _cmd(tmp_path, "b.py", """
            import time
            for i in range(1, 21):
                print(f"Step {i}/20")
                print(f"loss: {1 / i:.4f}")
                time.sleep(0.05)
        """)}, name="job b")
        wait_for(lambda: jobs.get(b)["status"] == "COMPLETED", 30, what="job b to complete")
        assert len(ledger.metrics_df(b, "loss")) == 20
        assert hook.bodies == []  # job a's notification is still hanging
        wait_for(lambda: len(hook.bodies) >= 2, 40, what="both notifications")
        by_id = {body["id"]: body for body in hook.bodies}
        assert by_id[a]["status"] == "COMPLETED" and by_id[a]["name"] == "job a"
        assert by_id[a]["metrics"] == {"loss": 0.5}
        assert by_id[b]["metrics"]["loss"] == 0.05 and by_id[b]["kind"] == "command"
        sent = wait_for(lambda: _events(a, "NOTIFY_SENT"), 10, what="the NOTIFY_SENT event")[0]
        assert json.loads(sent)["attempts"] == 2 and "hooks" not in sent
        # The token reached the job's process and nothing that is stored or shown.
        logs = [r["text"] for r in _logs(a)]
        assert "token seen" in logs
        assert TOKEN not in json.dumps(jobs.get(a)["env"])
        assert TOKEN not in (home / "ledger.db").read_bytes().decode("latin-1")
    finally:
        sup.stop()
        _kill_leftover_jobs(home)
        hook.close()


def _events(job_id, kind):
    df = ledger.events_df(job_id=job_id)
    return list(df[df.kind == kind].payload)


def _logs(job_id):
    with ledger.reader() as conn:
        return ledger.rows(conn, "SELECT text FROM log_line WHERE job_id = :j ORDER BY seq",
                           {"j": job_id})


def test_a_closed_job_records_its_peak_memory_and_energy_not_reported_without_gpu(
        supervisor, tmp_path):
    job_id = jobs.submit("command", {"command": _cmd(tmp_path, "mem.py", """
        block = bytearray(64 * 1024 * 1024)  # touch 64 MiB so the peak RSS shows it
        for i in range(0, len(block), 4096):
            block[i] = 1
        print("loss: 1.0")
    """)})
    wait_for(lambda: jobs.get(job_id)["status"] == "COMPLETED", 30, what="the job to complete")
    job = jobs.get(job_id)
    assert job["energy_wh"] is None  # no GPU here: not reported, not 0
    assert 64 <= job["peak_mem_mb"] < 400
