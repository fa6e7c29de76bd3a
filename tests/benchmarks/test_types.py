"""The benchmark-type registry: every type resolves, and a type registered at run time is
offered everywhere (catalogue, config builder, model choices, the job) with no other edit."""
from __future__ import annotations

import json
import re

import pytest

from core.benchmarks import catalogue, data, runner, service
from core.benchmarks.catalogue import Benchmark, BenchmarkType


def run_echo(s, items, should_stop):
    """The test type's runner: answers even items right and odd ones wrong, through the
    shared batch loop the real runners use."""
    def generate(batch):
        return [it.reference if int(it.id) % 2 == 0 else "?" for it in batch], 0

    return runner._run_scored(s, items, should_stop, generate,
                              lambda out, it: {"exact": float(out == it.reference)})


def _echo_item(row, index, base, where):
    return data.Item(id=str(row["id"]), prompt=row["question"], reference=row["answer"], record=row)


ECHO = BenchmarkType("echo", "Echo (test type)", f"{__name__}:run_echo", max_new_tokens=7,
                     presets=("org/echo-1b",), tiny_models=("tiny",))


@pytest.fixture
def echo_type(tmp_path, monkeypatch):
    """One registry entry, its runner above, and one benchmark of it (entry, item builder and
    sample): what docs/extending.md says adding a type takes."""
    sample = tmp_path / "echo.jsonl"
    sample.write_text("".join(json.dumps({"id": i, "question": f"say {i}", "answer": str(i)}) + "\n"
                              for i in range(4)))
    bench = Benchmark("echo-bench", "Echo bench", "echo", "org/echo", "test", ("exact",), "exact",
                      sample=str(sample))
    monkeypatch.setitem(catalogue.TYPES, "echo", ECHO)
    monkeypatch.setitem(catalogue.BENCHMARKS, bench.name, bench)
    monkeypatch.setitem(data._BUILDERS, bench.name, _echo_item)
    return bench


@pytest.mark.parametrize("kind", list(catalogue.TYPES.values()), ids=lambda k: k.name)
def test_every_type_resolves_its_runner_and_offers_a_model_that_runs_here(kind):
    assert callable(kind.run_function())
    assert kind.tiny_models and kind.presets and kind.max_new_tokens >= 1
    assert catalogue.names(kind.name), f"type {kind.name} has no benchmark"


@pytest.mark.parametrize("bench", list(catalogue.BENCHMARKS.values()), ids=lambda b: b.name)
def test_every_benchmark_has_a_registered_type_and_its_items(bench):
    from core.verifiers import registry

    assert bench.type in catalogue.TYPES
    if bench.type_info.verified:  # judged by the verifier of its name
        assert bench.name in registry.names()
    else:
        assert bench.name in data._BUILDERS


def test_the_shipped_types_keep_their_labels_and_defaults():
    assert {k: (t.label, t.max_new_tokens) for k, t in catalogue.TYPES.items()} == {
        "code": ("Code", 512), "vlm": ("Vision-language", 32),
        "audio": ("Audio (speech recognition)", 128), "agentic": ("Agentic (function calling)", 256)}
    assert catalogue.tiny_models() == {"tiny": ("code", "agentic"), "tiny-llava": ("vlm",),
                                       "tiny-whisper": ("audio",)}
    assert [t for t, k in catalogue.TYPES.items() if k.verified] == ["code"]
    assert catalogue.verified_names() == ["humaneval", "mbpp", "livecodebench"]


def test_a_malformed_type_is_refused_when_declared():
    with pytest.raises(ValueError, match="media must be one of"):
        BenchmarkType("video", "Video", "m:f", 8, media="video")
    with pytest.raises(ValueError, match="runner must be 'module:function'"):
        BenchmarkType("video", "Video", "run_video", 8)
    with pytest.raises(ValueError, match="unknown benchmark type 'video'; choose one of code, vlm"):
        catalogue.presets("video")


def test_a_type_registered_at_run_time_is_offered_everywhere(echo_type, home, monkeypatch):
    trained = service.TrainedModel(3, "#3 sft · adapter", "/runs/3/adapter", "org/base")
    monkeypatch.setattr(service, "training_outputs", lambda limit=50: [trained])
    assert catalogue.offered_types()[-1] == "echo"
    assert catalogue.by_type("echo") == [echo_type] and catalogue.names("echo") == ["echo-bench"]
    assert catalogue.presets("echo") == ["org/echo-1b", "tiny"]
    assert catalogue.tiny_models()["tiny"] == ("code", "agentic", "echo")
    # text only (no media), so a training run's output can run it too
    assert service.model_choices("echo") == ["tiny", "org/echo-1b", "/runs/3/adapter"]
    with pytest.raises(ValueError, match="tiny-llava cannot run Echo \\(test type\\) benchmarks; use tiny"):
        service.build_config(benchmark="echo-bench", model="tiny-llava")
    cfg = service.build_config(benchmark="echo-bench", model="tiny", samples=5)
    assert cfg["benchmark"] == {"name": "echo-bench", "batch_size": 8, "max_new_tokens": 7}


def test_a_type_registered_at_run_time_runs_as_a_job(echo_type, tmp_path, capsys):
    config = {"kind": "benchmark", "model": {"name": "org/echo-1b"},
              "benchmark": {"name": "echo-bench", "batch_size": 2}}
    rc = runner.run(config, tmp_path, should_stop=lambda: False)
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "benchmark echo-bench (Echo (test type)) on org/echo-1b" in out
    assert re.findall(r"^Step (\d+/\d+)$", out, re.MULTILINE) == ["1/2", "2/2"]
    [result] = json.loads((tmp_path / "results.json").read_text())
    assert result["metrics"] == {"exact": 0.5} and result["samples"] == 4
