"""core.dashboard: GPU state from the ledger (or a live probe), jobs, counts, chart data."""
from __future__ import annotations

import json
import time

import pytest

from core import dashboard, hardware, ledger
from tests.seed import seed


@pytest.fixture
def no_live_gpu(monkeypatch):
    """No GPU on this machine (true here anyway), and a fresh live-probe cache."""
    calls = []

    def sample_gpus():
        calls.append(time.time())
        return []

    monkeypatch.setattr(hardware, "sample_gpus", sample_gpus)
    monkeypatch.setattr(dashboard, "_live_cache", {"at": 0.0, "gpus": []})
    return calls


def _gpu_row(device: str, at: float, util: float, **extra) -> dict:
    return {"time": at, "device": device, "name": f"gpu{device}", "utilization": util,
            "mem_used": 2 * 2**30, "mem_total": 8 * 2**30, "source": "rocm-smi", **extra}


def test_gpu_status_takes_the_newest_sample_of_each_device(home, no_live_gpu):
    now = time.time()
    ledger.insert_gpu_samples([_gpu_row("0", now - 4, 10), _gpu_row("1", now - 4, 20)])
    ledger.insert_gpu_samples([_gpu_row("0", now - 2, 30, gtt_used=3 * 2**30, gtt_total=12 * 2**30),
                               _gpu_row("1", now - 2, 40)])
    status = dashboard.gpu_status()
    assert status["source"] == "ledger" and status["host"] is None
    assert [(g["device"], g["utilization"]) for g in status["gpus"]] == [("0", 30.0), ("1", 40.0)]
    assert status["gpus"][0]["mem_fraction"] == 0.25 and status["gpus"][0]["gtt_fraction"] == 0.25
    assert status["gpus"][1]["gtt_fraction"] is None
    assert not no_live_gpu  # no probe when the supervisor is sampling


def test_stale_samples_fall_back_to_a_live_probe_then_to_cpu_and_ram(home, no_live_gpu):
    ledger.insert_gpu_samples([_gpu_row("0", time.time() - 3600, 99)])  # supervisor gone
    status = dashboard.gpu_status()
    assert status["source"] == "none" and status["gpus"] == []
    host = status["host"]
    assert host["ram_total"] > 0 and 0 < host["ram_fraction"] <= 1
    assert "cpu_percent" in host
    assert len(no_live_gpu) == 1
    dashboard.gpu_status()
    assert len(no_live_gpu) == 1  # the probe is reused for a few seconds, not run every tick


def test_live_probe_when_no_supervisor_samples(home, monkeypatch):
    monkeypatch.setattr(dashboard, "_live_cache", {"at": 0.0, "gpus": []})
    monkeypatch.setattr(hardware, "sample_gpus", lambda: [hardware.GpuSample(
        device="0", name="Radeon", utilization=55.0, mem_used=1.0, mem_total=4.0, source="sysfs")])
    status = dashboard.gpu_status()
    assert status["source"] == "live"
    assert status["gpus"][0]["utilization"] == 55.0 and status["gpus"][0]["mem_fraction"] == 0.25


def test_counts(home):
    seed()
    c = dashboard.counts()
    assert (c["running"], c["queued"], c["completed"], c["failed"], c["stopped"]) == (3, 1, 2, 1, 1)
    assert c["total"] == 8


def test_active_jobs_carry_progress_loss_and_link(home):
    ids = seed()
    jobs = dashboard.active_jobs()
    assert [j["id"] for j in jobs] == [ids["STOPPING"], ids["RUNNING"], ids["STARTING"]]
    running = next(j for j in jobs if j["id"] == ids["RUNNING"])
    assert running["progress"]["fraction"] == 0.5 and running["progress"]["label"] == "step 50/100"
    last = ledger.metrics_df(ids["RUNNING"], "loss").iloc[-1]["value"]
    assert running["loss"] == pytest.approx(last)
    assert running["link"] == f"/monitor?job={ids['RUNNING']}"
    assert len(dashboard.active_jobs(limit=1)) == 1


