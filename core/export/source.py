"""What an export starts from, and the checks made before anything is written.

LIGHT module (stdlib + the ledger; safetensors headers are read by hand): the CLI and the
Models page call it to refuse bad input at once, and the export job calls it again before
writing (the disk may have filled up since).

A source is a training job (its adapter or model), an adapter directory (its base read from
adapter_config.json, or given), or a model (tiny, a hub id in the cache, a directory).
"""
from __future__ import annotations

import json
import os
import shutil
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Bytes per weight of each GGUF type, as llama.cpp lays them out (block scales included).
# q4_k_m / q5_k_m mix in some 6-bit tensors: the figures are upper-end averages.
GGUF_BYTES_PER_PARAM = {"f32": 4.0, "f16": 2.0, "bf16": 2.0, "q8_0": 34 / 32, "q6_k": 0.83,
                        "q5_k_m": 0.72, "q4_k_m": 0.62, "q4_0": 18 / 32}
CONVERTER_OUTTYPES = ("f32", "f16", "bf16")  # written by the converter itself; others quantized
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
                "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}
_SAVE_DTYPE_BYTES = {"fp32": 4, "bf16": 2, "fp16": 2}
_HEADROOM = 1.10  # estimates are estimates: ask for 10 % more free space than computed
_SLACK_BYTES = 64 << 20


class ExportError(ValueError):
    """Bad export input; the message is one sentence naming the field."""


@dataclass
class Source:
    kind: str  # "adapter" or "model"
    path: str  # adapter directory, or model directory / hub id
    base: str | None = None  # resolved base model of an adapter (directory or hub id)
    job_id: int | None = None
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def weights_dir(self) -> str:
        """The model whose weights the export holds (base for an adapter)."""
        return self.base if self.kind == "adapter" else self.path

    @property
    def label(self) -> str:
        return f"{self.base} + {self.path}" if self.kind == "adapter" else self.path


# ----------------------------------------------------------------------------- resolving


def resolve(job: int | None = None, adapter: str | None = None, base: str | None = None,
            model: str | None = None) -> Source:
    """The Source of an export; ExportError names the bad field in one sentence."""
    given = [n for n, v in (("job", job), ("adapter", adapter), ("model", model)) if v not in (None, "")]
    if len(given) != 1:
        raise ExportError("source: give exactly one of job, adapter or model"
                          + (f" (got {', '.join(given)})" if given else ""))
    if job is not None:
        return _from_job(int(job), base)
    if adapter:
        return _from_adapter(adapter, base, provenance_of(adapter))
    if base:
        raise ExportError("source.base: a base model goes with an adapter, not with source.model")
    return Source("model", _resolve_model(model, "source.model"), provenance=provenance_of(model))


def _from_job(job_id: int, base: str | None) -> Source:
    from core import jobs

    try:
        row = jobs.get(job_id)
    except jobs.JobError:
        raise ExportError(f"source.job: no job with id {job_id}") from None
    from core import kinds

    if row["kind"] not in kinds.training_kinds():
        raise ExportError(f"source.job: job {job_id} is a {row['kind']} job; export a training job "
                          f"({', '.join(kinds.training_kinds())})")
    summary = read_json(Path(row.get("job_dir") or "") / "summary.json")
    path = summary.get("adapter") or summary.get("model_path")
    if row["status"] != "COMPLETED" or not path:
        raise ExportError(f"source.job: job {job_id} is {row['status']} and left no final adapter or model"
                          " (export a completed job, or one of its checkpoints with source.adapter)")
    if not Path(path).is_dir():
        raise ExportError(f"source.job: job {job_id}'s output {path} no longer exists")
    prov = job_provenance(row, summary)
    if (Path(path) / "adapter_config.json").is_file():  # RAFT names a full model "adapter" too
        src = _from_adapter(path, base, prov)
    else:
        src = Source("model", str(Path(path).resolve()), provenance=prov)
    src.job_id = job_id
    return src


