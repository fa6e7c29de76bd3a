"""AppTest for the Dashboard on a seeded ledger and on an empty one."""
from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from core import dashboard, hardware
from tests.conftest import REPO
from tests.seed import seed

PAGE = str(REPO / "pages/dashboard.py")


@pytest.fixture(autouse=True)
def no_live_gpu(monkeypatch):
    # Deterministic whatever the machine has: only the ledger's samples count.
    monkeypatch.setattr(hardware, "sample_gpus", lambda: [])
    monkeypatch.setattr(dashboard, "_live_cache", {"at": 0.0, "gpus": []})


def _run() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=30).run()


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _chart(at: AppTest, key: str) -> dict:
    for el in at.get("bidi_component"):
        if el.proto.id.endswith(key):
            return json.loads(el.proto.json)["options"]
    raise AssertionError(f"no chart {key}")


def test_seeded_dashboard_shows_gpu_counts_and_active_jobs(home):
    ids = seed()
    at = _run()
    assert not at.exception
    m = _metrics(at)
    assert m["Utilisation"] == "87 %" and m["Temperature"] == "61 °C" and m["Power"] == "95 W"
    assert m["VRAM"] == "3.7 GiB" and m["GTT"] == "27.9 GiB"  # 4e9 and 30e9 bytes
    assert (m["Running"], m["Queued"], m["Completed"], m["Failed"], m["Stopped"]) == \
        ("3", "1", "2", "1", "1")
    assert "No GPU detected" not in " ".join(x.value for x in at.markdown)
    text = " ".join(x.value for x in at.markdown)
    for status in ("RUNNING", "STARTING", "STOPPING"):
        assert f"(/monitor?job={ids[status]})" in text
    assert f"(/monitor?job={ids['COMPLETED']})" not in text  # not active
    labels = [p.proto.text for p in at.get("progress")]
    assert labels.count("step 50/100") == 3


def test_seeded_dashboard_charts_and_recent_runs(home):
    ids = seed()
    at = _run()
    loss = _chart(at, "dash_loss_chart")
    assert loss["legend"]["data"][0] == f"#{ids['STOPPED']} sft run 6"
    assert len(loss["series"]) == 6 and len(loss["series"][0]["data"]) == 50
    bench = _chart(at, "dash_bench_chart")
    assert bench["xAxis"]["data"] == ["humaneval · pass@1", "mbpp · pass@1"]
    by_model = {s["name"]: s["data"] for s in bench["series"]}
    assert by_model == {"tiny": [25.0, 25.0], "Qwen/Qwen2.5-Coder-0.5B-Instruct": [50.0, 50.0]}
    recent = at.dataframe[0].value
    assert list(recent["job"])[:2] == [f"/monitor?job={ids['benchmark']}",
                                       f"/monitor?job={ids['STOPPED']}"]
    assert list(recent["status"])[:2] == ["COMPLETED", "STOPPED"]


def test_empty_ledger_shows_no_gpu_card_and_how_to_start(home):
    at = _run()
    assert not at.exception
    assert any("No GPU detected" in x.value for x in at.markdown)
    m = _metrics(at)
    assert m["CPU"].endswith("%") and m["RAM"].endswith("GiB")
    assert m["Running"] == "0" and m["Queued"] == "0"
    assert "No jobs yet" in at.info[0].value
    captions = " ".join(c.value for c in at.caption)
    assert "Nothing running" in captions and "No benchmark results yet" in captions
    assert "No training run has logged a loss yet" in captions
    assert not at.get("bidi_component")  # no chart with invented numbers


def test_gpu_history_charts_per_device_and_says_when_power_is_not_reported(home):
    import time

    from core import ledger

    now = time.time()
    ledger.insert_gpu_samples([
        {"time": now - 600 + i * 5, "device": "0", "name": "Radeon 8060S", "utilization": 80.0,
         "mem_used": 3.0 * 2**30, "mem_total": 4.0 * 2**30, "gtt_used": 20.0 * 2**30,
         "gtt_total": 96.0 * 2**30, "temperature": 55.0, "power": None, "source": "amd-smi"}
        for i in range(100)])
    at = _run()
    assert not at.exception
    util = _chart(at, "dash_hist_0_Utilisation")
    assert util["series"][0]["data"][-1][1] == 80.0 and util["xAxis"]["type"] == "time"
    mem = _chart(at, "dash_hist_0_Memory")
    assert [s["name"] for s in mem["series"]] == ["VRAM", "GTT"]
    assert mem["series"][1]["data"][0][1] == 20.0  # GiB
    captions = " ".join(c.value for c in at.caption)
    assert "Power: not reported" in captions
    at.segmented_control(key="dash_hist_window").set_value("last day").run()
    assert "Averaged over 360 s buckets" in " ".join(c.value for c in at.caption)


def test_without_a_gpu_the_history_charts_cpu_and_ram(home):
    import time

    from core import ledger
    from core.hardware import HOST_DEVICE

    ledger.insert_gpu_samples([{"time": time.time() - 60 + 20 * i, "device": HOST_DEVICE,
                                "name": "CPU", "utilization": 25.0 + i, "mem_used": 2.0**33,
                                "mem_total": 2.0**34, "source": "host"} for i in range(3)])
    at = _run()
    assert "CPU and RAM (no GPU detected)" in " ".join(m.value for m in at.markdown)
    assert _chart(at, "dash_hist_cpu_CPU")["series"][0]["data"][-1][1] == 27.0
    assert _chart(at, "dash_hist_cpu_Memory")["series"][0]["name"] == "RAM"


def test_queued_jobs_appear_in_claim_order(home):
    from core import jobs

    low = jobs.submit("command", {"command": ["echo", "low"]}, name="low one")
    high = jobs.submit("command", {"command": ["echo", "high"]}, name="urgent one", priority=3)
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    texts = [m.value for m in at.markdown]
    first = texts.index(f"[#{high} urgent one](/monitor?job={high})")  # outside the app's
    second = texts.index(f"[#{low} low one](/monitor?job={low})")  # navigation: plain links
    assert texts[first - 1] == "1." and texts[second - 1] == "2." and first < second
    assert "priority 3" in texts[first + 1]


def test_job_links_stay_in_the_tab_inside_the_app(home):
    """Inside st.navigation the links are page links (same tab) carrying ?job=N."""
    from core import jobs

    job = jobs.submit("command", {"command": ["echo"]}, name="waiting")
    script = ("import streamlit as st\n"
              f"st.navigation([st.Page({PAGE!r}), st.Page({str(REPO / 'pages/monitor.py')!r})]).run()\n")
    at = AppTest.from_string(script, default_timeout=30).run()
    assert not at.exception
    links = {el.proto.label: el.proto for el in at.get("page_link")}
    assert f"#{job} waiting" in links
    assert links[f"#{job} waiting"].query_string == f"job={job}"
    assert not [m for m in at.markdown if "](/monitor?job=" in m.value]  # no new-tab links
