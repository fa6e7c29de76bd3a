"""Job configs: one typed, documented pydantic model per job kind, and the YAML file format.

LIGHT module (pydantic + yaml; core.datasets / core.verifiers only for name look-ups): the
pages, the CLI and the supervisor import it. Every field has a type, a default, bounds where
they make sense and one line of help, so forms and docs come from `schema_fields(kind)`.

File format (sectioned):

    kind: sft
    model: {name: ./tiny}
    data: {dataset: alpaca, limit: 64}
    lora: {r: 8, alpha: 16}
    training: {epochs: 1, batch_size: 4, learning_rate: 5e-4, max_steps: 20}

Rules worth knowing:
- YAML 1.1 reads `5e-5` as a string; numeric strings are accepted for number fields.
- Unknown keys are errors that suggest the nearest known key.
- Overrides ("training.learning_rate=1e-4") are applied AFTER the file: they are only what
  the user typed, so no CLI default can silently replace a value from the file.
- RAFT presets fill only the fields the user did not set: explicit values always win.
  `custom` fills unset fields with the conservative values.
- Relative local paths (model, adapter, dataset file, output and resume dirs) that exist
  are made absolute against `base_dir` (default: the current directory), because the job
  runs later, from another directory.
"""

from __future__ import annotations

import difflib
import os
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

KINDS = ("sft", "raft", "benchmark", "verify", "command")

# Fallbacks used only when core.datasets / core.verifiers cannot be imported.
_FALLBACK_DATASETS = ("alpaca", "metamath", "gsm8k", "xlam", "humaneval", "mbpp", "livecodebench", "math")
_FALLBACK_VERIFIERS = ("humaneval", "mbpp", "livecodebench", "math", "gsm8k")

RAFT_PRESETS: dict[str, dict[str, Any]] = {
    "conservative": {"samples_per_prompt": 8, "keep_percent": 80.0, "reward_threshold": 0.5, "temperature": 0.7},
    "aggressive": {"samples_per_prompt": 16, "keep_percent": 30.0, "reward_threshold": 0.7, "temperature": 0.8},
}
RAFT_PRESETS["custom"] = dict(RAFT_PRESETS["conservative"])  # what custom starts from


# ----------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class ConfigIssue:
    field: str  # dotted path, "" for the whole file
    message: str  # one sentence, names the field
    line: int | None = None  # 1-based line in the YAML source, when known

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


class ConfigError(ValueError):
    """Invalid config: `errors` lists every problem found (field, message, line)."""

    def __init__(self, errors: list[ConfigIssue]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors) or "invalid config")


# ----------------------------------------------------------------------------- sections


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelSection(_Section):
    name: str = Field(min_length=1, description="Hugging Face model id or local model directory ('tiny' = the offline tiny model).")
    adapter: str | None = Field(None, description="Optional path to a LoRA adapter to load on top of the model.")
    dtype: Literal["auto", "bf16", "fp16", "fp32"] = Field("auto", description="Weights dtype; auto = bf16 where the GPU supports it, fp32 on CPU.")
    gradient_checkpointing: bool = Field(False, description="Trade compute for memory by recomputing activations in the backward pass.")
    trust_remote_code: bool = Field(False, description="Allow model code shipped with a hub repository to run.")


class DataSection(_Section):
    dataset: str = Field(min_length=1, description="Catalogue name (alpaca, humaneval, ...) or path to a .jsonl/.json file.")
    limit: int | None = Field(None, ge=1, le=10_000_000, description="Use at most this many records (empty = all).")
    source: Literal["auto", "hub", "sample"] = Field("auto", description="Where to read a catalogue dataset: hub, the shipped sample, or auto (hub when online).")
    max_length: int = Field(1024, ge=16, le=131_072, description="Maximum tokens per training example; longer ones are truncated.")