def test_recent_runs_newest_first_with_links(home):
    ids = seed()
    runs = dashboard.recent_runs(limit=3)
    assert [r["id"] for r in runs] == [ids["benchmark"], ids["STOPPED"], ids["FAILED"]]
    assert runs[1]["fraction"] == 0.5 and runs[1]["elapsed_s"] > 0
    assert runs[0]["link"] == f"/monitor?job={ids['benchmark']}"


def test_training_history_is_recent_runs_thinned(home):
    ids = seed()
    with ledger.writer() as conn:
        big = ledger.insert_job(conn, kind="sft", name="big", config="{}")
        conn.exec_driver_sql(
            "INSERT INTO metric (job_id, step, time, name, value) VALUES (?, ?, ?, ?, ?)",
            [(big, s, float(s), "train_loss", 1.0 / s) for s in range(1, 3001)])
    curves = dashboard.training_history(runs=3, max_points=100)
    assert [c["job_id"] for c in curves] == [big, ids["STOPPED"], ids["FAILED"]]
    assert curves[0]["name"] == "#%d big" % big
    # every 30th step, and the last one so the curve ends at the newest value
    assert curves[0]["thinned"]
    assert curves[0]["x"] == list(range(1, 3000, 30)) + [3000]
    assert curves[0]["y"] == [1.0 / s for s in curves[0]["x"]]  # real points, not invented
    assert not curves[1]["thinned"] and len(curves[1]["y"]) == 50
    assert ids["benchmark"] not in [c["job_id"] for c in dashboard.training_history(runs=20)]


def test_training_history_thins_sparse_steps_to_real_points(home):
    with ledger.writer() as conn:
        job = ledger.insert_job(conn, kind="sft", name="every 10th", config="{}")
        conn.exec_driver_sql(  # logged every 10 steps, with a gap (a resumed run)
            "INSERT INTO metric (job_id, step, time, name, value) VALUES (?, ?, ?, ?, ?)",
            [(job, s, float(s), "loss", s / 10) for s in range(10, 10001, 10) if not 4000 < s < 6000])
    (curve,) = dashboard.training_history(max_points=100)
    steps = curve["x"]
    assert curve["thinned"] and 80 <= len(steps) <= 101
    assert steps[0] == 10 and steps[-1] == 10000 and steps == sorted(set(steps))
    assert all(s % 10 == 0 and not 4000 < s < 6000 for s in steps)
    assert curve["y"] == [s / 10 for s in steps]


def test_training_history_without_steps_falls_back_to_buckets(home):
    with ledger.writer() as conn:
        job = ledger.insert_job(conn, kind="command", name="no steps", config="{}")
        conn.exec_driver_sql(
            "INSERT INTO metric (job_id, step, time, name, value) VALUES (?, ?, ?, ?, ?)",
            [(job, None, float(t), "loss", 1.0) for t in range(500)])
    (curve,) = dashboard.training_history(max_points=50)
    assert curve["thinned"] and len(curve["x"]) <= 51
    assert set(curve["y"]) == {1.0}


def test_benchmark_scores_use_the_newest_result_and_the_main_metric(home):
    seed()
    with ledger.writer() as conn:
        ledger.insert_result(conn, None, {"model": "tiny", "benchmark": "humaneval",
                                          "metrics": {"pass@1": 0.75}, "primary_metric": "pass@1"})
        ledger.insert_result(conn, None, {"model": "llava", "benchmark": "docvqa",
                                          "metrics": {"anls": 0.4}, "primary_metric": "anls"})
        ledger.insert_result(conn, None, {"model": "whisper", "benchmark": "librispeech",
                                          "metrics": {"wer": 0.1}, "primary_metric": "wer"})
    scores = dashboard.benchmark_scores()
    assert scores["categories"] == ["docvqa · anls", "humaneval · pass@1", "librispeech · wer ↓",
                                    "mbpp · pass@1"]
    assert scores["groups"]["tiny"] == [None, 0.75, None, 0.25]  # the newer humaneval result wins
    assert scores["groups"]["llava"] == [0.4, None, None, None]
    assert scores["groups"]["whisper"] == [None, None, 0.1, None]
    assert scores["groups"]["Qwen/Qwen2.5-Coder-0.5B-Instruct"] == [None, 0.5, None, 0.5]
    assert list(dashboard.benchmark_scores(max_models=1)["groups"]) == ["whisper"]


