"""Pieces shared by the SFT and RAFT runners: output dirs, checkpoints, progress lines, stop.

Progress lines follow the output contract of DESIGN.md exactly (the supervisor parses them):
`Epoch X/Y | Step X/Y | loss: 0.1234 | lr: 5.00e-05 | grad_norm: 1.23` and JSON metric lines
`{"metric": {"step": N, ...}}` for anything else (tokens/s, timings).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import time
from pathlib import Path
from typing import Any, Callable

from transformers import TrainerCallback

from core.metrics import metric_line

StopFn = Callable[[], bool]
_CKPT = re.compile(r"^checkpoint-(\d+)$")


def is_main_process() -> bool:
    """Rank 0 under torchrun / accelerate (RANK unset = a single process)."""
    return os.environ.get("RANK", "0") in ("", "0")


def emit(line: str) -> None:
    # Under torchrun every rank runs the job: one copy of each line is enough for the parser.
    if is_main_process():
        print(line, flush=True)


def emit_metric(step: int, **values: Any) -> None:
    emit(metric_line(step, **values))


def any_rank(flag: bool) -> bool:
    """Under torchrun every rank must stop after the same step (a rank that stops alone leaves
    the others waiting in an all-reduce): any rank's stop request stops them all."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return flag
    device = f"cuda:{torch.cuda.current_device()}" if dist.get_backend() == "nccl" else "cpu"
    votes = torch.tensor([1 if flag else 0], device=device)
    dist.all_reduce(votes, op=dist.ReduceOp.MAX)
    return bool(votes.item())


def default_stop_fn() -> StopFn:
    """core.runner.signals.stop_requested (the job wrapper installs the SIGTERM handler)."""
    try:
        from core.runner.signals import stop_requested

        return stop_requested
    except ImportError:  # running outside the app: never stop early
        return lambda: False


def output_dir_for(training_output_dir: str | None, job_dir: Path) -> Path:
    out = Path(training_output_dir).expanduser() if training_output_dir else Path(job_dir) / "output"
    out.mkdir(parents=True, exist_ok=True)
    return out


def checkpoints(output_dir: Path) -> list[Path]:
    """checkpoint-N directories in output_dir, oldest step first."""
    if not output_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in output_dir.iterdir() if p.is_dir() and (m := _CKPT.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(output_dir: Path) -> Path | None:
    """Newest complete checkpoint (one with trainer_state.json; a half-written one is skipped)."""
    for p in reversed(checkpoints(output_dir)):
        if (p / "trainer_state.json").is_file():
            return p
    return None


def resolve_resume(resume_from: str | None, output_dir: Path) -> Path | None:
    if not resume_from:
        return None
    if resume_from == "latest":
        ckpt = latest_checkpoint(output_dir)
        if ckpt is None:
            emit(f"no checkpoint in {output_dir}: starting from the beginning")
        return ckpt
    path = Path(resume_from).expanduser()
    if not (path / "trainer_state.json").is_file():
        # A run's output dir rather than one checkpoint: take its newest.
        ckpt = latest_checkpoint(path)
        if ckpt is None:
            raise FileNotFoundError(f"training.resume_from: no checkpoint (trainer_state.json) in {path}")
        return ckpt
    return path


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    os.replace(tmp, path)  # readers never see half a file


def lora_config(lora: Any):
    from peft import LoraConfig

    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        bias="none",
        task_type="CAUSAL_LM",
    )