def _from_adapter(adapter: str, base: str | None, prov: dict) -> Source:
    path = Path(adapter).expanduser()
    cfg = read_json(path / "adapter_config.json")
    if not cfg:
        raise ExportError(f"source.adapter: {path} holds no adapter_config.json (not a LoRA adapter directory)")
    recorded = cfg.get("base_model_name_or_path")
    wanted = base or recorded
    if not wanted:
        raise ExportError(f"source.base: adapter {path} does not record its base model; give one with --base")
    field_name = "source.base" if base else "source.adapter"
    try:
        resolved = _resolve_model(wanted, field_name)
    except ExportError as exc:
        if base:
            raise
        raise ExportError(f"source.adapter: the adapter's base model {wanted} is missing "
                          f"({_reason(exc)}); give another with --base") from None
    check_adapter_fits(path, resolved)
    return Source("adapter", str(path.resolve()), resolved, provenance={**prov, "base": resolved})


def _reason(exc: Exception) -> str:
    text = str(exc)
    return text.split(": ", 1)[1] if text.startswith("source.") and ": " in text else text


def _resolve_model(name: str | None, field_name: str) -> str:
    from core.models.loading import ModelNotFoundError, resolve_model

    try:
        return resolve_model(str(name))
    except ModelNotFoundError as exc:
        raise ExportError(f"{field_name}: {str(exc).split(';')[0]}") from None


# ----------------------------------------------------------------------------- weights on disk


def model_files_dir(model: str) -> Path | None:
    """The local directory with a model's files: itself, or its hub cache snapshot."""
    p = Path(model)
    if p.is_dir():
        return p
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(model, "config.json")
    except Exception:
        return None
    return Path(hit).parent if isinstance(hit, str) else None


def safetensors_header(path: Path) -> dict[str, Any]:
    """Tensor names -> {dtype, shape} of a .safetensors file, from its JSON header only."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    header.pop("__metadata__", None)
    return header


def weight_shapes(model_dir: Path) -> dict[str, tuple[str, list[int]]]:
    shapes: dict[str, tuple[str, list[int]]] = {}
    for f in sorted(model_dir.glob("*.safetensors")):
        for name, info in safetensors_header(f).items():
            shapes[name] = (info["dtype"], list(info["shape"]))
    return shapes


def parameter_count(model: str) -> tuple[int, int]:
    """(parameters, bytes on disk) of a model's safetensors weights; (0, 0) when unknown."""
    d = model_files_dir(model)
    if d is None:
        return 0, 0
    params = size = 0
    for dtype, shape in weight_shapes(d).values():
        n = 1
        for s in shape:
            n *= s
        params += n
        size += n * _DTYPE_BYTES.get(dtype, 4)
    return params, size


def check_adapter_fits(adapter: Path, base: str) -> None:
    """Refuse an adapter trained on another architecture: each LoRA pair must match the
    shape of the base weight it adapts (compared from safetensors headers, no weights read)."""
    files = list(adapter.glob("adapter_model.safetensors"))
    base_dir = model_files_dir(base)
    if not files or base_dir is None:
        return  # older .bin adapters or remote bases: PEFT itself will check when loading
    base_shapes = weight_shapes(base_dir)
    if not base_shapes:
        return
    for name, info in safetensors_header(files[0]).items():
        if ".lora_A." not in name:
            continue
        module = name.split(".lora_A.")[0].removeprefix("base_model.model.")
        target = base_shapes.get(f"{module}.weight")
        if target is None:
            raise ExportError(f"source.adapter: adapter {adapter} adapts {module}, which base model "
                              f"{base} does not have (an adapter of another architecture)")
        in_features = info["shape"][1]
        if target[1][-1] != in_features:
            raise ExportError(f"source.adapter: adapter {adapter} expects {module} to take "
                              f"{in_features} inputs but base model {base} has {target[1][-1]} "
                              "(an adapter of another architecture)")


# ----------------------------------------------------------------------------- preflight


