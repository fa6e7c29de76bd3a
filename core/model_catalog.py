"""Every model halo-forge knows about, with where it came from: what the Models page shows.

LIGHT module (no torch): the page and `halo-forge models list` call it. Entries come from
disk and the ledger, never from memory: the tiny model, models in the Hugging Face cache,
training outputs (final adapters or models, checkpoints) read from each training job's
summary.json and output dir, and exports (merged / GGUF) read from their export.json and
verification.json. Deleting is refused while any active job uses the model.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import jobs, kinds, paths
from core.export.card import benchmark_results, results_frame
from core.export.source import read_json
from core.ledger import ACTIVE, QUEUED

KINDS = ("tiny", "hub", "adapter", "model", "checkpoint", "merged", "gguf")
KIND_LABELS = {"tiny": "tiny (offline)", "hub": "hub (cached)", "adapter": "LoRA adapter",
               "model": "fine-tuned model", "checkpoint": "checkpoint", "merged": "merged export",
               "gguf": "GGUF export"}


class CatalogError(ValueError):
    """A request the catalog cannot honour; one sentence naming the model."""


@dataclass
class ModelEntry:
    key: str  # the path (or hub id): unique
    name: str
    kind: str
    base: str | None = None
    job: int | None = None
    dataset: str | None = None
    steps: int | None = None
    date: float | None = None  # unix time
    size_bytes: int = 0
    verdict: str = ""  # passed / FAILED / not verified / "" (not an export)
    verification: dict[str, Any] | None = None
    scores: list[dict[str, Any]] = field(default_factory=list)

    @property
    def path(self) -> str:
        return self.key

    @property
    def exportable(self) -> bool:
        return self.kind in ("tiny", "hub", "adapter", "model", "checkpoint", "merged")

    @property
    def benchmarkable(self) -> bool:
        return self.kind != "gguf"  # the benchmark runner loads transformers models

    @property
    def label(self) -> str:
        return f"{self.name} · {KIND_LABELS[self.kind]}"


# ----------------------------------------------------------------------------- listing


def list_models() -> list[ModelEntry]:
    """Everything known, newest first (the tiny model and cached hub models after the runs)."""
    entries: dict[str, ModelEntry] = {}
    for e in [*_training_outputs(), *_exports(), *_tiny(), *_hub()]:
        entries.setdefault(e.key, e)
    found = list(entries.values())
    frame = results_frame()
    for e in found:
        label = e.key if e.kind != "adapter" else f"{e.base} + {e.key}"
        e.scores = benchmark_results(label, e.key, frame)
    return sorted(found, key=lambda e: (e.kind in ("tiny", "hub"), -(e.date or 0)))


def get(key: str) -> ModelEntry:
    for e in list_models():
        if e.key == key:
            return e
    raise CatalogError(f"model {key} is not known here (not the tiny model, a cached hub model, "
                       "a training output or an export)")


def _tiny() -> list[ModelEntry]:
    from core.models.presets import tiny_model_dir
    from core.models.tiny import is_tiny_model_dir

    d = tiny_model_dir()
    if not is_tiny_model_dir(d):
        return []
    return [ModelEntry(str(d), "tiny", "tiny", date=_mtime(d), size_bytes=dir_size(d))]


def _hub() -> list[ModelEntry]:
    try:
        from huggingface_hub import scan_cache_dir

        info = scan_cache_dir()
    except Exception:
        return []
    return [ModelEntry(r.repo_id, r.repo_id, "hub", date=r.last_modified, size_bytes=r.size_on_disk)
            for r in info.repos if r.repo_type == "model"]


def _training_outputs() -> list[ModelEntry]:
    from core.export.source import job_provenance

    out = []
    for row in jobs.list_jobs(kinds=list(kinds.training_kinds())):
        job_dir = Path(row.get("job_dir") or "")
        summary = read_json(job_dir / "summary.json")
        prov = job_provenance(row, summary)
        base = prov.get("base")
        common = dict(base=base, job=row["id"], dataset=prov.get("dataset"))
        finals = [(summary.get("adapter"), "adapter"), (summary.get("model_path"), "model"),
                  (summary.get("merged"), "merged")]
        for path, kind in finals:
            if path and Path(path).is_dir():
                out.append(ModelEntry(str(path), f"#{row['id']} {row.get('name') or ''}".strip(), kind,
                                      steps=prov.get("steps"), date=row.get("finished_at") or _mtime(Path(path)),
                                      size_bytes=dir_size(Path(path)), **common))
        output_dir = Path(summary.get("output_dir") or _output_dir(row))
        for ckpt in sorted(output_dir.glob("checkpoint-*")) if output_dir.is_dir() else []:
            if (ckpt / "adapter_config.json").is_file() or (ckpt / "config.json").is_file():
                step = ckpt.name.split("-")[-1]
                out.append(ModelEntry(str(ckpt), f"#{row['id']} {ckpt.name}", "checkpoint",
                                      steps=int(step) if step.isdigit() else None, date=_mtime(ckpt),
                                      size_bytes=dir_size(ckpt), **common))
    return out


def _output_dir(row: dict) -> str:
    cfg = row.get("config")
    cfg = json.loads(cfg) if isinstance(cfg, str) else (cfg or {})
    return (cfg.get("training") or {}).get("output_dir") or str(Path(row.get("job_dir") or "") / "output")


def export_dirs() -> list[Path]:
    """Export directories: under HALO_FORGE_HOME/exports and wherever an export job wrote one."""
    found = {p for p in (paths.home() / "exports").glob("*") if (p / "export.json").is_file()}
    for row in jobs.list_jobs(kinds=["export"]):
        cfg = row.get("config")
        cfg = json.loads(cfg) if isinstance(cfg, str) else (cfg or {})
        out = (cfg.get("export") or {}).get("out_dir")
        if out and (Path(out) / "export.json").is_file():
            found.add(Path(out))
    return sorted(found)


def _exports() -> list[ModelEntry]:
    out = []
    for d in export_dirs():
        meta = read_json(d / "export.json")
        v = read_json(d / "verification.json") or None
        prov = meta.get("provenance") or {}
        name = f"{d.name}" + (f" ({meta['quant']})" if meta.get("quant") else "")
        out.append(ModelEntry(str(d), name, "gguf" if meta.get("format") == "gguf" else "merged",
                              base=meta.get("base"), job=prov.get("job"), dataset=prov.get("dataset"),
                              steps=prov.get("steps"), date=_mtime(d), size_bytes=dir_size(d),
                              verdict=verdict(v), verification=v))
    return out


def verdict(v: dict | None) -> str:
    if not v:
        return "not verified"
    if v.get("skipped"):
        return "not verified"
    return "passed" if v.get("passed") else "FAILED"


def dir_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else ""


def rows(entries: list[ModelEntry]) -> list[dict[str, Any]]:
    """The table the page shows: one plain dict per model, short columns first. Text cells
    (not None) where a value is unknown: Streamlit would draw None as the word 'None'."""
    return [{"Model": e.name, "Kind": KIND_LABELS[e.kind], "Verification": e.verdict,
             "Size": human_size(e.size_bytes), "Job": f"#{e.job}" if e.job else "",
             "Steps": "" if e.steps is None else str(e.steps), "Dataset": e.dataset or "",
             "Date": when(e.date),
             "Latest scores": ", ".join(f"{s['benchmark']} {s['metric']} {s['value']:.3f}"
                                        for s in _latest(e.scores)),
             "Base": e.base or "", "Path": e.key} for e in entries]


def _latest(scores: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for s in scores:  # newest first: the first of each benchmark is its latest
        if s["benchmark"] not in seen:
            seen.add(s["benchmark"])
            out.append(s)
    return out


# ----------------------------------------------------------------------------- actions


def users(entry: ModelEntry) -> list[int]:
    """Active jobs that read or write this model (its training job while it runs included)."""
    busy = []
    for row in jobs.list_jobs(statuses=(QUEUED, *ACTIVE)):
        cfg = row.get("config")
        cfg = json.loads(cfg) if isinstance(cfg, str) else (cfg or {})
        text = json.dumps(cfg)
        exporting_job = (cfg.get("source") or {}).get("job")
        serving_job = cfg.get("job") if row["kind"] == "serve" else None  # a served adapter
        tiny = ('"name": "tiny"' in text or '"model": "tiny"' in text)  # train/bench, or serve
        if (entry.key in text or (entry.kind == "tiny" and tiny)
                or (entry.job is not None and entry.job in (row["id"], exporting_job, serving_job))):
            busy.append(int(row["id"]))
    return busy


def delete(key: str) -> str:
    """Delete a model from disk; refused while a job uses it. Returns what was removed."""
    entry = get(key)
    busy = users(entry)
    if busy:
        raise CatalogError(f"{entry.name} is in use by job {', '.join(map(str, busy))}; "
                           "stop or finish that job before deleting it")
    if entry.kind == "hub":
        from huggingface_hub import scan_cache_dir

        info = scan_cache_dir()
        revs = [r.commit_hash for repo in info.repos if repo.repo_id == key for r in repo.revisions]
        info.delete_revisions(*revs).execute()
        return f"removed {key} from the Hugging Face cache"
    shutil.rmtree(entry.key)
    return f"deleted {entry.key}"


def serve_args(entry: ModelEntry) -> dict[str, Any]:
    """What to hand the serve job kind: a finished job, a model (a GGUF export's .gguf file),
    or a base with a checkpoint's adapter."""
    if entry.kind in ("adapter", "model") and entry.job is not None:
        return {"job": entry.job}
    if entry.kind == "checkpoint" and (Path(entry.key) / "adapter_config.json").is_file():
        return {"model": entry.base, "adapter": entry.key}
    if entry.kind == "gguf":
        files = sorted(Path(entry.key).glob("*.gguf"))
        if not files:
            raise CatalogError(f"{entry.name} holds no .gguf file")
        return {"model": str(files[0])}
    return {"model": entry.key}


def hub_offline() -> bool:
    return any(os.environ.get(k, "").strip().lower() in ("1", "true", "yes", "on")
               for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def queue_download(repo_id: str) -> int:
    """Queue a download of a hub model into the cache as a job (progress = files fetched)."""
    repo_id = (repo_id or "").strip()
    if hub_offline():
        raise CatalogError("downloads are off: HF_HUB_OFFLINE is set, so nothing can be fetched "
                           "from the Hugging Face hub here (use a cached model or the tiny one)")
    if repo_id.count("/") != 1 or " " in repo_id:
        raise CatalogError(f"hub id must look like owner/name, got {repo_id!r}")
    return jobs.submit("command", {"command": [sys.executable, "-m", "core.model_catalog",
                                               "download", repo_id]}, name=f"download {repo_id}")


def download(repo_id: str) -> str:
    """Fetch a hub model into the cache, printing `Step N/M` per file (the supervisor's
    progress lines), so the job's progress bar fills as files arrive."""
    from huggingface_hub import snapshot_download
    from tqdm.auto import tqdm

    class StepLines(tqdm):  # snapshot_download drives one bar over the files it fetches
        def update(self, n=1):
            out = super().update(n)
            print(f"Step {int(self.n)}/{int(self.total or 0)}", flush=True)
            return out

    path = snapshot_download(repo_id, tqdm_class=StepLines)
    print(f"downloaded {repo_id} to {path}", flush=True)
    return path


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "download":
        download(sys.argv[2])
    else:
        print("usage: python -m core.model_catalog download OWNER/NAME", file=sys.stderr)
        raise SystemExit(2)
