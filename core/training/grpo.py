"""GRPO job: TRL GRPOTrainer + LoRA, rewarded by our sandboxed verifiers.

    run(config: dict, job_dir: Path) -> int
    python -m core.training.grpo CONFIG.yaml JOB_DIR [section.key=value ...]

Each step TRL samples `grpo.num_generations` completions per prompt, our reward functions
score them (core.training.rewards: the verifier in its sandbox, plus the optional format /
length terms named in `grpo.extra_rewards`), and the group-relative advantages update the
LoRA adapter. What TRL logs (reward and reward_std, rewards/<func>/mean|std, kl, entropy,
completions/mean_length, clip_ratio/*) is printed as JSON metric lines for the one parser,
beside our verification_rate.

Files: JOB_DIR/samples.jsonl (every scored completion with its verdict and step),
OUTPUT/checkpoint-N/ every save_steps (and on stop), OUTPUT/adapter/ at the end,
JOB_DIR/summary.json. A stop finishes the current step, saves a checkpoint and returns 0; a
job with `training.resume_from: latest` and the same output_dir continues from it.

vLLM generation (`grpo.use_vllm`) is passed to TRL as is; it needs vLLM and a GPU and has
not been exercised on the machines this was built on.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from core.configs import GRPOConfig
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


def grpo_args(cfg: GRPOConfig, *, out_dir: Path, device: str, dtype: Any):
    from trl import GRPOConfig as TRLGRPOConfig

    g = cfg.grpo
    extra: dict[str, Any] = dict(
        max_steps=g.steps,
        num_generations=g.num_generations,
        max_completion_length=g.max_completion_length,
        temperature=g.temperature,
        top_k=0,
        top_p=1.0,
        beta=g.beta,
        epsilon=g.epsilon,
        loss_type=g.loss_type,
        scale_rewards=g.scale_rewards,
        num_iterations=g.num_iterations,
        reward_weights=g.reward_weights,
        logging_steps=min(cfg.training.logging_steps, g.steps),
        use_vllm=g.use_vllm,
        log_completions=False,
    )
    if g.generation_batch_size:
        extra["generation_batch_size"] = g.generation_batch_size
    if g.use_vllm:
        extra["vllm_mode"] = g.vllm_mode
    return trainer_args(TRLGRPOConfig, cfg.training, output_dir=out_dir, device=device, dtype=dtype,
                        gradient_checkpointing=cfg.model.gradient_checkpointing, **extra)


def run(config: dict | GRPOConfig, job_dir: Path, *, should_stop: StopFn | None = None) -> int:
    start = start_job(config, Path(job_dir), GRPOConfig, "grpo", should_stop)
    if start is None:
        return 2
    cfg, stop_fn, started = start.cfg, start.stop_fn, start.started
    model_path, device, dtype, out_dir = start.model_path, start.device, start.dtype, start.out_dir
    job_dir = Path(job_dir)
    g = cfg.grpo

    from datasets import Dataset
    from trl import GRPOTrainer

    from core.models.loading import dtype_name, load_tokenizer
    from core.training.raft import load_prompt_set
    from core.training.rewards import VerifierReward, build_reward_funcs

    resume = resolve_resume(cfg.training.resume_from, out_dir)
    emit(
        f"model: {model_path} on {device} ({dtype_name(dtype)}), output: {out_dir}; "
        f"preset {g.preset}: {g.num_generations} generations/prompt, temperature {g.temperature}, "
        f"beta {g.beta}, loss {g.loss_type}, epsilon {g.epsilon}, {g.steps} steps"
    )
    prompt_set = load_prompt_set(cfg, g.verifier, section="grpo")
    rows = [{"prompt": [{"role": "user", "content": p}], "record_index": i} for i, p in enumerate(prompt_set.prompts)]
    verifier = VerifierReward(prompt_set.verifier, prompt_set.records, partial_credit=g.partial_credit,
                              workers=g.verify_workers, emit=emit, timeout_s=g.verify_timeout_s,
                              prompts=prompt_set.prompts, samples_path=job_dir / "samples.jsonl")
    reward_funcs = build_reward_funcs(verifier, list(g.extra_rewards), length_target=g.length_target)
    emit("rewards: " + ", ".join(getattr(f, "__name__", type(f).__name__) for f in reward_funcs)
         + (f" (weights {g.reward_weights})" if g.reward_weights else ""))

    tokenizer = load_tokenizer(model_path, cfg.model.trust_remote_code)
    model = build_model(cfg, model_path, dtype)
    peft_config = peft_config_for(cfg)
    progress = ProgressCallback(stop_fn)
    logged = LogMetricsCallback()
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=reward_funcs,
        args=grpo_args(cfg, out_dir=out_dir, device=device, dtype=dtype),
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=peft_config,
        callbacks=[progress, logged],
    )
    result = train(trainer, kind="grpo", model_path=model_path, job_dir=job_dir,
                   stop_fn=stop_fn, resume=resume)
    if result is None:
        return 0
    state = trainer.state

    rates = [h["verification_rate"] for h in logged.history if "verification_rate" in h]
    summary: dict[str, Any] = {
        "kind": "grpo",
        "model": model_path,
        "device": device,
        "dtype": dtype_name(dtype),
        "verifier": prompt_set.verifier,
        "prompts": len(prompt_set.prompts),
        "steps": state.global_step,
        "max_steps": state.max_steps,
        "verification_rates": rates,
        "verdicts": verifier.verdicts,
        "verdicts_passed": verifier.passed,
        "verdict_statuses": verifier.statuses,
        "verify_s": round(verifier.seconds, 3),
        "verdicts_per_s": verifier.verdicts_per_s(),
        "duration_s": round(time.time() - started, 3),
        "train_runtime_s": result.metrics.get("train_runtime"),
        "output_dir": str(out_dir),
        "resumed_from": str(resume) if resume else None,
        "stopped": progress.stopped,
    }
    if finish(trainer, progress, summary, cfg=cfg, out_dir=out_dir, tokenizer=tokenizer,
              job_dir=job_dir):
        emit_metric(state.global_step, verdicts_per_s=summary["verdicts_per_s"], duration_s=summary["duration_s"])
    return 0


def main(argv: list[str]) -> int:
    """python -m core.training.grpo CONFIG.yaml JOB_DIR [key=value ...]"""
    return main_for("grpo", run, argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