def test_empty_ledger(home, no_live_gpu):
    assert dashboard.counts()["total"] == 0
    assert dashboard.active_jobs() == [] and dashboard.recent_runs() == []
    assert dashboard.training_history() == []
    assert dashboard.benchmark_scores() == {"categories": [], "groups": {}}
    assert dashboard.gpu_status()["source"] == "none"


def test_gpu_history_buckets_a_day_per_device_and_keeps_memory_peaks(home):
    now = 1_000_000.0
    rows = []
    for i in range(0, 86400, 60):  # a day of samples every minute, two GPUs
        for dev in ("0", "1"):
            rows.append({"time": now - 86400 + i, "device": dev, "name": f"gpu{dev}",
                         "utilization": 50.0, "mem_used": float(2**30 if i != 3600 else 5 * 2**30),
                         "mem_total": 8.0 * 2**30, "temperature": 60.0, "power": None,
                         "source": "test"})
    ledger.insert_gpu_samples(rows)
    day = dashboard.gpu_history(86400, max_points=100, now=now)
    assert [d["device"] for d in day["devices"]] == ["0", "1"] and day["bucket_s"] == 864
    zero = day["devices"][0]
    assert 99 <= len(zero["t"]) <= 101 and set(zero["utilization"]) == {50.0}
    assert max(zero["mem_used"]) == 5 * 2**30  # the one-minute spike survives the bucketing
    names = [c[0] for c in dashboard.history_charts(zero)]
    assert names == ["Utilisation", "Memory", "Temperature"]  # no power reported: no chart
    hour = dashboard.gpu_history(3600, now=now)
    assert len(hour["devices"][0]["t"]) == 60  # one sample a minute, 15 s buckets


def test_gpu_history_shows_cpu_and_ram_only_without_a_gpu(home):
    from core.hardware import HOST_DEVICE

    now = time.time()
    ledger.insert_gpu_samples([{"time": now - 10, "device": HOST_DEVICE, "name": "CPU",
                                "utilization": 30.0, "mem_used": 4.0 * 2**30,
                                "mem_total": 16.0 * 2**30, "source": "host"}])
    hist = dashboard.gpu_history(3600)
    assert [d["host"] for d in hist["devices"]] == [True]
    assert [c[0] for c in dashboard.history_charts(hist["devices"][0])] == ["CPU", "Memory"]
    assert dashboard.ledger_gpus() == []  # host rows are not GPUs on the live cards
    ledger.insert_gpu_samples([_gpu_row("0", now - 5, 10)])
    assert [d["device"] for d in dashboard.gpu_history(3600)["devices"]] == ["0"]


def test_the_supervisor_stores_cpu_and_ram_when_no_gpu_answers(home, monkeypatch):
    from core.runner.supervisor import Supervisor

    monkeypatch.setattr(hardware, "sample_gpus", lambda: [])
    monkeypatch.setattr("core.runner.supervisor._detect_gpus", lambda: [])
    sup = Supervisor()
    assert sup.sample_gpus() == 1
    rows = ledger.gpu_df()
    assert list(rows.device) == [hardware.HOST_DEVICE] and rows.mem_total.iloc[0] > 0
    monkeypatch.setattr(hardware, "sample_gpus",
                        lambda: [hardware.GpuSample(device="0", utilization=5.0, power=30.0)])
    assert sup.sample_gpus() == 1 and list(ledger.gpu_df().device) == ["cpu", "0"]