def default_out_dir(source: Source, fmt: str, quant: str | None) -> Path:
    from core import paths

    stem = Path(source.path).name
    if stem in ("adapter", "model", "merged") or stem.startswith("checkpoint-"):
        stem = f"{Path(source.path).parent.parent.name}-{stem}"
    if source.job_id is not None:
        stem = f"job{source.job_id}"
    suffix = f"gguf-{quant}" if fmt == "gguf" else "merged"
    return paths.home() / "exports" / f"{stem}-{suffix}"


def estimate_bytes(source: Source, fmt: str, quant: str | None, dtype: str = "auto") -> dict[str, int]:
    """Bytes each written piece takes (temporary ones included): what must fit on the disk."""
    params, size = parameter_count(source.weights_dir)
    merged = params * _SAVE_DTYPE_BYTES[dtype] if dtype in _SAVE_DTYPE_BYTES else size
    if fmt == "merged":
        return {"merged weights": merged}
    out: dict[str, int] = {}
    if source.kind == "adapter" or not Path(source.path).is_dir():
        out["merged weights (temporary)"] = merged
    quant = quant or "f16"
    if quant not in CONVERTER_OUTTYPES:
        out["f16 GGUF (temporary)"] = int(params * 2)
    out[f"{quant} GGUF"] = int(params * GGUF_BYTES_PER_PARAM[quant])
    return out


def preflight(source: Source, fmt: str, quant: str | None, out_dir: str | os.PathLike,
              overwrite: bool, dtype: str = "auto") -> Path:
    """The output directory, or ExportError: it exists (without overwrite) or the disk is too small."""
    out = Path(out_dir).expanduser().resolve()
    if out.exists() and not overwrite:
        raise ExportError(f"export.out_dir: {out} already exists; pass --overwrite to replace it")
    if out.exists() and not out.is_dir():
        raise ExportError(f"export.out_dir: {out} is a file, not a directory")
    if source.kind == "adapter" and Path(source.path) in (out, *out.parents):
        raise ExportError(f"export.out_dir: {out} is inside the adapter being exported")
    pieces = estimate_bytes(source, fmt, quant, dtype)
    need = int(sum(pieces.values()) * _HEADROOM) + _SLACK_BYTES
    free = free_bytes(out)
    if free < need:
        raise ExportError(f"export.out_dir: about {_gb(need)} is needed on the disk of {out} "
                          f"({', '.join(pieces)}) but only {_gb(free)} is free")
    return out


def free_bytes(path: Path) -> int:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def _gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


# ----------------------------------------------------------------------------- provenance


def read_json(path: Path) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def job_provenance(row: dict, summary: dict | None = None) -> dict[str, Any]:
    """job, kind, base, dataset, steps and dates of a training job (from its row and summary)."""
    cfg = row.get("config")
    cfg = json.loads(cfg) if isinstance(cfg, str) else (cfg or {})
    summary = summary if summary is not None else read_json(Path(row.get("job_dir") or "") / "summary.json")
    return {
        "job": row.get("id"), "job_kind": row.get("kind"), "job_name": row.get("name"),
        "base": summary.get("model") or (cfg.get("model") or {}).get("name"),
        "dataset": (cfg.get("data") or {}).get("dataset"),
        "steps": summary.get("steps"), "finished_at": row.get("finished_at"),
        "config": cfg,
    }


def provenance_of(path: str | None) -> dict[str, Any]:
    """The training job whose output directory holds path, if any (else {})."""
    if not path or not Path(path).exists():
        return {}
    from core import jobs, kinds

    target = Path(path).resolve()
    for row in jobs.list_jobs(kinds=list(kinds.training_kinds())):
        summary = read_json(Path(row.get("job_dir") or "") / "summary.json")
        out = summary.get("output_dir")
        roots = [Path(p).resolve() for p in (out, row.get("job_dir")) if p]
        if any(r == target or r in target.parents for r in roots):
            return job_provenance(row, summary)
    return {}
