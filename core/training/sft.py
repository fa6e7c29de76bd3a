"""SFT job: TRL SFTTrainer + PEFT LoRA (or full fine-tuning) on chat messages.

    run(config: dict, job_dir: Path) -> int        # started by `python -m core.runner.job JOB_DIR`
    python -m core.training.sft CONFIG.yaml JOB_DIR  # by hand

Writes to the output dir (training.output_dir or JOB_DIR/output): checkpoint-N/ every
save_steps, adapter/ (or model/ for full fine-tuning) at the end, merged/ when merge is set;
and JOB_DIR/summary.json. A stop request (SIGTERM via core.runner.signals) finishes the
current step, saves a checkpoint, prints `checkpoint saved: PATH` and returns 0; a later job
with `resume_from: latest` (same output_dir) continues from it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from core.configs import SFTConfig
from core.training.common import (
    ProgressCallback,
    StopFn,
    build_model,
    emit,
    emit_metric,
    finish,
    peft_config_for,
    resolve_resume,
    main_for,
    sft_args,
    start_job,
    train,
)


def load_messages(cfg: SFTConfig) -> list[list[dict]]:
    """Chat conversations from the catalogue (hub or shipped sample) or a local file."""
    from core import datasets

    loaded = datasets.load_records(cfg.data.dataset, cfg.data.limit, source=cfg.data.source)
    if loaded.note:
        emit(f"dataset: {loaded.note}")
    emit(f"dataset: {loaded.name} ({loaded.source}), {len(loaded.records)} records")
    convs = []
    for record in loaded.records:
        msgs = datasets.to_messages(loaded.name, record)
        if any(m["role"] == "assistant" for m in msgs):
            convs.append(msgs)
    if not convs:
        raise ValueError(f"data.dataset: no record of {loaded.name} has an assistant answer to train on")
    return convs


def run(config: dict | SFTConfig, job_dir: Path, *, should_stop: StopFn | None = None) -> int:
    start = start_job(config, Path(job_dir), SFTConfig, "sft", should_stop)
    if start is None:
        return 2
    cfg, stop_fn, started = start.cfg, start.stop_fn, start.started
    model_path, device, dtype, out_dir = start.model_path, start.device, start.dtype, start.out_dir
    job_dir = Path(job_dir)

    from datasets import Dataset
    from trl import SFTTrainer

    from core.models.loading import dtype_name, load_tokenizer

    resume = resolve_resume(cfg.training.resume_from, out_dir)
    emit(f"model: {model_path} on {device} ({dtype_name(dtype)}), output: {out_dir}")

    tokenizer = load_tokenizer(model_path, cfg.model.trust_remote_code)
    train_ds = Dataset.from_list([{"messages": m} for m in load_messages(cfg)])
    model = build_model(cfg, model_path, dtype)
    peft_config = peft_config_for(cfg)

    progress = ProgressCallback(stop_fn)
    args = sft_args(
        cfg.training,
        output_dir=out_dir,
        device=device,
        dtype=dtype,
        max_length=cfg.data.max_length,
        gradient_checkpointing=cfg.model.gradient_checkpointing,
    )
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[progress],
    )
    result = train(trainer, kind="sft", model_path=model_path, job_dir=job_dir,
                   stop_fn=stop_fn, resume=resume)
    if result is None:
        return 0
    state = trainer.state

    summary: dict[str, Any] = {
        "kind": "sft",
        "model": model_path,
        "device": device,
        "dtype": dtype_name(dtype),
        "steps": state.global_step,
        "max_steps": state.max_steps,
        "epochs": state.epoch,
        "final_loss": progress.losses[-1][1] if progress.losses else None,
        "first_loss": progress.losses[0][1] if progress.losses else None,
        "train_loss": result.training_loss,
        "duration_s": round(time.time() - started, 3),
        "train_runtime_s": result.metrics.get("train_runtime"),
        "tokens": progress.tokens_total,
        "tokens_per_s": round(progress.tokens_total / result.metrics["train_runtime"], 1)
        if progress.tokens_total and result.metrics.get("train_runtime")
        else None,
        "output_dir": str(out_dir),
        "resumed_from": str(resume) if resume else None,
        "stopped": progress.stopped,
    }
    if finish(trainer, progress, summary, cfg=cfg, out_dir=out_dir, tokenizer=tokenizer,
              job_dir=job_dir):
        emit_metric(state.global_step, final_loss=summary["final_loss"], train_tokens_per_s=summary["tokens_per_s"], duration_s=summary["duration_s"])
    return 0


def save_final(trainer, cfg: SFTConfig, out_dir: Path, tokenizer) -> dict[str, str]:
    """adapter/ (LoRA) or model/ (full fine-tuning), plus merged/ when asked."""
    from peft import PeftModel

    model = trainer.model
    paths: dict[str, str] = {}
    is_peft = isinstance(model, PeftModel)
    final = out_dir / ("adapter" if is_peft else "model")
    trainer.save_model(str(final))
    tokenizer.save_pretrained(str(final))
    paths["adapter" if is_peft else "model_path"] = str(final)
    emit(f"{'adapter' if is_peft else 'model'} saved: {final}")
    if cfg.training.merge and is_peft and trainer.is_world_process_zero():
        merged_dir = out_dir / "merged"
        merged = model.merge_and_unload()
        merged.save_pretrained(str(merged_dir))
        tokenizer.save_pretrained(str(merged_dir))
        paths["merged"] = str(merged_dir)
        emit(f"merged model saved: {merged_dir}")
    return paths


def main(argv: list[str]) -> int:
    """python -m core.training.sft CONFIG.yaml JOB_DIR [key=value ...]"""
    return main_for("sft", run, argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
