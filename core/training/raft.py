"""RAFT job: reward-ranked fine-tuning with verifiers.

Per cycle: sample N completions per prompt (batched, left-padded generation), score every
completion with the verifier (in parallel, in its sandbox), keep those whose reward reaches
the threshold, then the top keep-percent of those, and fine-tune on them (prompt ->
completion, loss on the completion) continuing the same LoRA adapter.

    run(config: dict, job_dir: Path) -> int
    python -m core.training.raft CONFIG.yaml JOB_DIR [section.key=value ...]

Files: JOB_DIR/cycles/cycle_<c>.jsonl (every sample with its verdict and whether it was kept),
OUTPUT/cycle-<c>/ (adapter after cycle c), OUTPUT/raft_state.json (last finished cycle; a job
with `training.resume_from: latest` and the same output_dir continues after it),
OUTPUT/adapter/ (final), JOB_DIR/summary.json.
A stop request is honoured between generation batches, before training and between training
steps; the unfinished cycle is dropped and the last finished one stays the resume point.

Runs as one process (generation is not sharded across GPUs).
"""

from __future__ import annotations

import json
import math
import random
import shutil
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.configs import RAFTConfig, dataset_verifier
from core.training.common import (
    ProgressCallback,
    StopFn,
    drop_printer_callback,
    emit,
    emit_metric,
    lora_config,
    main_for,
    sft_args,
    start_job,
    write_json,
)

STATE_FILE = "raft_state.json"


@dataclass
class Sample:
    prompt_index: int
    sample_index: int
    completion: str = ""
    new_tokens: int = 0
    passed: bool = False
    reward: float = 0.0
    status: str = ""
    kept: bool = False


@dataclass
class PromptSet:
    name: str  # what core.datasets formats with (catalogue name or "file:...")
    records: list[dict]
    prompts: list[str]
    verifier: str


@dataclass
class CycleStats:
    cycle: int
    samples: int
    passed: int
    verification_rate: float
    reward_mean: float
    kept: int
    generate_s: float
    verify_s: float
    train_s: float
    gen_tokens: int
    gen_tokens_per_s: float
    train_steps: int
    train_loss: float | None = None
    extra: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- prompt set


def load_prompt_set(cfg: Any, verifier: str | None = None, section: str = "raft") -> PromptSet:
    """Prompts and records of cfg.data, with the verifier that scores them (the one named in
    the config, else the dataset's own). GRPO shares it (section "grpo")."""
    from core import datasets

    loaded = datasets.load_records(cfg.data.dataset, cfg.data.limit, source=cfg.data.source)
    if loaded.note:
        emit(f"dataset: {loaded.note}")
    verifier = verifier or dataset_verifier(cfg.data.dataset)
    if not verifier:
        raise ValueError(f"{section}.verifier is required: dataset {loaded.name} has no verifier of its own")
    prompts = [datasets.to_prompt(loaded.name, r) for r in loaded.records]
    emit(f"dataset: {loaded.name} ({loaded.source}), {len(prompts)} prompts, verifier: {verifier}")
    return PromptSet(loaded.name, loaded.records, prompts, verifier)


# ----------------------------------------------------------------------------- generation


def chat_prompt(tokenizer, prompt: str) -> str:
    return tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True)


