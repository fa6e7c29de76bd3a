"""Benchmark configs from page fields, and the base-vs-adapter pair."""
from __future__ import annotations

import json

import pytest

from core.benchmarks import service
from core.configs import parse_config


def test_code_config_carries_n_temperature_and_k():
    cfg = service.build_config(benchmark="humaneval", model="tiny", limit=20, samples=10,
                               temperature=0.8, batch_size=16)
    assert cfg["benchmark"] == {"name": "humaneval", "batch_size": 16, "limit": 20, "samples": 10,
                                "temperature": 0.8, "k": [1, 5, 10], "max_new_tokens": 512}
    parse_config(cfg, kind="benchmark")  # the schema the job and the CLI use accepts it


@pytest.mark.parametrize("bench,tokens", [("docvqa", 32), ("commonvoice", 128), ("xlam", 256)])
def test_other_types_drop_code_fields(bench, tokens):
    cfg = service.build_config(benchmark=bench, model="m/x", samples=7, temperature=1.0)
    assert "samples" not in cfg["benchmark"] and "temperature" not in cfg["benchmark"]
    assert cfg["benchmark"]["max_new_tokens"] == tokens
    assert "limit" not in cfg["benchmark"]  # all items


def test_build_config_errors_name_the_field():
    with pytest.raises(ValueError, match="model.name"):
        service.build_config(benchmark="xlam", model="  ")
    with pytest.raises(ValueError, match="is not a known benchmark or suite"):
        service.build_config(benchmark="nope", model="tiny")
    with pytest.raises(ValueError, match="tiny-llava cannot run Audio"):
        service.build_config(benchmark="librispeech", model="tiny-llava")


def test_comparison_from_model_and_adapter(tmp_path):
    cfg = service.build_config(benchmark="mbpp", model="tiny", adapter="/a/adapter",
                               output_dir=str(tmp_path / "cmp"))
    base, tuned = service.comparison_configs(cfg)
    assert base["model"] == {"name": "tiny"}
    assert tuned["model"] == {"name": "tiny", "adapter": "/a/adapter"}
    assert base["benchmark"] == tuned["benchmark"] == cfg["benchmark"]
    assert base["output_dir"] != tuned["output_dir"]


def test_comparison_from_an_adapter_directory(tmp_path):
    (tmp_path / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "org/base"}))
    base, tuned = service.comparison_configs(service.build_config(benchmark="xlam", model=str(tmp_path)))
    assert base["model"] == {"name": "org/base"}
    assert tuned["model"] == {"name": "org/base", "adapter": str(tmp_path)}
    with pytest.raises(ValueError, match="model.adapter"):
        service.comparison_configs(service.build_config(benchmark="xlam", model="org/base"))


def test_queue_comparison_queues_nothing_when_one_side_is_invalid(home, tmp_path):
    from core import jobs

    cfg = service.build_config(benchmark="xlam", model="tiny", adapter=str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="model.adapter"):
        service.queue_comparison(cfg)
    assert jobs.list_jobs() == []


def test_compare_jobs_name_the_adapter_by_its_run(home, tmp_path):
    from core import jobs, paths

    adapter = paths.job_dir(6) / "output" / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "tiny"}))
    assert service.adapter_label(adapter) == "adapter of job #6"
    assert service.adapter_label(paths.job_dir(7) / "output" / "cycle-2") == \
        "adapter cycle-2 of job #7"
    assert service.adapter_label("/runs/coder-v2/adapter") == "adapter coder-v2/adapter"
    assert service.adapter_label("/runs/my-lora") == "adapter my-lora"
    cfg = service.build_config(benchmark="humaneval", model="tiny", adapter=str(adapter), limit=2)
    base_id, tuned_id = service.queue_comparison(cfg)
    assert jobs.get(base_id)["name"] == "humaneval · base tiny"
    assert jobs.get(tuned_id)["name"] == "humaneval · adapter of job #6"
