"""core.model_catalog without a trained model: downloads refused offline, queued online."""
from __future__ import annotations

import sys

import pytest

from core import jobs, model_catalog as catalog


def test_download_is_refused_offline_and_queued_as_a_job_online(home, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(catalog.CatalogError, match="^downloads are off: HF_HUB_OFFLINE is set"):
        catalog.queue_download("Qwen/Qwen2.5-0.5B-Instruct")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    with pytest.raises(catalog.CatalogError, match="hub id must look like owner/name, got 'qwen'"):
        catalog.queue_download("qwen")
    job_id = catalog.queue_download("Qwen/Qwen2.5-0.5B-Instruct")
    job = jobs.get(job_id)
    assert job["kind"] == "command" and job["name"] == "download Qwen/Qwen2.5-0.5B-Instruct"
    assert job["config"]["command"] == [sys.executable, "-m", "core.model_catalog", "download",
                                        "Qwen/Qwen2.5-0.5B-Instruct"]
    assert [e for e in catalog.list_models() if e.kind != "hub"] == []  # no tiny, no runs yet
    with pytest.raises(catalog.CatalogError, match="is not known here"):
        catalog.delete("/etc")
