"""The model card (README.md) written beside every export: where the weights came from.

LIGHT module. Everything in it is read from files and the ledger (read-only), never invented:
a field we do not know is written as "unknown".
"""
from __future__ import annotations

import importlib.metadata as md
import json
import subprocess
from typing import Any

from core.paths import REPO_ROOT


def halo_forge_version() -> str:
    try:
        version = md.version("halo-forge")
    except md.PackageNotFoundError:
        version = "unknown"
    try:
        commit = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{version} ({commit})" if commit else version


def results_frame():
    """Every benchmark result row (None when the ledger cannot be read)."""
    try:
        from core import ledger

        return ledger.results_df()
    except Exception:
        return None


def benchmark_results(model_label: str, path: str | None = None, df=None) -> list[dict[str, Any]]:
    """Benchmark result rows of a model (its label, or any label ending in its path), newest first."""
    df = results_frame() if df is None else df
    if df is None or df.empty:
        return []
    keys = {model_label} | ({path} if path else set())
    mask = df["model"].isin(keys)
    if path:
        mask = mask | df["model"].astype(str).str.endswith(f" + {path}")
    import pandas as pd

    rows = df[mask].sort_values("created_at", ascending=False)
    return [{"benchmark": r["benchmark"], "metric": r["primary_metric"],
             "value": float(r["primary_value"]), "samples": int(r["samples"]),
             "job": None if pd.isna(r["job_id"]) else int(r["job_id"]),
             "date": str(r["created_at"])[:19]} for _, r in rows.iterrows()
            if not pd.isna(r["primary_value"])]


def render(meta: dict[str, Any], verification: dict[str, Any] | None, results: list[dict[str, Any]]) -> str:
    prov = meta.get("provenance") or {}
    lines = [
        f"# {meta.get('name', 'export')}",
        "",
        f"Exported by halo-forge {meta.get('halo_forge_version', 'unknown')} on {meta.get('created_at', 'unknown')}.",
        "",
        "| | |", "|---|---|",
        f"| Format | {meta.get('format')}{' ' + meta['quant'] if meta.get('quant') else ''} |",
        f"| Base model | {meta.get('base') or 'unknown'} |",
        f"| Adapter | {meta.get('adapter') or 'none (a plain model)'} |",
        f"| Training job | {_job_text(prov)} |",
        f"| Dataset | {prov.get('dataset') or 'unknown'} |",
        f"| Steps | {prov.get('steps') if prov.get('steps') is not None else 'unknown'} |",
        f"| Export job | {meta.get('export_job') or 'none (run by hand)'} |",
        "",
        "## Verification", "",
    ]
    lines += _verification_lines(verification)
    lines += ["", "## Benchmark results of this adapter", ""]
    if results:
        lines += ["| Benchmark | Metric | Value | Samples | Job | Date |", "|---|---|---|---|---|---|"]
        lines += [f"| {r['benchmark']} | {r['metric']} | {r['value']:.4f} | {r['samples']} | "
                  f"{r['job'] or ''} | {r['date']} |" for r in results]
    else:
        lines.append("None recorded in this halo-forge ledger.")
    if prov.get("config"):
        lines += ["", "## Training job config", "", "```json",
                  json.dumps(prov["config"], indent=2, sort_keys=True), "```"]
    return "\n".join(lines) + "\n"


def _job_text(prov: dict[str, Any]) -> str:
    if not prov.get("job"):
        return "unknown (not made by a halo-forge job here)"
    return f"#{prov['job']} {prov.get('job_name') or ''} ({prov.get('job_kind')}, finished {prov.get('finished_at') or 'unknown'})"


def _verification_lines(v: dict[str, Any] | None) -> list[str]:
    if not v or v.get("skipped"):
        return ["Not verified (exported with --no-verify)."]
    verdict = "passed" if v.get("passed") else "FAILED"
    out = [f"{verdict}: loaded back with {v.get('consumer')} and compared with the source "
           f"(base + adapter) on {len(v.get('prompts', []))} fixed prompts.", "",
           f"- token agreement over the first {v.get('new_tokens')} tokens: {v.get('token_agreement', 0):.4f}"
           f" (minimum {v.get('min_token_agreement')})",
           f"- largest logit difference: {v.get('max_abs_logit_diff', 0):.3g}"]
    if "tokenizer_agreement" in v:
        out.append(f"- prompts tokenised identically by llama.cpp: {v['tokenizer_agreement']:.0%}")
    if v.get("tensor_types"):
        out.append(f"- tensor types: {', '.join(f'{k} x{n}' for k, n in v['tensor_types'].items())}")
    return out
