"""A seeded ledger for page tests: jobs in every status, metrics, logs, results, GPU samples."""
from __future__ import annotations

import json
import math
import time

from core import ledger, paths

STATUSES = ("QUEUED", "STARTING", "RUNNING", "STOPPING", "COMPLETED", "FAILED", "STOPPED")


def seed(n_metrics: int = 50) -> dict[str, int]:
    """Returns {status: job id}. Training jobs get a loss curve; benchmark jobs result rows."""
    ids: dict[str, int] = {}
    now = time.time()
    with ledger.writer() as conn:
        for i, status in enumerate(STATUSES):
            kind = "sft" if i % 2 == 0 else "raft"
            config = {"kind": kind, "model": {"name": "./tiny"},
                      "data": {"dataset": "alpaca" if kind == "sft" else "humaneval", "limit": 64},
                      "training": {"learning_rate": 1e-4 * (i + 1), "batch_size": 4}}
            job_id = ledger.insert_job(conn, kind=kind, name=f"{kind} run {i}",
                                       config=json.dumps(config), gpus=1, created_at=now - 3600 + i)
            ledger.update_job(conn, job_id, job_dir=str(paths.job_dir(job_id)))
            if status != "QUEUED":
                conn.exec_driver_sql(
                    "UPDATE job SET status = ?, started_at = ?, step = ?, total_steps = ?, "
                    "finished_at = ?, error = ? WHERE id = ?",
                    (status, now - 3000 + i, n_metrics, 100,
                     now - 100 if status in ledger.FINAL else None,
                     "exited with code 1:\nTraceback: boom" if status == "FAILED" else None,
                     job_id))
                metrics = [(job_id, s, now - 3000 + s, "loss", 2.0 * math.exp(-s / 20) + 0.1 * i)
                           for s in range(1, n_metrics + 1)]
                metrics += [(job_id, s, now - 3000 + s, "lr", 1e-4) for s in range(1, n_metrics + 1)]
                logs = [(job_id, s, now, "output", f"Step {s}/100") for s in range(1, 11)]
                logs.append((job_id, 11, now, "output", "WARNING: something odd"))
                logs.append((job_id, 12, now, "output", "loss: 0.5"))
                ledger.append_output(conn, job_id, log_offset=0, log_seq=12, logs=logs,
                                     metrics=metrics, progress={}, events=[])
            ids[status] = job_id
        bench = ledger.insert_job(conn, kind="benchmark", name="humaneval · tiny",
                                  config=json.dumps({"kind": "benchmark"}), gpus=1)
        conn.exec_driver_sql("UPDATE job SET status='COMPLETED', finished_at=? WHERE id=?",
                             (now, bench))
        ids["benchmark"] = bench
        for model, p1 in (("tiny", 0.25), ("Qwen/Qwen2.5-Coder-0.5B-Instruct", 0.5)):
            for benchmark in ("humaneval", "mbpp"):
                ledger.insert_result(conn, bench, {
                    "model": model, "benchmark": benchmark,
                    "metrics": {"pass@1": p1, "pass@5": min(1.0, p1 + 0.2)},
                    "primary_metric": "pass@1", "samples": 20, "duration_s": 12.5,
                    "details": "samples.jsonl", "source": "sample"})
        conn.exec_driver_sql(
            "INSERT INTO gpu_sample (time, device, name, utilization, mem_used, mem_total, "
            "gtt_used, gtt_total, temperature, power, source) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (now, "0", "AMD Radeon 8060S", 87.0, 4e9, 8e9, 30e9, 96e9, 61.0, 95.0, "amd-smi"))
    return ids
