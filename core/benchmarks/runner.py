"""The benchmark job: `run(config, job_dir) -> exit code` for kind "benchmark".

Loads the model (hub id, local directory, a training run's output or adapter, or a tiny
offline model), generates in batches, scores with the benchmark's own metric, and writes
JOB_DIR/results.json (read by the supervisor) and samples.jsonl (one line per completion).

Progress follows the Monitor contract: `Step i/N` per generation batch and JSON metric lines.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from core.benchmarks import catalogue, data, metrics
from core.benchmarks.catalogue import Benchmark
from core.benchmarks.generation import (ASRGenerator, TextGenerator, VLMGenerator,
                                        xlam_tools_to_schemas)
from core.metrics import metric_line

StopFn = Callable[[], bool]


class BenchmarkError(ValueError):
    """A benchmark job cannot run as configured; the message is one sentence."""


def emit(text: str) -> None:
    print(text, flush=True)


def emit_metric(step: int, **values: float) -> None:
    emit(metric_line(step, **values))


# ---------------------------------------------------------------------------- config


@dataclass
class Settings:
    """One benchmark of a job: its validated config (core/configs/benchmark.py declares every
    field once; this reads them from there) plus where this benchmark's output goes."""

    config: Any  # core.configs.BenchmarkConfig
    bench: Benchmark
    output_dir: Path
    job_dir: Path
    seed: int = 0
    # Within a suite: steps already taken by earlier benchmarks, and the suite's total, so
    # the Monitor's `Step i/N` runs once from 1 to N over the whole job.
    step_offset: int = 0
    step_total: int | None = None
    samples_name: str = "samples.jsonl"

    model = property(lambda self: self.config.model.name)
    adapter = property(lambda self: self.config.model.adapter)
    dtype = property(lambda self: self.config.model.dtype)
    trust_remote_code = property(lambda self: bool(self.config.model.trust_remote_code))
    limit = property(lambda self: self.config.benchmark.limit)
    samples = property(lambda self: self.config.benchmark.samples)
    temperature = property(lambda self: self.config.benchmark.temperature)
    batch_size = property(lambda self: self.config.benchmark.batch_size)
    # Unset in the config: this benchmark's type default (a suite's VLM and code benchmarks
    # each get their own).
    max_new_tokens = property(lambda self: self.config.benchmark.max_new_tokens
                              or self.bench.type_info.max_new_tokens)
    ks = property(lambda self: sorted({1, *self.config.benchmark.k}))

    @property
    def model_label(self) -> str:
        return f"{self.model} + {self.adapter}" if self.adapter else self.model


def settings_from(config: dict, job_dir: Path) -> list[Settings]:
    """Validate through core.configs (same schema as the CLI and the page) and flatten: one
    Settings per benchmark (a suite or a comma-separated name gives several)."""
    from core.configs import ConfigError, parse_config

    try:
        cfg = parse_config(config, kind="benchmark", check_files=False)
    except ConfigError as exc:
        raise BenchmarkError(f"invalid benchmark config: {exc}") from None
    try:
        benches = catalogue.expand(cfg.benchmark.name)
    except ValueError as exc:
        raise BenchmarkError(f"benchmark.name {exc}") from None
    try:
        for bench in benches:
            catalogue.check_tiny_model(cfg.model.name, bench.type)
    except ValueError as exc:
        raise BenchmarkError(str(exc)) from None
    out = Path(cfg.output_dir or job_dir).expanduser().resolve()
    return [Settings(config=cfg, bench=bench, output_dir=out, job_dir=Path(job_dir).resolve(),
                     samples_name="samples.jsonl" if len(benches) == 1 else f"samples-{bench.name}.jsonl")
            for bench in benches]


# ---------------------------------------------------------------------------- entry point


