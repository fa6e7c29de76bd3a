"""Queue an export: the one entry the CLI, the Models page and the Training form share.

LIGHT module. Bad input is refused here, before a job exists (config validation, then the
source and preflight checks of core.export.source); the job checks again when it starts.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from core import jobs
from core.export import source as src
from core.export.source import ExportError


def build_config(*, job: int | None = None, adapter: str | None = None, base: str | None = None,
                 model: str | None = None, fmt: str = "merged", quant: str | None = None,
                 out_dir: str | None = None, overwrite: bool = False, verify: bool = True,
                 dtype: str = "auto") -> dict[str, Any]:
    source = {k: v for k, v in (("job", job), ("adapter", adapter), ("base", base), ("model", model))
              if v not in (None, "")}
    export: dict[str, Any] = {"format": fmt, "overwrite": overwrite, "verify": verify}
    if quant:
        export["quant"] = quant
    if out_dir:
        export["out_dir"] = str(Path(out_dir).expanduser().resolve())
    if dtype != "auto":
        source["dtype"] = dtype
    return {"kind": "export", "source": source, "export": export}


def check(config: dict[str, Any]) -> tuple[dict[str, Any], Path]:
    """Validate a config and its input; returns (the config with out_dir fixed, out_dir)."""
    from core import configs

    cfg = configs.parse_config(config, kind="export")
    s, e = cfg.source, cfg.export
    source = src.resolve(job=s.job, adapter=s.adapter, base=s.base, model=s.model)
    quant = (e.quant or "f16") if e.format == "gguf" else None
    out = Path(e.out_dir) if e.out_dir else src.default_out_dir(source, e.format, quant)
    out = src.preflight(source, e.format, quant, out, e.overwrite, s.dtype)
    busy = [j["id"] for j in jobs.list_jobs(statuses=("QUEUED", "STARTING", "RUNNING", "STOPPING"),
                                             kinds=["export"])
            if (j.get("config") and str(out) in j["config"])]
    if busy:
        raise ExportError(f"export.out_dir: export job {busy[0]} is already writing {out}")
    clean = cfg.model_dump(mode="json")
    clean["export"]["out_dir"] = str(out)
    return clean, out


def queue(config: dict[str, Any], name: str | None = None, priority: int = 0) -> int:
    clean, _ = check(config)
    return jobs.submit("export", clean, name=name, priority=priority)


__all__ = ["ExportError", "build_config", "check", "queue"]