def generate(
    model,
    tokenizer,
    prompts: list[str],
    *,
    samples_per_prompt: int,
    temperature: float,
    max_new_tokens: int,
    batch_size: int,
    seed: int,
    stop_fn: StopFn = lambda: False,
) -> tuple[list[Sample], int, bool]:
    """Sample completions in batches of `batch_size` sequences (left padding).

    Returns (samples, generated tokens, stopped). Sequences of the same prompt sit together
    in a batch, so padding stays small.
    """
    import torch

    texts = [chat_prompt(tokenizer, p) for p in prompts]
    jobs = [(i, s) for i in range(len(prompts)) for s in range(samples_per_prompt)]
    samples: list[Sample] = []
    total_tokens = 0
    device = next(model.parameters()).device
    eos_ids = _eos_ids(model, tokenizer)
    model.eval()
    torch.manual_seed(seed)
    for start in range(0, len(jobs), batch_size):
        if stop_fn():
            return samples, total_tokens, True
        chunk = jobs[start : start + batch_size]
        enc = tokenizer([texts[i] for i, _ in chunk], return_tensors="pt", padding=True, padding_side="left", add_special_tokens=False).to(device)
        gen_kwargs: dict[str, Any] = dict(
            max_new_tokens=max_new_tokens,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=eos_ids,
            use_cache=True,
        )
        if temperature > 0:
            gen_kwargs.update(do_sample=True, temperature=temperature, top_p=1.0, top_k=0)
        else:
            gen_kwargs.update(do_sample=False)
        with torch.inference_mode():
            out = model.generate(**enc, **gen_kwargs)
        new = out[:, enc["input_ids"].shape[1] :]
        lengths = _lengths(new, eos_ids)
        total_tokens += int(sum(lengths))
        decoded = tokenizer.batch_decode(new, skip_special_tokens=True)
        for (i, s), text, n in zip(chunk, decoded, lengths):
            samples.append(Sample(i, s, text, n))
        report(f"sampled {len(samples) // samples_per_prompt}/{len(prompts)} prompts "
               f"({len(samples)}/{len(jobs)} samples)", final=len(samples) == len(jobs))
    return samples, total_tokens, False


class Throttle:
    """Prints a progress line at most every `every_s` seconds, and the final one always: the
    first cycle of a run is minutes of sampling that the Monitor should see move."""

    def __init__(self, every_s: float = 1.0):
        self.every_s, self.last = every_s, None
        self.lock = threading.Lock()

    def __call__(self, line: str, final: bool = False) -> None:
        with self.lock:
            now = time.monotonic()
            if final or self.last is None or now - self.last >= self.every_s:
                self.last = now
                emit(line)


report = Throttle()


def _eos_ids(model, tokenizer) -> list[int]:
    ids = model.generation_config.eos_token_id
    ids = list(ids) if isinstance(ids, (list, tuple)) else ([ids] if ids is not None else [])
    if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in ids:
        ids.append(tokenizer.eos_token_id)
    return ids


def _lengths(new_tokens, eos_ids: list[int]) -> list[int]:
    """Generated tokens per row, up to and including the first end-of-sequence token."""
    out = []
    for row in new_tokens.tolist():
        n = len(row)
        for j, t in enumerate(row):
            if t in eos_ids:
                n = j + 1
                break
        out.append(n)
    return out


# ----------------------------------------------------------------------------- verification


def verify_batch(verifier: str, items: list[tuple[dict, str]], partial_credit: bool, should_stop: StopFn | None = None) -> list[Any]:
    """Score (problem record, completion) pairs with core.verifiers: each in its own sandbox,
    in parallel on a worker pool (one worker per CPU core); prints `verified X/Y samples` as
    verdicts arrive."""
    from core.verifiers import registry

    done = [0]
    lock = threading.Lock()

    def on_result(_index: int, _verdict: Any) -> None:
        with lock:
            done[0] += 1
            n = done[0]
        report(f"verified {n}/{len(items)} samples", final=n == len(items))

    return list(registry.get(verifier, partial_credit=partial_credit).verify_batch(items, on_result=on_result, should_stop=should_stop))


def score(samples: list[Sample], prompt_set: PromptSet, partial_credit: bool, should_stop: StopFn | None = None) -> None:
    items = [(prompt_set.records[s.prompt_index], s.completion) for s in samples]
    verdicts = verify_batch(prompt_set.verifier, items, partial_credit, should_stop)
    if len(verdicts) != len(samples):
        raise RuntimeError(f"verifier {prompt_set.verifier} returned {len(verdicts)} verdicts for {len(samples)} samples")
    for s, v in zip(samples, verdicts):
        s.passed = bool(getattr(v, "passed", False))
        s.reward = float(getattr(v, "reward", 1.0 if s.passed else 0.0))
        status = getattr(v, "status", "")
        s.status = str(getattr(status, "value", status))