def trainer_args(config_cls: type, training: Any, *, output_dir: Path, device: str, dtype: Any,
                 gradient_checkpointing: bool, **extra: Any):
    """A TRL trainer config (SFTConfig, GRPOConfig, DPOConfig) from our training section: only
    what the user chose, plus safe job defaults; `extra` sets trainer-specific fields."""
    import torch

    gpu = device.startswith("cuda")
    kwargs: dict[str, Any] = dict(
        output_dir=str(output_dir),
        num_train_epochs=training.epochs,
        per_device_train_batch_size=training.batch_size,
        gradient_accumulation_steps=training.grad_accum,
        learning_rate=training.learning_rate,
        lr_scheduler_type=training.lr_scheduler,
        max_steps=training.max_steps,
        warmup_steps=training.warmup_ratio,  # a float in [0, 1) is a ratio in transformers 5
        weight_decay=training.weight_decay,
        max_grad_norm=training.max_grad_norm,
        logging_strategy="steps",
        # a run shorter than the logging interval would otherwise print no loss at all
        logging_steps=min(training.logging_steps, training.max_steps) if training.max_steps > 0
        else training.logging_steps,
        save_strategy="steps",
        save_steps=training.save_steps,
        save_total_limit=training.save_total_limit,
        seed=training.seed,
        data_seed=training.seed,
        use_cpu=not gpu,
        bf16=gpu and dtype == torch.bfloat16,
        fp16=gpu and dtype == torch.float16,
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    # transformers 5 renamed gradient_checkpointing (TRL still defaults the old name to True).
    names = {f.name for f in dataclasses.fields(config_cls)}
    ckpt_key = "activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing"
    kwargs[ckpt_key] = gradient_checkpointing
    kwargs.update(extra)
    return config_cls(**kwargs)


def sft_args(training: Any, *, output_dir: Path, device: str, dtype: Any, max_length: int, gradient_checkpointing: bool, **extra: Any):
    """TRL SFTConfig from our training section."""
    from trl import SFTConfig as TRLSFTConfig

    extra = {"max_length": max_length,
             "assistant_only_loss": bool(getattr(training, "assistant_only_loss", False)),
             "dataset_num_proc": None, **extra}
    return trainer_args(TRLSFTConfig, training, output_dir=output_dir, device=device, dtype=dtype,
                        gradient_checkpointing=gradient_checkpointing, **extra)


class ProgressCallback(TrainerCallback):
    """Prints the contract lines; asks the trainer to save and stop when a stop is requested."""

    def __init__(self, stop_fn: StopFn, *, step_offset: int = 0, total_override: int | None = None, prefix: str = "", save_on_stop: bool = True):
        self.stop_fn = stop_fn
        self.save_on_stop = save_on_stop
        self.step_offset = step_offset
        self.total_override = total_override
        self.prefix = prefix
        self.stopped = False
        self.losses: list[tuple[int, float]] = []
        self.saved: list[str] = []
        self._t_last = 0.0
        self._tokens_last = 0.0
        self._t_begin = 0.0
        self.tokens_total = 0.0

    # -- helpers
    def _total(self, state) -> int:
        return self.step_offset + (self.total_override or state.max_steps)

    def _epoch_text(self, state) -> str:
        total = max(1, math.ceil(state.num_train_epochs or 1))
        current = min(total, int((state.epoch or 0) - 1e-9) + 1) if state.epoch else 1
        return f"Epoch {max(1, current)}/{total}"

    # -- events
    def on_train_begin(self, args, state, control, **kwargs):
        self._t_begin = self._t_last = time.perf_counter()
        self._tokens_last = 0.0

    def on_epoch_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            total = max(1, math.ceil(state.num_train_epochs or 1))
            emit(f"{self.prefix}Epoch {min(total, int(round(state.epoch or 0)) + 1)}/{total}")

    def on_step_end(self, args, state, control, **kwargs):
        if any_rank(self.stop_fn()):
            # Finish this step (done), save it, stop: the runner reports the checkpoint.
            self.stopped = True
            control.should_save = self.save_on_stop
            control.should_training_stop = True
        return control

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        step = self.step_offset + state.global_step
        if "loss" in logs:
            parts = [self._epoch_text(state), f"Step {step}/{self._total(state)}", f"loss: {logs['loss']:.4f}"]
            if "learning_rate" in logs:
                parts.append(f"lr: {logs['learning_rate']:.2e}")
            if logs.get("grad_norm") is not None:
                parts.append(f"grad_norm: {float(logs['grad_norm']):.4f}")
            emit(self.prefix + " | ".join(parts))
            self.losses.append((step, float(logs["loss"])))
            now = time.perf_counter()
            tokens = float(logs.get("num_tokens", 0.0))
            if tokens and now > self._t_last:
                rate = (tokens - self._tokens_last) / (now - self._t_last)
                emit_metric(step, tokens_per_s=round(rate, 1))
                self.tokens_total = tokens
            self._t_last, self._tokens_last = now, tokens
        elif "train_runtime" in logs:
            emit_metric(step, train_runtime_s=logs.get("train_runtime"), train_loss=logs.get("train_loss"))

    def on_save(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            self.saved.append(str(path))
            emit(f"checkpoint saved: {path}")


class LogMetricsCallback(TrainerCallback):
    """Forwards what a TRL trainer logs (GRPO rewards, KL, clip ratios; DPO rewards/margins...)
    as one JSON metric line per log, keys exactly as TRL names them ("rewards/chosen"); the
    one parser (core.metrics) turns them into canonical names ("rewards_chosen"). The loss,
    lr and grad norm are already on the progress line."""

    _ON_PROGRESS_LINE = {"loss", "learning_rate", "grad_norm", "epoch"}

    def __init__(self, step_offset: int = 0):
        self.step_offset = step_offset
        self.history: list[dict[str, float]] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or "train_runtime" in logs:
            return
        values = {k: float(v) for k, v in logs.items()
                  if k not in self._ON_PROGRESS_LINE and isinstance(v, (int, float))
                  and not isinstance(v, bool) and math.isfinite(float(v))}
        if values:
            self.history.append({"step": self.step_offset + state.global_step, **values})
            emit_metric(self.step_offset + state.global_step, **values)


def build_model(cfg: Any, model_path: str, dtype: Any):
    """The model a trainer starts from: the base, plus the config's adapter made trainable
    when one is given (a fresh LoRA is added by TRL through peft_config_for)."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype,
                                                 trust_remote_code=cfg.model.trust_remote_code)
    if cfg.model.adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, cfg.model.adapter, is_trainable=True)
    return model


def peft_config_for(cfg: Any):
    """A fresh LoRA for TRL to add, unless LoRA is off or training continues a given adapter."""
    return lora_config(cfg.lora) if cfg.lora.enabled and not cfg.model.adapter else None


def train(trainer, *, kind: str, model_path: str, job_dir: Path, stop_fn: StopFn,
          resume: Path | None):
    """Run a TRL trainer as every training job does: our progress lines only, a stop asked
    while the model loaded ends the job before the first step (a summary says so), and a
    checkpoint to resume from is named. Returns train()'s result, or None when stopped first."""
    drop_printer_callback(trainer)
    if stop_fn():  # asked to stop while loading: nothing trained, nothing to save
        emit("stop requested before training started")
        write_json(job_dir / "summary.json", {"kind": kind, "model": model_path, "steps": 0,
                                              "stopped": True})
        return None
    if resume:
        emit(f"resuming from checkpoint: {resume}")
    return trainer.train(resume_from_checkpoint=str(resume) if resume else None)


def finish(trainer, progress: "ProgressCallback", summary: dict, *, cfg: Any, out_dir: Path,
           tokenizer: Any, job_dir: Path) -> bool:
    """End a training job as every trainer-based job does: a stopped run names the checkpoint
    to resume from, a finished one saves its adapter (and merge); rank 0 writes summary.json.
    Returns True on rank 0, which then prints the job's closing metrics."""
    if progress.stopped:
        ckpt = progress.saved[-1] if progress.saved else None
        emit(f"stop requested: stopped at step {trainer.state.global_step}"
             + (f", resume from {ckpt}" if ckpt else ""))
        summary["checkpoint"] = ckpt
    else:
        from core.training.sft import save_final

        summary.update(save_final(trainer, cfg, out_dir, tokenizer))
    if not trainer.is_world_process_zero():
        return False
    write_json(job_dir / "summary.json", summary)
    return True


def drop_printer_callback(trainer) -> None:
    """Trainer prints raw log dicts when tqdm is off; ours are the only progress lines."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback as HFProgress

    for cb in (PrinterCallback, HFProgress):
        try:
            trainer.remove_callback(cb)
        except ValueError:
            pass


def quiet_libraries() -> None:
    """Keep output.log readable: library warnings about CPU/dtypes are noise for the user."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except Exception:
        pass
    try:
        import datasets

        datasets.disable_progress_bars()
        datasets.logging.set_verbosity_error()
    except Exception:
        pass


@dataclasses.dataclass
class JobStart:
    cfg: Any
    stop_fn: StopFn
    started: float
    model_path: str
    device: str
    dtype: Any
    out_dir: Path


def start_job(config: Any, job_dir: Path, cls: type, kind: str,
              should_stop: StopFn | None) -> JobStart | None:
    """The opening every training job shares: quiet the libraries, validate the config (each
    error printed; None when it is invalid), then pick the model, device, dtype and output dir."""
    from core.configs import ConfigError, parse_config
    from core.models.loading import pick_device, pick_dtype, resolve_model

    quiet_libraries()
    job_dir.mkdir(parents=True, exist_ok=True)
    try:
        cfg = config if isinstance(config, cls) else parse_config(config, kind=kind)
    except ConfigError as exc:
        for issue in exc.errors:
            emit(f"config error: {issue}")
        return None
    watch_overlap(cfg, job_dir)
    stop_fn = should_stop or default_stop_fn()
    started = time.time()
    model_path = resolve_model(cfg.model.name)
    device = pick_device()
    return JobStart(cfg, stop_fn, started, model_path, device, pick_dtype(device, cfg.model.dtype),
                    output_dir_for(cfg.training.output_dir, job_dir))


def watch_overlap(cfg: Any, job_dir: Path) -> list[dict] | None:
    """Before training: the training data against the benchmarks the config watches (word
    13-grams). Findings go to JOB_DIR/overlap.json and one log line per benchmark; a check that
    cannot run says why and training goes on."""
    from core import contamination

    watched = list(getattr(cfg.data, "watch_benchmarks", None) or [])
    if not watched or not is_main_process():
        return None
    try:
        reports = contamination.run_checks(cfg.data.dataset, watched)
    except (contamination.ContaminationError, ValueError) as exc:
        emit(f"note: overlap check skipped ({exc})")
        return None
    contamination.write(Path(job_dir) / "overlap.json", reports)
    for report in reports:
        emit(f"overlap: {report['summary']}")
    return reports


def main_for(kind: str, run: Callable[..., int], argv: list[str]) -> int:
    """`python -m core.training.<kind> CONFIG.yaml JOB_DIR [section.key=value ...]`: run a
    training job by hand, outside the supervisor."""
    import sys

    from core.configs import ConfigError, load_config_file
    from core.runner.signals import install_stop_handler

    if len(argv) < 2:
        print(f"usage: python -m core.training.{kind} CONFIG.yaml JOB_DIR [section.key=value ...]",
              file=sys.stderr)
        return 2
    try:
        cfg = load_config_file(argv[0], overrides=argv[2:], kind=kind)
    except ConfigError as exc:
        for issue in exc.errors:
            print(f"config error: {issue}", file=sys.stderr)
        return 2
    install_stop_handler()
    return run(cfg, Path(argv[1]))

