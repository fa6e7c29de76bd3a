"""The `export` job: merge an adapter into its base (safetensors) or convert to GGUF, then
verify the result with its consumer.

    run(config: dict, job_dir: Path) -> int     # started by `python -m core.runner.job JOB_DIR`

Everything is written into a hidden temporary directory beside the target and renamed into
place at the end, so a failure (bad input, a crash, a stop) never leaves a half-written export
where a consumer would find it. Exit status: 0 done (or stopped), 1 failed (including a failed
verification), 2 bad input.

The out dir holds: the weights (safetensors shards or one .gguf), README.md (model card),
verification.json and export.json (provenance, sizes, timings).
"""
from __future__ import annotations

import gc
import json
import os
import resource
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from core.export import card, source as src
from core.export.source import ExportError, Source


def emit(line: str) -> None:
    print(line, flush=True)


def run(config: dict, job_dir: Path, *, should_stop=None) -> int:
    from core.configs import ConfigError, parse_config

    job_dir = Path(job_dir)
    job_dir.mkdir(parents=True, exist_ok=True)
    try:
        cfg = parse_config(config, kind="export")
    except ConfigError as exc:
        for issue in exc.errors:
            emit(f"config error: {issue}")
        return 2
    s, e = cfg.source, cfg.export
    try:
        source = src.resolve(job=s.job, adapter=s.adapter, base=s.base, model=s.model)
        out = Path(e.out_dir) if e.out_dir else src.default_out_dir(source, e.format, quant_of(cfg))
        out = src.preflight(source, e.format, quant_of(cfg), out, e.overwrite, s.dtype)
    except ExportError as exc:
        emit(f"error: {exc}")
        return 2
    if should_stop is None:
        from core.runner.signals import stop_requested as should_stop
    summary = export(cfg, source, out, job_id=_job_id(job_dir), should_stop=should_stop)
    _write_json(job_dir / "summary.json", summary)
    if summary.get("stopped"):
        return 0
    v = summary.get("verification") or {}
    return 0 if v.get("skipped") or v.get("passed") else 1


def quant_of(cfg) -> str | None:
    return (cfg.export.quant or "f16") if cfg.export.format == "gguf" else None