# ----------------------------------------------------------------------------- selection


def select(samples: list[Sample], *, threshold: float, keep_percent: float, seed: int) -> list[Sample]:
    """Reward >= threshold, then the top keep-percent of those (at least one when any pass).

    Ties (every pass scores 1.0 without partial credit) are broken at random with the seed,
    so the kept set does not favour the first prompts. Repeated identical completions are
    kept: how often the model finds a solution is part of the signal, as in RAFT.
    """
    rng = random.Random(seed)
    pool = [s for s in samples if s.reward >= threshold]
    rng.shuffle(pool)
    pool.sort(key=lambda s: -s.reward)  # stable: the shuffle decides among equal rewards
    kept = pool[: math.ceil(len(pool) * keep_percent / 100.0)]
    for s in kept:
        s.kept = True
    return kept


# ----------------------------------------------------------------------------- model


def build_model(cfg: RAFTConfig, model_path: str, dtype: Any, device: str, adapter: str | None):
    """Base model plus the adapter being trained (resumed, given, or a fresh LoRA)."""
    from transformers import AutoModelForCausalLM

    if adapter and not cfg.lora.enabled:
        # Full fine-tuning resumes from the saved model itself.
        model_path = adapter
        adapter = None
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype, trust_remote_code=cfg.model.trust_remote_code)
    adapter = adapter or cfg.model.adapter
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter, is_trainable=True)
    elif cfg.lora.enabled:
        import torch
        from peft import get_peft_model

        torch.manual_seed(cfg.training.seed)  # LoRA A matrices start random: make runs repeatable
        model = get_peft_model(model, lora_config(cfg.lora))
    return model.to(device)


def train_on(model, tokenizer, kept: list[Sample], prompt_set: PromptSet, cfg: RAFTConfig, *, out_dir: Path, device: str, dtype: Any, step_offset: int, cycle: int, stop_fn: StopFn):
    """Fine-tune the live model on the kept samples; returns (steps, last loss, stopped)."""
    from datasets import Dataset
    from trl import SFTTrainer

    rows = [
        {
            "prompt": [{"role": "user", "content": prompt_set.prompts[s.prompt_index]}],
            "completion": [{"role": "assistant", "content": s.completion}],
        }
        for s in kept
    ]
    steps_per_epoch = math.ceil(len(rows) / (cfg.training.batch_size * cfg.training.grad_accum))
    total = cfg.training.max_steps if cfg.training.max_steps > 0 else steps_per_epoch * cfg.training.epochs
    progress = ProgressCallback(stop_fn, step_offset=step_offset, total_override=total, save_on_stop=False)
    args = sft_args(
        cfg.training,
        output_dir=out_dir / "train-tmp",
        device=device,
        dtype=dtype,
        max_length=cfg.data.max_length,
        gradient_checkpointing=cfg.model.gradient_checkpointing,
        save_strategy="no",
        seed=cfg.training.seed + cycle,
        data_seed=cfg.training.seed + cycle,
    )
    model.train()
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer, callbacks=[progress])
    drop_printer_callback(trainer)
    trainer.train()
    shutil.rmtree(out_dir / "train-tmp", ignore_errors=True)
    model.eval()
    last = progress.losses[-1][1] if progress.losses else None
    return trainer.state.global_step, last, progress.stopped


def save_model(model, tokenizer, path: Path) -> str:
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(path))
    tokenizer.save_pretrained(str(path))
    return str(path)


# ----------------------------------------------------------------------------- state


def load_state(cfg: RAFTConfig, out_dir: Path) -> dict:
    fresh = {"completed_cycles": 0, "adapter": None, "global_step": 0, "cycles": []}
    resume = cfg.training.resume_from
    if not resume:
        return fresh
    src = out_dir if resume == "latest" else Path(resume).expanduser()
    state_path = src / STATE_FILE
    if not state_path.is_file():
        if resume == "latest":
            emit(f"no RAFT state in {out_dir}: starting from cycle 1")
            return fresh
        raise FileNotFoundError(f"training.resume_from: no {STATE_FILE} in {src}")
    state = json.loads(state_path.read_text())
    emit(f"resuming after cycle {state['completed_cycles']} (adapter {state['adapter']})")
    return state


