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
