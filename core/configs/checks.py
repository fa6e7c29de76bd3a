"""Checks against the world: datasets, verifiers, files and directories that must exist."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.configs.benchmark import BenchmarkConfig
from core.configs.dpo import DPOConfig
from core.configs.grpo import GRPOConfig
from core.configs.export import ExportConfig
from core.configs.errors import ConfigIssue
from core.configs.messages import _suggest
from core.configs.raft import RAFTConfig
from core.configs.sections import ModelSection
from core.configs.sft import SFTConfig
from core.configs.verify import VerifyConfig
from core.configs.yamlfile import _line_for


def known_datasets() -> list[str]:
    from core import datasets

    return list(datasets.CATALOGUE)


def known_verifiers() -> list[str]:
    from core.verifiers import registry

    return list(registry.names())


def _semantic_checks(cfg: BaseModel, base_dir: Path, lines: dict) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []

    def add(path: tuple, message: str) -> None:
        issues.append(ConfigIssue(".".join(path), message, _line_for(lines, path)))

    model = getattr(cfg, "model", None)
    if isinstance(model, ModelSection):
        model.name = _absolutise(model.name, base_dir)
        if model.adapter:
            model.adapter = _absolutise(model.adapter, base_dir)
            if not Path(model.adapter).exists():
                add(("model", "adapter"), f"model.adapter: no adapter directory at {model.adapter}")
    if isinstance(cfg, (SFTConfig, RAFTConfig, GRPOConfig, DPOConfig)):
        _check_dataset(cfg, base_dir, add)
        t = cfg.training
        if t.output_dir:
            t.output_dir = _absolutise(t.output_dir, base_dir, must_exist=False)
        if t.resume_from and t.resume_from != "latest":
            t.resume_from = _absolutise(t.resume_from, base_dir)
            if not Path(t.resume_from).is_dir():
                add(("training", "resume_from"), f"training.resume_from: no checkpoint directory at {t.resume_from} (use 'latest' for the newest in output_dir)")
        if t.resume_from == "latest" and not t.output_dir:
            add(("training", "resume_from"), "training.resume_from 'latest' needs training.output_dir (the directory that holds the checkpoints)")
    if isinstance(cfg, RAFTConfig):
        _check_raft_verifier(cfg, add)
    if isinstance(cfg, GRPOConfig):
        _check_verifier_section(cfg.grpo.verifier, cfg.data.dataset, "grpo", add)
    if isinstance(cfg, VerifyConfig):
        cfg.samples = _absolutise(cfg.samples, base_dir)
        if not Path(cfg.samples).is_file():
            add(("samples",), f"samples: file not found: {cfg.samples}")
        if cfg.out:
            cfg.out = _absolutise(cfg.out, base_dir, must_exist=False)
        _check_verifier_name(cfg.verifier, ("verifier",), add)
    if isinstance(cfg, BenchmarkConfig) and cfg.output_dir:
        cfg.output_dir = _absolutise(cfg.output_dir, base_dir, must_exist=False)
    if isinstance(cfg, ExportConfig):
        _check_export(cfg, base_dir, add)
    return issues


def _check_export(cfg: ExportConfig, base_dir: Path, add) -> None:
    s = cfg.source
    for key in ("model", "base"):
        if getattr(s, key):
            setattr(s, key, _absolutise(getattr(s, key), base_dir))
    if s.adapter:
        s.adapter = _absolutise(s.adapter, base_dir)
        if not (Path(s.adapter) / "adapter_config.json").is_file():
            add(("source", "adapter"), f"source.adapter: no LoRA adapter (adapter_config.json) in {s.adapter}")
    if cfg.export.out_dir:
        cfg.export.out_dir = _absolutise(cfg.export.out_dir, base_dir, must_exist=False)


def _absolutise(value: str, base_dir: Path, must_exist: bool = True) -> str:
    p = Path(value).expanduser()
    if p.is_absolute():
        return str(p)
    cand = (base_dir / p).resolve()
    if must_exist and not cand.exists():
        return value  # maybe a hub id ("Qwen/Qwen2.5-0.5B")
    return str(cand)


def _looks_like_file(text: str) -> bool:
    return (
        text.startswith(("file:", "./", "../", "/", "~"))
        or text.lower().endswith((".jsonl", ".json"))
    )


def _check_dataset(cfg: SFTConfig | RAFTConfig, base_dir: Path, add) -> None:
    path = ("data", "dataset")
    name = cfg.data.dataset
    raw = name[5:] if name.startswith("file:") else name
    candidate = Path(raw).expanduser()
    if not candidate.is_absolute():
        candidate = base_dir / candidate
    if candidate.is_file() and name.lower() not in known_datasets():
        cfg.data.dataset = str(candidate.resolve())
        _check_dataset_file(cfg, candidate.resolve(), add)
        return
    if _looks_like_file(name):
        add(path, f"data.dataset: file not found: {raw}")
        return
    from core import datasets

    try:
        entry = datasets.get(name)
    except ValueError as exc:
        add(path, f"data.dataset: {exc}")
        return
    if cfg.kind not in entry.uses:
        usable = [e.name for e in datasets.entries(cfg.kind)]
        add(path, f"data.dataset: '{entry.name}' is not a dataset for {cfg.kind.upper()}; {cfg.kind.upper()} datasets: {', '.join(usable)}")
        return
    cfg.data.dataset = entry.name


def _check_dataset_file(cfg: SFTConfig | RAFTConfig, path: Path, add) -> None:
    try:
        from core import datasets
    except Exception:
        return
    try:
        records = datasets.validate_file(path)
    except ValueError as exc:  # DatasetError names the line and the field
        add(("data", "dataset"), f"data.dataset: {path.name}: {exc}")
        return
    if isinstance(cfg, SFTConfig):
        try:
            msgs = datasets.to_messages(str(path), records[0])
        except Exception as exc:
            add(("data", "dataset"), f"data.dataset: {path.name}: cannot format record 1 as chat ({exc})")
            return
        if not any(m.get("role") == "assistant" for m in msgs):
            add(("data", "dataset"), f"data.dataset: {path.name}: records have no assistant answer to train on")
    if isinstance(cfg, DPOConfig):
        schema = datasets.detect_schema(records[0])
        if "dpo" not in datasets.schema_uses(schema):
            add(("data", "dataset"), f"data.dataset: {path.name}: records are {schema} data, not preference pairs (prompt, chosen, rejected)")


def _check_verifier_section(verifier: str | None, dataset: str, section: str, add) -> None:
    if verifier:
        _check_verifier_name(verifier, (section, "verifier"), add)
    elif dataset_verifier(dataset) is None:
        add((section, "verifier"), f"{section}.verifier is required: dataset '{Path(dataset).name}' has no verifier of its own; known verifiers: {', '.join(known_verifiers())}")


def _check_raft_verifier(cfg: RAFTConfig, add) -> None:
    if cfg.raft.verifier:
        _check_verifier_name(cfg.raft.verifier, ("raft", "verifier"), add)
        return
    verifier = dataset_verifier(cfg.data.dataset)
    if verifier is None:
        add(("raft", "verifier"), f"raft.verifier is required: dataset '{Path(cfg.data.dataset).name}' has no verifier of its own; known verifiers: {', '.join(known_verifiers())}")


def _check_verifier_name(name: str, path: tuple, add) -> None:
    known = known_verifiers()
    if name not in known:
        add(path, f"{'.'.join(path)}: unknown verifier '{name}'; known: {', '.join(known)}{_suggest(name, known)}")


def dataset_verifier(dataset: str) -> str | None:
    """The verifier a catalogue dataset (or a local file in a catalogue schema) is scored with."""
    try:
        from core import datasets
    except Exception:
        return None
    try:
        if datasets.is_file_reference(dataset) and dataset.lower() not in datasets.CATALOGUE:
            raw = dataset[5:] if dataset.startswith("file:") else dataset
            schema = datasets.detect_schema(datasets.validate_file(raw)[0])
            return datasets.CATALOGUE[schema].verifier if schema in datasets.CATALOGUE else None
        return datasets.get(dataset).verifier
    except Exception:
        return None


def job_resources(cfg: BaseModel) -> dict[str, Any]:
    """executor name, profile, gpus and nodes of any job config (for the supervisor)."""
    ex = getattr(cfg, "executor", None)
    gpus = getattr(ex, "gpus", None)
    if gpus is None:
        gpus = getattr(cfg, "gpus", 0)
    return {
        "executor": getattr(ex, "name", "local"),
        "profile": getattr(ex, "profile", None),
        "gpus": int(gpus),
        "nodes": int(getattr(ex, "nodes", 1)),
    }
