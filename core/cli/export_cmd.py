"""Merge or convert a trained model and verify it: export."""
from __future__ import annotations

import sys

from core.cli.common import add_job_options, maybe_wait
from core.export import QUANTS


def cmd_export(args) -> int:
    from core.export import service

    config = service.build_config(job=args.job, adapter=args.adapter, base=args.base, model=args.model,
                                  fmt=args.format, quant=args.quant, out_dir=args.out,
                                  overwrite=args.overwrite, verify=not args.no_verify, dtype=args.dtype)
    try:
        job_id = service.queue(config, name=args.name, priority=args.priority)
    except service.ExportError as exc:
        print(f"halo-forge: {exc}", file=sys.stderr)
        return 2
    print(job_id)
    return maybe_wait(job_id, args)


def register(sub) -> None:
    s = sub.add_parser("export", help="merge an adapter (safetensors) or convert to GGUF, verified",
                       description="Queue an export job: merged safetensors or GGUF (llama.cpp's converter "
                       "and quantizer), loaded back and compared with the source.")
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--job", type=int, help="a completed training job (its final adapter or model)")
    src.add_argument("--adapter", help="a LoRA adapter directory")
    src.add_argument("--model", help="a plain model (tiny, a cached hub id or a directory)")
    s.add_argument("--base", help="the adapter's base model (default: the one it records)")
    s.add_argument("--format", choices=("merged", "gguf"), required=True)
    s.add_argument("--quant", choices=QUANTS, help="GGUF type (default f16)")
    s.add_argument("--dtype", choices=("auto", "fp32", "bf16", "fp16"), default="auto",
                   help="merged weights dtype (default: the base's)")
    s.add_argument("--out", help="output directory (default HALO_FORGE_HOME/exports/...)")
    s.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
    s.add_argument("--no-verify", action="store_true", help="skip loading it back and comparing")
    add_job_options(s)
    s.set_defaults(fn=cmd_export)
