"""What a serve job serves when it is given a finished training job, read from its files."""
from __future__ import annotations

import json

import pytest

from core import paths
from core.serving import sources
from core.serving.sources import SourceError


def _job(job_id, kind="sft", summary=None, base="tiny"):
    d = paths.job_dir(job_id)
    d.mkdir(parents=True)
    (d / "job.json").write_text(json.dumps({"id": job_id, "kind": kind,
                                            "config": {"model": {"name": base}}}))
    if summary is not None:
        (d / "summary.json").write_text(json.dumps(summary))
    return d


def test_adapter_job_is_served_on_its_base(home):
    d = _job(1, summary={})
    adapter = d / "output" / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text("{}")
    (d / "summary.json").write_text(json.dumps({"adapter": str(adapter)}))
    src = sources.from_job(1)
    assert (src.model, src.adapter, src.label) == ("tiny", str(adapter), "job 1")


def test_merged_or_full_model_stands_alone(home):
    d = _job(2, summary={})
    merged = d / "output" / "merged"
    merged.mkdir(parents=True)
    (d / "summary.json").write_text(json.dumps({"adapter": str(d / "x"), "merged": str(merged)}))
    assert sources.from_job(2).adapter is None and sources.from_job(2).model == str(merged)


@pytest.mark.parametrize("kind, summary, words", [
    ("benchmark", {}, "only SFT and RAFT"),
    ("sft", None, "has not finished"),
    ("raft", {"stopped": True}, "saved no adapter"),
])
def test_unservable_jobs_say_why(home, kind, summary, words):
    _job(3, kind=kind, summary=summary)
    with pytest.raises(SourceError, match=words):
        sources.from_job(3)


def test_missing_job_adapter_and_gguf(home, tmp_path):
    with pytest.raises(SourceError, match="no readable job.json"):
        sources.from_job(99)
    with pytest.raises(SourceError, match="not a LoRA adapter"):
        sources.check_adapter(str(tmp_path))
    with pytest.raises(SourceError, match="does not exist"):
        sources.gguf_file(str(tmp_path / "m.gguf"))
    assert sources.gguf_file(str(tmp_path / "model")) is None


def test_a_served_model_cannot_be_deleted_from_the_models_page(home):
    from core import jobs, model_catalog

    tiny = model_catalog.ModelEntry("/somewhere/tiny", "tiny", "tiny")
    adapter = model_catalog.ModelEntry("/x/000007/output/adapter", "adapter", "adapter", job=7)
    serving_tiny = jobs.submit("serve", {"model": "tiny", "executor": {"gpus": 0}})
    serving_job = jobs.submit("serve", {"job": 7, "executor": {"gpus": 0}})
    assert model_catalog.users(tiny) == [serving_tiny]
    assert model_catalog.users(adapter) == [serving_job]