# ----------------------------------------------------------------------------- the job


def run(config: dict | RAFTConfig, job_dir: Path, *, should_stop: StopFn | None = None) -> int:
    start = start_job(config, Path(job_dir), RAFTConfig, "raft", should_stop)
    if start is None:
        return 2
    cfg, stop_fn, started = start.cfg, start.stop_fn, start.started
    model_path, device, dtype, out_dir = start.model_path, start.device, start.dtype, start.out_dir
    job_dir = Path(job_dir)

    from core.models.loading import dtype_name, load_tokenizer

    cycles_dir = job_dir / "cycles"
    cycles_dir.mkdir(exist_ok=True)
    state = load_state(cfg, out_dir)
    r = cfg.raft
    emit(
        f"model: {model_path} on {device} ({dtype_name(dtype)}), output: {out_dir}; "
        f"preset {r.preset}: {r.samples_per_prompt} samples/prompt, temperature {r.temperature}, "
        f"threshold {r.reward_threshold}, keep {r.keep_percent}%"
    )
    prompt_set = load_prompt_set(cfg, cfg.raft.verifier)
    tokenizer = load_tokenizer(model_path, cfg.model.trust_remote_code)
    model = build_model(cfg, model_path, dtype, device, state["adapter"])

    stopped = False
    for cycle in range(state["completed_cycles"] + 1, r.cycles + 1):
        emit(f"Cycle {cycle}/{r.cycles}")
        stats, stopped = run_cycle(cycle, model, tokenizer, prompt_set, cfg, state, out_dir, cycles_dir, device, dtype, stop_fn)
        if stopped:
            break
        state["global_step"] += stats.train_steps
        state["completed_cycles"] = cycle
        state["adapter"] = save_model(model, tokenizer, out_dir / f"cycle-{cycle}")
        state["cycles"].append(stats.__dict__)
        write_json(out_dir / STATE_FILE, state)
        # and a copy in the cycle's folder: Monitor's "resume from this one" on cycle N
        write_json(Path(state["adapter"]) / STATE_FILE, state)
        emit(f"checkpoint saved: {state['adapter']}")
        _prune_full_models(cfg, out_dir, cycle)

    summary = {
        "kind": "raft",
        "model": model_path,
        "device": device,
        "dtype": dtype_name(dtype),
        "verifier": prompt_set.verifier,
        "prompts": len(prompt_set.prompts),
        "completed_cycles": state["completed_cycles"],
        "cycles": state["cycles"],
        "steps": state["global_step"],
        "duration_s": round(time.time() - started, 3),
        "output_dir": str(out_dir),
        "stopped": stopped,
    }
    if stopped:
        emit(f"stop requested: cycle {state['completed_cycles'] + 1} dropped; resume point: " + (state["adapter"] or "the start (no cycle finished)"))
    elif state["completed_cycles"]:
        summary["adapter"] = save_model(model, tokenizer, out_dir / ("adapter" if cfg.lora.enabled else "model"))
        emit(f"{'adapter' if cfg.lora.enabled else 'model'} saved: {summary['adapter']}")
        if cfg.training.merge and cfg.lora.enabled:
            merged = model.merge_and_unload()
            summary["merged"] = save_model(merged, tokenizer, out_dir / "merged")
            emit(f"merged model saved: {summary['merged']}")
    write_json(job_dir / "summary.json", summary)
    return 0


