"""AppTest for Monitor on a GRPO job: the lines a real GRPO run printed, read by the one parser,
open on the reward curve; a stopped GRPO job offers Resume."""
from __future__ import annotations

import json
import time

from streamlit.testing.v1 import AppTest

from core import ledger, paths
from core.metrics import parse_line
from tests.conftest import REPO

PAGE = str(REPO / "pages/monitor.py")
LINES = (REPO / "tests" / "fixtures" / "trl_grpo_dpo_lines.txt").read_text().splitlines()[:3]  # the GRPO step


def _grpo_job(status: str) -> int:
    now = time.time()
    rows = []
    for step in (1, 2, 3):  # the captured step, shifted: a short reward curve
        for line in LINES:
            parsed = parse_line(line)
            if parsed:
                rows += [(0, step, now + step, name, value + 0.1 * step if name == "reward" else value)
                         for name, value in parsed.metrics.items()]
    with ledger.writer() as conn:
        job_id = ledger.insert_job(conn, kind="grpo", name="grpo toy", config=json.dumps({"kind": "grpo"}), gpus=1,
                                   created_at=now)
        ledger.update_job(conn, job_id, job_dir=str(paths.job_dir(job_id)))
        conn.exec_driver_sql("UPDATE job SET status = ?, started_at = ?, finished_at = ? WHERE id = ?",
                             (status, now, now + 5, job_id))
        ledger.append_output(conn, job_id, log_offset=0, log_seq=len(LINES),
                             logs=[(job_id, i + 1, now, "output", t) for i, t in enumerate(LINES)],
                             metrics=[(job_id, *r[1:]) for r in rows], progress={}, events=[])
    return job_id


def test_a_grpo_job_opens_on_its_reward_curve_and_resumes(home):
    job_id = _grpo_job("STOPPED")
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.query_params["job"] = str(job_id)
    at.run()
    assert not at.exception
    assert at.multiselect(key="mon_metrics").value == ["reward"]
    names = at.multiselect(key="mon_metrics").options
    assert {"rewards_humaneval_mean", "verification_rate", "kl", "completions_mean_length",
            "clip_ratio_region_mean"} <= set(names)
    assert at.button(key="mon_resume").label == "Resume"
