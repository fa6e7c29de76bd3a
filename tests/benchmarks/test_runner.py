"""Benchmark jobs (run() called directly) on shipped samples and tiny offline models."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from core.benchmarks import catalogue, data, metrics, runner
from core.benchmarks.generation import ASRGenerator, TextGenerator, VLMGenerator


def _job(job_dir: Path, model: str, bench: str, capsys, **bench_opts) -> tuple[int, str]:
    config = {"kind": "benchmark", "model": {"name": model},
              "benchmark": {"name": bench, "batch_size": 4, "max_new_tokens": 8, **bench_opts}}
    rc = runner.run(config, job_dir, should_stop=lambda: False)
    return rc, capsys.readouterr().out


def _results(job_dir: Path) -> dict:
    results = json.loads((job_dir / "results.json").read_text())
    assert isinstance(results, list) and len(results) == 1
    return results[0]


def _samples(job_dir: Path, result: dict) -> list[dict]:
    path = job_dir / result["details"]
    return [json.loads(line) for line in path.read_text().splitlines()]


def _check_contract(out: str, result: dict, bench: str, model: str, n_items: int, batch: int = 4):
    steps = re.findall(r"^Step (\d+)/(\d+)$", out, re.MULTILINE)
    total = -(-n_items // batch)
    assert [int(a) for a, _ in steps] == list(range(1, total + 1))
    assert {int(b) for _, b in steps} == {total}
    metric_lines = [json.loads(line) for line in out.splitlines() if line.startswith('{"metric"')]
    assert metric_lines and all("step" in m["metric"] for m in metric_lines)
    assert "offline: using the shipped sample" in out
    assert result["model"] == model and result["benchmark"] == bench
    assert result["samples"] == n_items and result["duration_s"] > 0
    assert result["primary_metric"] == catalogue.get(bench).primary_metric
    assert result["primary_metric"] in result["metrics"]
    assert metric_lines[-1]["metric"][result["primary_metric"]] == result["metrics"][result["primary_metric"]]


@pytest.mark.parametrize("bench", ["chartqa", "mmstar"])
def test_vlm_job_on_tiny_llava(bench, tiny_llava, tmp_path, capsys):
    rc, out = _job(tmp_path, str(tiny_llava), bench, capsys)
    assert rc == 0, out
    result = _results(tmp_path)
    n = len(data._from_sample(catalogue.get(bench), None).items)
    _check_contract(out, result, bench, str(tiny_llava), n)
    rows = _samples(tmp_path, result)
    assert len(rows) == n
    # the stored scores are the metric applied to the stored outputs, and the result is their mean
    items = {it.id: it for it in data._from_sample(catalogue.get(bench), None).items}
    metric = catalogue.get(bench).primary_metric
    for row in rows:
        assert row["scores"] == runner.score_vlm(bench, row["output"], items[row["id"]])
        assert Path(row["image"]["path"]).parts[:2] == ("data", "benchmarks")
    assert result["metrics"][metric] == pytest.approx(sum(r["scores"][metric] for r in rows) / n)


def test_audio_job_on_tiny_whisper(tiny_whisper, tmp_path, capsys):
    rc, out = _job(tmp_path, str(tiny_whisper), "librispeech", capsys)
    assert rc == 0, out
    result = _results(tmp_path)
    _check_contract(out, result, "librispeech", str(tiny_whisper), 5)
    rows = _samples(tmp_path, result)
    edits = sum(metrics.word_errors(r["output"], r["reference"])[0] for r in rows)
    words = sum(len(r["reference"].split()) for r in rows)
    assert result["metrics"]["wer"] == pytest.approx(edits / words)
    assert set(result["metrics"]) == {"wer", "cer"}


def test_function_calling_job_on_tiny_text_model(tiny_text, tmp_path, capsys):
    rc, out = _job(tmp_path, str(tiny_text), "xlam", capsys, limit=4)
    assert rc == 0, out
    result = _results(tmp_path)
    _check_contract(out, result, "xlam", str(tiny_text), 4)
    rows = _samples(tmp_path, result)
    for row in rows:
        assert row["scores"] == metrics.call_match(row["output"], row["reference"])
    assert set(result["metrics"]) == {"call_exact_match", "call_name_match"}


def test_tools_reach_the_prompt_through_a_chat_template(tiny_text):
    gen = TextGenerator.load(str(tiny_text))
    item = data._from_sample(catalogue.get("xlam"), 1).items[0]
    from core.benchmarks.generation import xlam_tools_to_schemas

    schemas = xlam_tools_to_schemas(item.extra["tools"])
    assert schemas[0]["function"]["parameters"]["required"] == ["city"]  # units is optional
    assert schemas[0]["function"]["parameters"]["properties"]["units"]["default"] == "metric"
    text = gen.render_tools_prompt(item.prompt, schemas)
    assert '"name": "get_weather"' in text and item.prompt in text
    assert text.endswith("<|im_start|>assistant\n")


# ---------------------------------------------------------------------------- a perfect model


def test_a_model_that_answers_right_scores_one(tmp_path, capsys, monkeypatch, tiny_llava, tiny_whisper, tiny_text):
    """With generation replaced by the references, every metric reaches its best value: the
    wiring from outputs to results.json is right, not just the metric functions."""
    refs = {}
    for name in ("textvqa", "docvqa", "mmstar", "chartqa", "librispeech", "xlam"):
        for it in data._from_sample(catalogue.get(name), None).items:
            ref = it.reference
            if name == "librispeech":
                refs[it.audio.tobytes()] = ref
            else:
                refs[it.prompt] = json.dumps(ref) if name == "xlam" else (ref if isinstance(ref, str) else ref[0])

    monkeypatch.setattr(VLMGenerator, "generate", lambda self, pairs, max_new_tokens=0: ([refs[q] for _, q in pairs], 1))
    monkeypatch.setattr(ASRGenerator, "generate", lambda self, audios, max_new_tokens=0: ([refs[a.tobytes()] for a in audios], 1))

    def fake_text(self, prompts, temperature=0.0, max_new_tokens=0, templated=None):
        return [next(v for k, v in refs.items() if isinstance(k, str) and k in p) for p in prompts], 1

    monkeypatch.setattr(TextGenerator, "generate", fake_text)
    best = {"textvqa": 1.0, "docvqa": 1.0, "mmstar": 1.0, "chartqa": 1.0, "librispeech": 0.0, "xlam": 1.0}
    models = {"vlm": tiny_llava, "audio": tiny_whisper, "agentic": tiny_text}
    for name, value in best.items():
        job = tmp_path / name
        job.mkdir()
        rc, out = _job(job, str(models[catalogue.get(name).type]), name, capsys)
        assert rc == 0, out
        result = _results(job)
        assert result["metrics"][result["primary_metric"]] == pytest.approx(value), name


# ---------------------------------------------------------------------------- errors and stop


def test_unknown_benchmark_is_a_one_line_error(tmp_path, capsys):
    rc, out = _job(tmp_path, "tiny", "imagenet", capsys)
    assert rc == 2
    assert "benchmark.name is not a known benchmark or suite: 'imagenet'" in out
    assert not (tmp_path / "results.json").exists()


def test_invalid_config_names_the_field(tmp_path, capsys):
    rc = runner.run({"kind": "benchmark", "model": {"name": "tiny"},
                     "benchmark": {"name": "xlam", "batch_size": 0}}, tmp_path, should_stop=lambda: False)
    assert rc == 2
    assert "benchmark.batch_size" in capsys.readouterr().out


def test_missing_model_directory_is_a_clear_error(tmp_path, capsys):
    rc, out = _job(tmp_path, str(tmp_path / "nowhere" / "model"), "xlam", capsys)
    assert rc == 2 and "error:" in out and "does not exist" in out


def test_stop_between_batches_writes_details_but_no_result(tiny_llava, tmp_path, capsys):
    calls = iter([False, True])
    config = {"kind": "benchmark", "model": {"name": str(tiny_llava)},
              "benchmark": {"name": "docvqa", "batch_size": 2, "max_new_tokens": 4}}
    rc = runner.run(config, tmp_path, should_stop=lambda: next(calls, True))
    out = capsys.readouterr().out
    assert rc == 0
    assert "Step 1/4" in out and "Step 2/4" not in out
    assert "stopped after 2 of 8 items" in out
    assert not (tmp_path / "results.json").exists()
    assert len((tmp_path / "samples.jsonl").read_text().splitlines()) == 2


def test_output_dir_keeps_details_apart_from_the_job_dir(tiny_llava, tmp_path, capsys):
    job, out_dir = tmp_path / "job", tmp_path / "elsewhere"
    job.mkdir()
    config = {"kind": "benchmark", "model": {"name": str(tiny_llava)}, "output_dir": str(out_dir),
              "benchmark": {"name": "mmstar", "limit": 2, "batch_size": 2, "max_new_tokens": 2}}
    assert runner.run(config, job, should_stop=lambda: False) == 0
    result = _results(job)
    assert Path(result["details"]) == (out_dir / "samples.jsonl").resolve()
    assert (out_dir / "samples.jsonl").is_file() and (out_dir / "results.json").is_file()


# ---------------------------------------------------------------------------- model resolution


def test_training_output_finds_the_adapter_or_newest_checkpoint(tmp_path):
    run_dir = tmp_path / "run"
    for step in (5, 20, 10):
        (run_dir / f"checkpoint-{step}").mkdir(parents=True)
        (run_dir / f"checkpoint-{step}" / "adapter_config.json").write_text("{}")
    assert runner.training_output(run_dir) == run_dir / "checkpoint-20"
    (run_dir / "adapter").mkdir()
    (run_dir / "adapter" / "adapter_config.json").write_text("{}")
    assert runner.training_output(run_dir) == run_dir / "adapter"
    with pytest.raises(runner.BenchmarkError, match="holds no model"):
        runner.training_output(tmp_path)  # a folder with no model anywhere in it


def test_adapter_directory_loads_its_base_model(tiny_text, tmp_path, capsys):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(str(tiny_text))
    peft_model = get_peft_model(base, LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))
    adapter = tmp_path / "run" / "adapter"
    peft_model.save_pretrained(adapter)
    [settings] = runner.settings_from({"kind": "benchmark", "model": {"name": str(tmp_path / "run")},
                                     "benchmark": {"name": "xlam"}}, tmp_path)
    assert runner.resolve(settings) == (str(tiny_text), str(adapter))
    (tmp_path / "job").mkdir()
    rc, out = _job(tmp_path / "job", str(tmp_path / "run"), "xlam", capsys, limit=2)
    assert rc == 0, out
    assert _results(tmp_path / "job")["model"] == str(tmp_path / "run")


# ---------------------------------------------------------------------------- contamination


def test_adapter_with_known_training_data_gets_an_overlap_check(tiny_text, tmp_path, capsys):
    """An adapter from a halo-forge training job (job.json above it) is checked against the
    benchmark before it runs; the finding travels with the result row."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from core import contamination

    train_job = tmp_path / "jobs" / "7"
    adapter = train_job / "output" / "adapter"
    base = AutoModelForCausalLM.from_pretrained(str(tiny_text))
    get_peft_model(base, LoraConfig(r=2, target_modules=["q_proj", "v_proj"])).save_pretrained(adapter)
    item_id, text = contamination.benchmark_items("xlam")[1]
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps({"instruction": "Copy this.", "output": text}) + "\n")
    (train_job / "job.json").write_text(json.dumps(
        {"id": 7, "kind": "sft", "config": {"data": {"dataset": str(train)}}}))
    assert contamination.training_source_of(adapter) == str(train)
    job = tmp_path / "bench"
    job.mkdir()
    rc, out = _job(job, str(adapter), "xlam", capsys, limit=2)
    assert rc == 0, out
    assert re.search(r"^overlap: \d+ of 10 xlam items share a 13-gram with file:", out, re.M), out
    overlap = _results(job)["overlap"]
    hit = next(o for o in overlap["overlapping"] if o["id"] == item_id)
    assert hit["fraction"] == 1.0 and hit["train_records"] == [1]


