"""The benchmark table: names, metrics, presets, and that it stays a light import."""
from __future__ import annotations

import subprocess
import sys

import pytest

from core.benchmarks import catalogue
from core.paths import REPO_ROOT


def test_every_type_has_its_benchmarks():
    assert catalogue.names("code") == ["humaneval", "mbpp", "livecodebench"]
    assert catalogue.names("vlm") == ["textvqa", "docvqa", "mmstar", "chartqa"]
    assert catalogue.names("audio") == ["librispeech", "commonvoice"]
    assert catalogue.names("agentic") == ["xlam"]


@pytest.mark.parametrize("bench", list(catalogue.BENCHMARKS.values()), ids=lambda b: b.name)
def test_benchmark_entries_are_complete(bench):
    assert bench.type in catalogue.TYPES
    assert bench.primary_metric in bench.metrics
    assert bench.hub_path.count("/") == 1 and bench.hub_split
    if bench.type_info.verified:
        assert bench.sample is None  # programming problems come from core.datasets
    else:
        assert bench.sample_path is not None and bench.sample_path.is_file(), bench.sample


def test_audio_metrics_are_lower_is_better():
    assert not catalogue.get("librispeech").higher_is_better
    assert catalogue.get("humaneval").higher_is_better


def test_presets_per_type():
    assert any("Qwen2.5-Coder" in m for m in catalogue.presets("code"))
    assert any("deepseek-coder" in m for m in catalogue.presets("code"))
    vlm = catalogue.presets("vlm")
    assert any("Qwen2-VL" in m for m in vlm) and any("llava" in m for m in vlm) and any("Phi-3-vision" in m for m in vlm)
    assert [m for m in catalogue.presets("audio") if m.startswith("openai/whisper-")][0] == "openai/whisper-tiny"
    assert "openai/whisper-large-v3" in catalogue.presets("audio")
    agentic = catalogue.presets("agentic")
    assert any("Qwen2.5-" in m and "Instruct" in m for m in agentic) and any("Mistral" in m for m in agentic)
    # each type offers a tiny offline model
    assert catalogue.presets("vlm")[-1] == "tiny-llava"
    assert catalogue.presets("audio")[-1] == "tiny-whisper"
    assert "tiny" in catalogue.presets("code") and "tiny" in catalogue.presets("agentic")


def test_tiny_models_only_run_their_own_type():
    catalogue.check_tiny_model("tiny", "agentic")
    catalogue.check_tiny_model("Qwen/Qwen2-VL-2B-Instruct", "vlm")  # not ours: not checked here
    with pytest.raises(ValueError, match="tiny-whisper cannot run Vision-language benchmarks; use tiny-llava"):
        catalogue.check_tiny_model("tiny-whisper", "vlm")


def test_unknown_names_say_what_exists():
    with pytest.raises(ValueError, match="unknown benchmark 'humaneva'.*humaneval"):
        catalogue.get("humaneva")
    with pytest.raises(ValueError, match="unknown benchmark type"):
        catalogue.by_type("video")
    assert catalogue.get("HumanEval").name == "humaneval"


def test_light_modules_do_not_import_heavy_packages():
    code = ("import sys; import core.benchmarks.catalogue, core.benchmarks.metrics, core.benchmarks.service; "
            "bad = [m for m in ('torch', 'transformers', 'datasets', 'peft', 'trl', 'numpy') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
