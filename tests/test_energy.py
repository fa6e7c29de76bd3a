"""core.energy: trapezoid integration against closed forms, and a job's usage from stored samples."""
from __future__ import annotations

import json
import math

import pytest

from core import energy, ledger
from core.runner.exitstatus import write_exit_status


def test_constant_power_is_power_times_time():
    samples = [(t, 200.0) for t in range(0, 3601, 5)]
    assert energy.integrate_wh(samples, 0, 3600) == pytest.approx(200.0)


def test_linear_ramp_matches_its_closed_form_exactly():
    # P(t) = 50 + 0.1 t over [0, 1800]: E = 50*1800 + 0.05*1800^2 joules.
    samples = [(t, 50 + 0.1 * t) for t in range(0, 1801, 7)] + [(1800, 50 + 180.0)]
    exact = (50 * 1800 + 0.05 * 1800 ** 2) / 3600
    assert energy.integrate_wh(samples, 0, 1800) == pytest.approx(exact, rel=1e-12)


def test_sine_power_converges_to_its_integral():
    # P(t) = 100 + 40 sin(2 pi t / 600) over [0, 900]: trapezoids on 1 s samples.
    def p(t):
        return 100 + 40 * math.sin(2 * math.pi * t / 600)

    exact = (100 * 900 + 40 * 600 / (2 * math.pi) * (1 - math.cos(2 * math.pi * 900 / 600))) / 3600
    got = energy.integrate_wh([(t, p(t)) for t in range(0, 901)], 0, 900)
    assert got == pytest.approx(exact, rel=1e-4)
    coarse = energy.integrate_wh([(t, p(t)) for t in range(0, 901, 30)], 0, 900)
    assert abs(coarse - exact) > abs(got - exact)  # finer sampling, closer to the integral


def test_window_edges_between_samples_are_interpolated_and_held():
    samples = [(10.0, 100.0), (20.0, 200.0)]
    # [15, 20]: from 150 W to 200 W linearly -> 875 J; [20, 26]: held at 200 W -> 1200 J.
    assert energy.integrate_wh(samples, 15, 26) == pytest.approx((875 + 1200) / 3600)
    # Before the first sample the first value holds.
    assert energy.integrate_wh(samples, 0, 10) == pytest.approx(1000 / 3600)


def test_no_power_reported_is_none_not_zero():
    assert energy.integrate_wh([], 0, 100) is None
    assert energy.integrate_wh([(1.0, None)], 0, 100) is None
    assert energy.format_energy(None) == "not reported"
    assert energy.format_energy(12.345) == "12.35 Wh"


def _job(home, **fields):
    with ledger.writer() as conn:
        job_id = ledger.insert_job(conn, kind="command", name="t", config="{}", **fields)
    return ledger.get_job(job_id)


def _samples(device: str, times, power, vram=None, gtt=None):
    return [{"time": float(t), "device": device, "name": "gpu", "power": power(t),
             "mem_used": vram, "gtt_used": gtt, "source": "test"} for t in times]


def test_job_usage_sums_the_gpus_it_held_and_ignores_the_others(home):
    ledger.insert_gpu_samples(_samples("0", range(1000, 1101, 5), lambda t: 100.0,
                                       vram=2 * 2**30, gtt=1 * 2**30))
    ledger.insert_gpu_samples(_samples("1", range(1000, 1101, 5), lambda t: 50.0 + (t - 1000),
                                       vram=1 * 2**30))
    ledger.insert_gpu_samples(_samples("2", range(1000, 1101, 5), lambda t: 999.0,
                                       vram=30 * 2**30))
    job = _job(home, gpus=2, env=json.dumps({"HIP_VISIBLE_DEVICES": "0,1"}),
               started_at=1000.0, finished_at=1100.0)
    usage = energy.job_usage(job)
    # GPU 0: 100 W * 100 s; GPU 1: ramp 50 -> 150 W over 100 s = 10,000 J.
    assert usage["energy_wh"] == pytest.approx((100 * 100 + 10_000) / 3600)
    assert usage["peak_mem_mb"] == pytest.approx(4 * 1024)  # 2 + 1 GiB on GPU 0, 1 GiB on GPU 1


def test_gpu_job_whose_tool_reports_no_power_is_not_reported(home):
    ledger.insert_gpu_samples(_samples("0", range(0, 60, 5), lambda t: None, vram=2**30))
    job = _job(home, gpus=1, env=json.dumps({"CUDA_VISIBLE_DEVICES": "0"}),
               started_at=1.0, finished_at=50.0)
    usage = energy.job_usage(job)
    assert usage["energy_wh"] is None and usage["peak_mem_mb"] == pytest.approx(1024)


def test_cpu_job_reports_peak_rss_from_its_exit_status(home, tmp_path):
    job_dir = tmp_path / "job"
    job_dir.mkdir()
    write_exit_status(job_dir, 0, started=1.0, peak_rss_mb=321.5)
    ledger.insert_gpu_samples(_samples("0", range(0, 60, 5), lambda t: 80.0))
    job = _job(home, gpus=0, job_dir=str(job_dir), started_at=1.0, finished_at=50.0)
    usage = energy.job_usage(job)
    assert usage == {"energy_wh": None, "peak_mem_mb": 321.5}
