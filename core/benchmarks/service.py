"""What the Benchmark page and the CLI ask about benchmarks: model choices, configs, queueing.

LIGHT (no torch, transformers or datasets): pages import it. Queueing goes through
core.jobs.submit, which validates with core.configs and writes nothing on error.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import kinds as job_kinds
from core.benchmarks import catalogue


@dataclass(frozen=True)
class TrainedModel:
    job_id: int
    label: str
    path: str  # what goes into model.name (an adapter or a full model directory)
    base: str | None  # the base model an adapter was trained from


def training_outputs(limit: int = 50) -> list[TrainedModel]:
    """Adapters and models left by COMPLETED SFT / RAFT jobs, newest first (read from each
    job's summary.json; jobs without one are skipped)."""
    from core import jobs

    found = []
    for job in jobs.list_jobs(statuses=["COMPLETED"], kinds=list(job_kinds.training_kinds()), limit=limit):
        summary = _summary(job.get("job_dir"))
        for key, what in (("adapter", "adapter"), ("model_path", "model"), ("merged", "merged model")):
            path = summary.get(key)
            if path and Path(path).is_dir():
                found.append(TrainedModel(int(job["id"]), f"#{job['id']} {job.get('name') or job['kind']} · {what}",
                                          str(path), adapter_base(path)))
    return found


def _summary(job_dir: str | None) -> dict:
    if not job_dir:
        return {}
    try:
        data = json.loads((Path(job_dir) / "summary.json").read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def adapter_base(path: str | Path) -> str | None:
    """The base model recorded in a LoRA adapter directory, or None if it is not one."""
    try:
        data = json.loads((Path(path) / "adapter_config.json").read_text())
    except (OSError, ValueError):
        return None
    base = data.get("base_model_name_or_path") if isinstance(data, dict) else None
    return str(base) if base else None


def model_choices(type_: str) -> list[str]:
    """The tiny offline model(s) first (they run here, without a download), then hub presets,
    then finished training runs' outputs (text types only: training produces text models)."""
    kind = catalogue.get_type(type_)
    choices = [*kind.tiny_models, *kind.presets]
    if kind.takes_trained_models:
        choices += [t.path for t in training_outputs()]
    return list(dict.fromkeys(choices))


def build_config(*, benchmark: str, model: str, adapter: str | None = None, limit: int | None = None,
                 samples: int = 1, temperature: float = 0.0, batch_size: int = 8,
                 max_new_tokens: int | None = None, output_dir: str | None = None,
                 trust_remote_code: bool = False, executor: str = "local",
                 profile: str | None = None) -> dict[str, Any]:
    """A benchmark job config (plain JSON) from the page's fields; the type-specific fields are
    dropped where they do not apply (n, temperature and k are for verified types: code). `benchmark` is one
    name, a comma-separated list or a suite (one job, one result row per benchmark)."""
    try:
        benches = catalogue.expand(benchmark)
    except ValueError as exc:
        raise ValueError(f"benchmark.name {exc}") from None
    bench = benches[0]
    model = (model or "").strip()
    if not model:
        raise ValueError("model.name: choose or type a model")
    for b in benches:
        catalogue.check_tiny_model(model, b.type)
    section: dict[str, Any] = {"name": ",".join(b.name for b in benches), "batch_size": batch_size}
    if limit:
        section["limit"] = int(limit)
    if bench.type_info.verified:
        section.update(samples=int(samples), temperature=float(temperature),
                       k=sorted({1, 5, int(samples)} & set(range(1, int(samples) + 1))))
    section["max_new_tokens"] = int(max_new_tokens
                                    or catalogue.default_max_new_tokens(section["name"]))
    config: dict[str, Any] = {"kind": "benchmark", "model": {"name": model}, "benchmark": section}
    if adapter and adapter.strip():
        config["model"]["adapter"] = adapter.strip()
    if trust_remote_code:
        config["model"]["trust_remote_code"] = True
    if output_dir and output_dir.strip():
        config["output_dir"] = output_dir.strip()
    if executor and executor != "local":
        config["executor"] = {"name": executor, **({"profile": profile} if profile else {})}
    return config


def comparison_configs(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(base, fine-tuned) configs for the same benchmark. The fine-tuned side is model.adapter
    when set, else model.name when it is an adapter directory (its base comes from
    adapter_config.json)."""
    model = dict(config["model"])
    if model.get("adapter"):
        base_name, adapter = model["name"], model["adapter"]
    else:
        base_name = adapter_base(model["name"])
        if base_name is None:
            raise ValueError("model.adapter: choose an adapter (or a training run's adapter as the "
                             "model) to compare with its base model")
        adapter = model["name"]
    base = json.loads(json.dumps(config))
    base["model"] = {k: v for k, v in model.items() if k != "adapter"} | {"name": base_name}
    tuned = json.loads(json.dumps(config))
    tuned["model"] = base["model"] | {"adapter": adapter}
    if config.get("output_dir"):  # keep the two runs' details apart
        base["output_dir"] = str(Path(config["output_dir"]) / "base")
        tuned["output_dir"] = str(Path(config["output_dir"]) / "adapter")
    return base, tuned


def check_model(name: str, executor: str = "local") -> None:
    """Refuse, in one sentence, a hub model this machine cannot load: not a tiny model, not a
    local directory, not in the Hugging Face cache, and the hub unreachable (or offline by
    setting). Without it the job would fail after transformers' retries. Jobs for ray/slurm
    load the model on the cluster, so they are not checked here."""
    from core import datasets
    from core.models import loading

    name = (name or "").strip()
    if executor != "local" or not name or catalogue.is_tiny_model(name):
        return
    if Path(name).expanduser().exists() or loading._looks_like_path(name):
        return  # a directory (a missing one is reported by the config check, naming the path)
    if datasets.is_offline() and not loading._in_hub_cache(name):
        raise ValueError(f"model.name: '{name}' is not in the Hugging Face cache and the hub "
                         "cannot be reached, so it cannot load here; choose a cached model, a "
                         "local directory or a tiny model")


def queue(config: dict[str, Any], name: str | None = None) -> int:
    """Validate and queue one benchmark job (one or several benchmarks); returns its id."""
    from core import jobs

    try:  # a clear error before the generic schema
        catalogue.expand(config["benchmark"]["name"])
    except ValueError as exc:
        raise ValueError(f"benchmark.name {exc}") from None
    check_model(config["model"]["name"], (config.get("executor") or {}).get("name", "local"))
    return jobs.submit("benchmark", config, name=name)


def queue_comparison(config: dict[str, Any]) -> tuple[int, int]:
    """Queue base and fine-tuned runs of the same benchmark; returns both job ids. Both are
    validated before either is queued, so an error queues nothing."""
    from core import jobs

    base, tuned = comparison_configs(config)
    for cfg in (base, tuned):
        jobs.validate("benchmark", cfg)
    bench = config["benchmark"]["name"]
    first = queue(base, name=f"{bench} · base {Path(base['model']['name']).name}")
    second = queue(tuned, name=f"{bench} · {adapter_label(tuned['model']['adapter'])}")
    return first, second


# What training runs call their output folders: on their own they say nothing about which run.
_GENERIC_PARTS = {"adapter", "model", "merged", "output", "final", "lora"}


def adapter_label(path: str | Path) -> str:
    """A short name for an adapter: "adapter of job #6" when it lies in a job's directory,
    else its folder name, with the parent's when the folder name is generic ("adapter",
    "checkpoint-40")."""
    from core import paths

    p = Path(path).expanduser()
    try:
        rel = p.resolve().relative_to(paths.jobs_dir().resolve())
        if rel.parts and rel.parts[0].isdigit():
            inside = "/".join(part for part in rel.parts[1:] if part not in ("output",))
            what = "adapter" if p.name in _GENERIC_PARTS else f"adapter {inside}"
            return f"{what} of job #{int(rel.parts[0])}"
    except ValueError:
        pass
    name = p.name or str(p)
    if name in _GENERIC_PARTS or name.startswith("checkpoint-") or name.startswith("cycle-"):
        name = f"{p.parent.name}/{name}" if p.parent.name else name
    return f"adapter {name}"