# ---------------------------------------------------------------------------- suites


def test_a_suite_is_one_job_with_one_result_per_benchmark(tiny_text, tmp_path, capsys, monkeypatch):
    loads = []
    real_load = TextGenerator.load.__func__
    monkeypatch.setattr(TextGenerator, "load",
                        classmethod(lambda cls, *a, **kw: loads.append(a) or real_load(cls, *a, **kw)))
    rc, out = _job(tmp_path, str(tiny_text), "humaneval,mbpp", capsys, limit=2)
    assert len(loads) == 1  # the benchmarks share one model load
    assert rc == 0, out
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["benchmark"] for r in results] == ["humaneval", "mbpp"]
    for r in results:
        assert r["details"] == f"samples-{r['benchmark']}.jsonl" and r["samples"] == 2
        rows = _samples(tmp_path, r)
        assert len(rows) == 2 and all("tests" in row and "status" in row for row in rows)
    # one Step count over the whole job: 2 generation steps (batch 4 fits 2 items) + 2 verifications
    steps = re.findall(r"^Step (\d+)/(\d+)", out, re.MULTILINE)
    assert [int(a) for a, _ in steps] == [1, 2, 3, 4] and {b for _, b in steps} == {"4"}
    assert "benchmark 1/2: humaneval" in out and "benchmark 2/2: mbpp" in out


def test_a_named_suite_expands_in_catalogue_order():
    assert [b.name for b in catalogue.expand("code-suite")] == ["humaneval", "mbpp", "livecodebench"]
    assert [b.name for b in catalogue.expand("mbpp, code-suite")] == ["mbpp", "humaneval", "livecodebench"]
    with pytest.raises(ValueError, match="did you mean 'humaneval'"):
        catalogue.expand("humaneval,humanevl")


# ---------------------------------------------------------------------------- generation budget

def test_a_config_without_max_new_tokens_gives_each_benchmark_its_types_default(tmp_path):
    config = {"kind": "benchmark", "model": {"name": "Qwen/Qwen2-VL-2B-Instruct"},
              "benchmark": {"name": "textvqa,librispeech,xlam,humaneval"}}
    settings = runner.settings_from(config, tmp_path)
    assert {s.bench.name: s.max_new_tokens for s in settings} == {
        "textvqa": 32, "librispeech": 128, "xlam": 256, "humaneval": 512}
    config["benchmark"]["max_new_tokens"] = 64  # an explicit budget wins everywhere
    assert {s.max_new_tokens for s in runner.settings_from(config, tmp_path)} == {64}