def run(config: dict, job_dir: Path, should_stop: StopFn | None = None) -> int:
    if should_stop is None:
        from core.runner.signals import stop_requested

        should_stop = stop_requested
    try:
        suite = settings_from(config, Path(job_dir))
    except BenchmarkError as exc:
        emit(f"error: {exc}")
        return 2
    _GENERATORS.clear()
    suite[0].output_dir.mkdir(parents=True, exist_ok=True)
    try:
        loads = [_load_items(s) for s in suite]
    except (BenchmarkError, data.BenchmarkDataError) as exc:
        emit(f"error: {exc}")
        return 2
    except _model_errors() as exc:
        emit(f"error: {exc}")
        return 2
    total = sum(expected_steps(len(ld.items), s.batch_size, s.samples, s.bench.type_info.verified)
                for s, ld in zip(suite, loads))
    results, offset = [], 0
    for number, (s, loaded) in enumerate(zip(suite, loads), 1):
        s.step_offset, s.step_total = offset, total
        if len(suite) > 1:
            emit(f"benchmark {number}/{len(suite)}: {s.bench.name}")
        code, result = _run_one(s, loaded, should_stop)
        if code != 0 or result is None:
            if results:  # a suite keeps the benchmarks it finished
                _write_results(suite[0], results)
            return code
        results.append(result)
        offset += expected_steps(len(loaded.items), s.batch_size, s.samples, s.bench.type_info.verified)
        _write_results(suite[0], results)
    _GENERATORS.clear()
    return 0


def _overlap(s: Settings) -> dict | None:
    """Contamination check of an adapter whose training data is known (trained by a
    halo-forge job): the benchmark's items against that data, recorded with the result."""
    from core import contamination

    try:
        _, adapter = resolve(s)
    except Exception:  # noqa: BLE001 - resolution errors are reported by the run itself
        return None
    source = contamination.training_source_of(adapter) if adapter else None
    if source is None:
        return None
    try:
        report = contamination.run_checks(source, [s.bench.name])[0]
    except (contamination.ContaminationError, ValueError) as exc:
        emit(f"note: overlap check skipped ({exc})")
        return None
    emit(f"overlap: {report['summary']}")
    return report


def _load_items(s: Settings) -> data.Loaded:
    loaded = data.load(s.bench, s.limit, log=emit)
    if not loaded.items:
        raise BenchmarkError(f"{s.bench.name}: no items to score")
    return loaded


def _run_one(s: Settings, loaded: data.Loaded, should_stop: StopFn) -> tuple[int, dict | None]:
    """Run one benchmark of the job: (exit code, result or None when stopped or failed)."""
    started = time.monotonic()
    emit(f"benchmark {s.bench.name} ({s.bench.type_info.label}) on {s.model_label}")
    emit(f"{len(loaded.items)} items from {loaded.source}")
    overlap = _overlap(s)
    try:
        _seed(s.seed)
        outcome = s.bench.type_info.run_function()(s, loaded.items, should_stop)
    except (BenchmarkError, data.BenchmarkDataError) as exc:
        emit(f"error: {exc}")
        return 2, None
    except _model_errors() as exc:
        emit(f"error: {exc}")
        return 2, None
    samples_path = s.output_dir / s.samples_name
    _write_jsonl(samples_path, outcome.rows)
    if outcome.stopped:
        emit(f"stopped after {outcome.done} of {len(loaded.items)} items; per-sample details in "
             f"{samples_path}, no result written for {s.bench.name}")
        return 0, None
    result = {
        "model": s.model_label,
        "benchmark": s.bench.name,
        "metrics": outcome.metrics,
        "primary_metric": s.bench.primary_metric,
        "samples": len(loaded.items),
        "duration_s": round(time.monotonic() - started, 3),
        "details": _relative(samples_path, s.job_dir),
        "source": loaded.source,
        "timings": {k: round(v, 3) for k, v in outcome.timings.items()},
        "generated_tokens": outcome.new_tokens,
    }
    if overlap is not None:
        result["overlap"] = overlap
    emit_metric(s.step_offset + outcome.steps, **outcome.metrics)
    # Not "name: value": the metrics were already reported on the JSON line above.
    summary = ", ".join(f"{k} {v:.4f}" for k, v in outcome.metrics.items())
    emit(f"result of {s.bench.name} on {s.model_label}: {summary}")
    return 0, result


def _model_errors() -> tuple[type[BaseException], ...]:
    """Errors whose message already says what to fix (no traceback needed)."""
    from core.datasets import DatasetError
    from core.models.loading import ModelNotFoundError

    return (ModelNotFoundError, DatasetError)