class LoraSection(_Section):
    enabled: bool = Field(True, description="Train a LoRA adapter; false = full fine-tuning of every weight.")
    r: int = Field(16, ge=1, le=1024, description="LoRA rank.")
    alpha: int = Field(32, ge=1, le=4096, description="LoRA scaling numerator (scale = alpha / r).")
    dropout: float = Field(0.05, ge=0.0, lt=1.0, description="Dropout on the LoRA path.")
    target_modules: list[str] | str = Field("all-linear", description="Modules to adapt: a list of names, or 'all-linear'.")

    @field_validator("target_modules", mode="before")
    @classmethod
    def _modules(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = v.strip()
            if v == "all-linear":
                return v
            parts = [p.strip() for p in v.split(",") if p.strip()]
            if parts:
                return parts
        if isinstance(v, list) and v and all(isinstance(x, str) and x.strip() for x in v):
            return [x.strip() for x in v]
        raise ValueError("must be 'all-linear' or a non-empty list of module names")


class TrainingSection(_Section):
    epochs: int = Field(1, ge=1, le=1000, description="Passes over the data (per cycle for RAFT).")
    batch_size: int = Field(4, ge=1, le=4096, description="Examples per device per step.")
    grad_accum: int = Field(1, ge=1, le=1024, description="Gradient accumulation steps (effective batch = batch_size x grad_accum x GPUs).")
    learning_rate: float = Field(2e-4, gt=0.0, le=1.0, description="Peak learning rate (AdamW).")
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = Field("linear", description="Learning-rate schedule after warm-up.")
    max_steps: int = Field(-1, ge=-1, le=10_000_000, description="Stop after this many optimizer steps; -1 = the epochs decide.")
    warmup_ratio: float = Field(0.0, ge=0.0, lt=1.0, description="Fraction of the steps spent warming the learning rate up.")
    weight_decay: float = Field(0.0, ge=0.0, le=1.0, description="AdamW weight decay.")
    max_grad_norm: float = Field(1.0, ge=0.0, le=1000.0, description="Clip gradients to this norm (0 = no clipping).")
    logging_steps: int = Field(10, ge=1, le=100_000, description="Print loss, lr and grad norm every N steps.")
    save_steps: int = Field(100, ge=1, le=10_000_000, description="Save a checkpoint every N steps.")
    save_total_limit: int | None = Field(3, ge=1, le=1000, description="Keep only the newest N checkpoints (empty = all).")
    seed: int = Field(42, ge=0, le=2**32 - 1, description="Random seed for data order and initialisation.")
    output_dir: str | None = Field(None, description="Where checkpoints and the adapter go (empty = JOB_DIR/output).")
    resume_from: str | None = Field(None, description="Resume from a checkpoint directory, or 'latest' for the newest one in output_dir.")
    merge: bool = Field(False, description="Also save the model with the LoRA adapter merged in.")
    assistant_only_loss: bool = Field(False, description="SFT: compute the loss on assistant replies only (needs a chat template TRL can mark; RAFT always trains on completions only).")

    @field_validator("max_steps")
    @classmethod
    def _no_zero_steps(cls, v: int) -> int:
        if v == 0:
            raise ValueError("must be -1 (the epochs decide) or at least 1, got 0")
        return v


class RaftTrainingSection(TrainingSection):
    """RAFT fine-tunes on the model's own filtered samples: a gentler default learning rate."""

    learning_rate: float = Field(5e-5, gt=0.0, le=1.0, description="Peak learning rate (AdamW).")
    logging_steps: int = Field(1, ge=1, le=100_000, description="Print loss, lr and grad norm every N steps.")


class RaftSection(_Section):
    preset: Literal["conservative", "aggressive", "custom"] = Field("conservative", description="Sampling/filtering preset; explicit fields below override it.")
    cycles: int = Field(3, ge=1, le=1000, description="Generate-verify-train cycles.")
    verifier: str | None = Field(None, description="Verifier that scores samples (empty = the dataset's own).")
    samples_per_prompt: int | None = Field(None, ge=1, le=512, description="Completions sampled per prompt (default: from the preset).")
    keep_percent: float | None = Field(None, gt=0.0, le=100.0, description="Keep the top N percent of samples that pass the threshold (default: from the preset).")
    reward_threshold: float | None = Field(None, ge=0.0, le=1.0, description="Minimum reward for a sample to be kept (default: from the preset).")
    temperature: float | None = Field(None, ge=0.0, le=2.0, description="Sampling temperature; 0 = greedy (default: from the preset).")
    max_new_tokens: int = Field(256, ge=1, le=32_768, description="Maximum tokens generated per completion.")
    gen_batch_size: int = Field(32, ge=1, le=4096, description="Sequences generated together in one batched call (prompts x samples).")
    partial_credit: bool = Field(False, description="Reward = fraction of tests passed instead of all-or-nothing.")

    @field_validator("keep_percent", mode="before")
    @classmethod
    def _percent_sign(cls, v: Any) -> Any:
        return v.strip().rstrip("%").strip() if isinstance(v, str) else v

    @model_validator(mode="after")
    def _apply_preset(self) -> "RaftSection":
        # Fill only what the user left unset (None): explicit fields always win.
        for key, value in RAFT_PRESETS[self.preset].items():
            if getattr(self, key) is None:
                object.__setattr__(self, key, value)
        return self


class _ExecutorBase(_Section):
    name: Literal["local", "ray", "slurm"] = Field("local", description="Where the job runs: this machine, a Ray cluster, or Slurm.")
    profile: str | None = Field(None, description="Saved cluster profile to use (address, partition, ...).")
    nodes: int = Field(1, ge=1, le=1024, description="Machines to run on (Slurm multi-node).")


    @model_validator(mode="after")
    def _nodes_need_slurm(self) -> "_ExecutorBase":
        if self.nodes > 1 and self.name != "slurm":
            raise ValueError(f"asks for nodes: {self.nodes}, but only the slurm executor runs a job on "
                             f"several nodes (executor.name is '{self.name}')")
        return self


class ExecutorSection(_ExecutorBase):
    gpus: int = Field(1, ge=0, le=64, description="GPUs per node; more than 1 runs several training processes.")


class CpuExecutorSection(_ExecutorBase):
    """For jobs that need no GPU (verify, command): GPUs are asked for by the job itself."""


class BenchmarkSection(_Section):
    name: str = Field(min_length=1, description="Benchmark to run (humaneval, mbpp, ...).")
    limit: int | None = Field(None, ge=1, le=10_000_000, description="Score at most this many problems (empty = all).")
    samples: int = Field(1, ge=1, le=1000, description="Completions per problem (n in pass@k).")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature; 0 = greedy.")
    batch_size: int = Field(8, ge=1, le=4096, description="Prompts per generation call.")
    max_new_tokens: int = Field(512, ge=1, le=32_768, description="Maximum tokens generated per completion.")
    k: list[int] = Field(default_factory=lambda: [1, 5], min_length=1, description="pass@k values to report (only k <= samples are computed).")

    @field_validator("name")
    @classmethod
    def _known_benchmark(cls, v: str) -> str:
        import difflib

        from core.benchmarks import catalogue  # light: names and metrics only

        known = catalogue.names()
        if v not in known:
            near = difflib.get_close_matches(v, known, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            raise ValueError(f"is not a known benchmark: '{v}'{hint}; known: {', '.join(known)}")
        return v

    @field_validator("k")
    @classmethod
    def _positive_k(cls, v: list[int]) -> list[int]:
        if any(x < 1 for x in v):
            raise ValueError(f"every k must be at least 1, got {v}")
        return sorted(set(v))


# ----------------------------------------------------------------------------- job kinds


class _Job(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SFTConfig(_Job):
    """Supervised fine-tuning with LoRA (or full fine-tuning) on chat-formatted data."""

    kind: Literal["sft"] = Field("sft", description="Job kind.")
    model: ModelSection = Field(description="The model to fine-tune.")
    data: DataSection = Field(description="Training data.")
    lora: LoraSection = Field(default_factory=LoraSection, description="LoRA adapter settings.")
    training: TrainingSection = Field(default_factory=TrainingSection, description="Optimiser and schedule.")
    executor: ExecutorSection = Field(default_factory=ExecutorSection, description="Where and on how many GPUs to run.")


class RAFTConfig(_Job):
    """Reward-ranked fine-tuning: sample, verify, keep the best, fine-tune, repeat."""

    kind: Literal["raft"] = Field("raft", description="Job kind.")
    model: ModelSection = Field(description="The model to improve.")
    data: DataSection = Field(description="Prompt set (each record needs a verifier).")
    raft: RaftSection = Field(default_factory=RaftSection, description="Cycle, sampling and filtering settings.")
    lora: LoraSection = Field(default_factory=LoraSection, description="LoRA adapter settings.")
    training: RaftTrainingSection = Field(default_factory=RaftTrainingSection, description="Per-cycle fine-tuning settings.")
    executor: ExecutorSection = Field(default_factory=ExecutorSection, description="Where and on how many GPUs to run.")


class BenchmarkConfig(_Job):
    """Generate completions for a benchmark and score them with its metric."""

    kind: Literal["benchmark"] = Field("benchmark", description="Job kind.")
    model: ModelSection = Field(description="The model (and optional adapter) to evaluate.")
    benchmark: BenchmarkSection = Field(description="What to run and how to sample.")
    output_dir: str | None = Field(None, description="Where samples and results go (empty = JOB_DIR).")
    executor: ExecutorSection = Field(default_factory=ExecutorSection, description="Where and on how many GPUs to run.")


class VerifyConfig(_Job):
    """Score a JSONL file of completions with a verifier."""

    kind: Literal["verify"] = Field("verify", description="Job kind.")
    verifier: str = Field(min_length=1, description="Verifier name (humaneval, mbpp, ...).")
    samples: str = Field(min_length=1, description="JSONL file of samples (task_id, completion, ...).")
    dataset: str | None = Field(None, description="Problem set the task ids refer to (empty = the verifier's own dataset).")
    out: str | None = Field(None, description="Output JSONL of verdicts (empty = JOB_DIR/verdicts.jsonl).")
    workers: int | None = Field(None, ge=1, le=1024, description="Parallel sandboxes (empty = twice the CPU cores: runs wait on I/O and process start-up).")
    partial_credit: bool = Field(False, description="Reward = fraction of tests passed instead of all-or-nothing.")
    timeout_s: float = Field(10.0, gt=0.0, le=3600.0, description="Wall-clock limit per completion, in seconds.")
    executor: CpuExecutorSection = Field(default_factory=CpuExecutorSection, description="Where to run.")


class CommandConfig(_Job):
    """Any command line, run and followed like the built-in jobs."""

    kind: Literal["command"] = Field("command", description="Job kind.")
    command: list[str] = Field(min_length=1, description="Program and arguments (no shell).")
    gpus: int = Field(0, ge=0, le=64, description="GPUs the command needs.")
    cwd: str | None = Field(None, description="Working directory (empty = JOB_DIR).")
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment variables.")
    executor: CpuExecutorSection = Field(default_factory=CpuExecutorSection, description="Where to run.")

    @field_validator("command", mode="before")
    @classmethod
    def _split_command(cls, v: Any) -> Any:
        if isinstance(v, str):
            import shlex

            return shlex.split(v)
        return v

    @field_validator("env", mode="before")
    @classmethod
    def _env_strings(cls, v: Any) -> Any:
        # YAML turns `DEBUG: 1` into an int; environment values are strings.
        if isinstance(v, dict):
            return {str(k): "" if x is None else (str(x).lower() if isinstance(x, bool) else str(x)) for k, x in v.items()}
        return v


JobConfig = Union[SFTConfig, RAFTConfig, BenchmarkConfig, VerifyConfig, CommandConfig]
MODELS: dict[str, type[BaseModel]] = {
    "sft": SFTConfig,
    "raft": RAFTConfig,
    "benchmark": BenchmarkConfig,
    "verify": VerifyConfig,
    "command": CommandConfig,
}


# ----------------------------------------------------------------------------- parsing


def parse_config(
    source: str | dict,
    *,
    overrides: list[str] | tuple[str, ...] = (),
    kind: str | None = None,
    base_dir: str | os.PathLike | None = None,
    check_files: bool = True,
) -> JobConfig:
    """Validate YAML text (or a dict) plus overrides into a typed config.

    kind: expected kind (e.g. from `train sft`); fills a missing `kind:` and rejects another.
    check_files: check dataset / samples files and catalogue names (off only for forms that
    validate field by field while the user types).
    Raises ConfigError listing every problem, with YAML line numbers where known.
    """
    lines: dict[tuple, tuple[int, int]] = {}
    if isinstance(source, str):
        data, lines = _load_yaml(source)
    elif isinstance(source, dict):
        data = _deep_copy(source)
    else:
        raise ConfigError([ConfigIssue("", f"config must be YAML text or a mapping, got {type(source).__name__}")])
    override_paths = _apply_overrides(data, overrides)
    model_cls = _model_for(data, kind, lines)
    try:
        cfg = model_cls.model_validate(data)
    except ValidationError as exc:
        issues = [_issue_from_error(model_cls, err, lines, override_paths) for err in exc.errors()]
        raise ConfigError(_dedupe(issues)) from None
    if check_files:
        issues = _semantic_checks(cfg, Path(base_dir) if base_dir else Path.cwd(), lines)
        if issues:
            raise ConfigError(issues)
    return cfg


def load_config_file(path: str | os.PathLike, *, overrides: list[str] | tuple[str, ...] = (), kind: str | None = None) -> JobConfig:
    """Read and validate a YAML config file; relative paths resolve against the current directory."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigIssue("", f"config file not found: {p}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigIssue("", f"cannot read config file {p}: {exc}")]) from None
    return parse_config(text, overrides=overrides, kind=kind)


def to_yaml(cfg: BaseModel) -> str:
    """The config as sectioned YAML (empty fields left out); parse_config(to_yaml(c)) == c."""
    data = cfg.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)


def to_json_dict(cfg: BaseModel) -> dict:
    """Plain JSON-able dict (what job.json stores)."""
    return cfg.model_dump(mode="json")


def _deep_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


# --- YAML with line numbers


def _load_yaml(text: str) -> tuple[Any, dict[tuple, tuple[int, int]]]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError([ConfigIssue("", f"YAML syntax error: {problem}", line)]) from None
    if data is None:
        raise ConfigError([ConfigIssue("", "config is empty: expected a mapping with a 'kind' key")])
    lines: dict[tuple, tuple[int, int]] = {}
    if node is not None:
        _map_lines(node, (), lines)
    return data, lines


def _map_lines(node: yaml.Node, path: tuple, out: dict[tuple, tuple[int, int]]) -> None:
    """path -> (line of its key, line of its value), 1-based."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = getattr(key_node, "value", None)
            sub = path + (key,)
            out[sub] = (key_node.start_mark.line + 1, value_node.start_mark.line + 1)
            _map_lines(value_node, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = path + (i,)
            out[sub] = (item.start_mark.line + 1, item.start_mark.line + 1)
            _map_lines(item, sub, out)


def _line_for(lines: dict[tuple, tuple[int, int]], loc: tuple, key: bool = False) -> int | None:
    loc = tuple(str(x) if not isinstance(x, int) else x for x in loc)
    for n in range(len(loc), 0, -1):
        hit = lines.get(loc[:n])
        if hit:
            return hit[0] if (key and n == len(loc)) else hit[1]
    return None


# --- overrides


def _apply_overrides(data: Any, overrides: list[str] | tuple[str, ...]) -> set[tuple]:
    if not overrides:
        return set()
    if not isinstance(data, dict):
        return set()
    applied: set[tuple] = set()
    for item in overrides:
        if "=" not in item:
            raise ConfigError([ConfigIssue("", f"override '{item}' must look like section.key=value")])
        path_text, _, value_text = item.partition("=")
        path = tuple(p.strip() for p in path_text.strip().split("."))
        if not all(path):
            raise ConfigError([ConfigIssue(path_text, f"override '{item}' has an empty key")])
        try:
            value = yaml.safe_load(value_text) if value_text.strip() else None
        except yaml.YAMLError:
            value = value_text
        node = data
        for part in path[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[path[-1]] = value
        applied.add(path)
    return applied


# --- kind dispatch


def _model_for(data: Any, kind: str | None, lines: dict) -> type[BaseModel]:
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue("", f"config must be a mapping with a 'kind' key, got {_show(data)}")])
    file_kind = data.get("kind")
    if file_kind is None and kind is not None:
        data["kind"] = file_kind = kind
    if file_kind is None:
        raise ConfigError([ConfigIssue("kind", f"kind is required (one of {', '.join(KINDS)})")])
    if file_kind not in MODELS:
        hint = _suggest(str(file_kind), KINDS)
        raise ConfigError([ConfigIssue("kind", f"kind must be one of {', '.join(KINDS)}, got {_show(file_kind)}{hint}", _line_for(lines, ("kind",)))])
    if kind is not None and file_kind != kind:
        raise ConfigError([ConfigIssue("kind", f"this is a {file_kind} config, expected {kind}", _line_for(lines, ("kind",)))])
    return MODELS[file_kind]


# --- pydantic errors -> one sentence each


def _issue_from_error(model_cls: type[BaseModel], err: dict, lines: dict, override_paths: set[tuple]) -> ConfigIssue:
    loc = tuple(err["loc"])
    path = ".".join(str(x) for x in loc)
    etype = err["type"]
    value = err.get("input")
    msg = _message(model_cls, loc, path, etype, err, value)
    line = None if _from_override(loc, override_paths) else _line_for(lines, loc, key=etype == "extra_forbidden")
    if _from_override(loc, override_paths):
        msg += " (from an override)"
    return ConfigIssue(path, msg, line)


def _from_override(loc: tuple, override_paths: set[tuple]) -> bool:
    return any(tuple(str(x) for x in loc[: len(p)]) == p for p in override_paths)


def _message(model_cls: type[BaseModel], loc: tuple, path: str, etype: str, err: dict, value: Any) -> str:
    if etype == "extra_forbidden":
        return _unknown_key_message(model_cls, loc)
    if etype == "missing":
        info = _field_at(model_cls, loc)
        if info is not None and _is_section(info.annotation):
            return f"section '{path}' is required"
        return f"{path} is required"
    if etype in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return f"{path} must be {_range_text(model_cls, loc)}, got {_show(value)}"
    if etype in ("float_parsing", "float_type"):
        return f"{path} must be a number, got {_show(value)}"
    if etype in ("int_parsing", "int_type", "int_from_float"):
        return f"{path} must be a whole number, got {_show(value)}"
    if etype in ("bool_parsing", "bool_type"):
        return f"{path} must be true or false, got {_show(value)}"
    if etype in ("string_type",):
        return f"{path} must be text, got {_show(value)}"
    if etype in ("string_too_short",):
        return f"{path} must not be empty"
    if etype == "literal_error":
        choices = _literal_choices(_field_at(model_cls, loc))
        return f"{path} must be one of {', '.join(choices)}, got {_show(value)}{_suggest(str(value), choices)}"
    if etype in ("model_type", "model_attributes_type", "dict_type"):
        return f"{path} must be a section (a mapping of keys to values), got {_show(value)}"
    if etype == "list_type":
        return f"{path} must be a list, got {_show(value)}"
    if etype == "too_short":
        return f"{path} must not be empty"
    if etype == "value_error":
        text = str(err.get("ctx", {}).get("error", err.get("msg", "")))
        return f"{path} {text}"
    return f"{path}: {err.get('msg', 'invalid value')}"


def _unknown_key_message(model_cls: type[BaseModel], loc: tuple) -> str:
    key = str(loc[-1])
    parent = loc[:-1]
    parent_cls = _model_at(model_cls, parent)
    known = list(parent_cls.model_fields) if parent_cls is not None else []
    where = f" in {'.'.join(str(x) for x in parent)}" if parent else ""
    hint = _suggest(key, known)
    if not hint:
        # A key put in the wrong section: training.cycles -> raft.cycles.
        for name, info in model_cls.model_fields.items():
            sub = _section_cls(info.annotation)
            if sub is not None and key in sub.model_fields and (name,) != tuple(parent):
                hint = f" (did you mean '{name}.{key}'?)"
                break
    return f"unknown key '{key}'{where}{hint}"


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return str(value)


def _dedupe(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    seen, out = set(), []
    for i in issues:
        if (i.field, i.message) not in seen:
            seen.add((i.field, i.message))
            out.append(i)
    return out


# --- schema walking


def _section_cls(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _is_section(annotation: Any) -> bool:
    return _section_cls(annotation) is not None


def _model_at(model_cls: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    cls: type[BaseModel] | None = model_cls
    for part in loc:
        if cls is None or str(part) not in cls.model_fields:
            return None
        cls = _section_cls(cls.model_fields[str(part)].annotation)
    return cls


def _field_at(model_cls: type[BaseModel], loc: tuple):
    if not loc:
        return None
    parent = _model_at(model_cls, loc[:-1])
    if parent is None:
        return None
    return parent.model_fields.get(str(loc[-1]))


def _bounds(info) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if info is None:
        return out
    for meta in info.metadata:
        for name in ("gt", "ge", "lt", "le"):
            if getattr(meta, name, None) is not None:
                out[name] = getattr(meta, name)
    return out


def _fmt_num(x: Any) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return str(x)


def _range_text(model_cls: type[BaseModel], loc: tuple) -> str:
    b = _bounds(_field_at(model_cls, loc))
    parts = []
    if "gt" in b:
        parts.append(f"> {_fmt_num(b['gt'])}")
    if "ge" in b:
        parts.append(f">= {_fmt_num(b['ge'])}")
    if "lt" in b:
        parts.append(f"< {_fmt_num(b['lt'])}")
    if "le" in b:
        parts.append(f"<= {_fmt_num(b['le'])}")
    return " and ".join(parts) if parts else "in range"


def _literal_choices(info) -> list[str]:
    if info is None:
        return []
    for arg in _flatten(info.annotation):
        if typing.get_origin(arg) is Literal:
            return [str(a) for a in typing.get_args(arg)]
    return []


def _flatten(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is Union or str(origin) == "types.UnionType" or type(annotation).__name__ == "UnionType":
        out = []
        for a in typing.get_args(annotation):
            out.extend(_flatten(a))
        return out
    return [annotation]


# ----------------------------------------------------------------------------- checks against the world


def known_datasets() -> list[str]:
    try:
        from core import datasets

        return list(datasets.CATALOGUE)
    except Exception:  # the catalogue module is optional for validation
        return list(_FALLBACK_DATASETS)


def known_verifiers() -> list[str]:
    try:
        from core.verifiers import registry
    except Exception:
        return list(_FALLBACK_VERIFIERS)
    for attr in ("names", "list_names", "available", "verifier_names"):
        fn = getattr(registry, attr, None)
        if callable(fn):
            try:
                return [str(n) for n in fn()]
            except Exception:
                break
    for attr in ("VERIFIERS", "REGISTRY", "_REGISTRY"):
        reg = getattr(registry, attr, None)
        if isinstance(reg, dict) and reg:
            return [str(n) for n in reg]
    return list(_FALLBACK_VERIFIERS)


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
    if isinstance(cfg, (SFTConfig, RAFTConfig)):
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
    if isinstance(cfg, VerifyConfig):
        cfg.samples = _absolutise(cfg.samples, base_dir)
        if not Path(cfg.samples).is_file():
            add(("samples",), f"samples: file not found: {cfg.samples}")
        if cfg.out:
            cfg.out = _absolutise(cfg.out, base_dir, must_exist=False)
        _check_verifier_name(cfg.verifier, ("verifier",), add)
    if isinstance(cfg, BenchmarkConfig) and cfg.output_dir:
        cfg.output_dir = _absolutise(cfg.output_dir, base_dir, must_exist=False)
    return issues


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
    try:
        from core import datasets
    except Exception:
        datasets = None
    if datasets is None:
        if name.lower() not in _FALLBACK_DATASETS:
            add(path, f"data.dataset: unknown dataset '{name}'; known: {', '.join(_FALLBACK_DATASETS)}")
        return
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


# ----------------------------------------------------------------------------- docs and templates


@dataclass(frozen=True)
class FieldDoc:
    path: str  # "training.learning_rate"
    type: str  # "float", "int", "bool", "str", "choice", "list[str] | str", ...
    default: Any  # JSON-able; None when the field is required or empty by default
    bounds: dict[str, Any]  # subset of gt/ge/lt/le
    help: str
    choices: tuple[str, ...] = ()
    required: bool = False


def schema_fields(kind: str) -> list[FieldDoc]:
    """Every leaf field of a job kind, in file order (sections flattened to dotted paths)."""
    if kind not in MODELS:
        raise ValueError(f"unknown kind '{kind}'; known: {', '.join(KINDS)}")
    out: list[FieldDoc] = []
    _walk_fields(MODELS[kind], "", out)
    if kind == "raft":
        preset = RAFT_PRESETS["conservative"]
        out = [
            FieldDoc(f.path, f.type, preset[f.path.split(".")[1]], f.bounds, f.help, f.choices, f.required)
            if f.path.startswith("raft.") and f.path.split(".")[1] in preset
            else f
            for f in out
        ]
    return out


def _walk_fields(cls: type[BaseModel], prefix: str, out: list[FieldDoc]) -> None:
    for name, info in cls.model_fields.items():
        sub = _section_cls(info.annotation)
        path = f"{prefix}{name}"
        if sub is not None:
            _walk_fields(sub, path + ".", out)
            continue
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        out.append(
            FieldDoc(
                path=path,
                type=_type_name(info.annotation),
                default=default,
                bounds=_bounds(info),
                help=info.description or "",
                choices=tuple(_literal_choices(info)),
                required=info.is_required(),
            )
        )


def _type_name(annotation: Any) -> str:
    parts = []
    for a in _flatten(annotation):
        if a is type(None):
            continue
        if typing.get_origin(a) is Literal:
            parts.append("choice")
        elif isinstance(a, type) and typing.get_origin(a) is None:
            parts.append(a.__name__)
        else:
            parts.append(str(a).replace("typing.", ""))
    return " | ".join(parts)


_TEMPLATE_VALUES: dict[str, dict[str, Any]] = {
    "sft": {"model.name": "tiny", "data.dataset": "alpaca"},
    "raft": {"model.name": "tiny", "data.dataset": "humaneval", "raft.verifier": "humaneval"},
    "benchmark": {"model.name": "tiny", "benchmark.name": "humaneval"},
    "verify": {"verifier": "humaneval", "samples": "samples.jsonl"},
    "command": {"command": ["python", "-c", "print('Step 1/1')"]},
}
# Sections worth writing out in a template (others keep their defaults).
_TEMPLATE_SKIP = {"executor.profile", "model.adapter", "training.output_dir", "training.resume_from", "output_dir", "out", "cwd"}


def template(kind: str, preset: str | None = None) -> str:
    """Commented YAML for the Config page: every field with its default and help.

    preset: 'default' for sft; 'conservative' | 'aggressive' | 'custom' for raft.
    The sft, raft, benchmark and command templates validate as they are.
    """
    if kind not in MODELS:
        raise ValueError(f"unknown kind '{kind}'; known: {', '.join(KINDS)}")
    if kind == "raft":
        preset = preset or "conservative"
        if preset not in RAFT_PRESETS:
            raise ValueError(f"unknown RAFT preset '{preset}'; known: {', '.join(RAFT_PRESETS)}")
    elif preset not in (None, "default"):
        raise ValueError(f"kind {kind} has only the 'default' preset, got '{preset}'")
    values = dict(_TEMPLATE_VALUES[kind])
    if kind == "raft":
        values["raft.preset"] = preset
        for key, v in RAFT_PRESETS[preset].items():
            values[f"raft.{key}"] = v
    lines = [f"# halo-forge {kind} job" + (f" ({preset} preset)" if preset else ""), f"kind: {kind}"]
    section = None
    for f in schema_fields(kind):
        if f.path == "kind" or f.path in _TEMPLATE_SKIP:
            continue
        head, _, leaf = f.path.rpartition(".")
        value = values.get(f.path, f.default)
        if head and head != section:
            lines.append(f"{head}:")
            section = head
        elif not head:
            section = None
        indent = "  " if head else ""
        if value is None:
            rendered = "null"
        else:
            rendered = yaml.safe_dump(value, default_flow_style=True, width=1000).strip()
            if rendered.endswith("\n...") or rendered.endswith("..."):
                rendered = rendered.replace("\n...", "").replace("...", "").strip()
        lines.append(f"{indent}{leaf}: {rendered}  # {_bounds_hint(f)}{f.help}")
    return "\n".join(lines) + "\n"


def _bounds_hint(f: FieldDoc) -> str:
    if f.choices:
        return f"[{' | '.join(f.choices)}] "
    if f.bounds:
        parts = []
        for key, sym in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            if key in f.bounds:
                parts.append(f"{sym}{_fmt_num(f.bounds[key])}")
        return f"[{' '.join(parts)}] "
    return ""


__all__ = [
    "KINDS", "RAFT_PRESETS", "ConfigIssue", "ConfigError", "FieldDoc",
    "ModelSection", "DataSection", "LoraSection", "TrainingSection", "RaftTrainingSection", "RaftSection",
    "ExecutorSection", "CpuExecutorSection", "BenchmarkSection",
    "SFTConfig", "RAFTConfig", "BenchmarkConfig", "VerifyConfig", "CommandConfig", "JobConfig", "MODELS",
    "parse_config", "load_config_file", "to_yaml", "to_json_dict", "schema_fields", "template",
    "known_datasets", "known_verifiers", "dataset_verifier", "job_resources",
]
