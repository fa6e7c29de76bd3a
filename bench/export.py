"""Wall time and peak memory of merge and GGUF export, with the verification figures.

Two models: the tiny one (0.7M parameters) and a randomly initialised ~100M-parameter Llama
(hidden 768, 14 layers, the tiny tokenizer), each with a LoRA adapter of random (non-zero)
weights on every linear layer, so merging really changes the weights. For each model, each
export (merged, GGUF f16 / q8_0 / q4_k_m) runs as the export job does (`core.export.job.run`),
in a fresh process so that its peak RSS is its own; the figures come from the export's own
export.json and verification.json.

Run: .venv/bin/python bench/export.py [--threads 2] [--only tiny|100m] [--formats merged,f16,q8_0,q4_k_m]
Figures depend on the CPU and on what else runs.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CHILD = """
import json, sys, torch
torch.set_num_threads(int(sys.argv[3]))
from core.export.job import run
rc = run(json.loads(sys.argv[1]), sys.argv[2], should_stop=lambda: False)
sys.exit(rc)
"""


def build_models(root: Path) -> dict[str, Path]:
    """tiny and 100m base models, each with a random LoRA adapter; returns adapter dirs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from core.models.tiny import build_tiny_model

    tiny = build_tiny_model(root / "tiny", seed=0)
    tok = AutoTokenizer.from_pretrained(tiny)
    big_dir = root / "llama-100m"
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=768, intermediate_size=2048, num_hidden_layers=14,
                      num_attention_heads=12, num_key_value_heads=4, max_position_embeddings=1024,
                      tie_word_embeddings=True, bos_token_id=1, eos_token_id=tok.eos_token_id,
                      pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    big = LlamaForCausalLM(cfg)
    big.save_pretrained(big_dir)
    tok.save_pretrained(big_dir)
    (big_dir / "tokenizer.model").write_bytes((tiny / "tokenizer.model").read_bytes())
    adapters = {}
    for name, base in (("tiny", tiny), ("100m", big_dir)):
        torch.manual_seed(1)
        model = LlamaForCausalLM.from_pretrained(base)
        params = sum(p.numel() for p in model.parameters())
        peft = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear",
                                                init_lora_weights=False))
        for n, p in peft.named_parameters():  # small random B: a real change, not noise-level
            if "lora_B" in n:
                torch.nn.init.normal_(p, std=0.02)
        adapter = root / f"{name}-adapter"
        peft.save_pretrained(adapter)
        tok.save_pretrained(adapter)
        adapters[name] = adapter
        print(f"{name}: {params / 1e6:.1f}M parameters, adapter {adapter}")
    return adapters


def one_export(adapter: Path, fmt: str, quant: str | None, root: Path, threads: int) -> dict:
    out = root / "out" / f"{adapter.name}-{quant or fmt}"
    config = {"kind": "export", "source": {"adapter": str(adapter)},
              "export": {"format": fmt, "out_dir": str(out), "overwrite": True, **({"quant": quant} if quant else {})},
              "executor": {"gpus": 0}}
    job_dir = root / "jobs" / out.name
    job_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS=str(threads))
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(config), str(job_dir), str(threads)],
                          cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0 or not (out / "export.json").is_file():
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-15:])
        raise SystemExit(f"export {adapter.name} {quant or fmt} failed (exit {proc.returncode}):\n{tail}")
    meta = json.loads((out / "export.json").read_text())
    v = json.loads((out / "verification.json").read_text())
    return {"wall_s": wall, **meta["timings"], "peak_rss_mb": meta["peak_rss_mb"],
            "converter_mb": meta.get("converter_peak_rss_mb"), "size_mb": meta["size_bytes"] / 1e6,
            "agreement": v["token_agreement"], "max_diff": v["max_abs_logit_diff"],
            "tokenizer": v.get("tokenizer_agreement"), "passed": v["passed"],
            "types": v.get("tensor_types")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", choices=("tiny", "100m"))
    ap.add_argument("--formats", default="merged,f16,q8_0,q4_k_m")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="halo-forge-bench-export-") as tmp:
        root = Path(tmp)
        os.environ["HALO_FORGE_HOME"] = str(root / "home")
        adapters = build_models(root)
        print(f"\n{'model':<6} {'export':<8} {'wall s':>7} {'load':>6} {'merge':>6} {'convert':>8} "
              f"{'verify':>7} {'peak MB':>8} {'conv MB':>8} {'size MB':>8} {'agree':>6} {'max diff':>9} {'tok':>4}  verdict")
        for name, adapter in adapters.items():
            if args.only and name != args.only:
                continue
            for what in args.formats.split(","):
                fmt, quant = ("merged", None) if what == "merged" else ("gguf", what)
                r = one_export(adapter, fmt, quant, root, args.threads)
                tok = "" if r["tokenizer"] is None else f"{r['tokenizer']:.0%}"
                conv = "" if r["converter_mb"] is None else f"{r['converter_mb']:.0f}"
                print(f"{name:<6} {what:<8} {r['wall_s']:>7.1f} {r['load_s']:>6.1f} {r['merge_s']:>6.1f} "
                      f"{r['convert_s']:>8.1f} {r['verify_s']:>7.1f} {r['peak_rss_mb']:>8.0f} {conv:>8} "
                      f"{r['size_mb']:>8.1f} {r['agreement']:>6.3f} {r['max_diff']:>9.2e} {tok:>4}  "
                      f"{'passed' if r['passed'] else 'FAILED'}", flush=True)
                if r["types"]:
                    print(f"{'':<16}tensor types: {r['types']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