def run_cycle(cycle, model, tokenizer, prompt_set, cfg, state, out_dir, cycles_dir, device, dtype, stop_fn) -> tuple[CycleStats, bool]:
    r = cfg.raft
    t0 = time.perf_counter()
    samples, gen_tokens, stopped = generate(
        model,
        tokenizer,
        prompt_set.prompts,
        samples_per_prompt=r.samples_per_prompt,
        temperature=r.temperature,
        max_new_tokens=r.max_new_tokens,
        batch_size=r.gen_batch_size,
        seed=cfg.training.seed * 1000 + cycle,
        stop_fn=stop_fn,
    )
    generate_s = time.perf_counter() - t0
    if stopped:
        return _empty_stats(cycle), True
    t1 = time.perf_counter()
    score(samples, prompt_set, r.partial_credit, stop_fn)
    verify_s = time.perf_counter() - t1
    if stop_fn():  # verdicts after the stop are "not verified": do not train on a partial cycle
        return _empty_stats(cycle), True
    kept = select(samples, threshold=r.reward_threshold, keep_percent=r.keep_percent, seed=cfg.training.seed + cycle)
    _write_samples(cycles_dir / f"cycle_{cycle}.jsonl", cycle, samples, prompt_set)
    passed = sum(s.passed for s in samples)
    rate = passed / len(samples) if samples else 0.0
    reward_mean = sum(s.reward for s in samples) / len(samples) if samples else 0.0
    emit(f"verification rate: {rate:.4f}")
    emit(f"cycle {cycle}: {passed}/{len(samples)} passed, reward mean {reward_mean:.4f}, kept {len(kept)}")
    t2 = time.perf_counter()
    steps, loss = 0, None
    if kept:
        steps, loss, stopped = train_on(
            model, tokenizer, kept, prompt_set, cfg, out_dir=out_dir, device=device, dtype=dtype, step_offset=state["global_step"], cycle=cycle, stop_fn=stop_fn
        )
    else:
        emit(f"cycle {cycle}: no sample reached reward {r.reward_threshold}; nothing to train on")
    train_s = time.perf_counter() - t2
    stats = CycleStats(
        cycle=cycle,
        samples=len(samples),
        passed=passed,
        verification_rate=round(rate, 6),
        reward_mean=round(reward_mean, 6),
        kept=len(kept),
        generate_s=round(generate_s, 3),
        verify_s=round(verify_s, 3),
        train_s=round(train_s, 3),
        gen_tokens=gen_tokens,
        gen_tokens_per_s=round(gen_tokens / generate_s, 1) if generate_s > 0 else 0.0,
        train_steps=steps,
        train_loss=loss,
    )
    emit_metric(
        state["global_step"] + steps,
        cycle=cycle,
        verification_rate=stats.verification_rate,
        reward_mean=stats.reward_mean,
        kept=stats.kept,
        samples=stats.samples,
        generate_s=stats.generate_s,
        verify_s=stats.verify_s,
        train_s=stats.train_s,
        gen_tokens_per_s=stats.gen_tokens_per_s,
    )
    return stats, stopped


def _empty_stats(cycle: int) -> CycleStats:
    return CycleStats(cycle, 0, 0, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0, 0.0, 0)


def _write_samples(path: Path, cycle: int, samples: list[Sample], prompt_set: PromptSet) -> None:
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for s in samples:
            rec = prompt_set.records[s.prompt_index]
            row = {
                "cycle": cycle,
                "prompt_index": s.prompt_index,
                "task_id": rec.get("task_id", s.prompt_index),
                "sample": s.sample_index,
                "prompt": prompt_set.prompts[s.prompt_index],
                "completion": s.completion,
                "new_tokens": s.new_tokens,
                "passed": s.passed,
                "reward": s.reward,
                "status": s.status,
                "kept": s.kept,
            }
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _prune_full_models(cfg: RAFTConfig, out_dir: Path, cycle: int) -> None:
    """Full fine-tuning saves whole models per cycle: keep only the newest two."""
    if cfg.lora.enabled:
        return
    for old in range(1, cycle - 1):
        shutil.rmtree(out_dir / f"cycle-{old}", ignore_errors=True)


def main(argv: list[str]) -> int:
    """python -m core.training.raft CONFIG.yaml JOB_DIR [key=value ...]"""
    return main_for("raft", run, argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