def _seed(seed: int) -> None:
    import random

    import torch

    random.seed(seed)
    torch.manual_seed(seed)


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path.resolve())


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    from core import jsonl

    jsonl.write(path, rows)


def _write_results(s: Settings, results: list[dict]) -> None:
    """JOB_DIR/results.json: one row per finished benchmark (the supervisor reads it)."""
    (s.job_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    if s.output_dir != s.job_dir:
        copies = [dict(r, details=str((s.job_dir / r["details"]).resolve())) for r in results]
        (s.output_dir / "results.json").write_text(json.dumps(copies, indent=2) + "\n")


# ---------------------------------------------------------------------------- model names


def resolve(s: Settings) -> tuple[str, str | None]:
    """(model path or hub id, adapter path or None). A directory holding only a LoRA adapter
    (a training run's output) loads its base model with the adapter on top."""
    from core.benchmarks.tiny_models import BUILDERS, ensure_tiny
    from core.models.loading import resolve_model
    from core.paths import models_dir

    if s.model in BUILDERS:
        return str(ensure_tiny(s.model, models_dir() / s.model)), s.adapter
    name = s.model
    path = Path(name).expanduser()
    if path.is_dir():
        path = training_output(path)
        if (path / "adapter_config.json").is_file() and not (path / "config.json").is_file():
            base = json.loads((path / "adapter_config.json").read_text()).get("base_model_name_or_path")
            if not base:
                raise BenchmarkError(f"model.name: adapter in {path} does not name its base model")
            if s.adapter:
                raise BenchmarkError(f"model.name {path} is already an adapter; leave model.adapter empty")
            return resolve_model(base), str(path)
        name = str(path)
    return resolve_model(name), s.adapter


def training_output(path: Path) -> Path:
    """The loadable directory inside a training run's output: itself when it holds a model or
    adapter, else a conventional sub-directory, else the newest checkpoint."""
    def loadable(p: Path) -> bool:
        return (p / "config.json").is_file() or (p / "adapter_config.json").is_file()

    if loadable(path):
        return path
    for sub in ("adapter", "model", "merged", "final", "output"):
        if loadable(path / sub):
            return path / sub
    ckpts = sorted((p for p in path.glob("checkpoint-*") if p.name.split("-")[-1].isdigit() and loadable(p)),
                   key=lambda p: int(p.name.split("-")[-1]))
    if ckpts:
        return ckpts[-1]
    raise BenchmarkError(f"model.name: {path} holds no model (config.json) or adapter "
                         "(adapter_config.json), nor a checkpoint with one")


# One model load per job: the benchmarks of a suite share the generator.
_GENERATORS: dict[tuple, object] = {}


def _generator(cls, s: Settings):
    model_path, adapter = resolve(s)
    key = (cls.__name__, model_path, adapter, s.dtype, s.trust_remote_code)
    if key not in _GENERATORS:
        _GENERATORS[key] = cls.load(model_path, adapter, s.dtype, s.trust_remote_code)
    return _GENERATORS[key]


# ---------------------------------------------------------------------------- outcomes


@dataclass
class Outcome:
    metrics: dict[str, float]
    rows: list[dict]
    steps: int
    done: int
    stopped: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    new_tokens: int = 0


def _batches(seq: list, size: int) -> list[list]:
    return [seq[i:i + size] for i in range(0, len(seq), size)]


def _progress(s: Settings, step: int, total: int, new_tokens: int, seconds: float) -> None:
    """`Step i/N` counted over the whole job (a suite's benchmarks one after the other)."""
    step, total = s.step_offset + step, s.step_total or total
    emit(f"Step {step}/{total}")
    emit_metric(step, gen_tokens_per_s=round(new_tokens / seconds, 2) if seconds > 0 else 0.0)


# ---------------------------------------------------------------------------- code


def run_code(s: Settings, items: list[data.Item], should_stop: StopFn) -> Outcome:
    from core.verifiers import registry

    if s.samples > 1 and s.temperature == 0:
        emit("note: temperature 0 is greedy, so the n samples per problem are identical")
    gen = _generator(TextGenerator, s)
    if s.bench.name == "humaneval" and not gen.has_chat_template:
        # A base model continues the function itself, as in the original evaluation; the
        # verifier appends such a continuation to the prompt.
        for it in items:
            it.prompt = it.record["prompt"]
    jobs = [(i, j) for i in range(len(items)) for j in range(s.samples)]
    batches = _batches(jobs, s.batch_size)
    total = len(batches) + 1  # + the verification step
    outputs: dict[tuple[int, int], str] = {}
    gen_s, tokens = 0.0, 0
    for step, batch in enumerate(batches, 1):
        if should_stop():
            return _code_partial(items, outputs, s, step - 1)
        t0 = time.monotonic()
        texts, new_tokens = gen.generate([items[i].prompt for i, _ in batch], temperature=s.temperature,
                                         max_new_tokens=s.max_new_tokens)
        for key, text in zip(batch, texts):
            outputs[key] = text
        gen_s += time.monotonic() - t0
        tokens += new_tokens
        _progress(s, step, total, new_tokens, time.monotonic() - t0)
    emit(f"verifying {len(jobs)} completions with the {s.bench.name} verifier")
    t0 = time.monotonic()
    verifier = registry.get(s.bench.name)
    # The verifier extracts the program itself (one extraction rule for every code path).
    pairs = [(items[i].record, outputs[(i, j)]) for i, j in jobs]
    verdicts = verifier.verify_batch(pairs, should_stop=should_stop)
    verify_s = time.monotonic() - t0
    if should_stop():
        return _code_partial(items, outputs, s, len(batches))
    rows, passed = [], {i: 0 for i in range(len(items))}
    for (i, j), verdict in zip(jobs, verdicts):
        passed[i] += bool(verdict.passed)
        rows.append({"id": items[i].id, "sample": j, "prompt": items[i].prompt,
                     "output": outputs[(i, j)], "passed": bool(verdict.passed),
                     "reward": float(verdict.reward), "status": str(verdict.status),
                     "message": getattr(verdict, "message", ""),
                     # the verifier's own per-test record (name, passed, message with the
                     # failing line / expected vs actual), for the sample inspector
                     "tests": [t.to_dict() for t in getattr(verdict, "tests", [])],
                     "stdout": getattr(verdict, "stdout", ""),
                     "stderr": getattr(verdict, "stderr", "")})
    counts = [(s.samples, passed[i]) for i in range(len(items))]
    table = metrics.pass_at_k_table(counts, s.ks)
    rate = sum(c for _, c in counts) / len(jobs)
    emit(f"Step {s.step_offset + total}/{s.step_total or total} | verification rate: {rate:.4f}")
    emit(f"generation {gen_s:.2f} s, verification {verify_s:.2f} s")
    return Outcome({**table, "verification_rate": rate}, rows, total, len(items),
                   timings={"generation_s": gen_s, "verification_s": verify_s},
                   new_tokens=tokens)


def _code_partial(items, outputs, s: Settings, steps: int) -> Outcome:
    rows = [{"id": items[i].id, "sample": j, "prompt": items[i].prompt, "output": text,
             "passed": None}
            for (i, j), text in sorted(outputs.items())]
    done = len({i for i, _ in outputs})
    return Outcome({}, rows, steps, done, stopped=True)


# ---------------------------------------------------------------------------- vlm


def score_vlm(bench: str, output: str, item: data.Item) -> dict[str, float]:
    if bench == "textvqa":
        return {"vqa_accuracy": metrics.vqa_accuracy(output, item.reference)}
    if bench == "docvqa":
        return {"anls": metrics.anls(output, item.reference)}
    if bench == "mmstar":
        return {"accuracy": metrics.multiple_choice_accuracy(output, item.reference,
                                                             item.extra.get("options") or None)}
    if bench == "chartqa":
        return {"relaxed_accuracy": metrics.relaxed_accuracy(output, item.reference)}
    raise BenchmarkError(f"no VLM metric for {bench}")


def run_vlm(s: Settings, items: list[data.Item], should_stop: StopFn) -> Outcome:
    gen = _generator(VLMGenerator, s)
    return _run_scored(s, items, should_stop,
                       lambda batch: gen.generate([(it.image, it.prompt) for it in batch],
                                                  max_new_tokens=s.max_new_tokens),
                       lambda out, it: score_vlm(s.bench.name, out, it))


# ---------------------------------------------------------------------------- audio


def run_audio(s: Settings, items: list[data.Item], should_stop: StopFn) -> Outcome:
    gen = _generator(ASRGenerator, s)

    def score(out: str, it: data.Item) -> dict[str, float]:
        we, wn = metrics.word_errors(out, it.reference)
        ce, cn = metrics.char_errors(out, it.reference)
        return {"wer": we / wn if wn else float(we > 0), "cer": ce / cn if cn else float(ce > 0),
                "word_errors": we, "ref_words": wn, "char_errors": ce, "ref_chars": cn}

    outcome = _run_scored(s, items, should_stop,
                          lambda batch: gen.generate([it.audio for it in batch],
                                                     max_new_tokens=s.max_new_tokens),
                          score, aggregate=False)
    if not outcome.stopped:
        scores = [r["scores"] for r in outcome.rows]
        # Corpus-level rates (total edits / total reference length), as jiwer reports them.
        outcome.metrics = {
            "wer": metrics.error_rate((x["word_errors"], x["ref_words"]) for x in scores),
            "cer": metrics.error_rate((x["char_errors"], x["ref_chars"]) for x in scores),
        }
    return outcome


# ---------------------------------------------------------------------------- agentic


def run_agentic(s: Settings, items: list[data.Item], should_stop: StopFn) -> Outcome:
    gen = _generator(TextGenerator, s)

    def generate(batch: list[data.Item]) -> tuple[list[str], int]:
        prompts = [gen.render_tools_prompt(it.prompt, xlam_tools_to_schemas(it.extra["tools"]))
                   for it in batch]
        return gen.generate(prompts, temperature=s.temperature, max_new_tokens=s.max_new_tokens,
                            templated=True)

    return _run_scored(s, items, should_stop, generate,
                       lambda out, it: metrics.call_match(out, it.reference))


# ---------------------------------------------------------------------------- shared loop


def _run_scored(s: Settings, items: list[data.Item], should_stop: StopFn,
                generate: Callable[[list[data.Item]], tuple[list[str], int]], score: Callable[[str, data.Item], dict],
                aggregate: bool = True) -> Outcome:
    """Generate batch by batch, score each output, average the per-sample scores."""
    batches = _batches(items, s.batch_size)
    rows: list[dict] = []
    gen_s = score_s = 0.0
    tokens = 0
    for step, batch in enumerate(batches, 1):
        if should_stop():
            return Outcome({}, rows, step - 1, len(rows), stopped=True)
        t0 = time.monotonic()
        texts, new_tokens = generate(batch)
        t1 = time.monotonic()
        for it, text in zip(batch, texts):
            rows.append(_row(it, text, score(text, it)))
        gen_s, score_s = gen_s + t1 - t0, score_s + time.monotonic() - t1
        tokens += new_tokens
        _progress(s, step, len(batches), new_tokens, t1 - t0)
    out: dict[str, float] = {}
    if aggregate:
        for name in s.bench.metrics:
            out[name] = metrics.aggregate(r["scores"][name] for r in rows)
    return Outcome(out, rows, len(batches), len(rows),
                   timings={"generation_s": gen_s, "scoring_s": score_s}, new_tokens=tokens)


def _row(it: data.Item, output: str, scores: dict) -> dict:
    row = {"id": it.id, "prompt": it.prompt, "output": output, "reference": it.reference,
           "scores": scores}
    for key in catalogue.MEDIA:
        if it.record.get(key):
            row[key] = it.record[key]
    return row


def expected_steps(n_items: int, batch_size: int, samples: int = 1, verified: bool = False) -> int:
    """How many `Step i/N` lines a job prints (the Monitor's N): a verified type (code)
    generates n samples per item, then verifies them in one more step."""
    gen = math.ceil(n_items * (samples if verified else 1) / batch_size)
    return gen + 1 if verified else gen
