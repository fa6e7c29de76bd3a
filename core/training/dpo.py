"""DPO job: TRL DPOTrainer + LoRA on prompt / chosen / rejected preference pairs.

    run(config: dict, job_dir: Path) -> int
    python -m core.training.dpo CONFIG.yaml JOB_DIR [section.key=value ...]

Data: the `ultrafeedback` catalogue entry (hub, or the sample we ship), or a local JSONL in
the preference schema (prompt / chosen / rejected as strings or chat messages, prompt
optional when chosen and rejected start with it), such as the pairs that
`halo-forge datasets pairs --from-job ID` builds from verdicts. Every record becomes TRL's
conversational form with an explicit prompt (core.datasets.to_preference).

With LoRA the reference model is the base model with the adapter switched off (no second copy
in memory). TRL's metrics (rewards/chosen, rewards/rejected, rewards/margins,
rewards/accuracies, logps/*) go out as JSON metric lines for the one parser. Stop and resume
work as for SFT: a checkpoint on stop, `training.resume_from: latest` continues.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from core.configs import DPOConfig
from core.training.common import (
    LogMetricsCallback,
    ProgressCallback,
    StopFn,
    build_model,
    emit,
    emit_metric,
    finish,
    peft_config_for,
    main_for,
    resolve_resume,
    start_job,
    train,
    trainer_args,
)


def load_pairs(cfg: DPOConfig) -> list[dict]:
    from core import datasets

    loaded = datasets.load_records(cfg.data.dataset, cfg.data.limit, source=cfg.data.source)
    if loaded.note:
        emit(f"dataset: {loaded.note}")
    pairs = []
    for i, record in enumerate(loaded.records, start=1):
        try:
            pairs.append(datasets.to_preference(record))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"data.dataset: record {i} of {loaded.name} is not a preference pair ({exc})") from None
    emit(f"dataset: {loaded.name} ({loaded.source}), {len(pairs)} preference pairs")
    return pairs


def logp_margins(model, tokenizer, pairs: list[dict]) -> list[float]:
    """Per pair: log p(chosen | prompt) - log p(rejected | prompt) under `model`, summed over
    the reply tokens. DPO's implicit reward margin is this minus the same for the reference
    model (times beta); the DPO test and bench compare it before and after training."""
    import torch

    device = next(model.parameters()).device
    model.eval()
    out = []
    with torch.inference_mode():
        for p in pairs:
            prompt_ids = tokenizer.apply_chat_template(p["prompt"], tokenize=True, add_generation_prompt=True)
            prompt_ids = list(prompt_ids["input_ids"] if hasattr(prompt_ids, "keys") else prompt_ids)
            sides = []
            for side in ("chosen", "rejected"):
                full = tokenizer.apply_chat_template(p["prompt"] + p[side], tokenize=True)
                full = list(full["input_ids"] if hasattr(full, "keys") else full)
                ids = torch.tensor([full], device=device)
                logits = model(input_ids=ids).logits[0, :-1].float()
                logps = torch.log_softmax(logits, dim=-1).gather(1, ids[0, 1:, None])[:, 0]
                sides.append(float(logps[len(prompt_ids) - 1:].sum()))
            out.append(sides[0] - sides[1])
    return out


def dpo_args(cfg: DPOConfig, *, out_dir: Path, device: str, dtype: Any):
    from trl import DPOConfig as TRLDPOConfig

    d = cfg.dpo
    return trainer_args(
        TRLDPOConfig, cfg.training, output_dir=out_dir, device=device, dtype=dtype,
        gradient_checkpointing=cfg.model.gradient_checkpointing,
        beta=d.beta, loss_type=[d.loss_type], label_smoothing=d.label_smoothing,
        max_length=cfg.data.max_length, dataset_num_proc=None,
    )


def run(config: dict | DPOConfig, job_dir: Path, *, should_stop: StopFn | None = None) -> int:
    start = start_job(config, Path(job_dir), DPOConfig, "dpo", should_stop)
    if start is None:
        return 2
    cfg, stop_fn, started = start.cfg, start.stop_fn, start.started
    model_path, device, dtype, out_dir = start.model_path, start.device, start.dtype, start.out_dir
    job_dir = Path(job_dir)

    from datasets import Dataset
    from trl import DPOTrainer

    from core.models.loading import dtype_name, load_tokenizer

    resume = resolve_resume(cfg.training.resume_from, out_dir)
    emit(f"model: {model_path} on {device} ({dtype_name(dtype)}), output: {out_dir}; "
         f"beta {cfg.dpo.beta}, loss {cfg.dpo.loss_type}")
    pairs = load_pairs(cfg)
    tokenizer = load_tokenizer(model_path, cfg.model.trust_remote_code)
    model = build_model(cfg, model_path, dtype)
    peft_config = peft_config_for(cfg)
    progress = ProgressCallback(stop_fn)
    logged = LogMetricsCallback()
    trainer = DPOTrainer(
        model=model,
        args=dpo_args(cfg, out_dir=out_dir, device=device, dtype=dtype),
        train_dataset=Dataset.from_list(pairs),
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[progress, logged],
    )
    result = train(trainer, kind="dpo", model_path=model_path, job_dir=job_dir,
                   stop_fn=stop_fn, resume=resume)
    if result is None:
        return 0
    state = trainer.state

    margins = [h["rewards/margins"] for h in logged.history if "rewards/margins" in h]
    summary: dict[str, Any] = {
        "kind": "dpo",
        "model": model_path,
        "device": device,
        "dtype": dtype_name(dtype),
        "pairs": len(pairs),
        "steps": state.global_step,
        "max_steps": state.max_steps,
        "first_loss": progress.losses[0][1] if progress.losses else None,
        "final_loss": progress.losses[-1][1] if progress.losses else None,
        "margins": margins,
        "duration_s": round(time.time() - started, 3),
        "train_runtime_s": result.metrics.get("train_runtime"),
        "output_dir": str(out_dir),
        "resumed_from": str(resume) if resume else None,
        "stopped": progress.stopped,
    }
    if finish(trainer, progress, summary, cfg=cfg, out_dir=out_dir, tokenizer=tokenizer,
              job_dir=job_dir):
        emit_metric(state.global_step, final_loss=summary["final_loss"], duration_s=summary["duration_s"])
    return 0


def main(argv: list[str]) -> int:
    """python -m core.training.dpo CONFIG.yaml JOB_DIR [key=value ...]"""
    return main_for("dpo", run, argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