def export(cfg, source: Source, out: Path, *, job_id: int | None = None, should_stop=lambda: False) -> dict[str, Any]:
    """Do the export into a temp dir beside out and rename it into place; returns the summary."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        summary = _export_into(cfg, source, tmp, out, job_id, should_stop)
        if summary.get("stopped"):
            shutil.rmtree(tmp, ignore_errors=True)
            return summary
        _install(tmp, out)
        emit(f"export written: {out}")
        return summary
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _export_into(cfg, source: Source, tmp: Path, out: Path, job_id, should_stop) -> dict[str, Any]:
    import torch

    from core.export import merge, verify
    from core.models.loading import pick_device

    fmt, quant, verifying = cfg.export.format, quant_of(cfg), cfg.export.verify
    total = 4
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    device = pick_device()
    emit(f"Step 1/{total} | loading {source.label} on {device}")
    # fp32 for the source: the reference the export is judged against must be exact.
    model, tok = merge.load_source(source, device, torch.float32)
    refs = verify.reference(model, tok) if verifying else []
    timings["load_s"] = time.perf_counter() - t0
    if should_stop():
        return {"stopped": True}

    t1 = time.perf_counter()
    emit(f"Step 2/{total} | merging" + (" the adapter into the base (PEFT merge_and_unload)" if source.kind == "adapter" else ""))
    merged = merge.merge(model)
    save_dtype = cfg.source.dtype if cfg.source.dtype != "auto" else merge.saved_dtype_name(source.weights_dir)
    hf_dir = tmp if fmt == "merged" else tmp / ".hf-merged"
    merge.save_merged(merged, tok, source, hf_dir, merge.torch_dtype(save_dtype), cfg.export.max_shard_size)
    del model, merged
    gc.collect()
    timings["merge_s"] = time.perf_counter() - t1
    if should_stop():
        return {"stopped": True}

    weights: list[str]
    conv_stats: dict[str, float] = {}
    t2 = time.perf_counter()
    if fmt == "gguf":
        from core.export import gguf

        emit(f"Step 3/{total} | converting to GGUF {quant} with llama.cpp")
        gguf_file = gguf.export_gguf(hf_dir, tmp, quant, _stem(source), emit, conv_stats)
        shutil.rmtree(hf_dir)
        weights = [gguf_file.name]
    else:
        emit(f"Step 3/{total} | saved merged safetensors ({save_dtype})")
        weights = sorted(p.name for p in tmp.glob("*.safetensors"))
    timings["convert_s"] = time.perf_counter() - t2
    if should_stop():
        return {"stopped": True}

    t3 = time.perf_counter()
    emit(f"Step 4/{total} | verifying" if verifying else f"Step 4/{total} | verification skipped (--no-verify)")
    if not verifying:
        result: dict[str, Any] = {"skipped": True, "passed": None}
    elif fmt == "gguf":
        result = verify.check_gguf(tmp / weights[0], refs, tok, quant)
        from core.export.gguf import tensor_types

        result["tensor_types"] = tensor_types(tmp / weights[0])
    else:
        result = verify.check_merged(tmp, refs, save_dtype, device)
    timings["verify_s"] = time.perf_counter() - t3
    result.update(prompts=[r.prompt for r in refs] if verifying else [], new_tokens=verify.NEW_TOKENS,
                  engine_versions=verify.engine_versions(), format=fmt, quant=quant,
                  source=source.label, verified_at=_now())
    _write_json(tmp / "verification.json", result)
    if verifying:
        emit(f"verification {'passed' if result['passed'] else 'FAILED'}: token agreement "
             f"{result['token_agreement']:.4f} (minimum {result['min_token_agreement']}), "
             f"max abs logit diff {result['max_abs_logit_diff']:.3g}"
             + (f", tokenizer agreement {result['tokenizer_agreement']:.2f}" if "tokenizer_agreement" in result else ""))
        emit(json.dumps({"metric": {"step": total, "token_agreement": round(result["token_agreement"], 6),
                                    "max_abs_logit_diff": result["max_abs_logit_diff"]}}))

    timings = {k: round(v, 3) for k, v in timings.items()}
    peak_mb = _peak_rss_mb()
    meta = {
        "name": out.name, "format": fmt, "quant": quant, "out_dir": str(out), "weights": weights,
        "size_bytes": sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file()),
        "base": source.base if source.kind == "adapter" else source.path,
        "adapter": source.path if source.kind == "adapter" else None,
        "dtype": save_dtype if fmt == "merged" else None,
        "export_job": job_id, "provenance": source.provenance,
        "halo_forge_version": card.halo_forge_version(), "created_at": _now(),
        "timings": timings, "peak_rss_mb": round(peak_mb, 1),
        "converter_peak_rss_mb": conv_stats.get("converter_peak_rss_mb"),
    }
    results = card.benchmark_results(source.label, source.path)
    (tmp / "README.md").write_text(card.render(meta, result, results))
    _write_json(tmp / "export.json", meta)
    emit(json.dumps({"metric": {"step": total, "peak_rss_mb": round(peak_mb, 1), **timings}}))
    return {"kind": "export", **{k: v for k, v in meta.items() if k != "provenance"},
            "source": source.label, "verification": {k: result.get(k) for k in (
                "passed", "skipped", "token_agreement", "max_abs_logit_diff", "tokenizer_agreement")}}


def _peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a
    job started from a big parent would report the parent's size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _stem(source: Source) -> str:
    p = Path(source.path)
    name = p.name if p.name not in ("adapter", "model", "merged") else p.parent.parent.name or p.name
    return name.replace(" ", "_") or "model"


def _install(tmp: Path, out: Path) -> None:
    """Rename the finished temp dir to out; an existing out (overwrite) is swapped out first."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _job_id(job_dir: Path) -> int | None:
    try:
        return int(json.loads((job_dir / "job.json").read_text()).get("id"))
    except (OSError, ValueError, TypeError):
        return None


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    os.replace(tmp, path)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
