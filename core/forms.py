"""The Training form's logic: flat form values <-> sectioned job config, errors per field.

LIGHT module (pydantic + yaml through core.configs; no torch, no SQL): pages/training.py is
a thin view over it. The schema in core.configs stays the one source of truth: the form has
no bounds of its own, it builds the config dict and lets `parse_config` judge it, then maps
each ConfigIssue back to the form field it came from so the page shows it under that widget.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from core import configs, executor_kinds

FORM_KINDS = ("sft", "raft", "grpo", "dpo")
EXECUTORS = executor_kinds.names()
GENERAL = ""  # the errors key for problems that belong to no single field

# form field -> config path; the order is the form's order.
_COMMON: dict[str, str] = {
    "model": "model.name",
    "gradient_checkpointing": "model.gradient_checkpointing",
    "trust_remote_code": "model.trust_remote_code",
    "dataset": "data.dataset",
    "limit": "data.limit",
    "watch_benchmarks": "data.watch_benchmarks",
    "epochs": "training.epochs",
    "batch_size": "training.batch_size",
    "learning_rate": "training.learning_rate",
    "max_steps": "training.max_steps",
    "lora_r": "lora.r",
    "lora_alpha": "lora.alpha",
    "export_after": "training.export_after",
    "executor": "executor.name",
    "profile": "executor.profile",
}
_RAFT: dict[str, str] = {
    "preset": "raft.preset",
    "verifier": "raft.verifier",
    "cycles": "raft.cycles",
    "samples_per_prompt": "raft.samples_per_prompt",
    "temperature": "raft.temperature",
    "keep_percent": "raft.keep_percent",
    "reward_threshold": "raft.reward_threshold",
}
_GRPO: dict[str, str] = {
    "grpo_preset": "grpo.preset",
    "verifier": "grpo.verifier",
    "steps": "grpo.steps",
    "num_generations": "grpo.num_generations",
    "max_completion_length": "grpo.max_completion_length",
    "temperature": "grpo.temperature",
    "beta": "grpo.beta",
    "loss_type": "grpo.loss_type",
    "epsilon": "grpo.epsilon",
}
_DPO: dict[str, str] = {
    "dpo_beta": "dpo.beta",
    "dpo_loss_type": "dpo.loss_type",
}
# Left out of the config when empty, so the schema's own default (or the preset) applies.
_OPTIONAL = {"limit", "verifier", "profile", "watch_benchmarks"}
SAMPLING_FIELDS = tuple(configs.RAFT_PRESETS["conservative"])  # what a RAFT preset fills
# The preset field of each kind that has presets, and the form fields its preset fills.
PRESET_FIELD = {"raft": "preset", "grpo": "grpo_preset"}
PRESET_FILLS = {"raft": SAMPLING_FIELDS, "grpo": ("loss_type", "beta", "epsilon", "temperature")}


class FormError(ValueError):
    """The form cannot be launched: `errors` maps form field ('' = general) to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(m for ms in errors.values() for m in ms))


TRUST_WARNING = ("Trust remote code runs Python shipped in the model's hub repository, with your "
                 "permissions, inside the job: turn it on only for repositories you trust.")


def field_paths(kind: str) -> dict[str, str]:
    """form field -> dotted config path for a form kind."""
    if kind not in FORM_KINDS:
        raise ValueError(f"the training form has no kind '{kind}'; known: {', '.join(FORM_KINDS)}")
    if kind == "raft":
        return {**_COMMON, **_RAFT}
    if kind == "grpo":  # GRPO counts steps in grpo.steps, not epochs
        return {**{k: v for k, v in _COMMON.items() if k not in ("epochs", "max_steps")}, **_GRPO}
    if kind == "dpo":
        return {**_COMMON, **_DPO}
    return dict(_COMMON)


def defaults(kind: str) -> dict[str, Any]:
    """Initial form values, taken from the schema's defaults (RAFT: the conservative preset)."""
    docs = {f.path: f for f in configs.schema_fields(kind)}
    out: dict[str, Any] = {}
    for field, path in field_paths(kind).items():
        value = docs[path].default
        if field == "learning_rate":
            value = format_number(value)
        out[field] = value
    out["model"] = _tiny_alias()
    out["dataset"] = next(iter(e.name for e in _dataset_entries(kind)), "")
    if kind in ("raft", "grpo"):
        out["verifier"] = ""  # the dataset's own
    if kind == "grpo":
        out.update(preset_values("dapo", "grpo"))
    return out


def format_number(value: float) -> str:
    """A learning rate as people write it: 0.0002 -> '2e-4', 5e-05 -> '5e-5'."""
    text = f"{value:g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        text = f"{mantissa}e{int(exp)}"
    elif value and abs(value) < 0.01:
        mantissa, exp = f"{value:e}".split("e")
        text = f"{float(mantissa):g}e{int(exp)}"
    return text


def build_config(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    """The sectioned config dict for parse_config; values the form left empty are omitted."""
    config: dict[str, Any] = {"kind": kind}
    for field, path in field_paths(kind).items():
        if field not in values:
            continue
        value = values[field]
        if isinstance(value, str):
            value = value.strip()
        if field in _OPTIONAL and value in (None, "", []):
            continue
        if field == "profile" and values.get("executor", "local") == "local":
            continue  # a profile only means something for ray / slurm
        section, _, leaf = path.partition(".")
        config.setdefault(section, {})[leaf] = value
    return config


def errors_by_field(kind: str, issues: list[configs.ConfigIssue]) -> dict[str, list[str]]:
    """Group config issues by the form field they belong to ('' when no field shows it)."""
    by_path = {path: field for field, path in field_paths(kind).items()}
    out: dict[str, list[str]] = {}
    for issue in issues:
        field = by_path.get(issue.field, GENERAL)
        messages = out.setdefault(field, [])
        if issue.message not in messages:
            messages.append(issue.message)
    return out


def validate(kind: str, values: dict[str, Any], *, full: bool = True) -> tuple[dict | None, dict[str, list[str]]]:
    """(validated JSON config or None, errors by field).

    full=False checks only types and ranges (cheap: for every rerun while the user types);
    full=True also checks the dataset, verifier, model and profile (before a launch).
    """
    cfg, errors = None, {}
    try:
        cfg = configs.parse_config(build_config(kind, values), kind=kind, check_files=full)
    except configs.ConfigError as exc:
        errors = errors_by_field(kind, exc.errors)
    if full and not {"model", "executor", "profile"} & set(errors):
        # Checked even when other fields are wrong, so that one Launch shows every problem.
        executor = values.get("executor") or "local"
        if executor == "local":
            _check_model(str(values.get("model") or "").strip(), errors)
        else:
            _check_profile(executor, values.get("profile") or None, errors)
    return (configs.to_json_dict(cfg) if cfg is not None and not errors else None), errors


def launch(kind: str, values: dict[str, Any], name: str | None = None) -> int:
    """Validate everything, then queue the job; returns its id. FormError when anything is wrong."""
    config, errors = validate(kind, values, full=True)
    if errors:
        raise FormError(errors)
    from core import jobs  # the ledger: imported only when something is queued

    try:
        return jobs.submit(kind, config, name=(name or "").strip() or None)
    except configs.ConfigError as exc:
        raise FormError(errors_by_field(kind, exc.errors)) from None
    except (jobs.JobError, ImportError) as exc:
        raise FormError({GENERAL: [str(exc)]}) from None


def to_yaml(kind: str, values: dict[str, Any]) -> str:
    """The form as a short sectioned YAML config (only what the form sets)."""
    try:
        cfg = configs.parse_config(build_config(kind, values), kind=kind, check_files=False)
    except configs.ConfigError as exc:
        raise FormError(errors_by_field(kind, exc.errors)) from None
    data = cfg.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    return yaml.safe_dump({"kind": kind, **{k: v for k, v in data.items() if k != "kind"}},
                          sort_keys=False, default_flow_style=False)


# ----------------------------------------------------------------------------- RAFT presets


def _presets(kind: str) -> dict[str, dict[str, Any]]:
    return configs.GRPO_PRESETS if kind == "grpo" else configs.RAFT_PRESETS


def preset_values(preset: str, kind: str = "raft") -> dict[str, Any]:
    """The form fields a preset fills (RAFT: sampling; GRPO: the loss recipe; custom starts
    from the first preset)."""
    presets = _presets(kind)
    if preset not in presets:
        raise ValueError(f"unknown {kind.upper()} preset '{preset}'; known: {', '.join(presets)}")
    return {k: v for k, v in presets[preset].items() if k in PRESET_FILLS[kind]}


def preset_after_edit(preset: str, values: dict[str, Any], kind: str = "raft") -> str:
    """The preset to show after the user edits a field it fills: 'custom' once they differ."""
    wanted = preset_values(preset, kind) if preset in _presets(kind) else {}
    same = all(_same(values.get(k), v) for k, v in wanted.items())
    return preset if same and preset != "custom" else "custom"


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    try:
        return abs(float(a) - float(b)) < 1e-9
    except (TypeError, ValueError):
        return False


# ----------------------------------------------------------------------------- choices


@dataclass(frozen=True)
class Choices:
    options: list[str]
    labels: dict[str, str]

    def label(self, value: Any) -> str:
        return self.labels.get(value, str(value))

    def with_value(self, value: Any) -> "Choices":
        """The same choices plus `value` (e.g. a typed hub id) when it is not among them."""
        if value in (None, "") or value in self.options:
            return self
        return Choices([*self.options, value], self.labels)


def model_choices(cached: list[str] = (), local: list[str] = ()) -> Choices:
    """Model presets first (tiny, Qwen2.5-Coder, DeepSeek-Coder, ...), then cached hub models
    and local model directories (pass them in: scanning the hub cache is worth caching)."""
    from core.models.presets import model_presets, tiny_model_dir

    options, labels = [], {}
    for p in model_presets():
        options.append(p.name)
        labels[p.name] = p.label if p.name == _tiny_alias() else f"{p.label} · {p.name}"
    # The tiny preset's own directory is the preset: listing it again shows `tiny` twice.
    same_as_preset = {str(tiny_model_dir().resolve())}
    for name, tag in [*((c, "cached") for c in cached), *((d, "local") for d in local)]:
        if tag == "local" and str(Path(name).resolve()) in same_as_preset:
            continue
        if name not in labels:
            options.append(name)
            labels[name] = f"{name} ({tag})"
    return Choices(options, labels)


def dataset_choices(kind: str, root: str | Path) -> Choices:
    """Catalogue datasets usable for `kind`, then local files (under root) in a usable schema."""
    from core import datasets

    options, labels = [], {}
    for entry in _dataset_entries(kind):
        options.append(entry.name)
        labels[entry.name] = entry.title
    root = Path(root)
    for path in datasets.local_files(root):
        try:
            schema = datasets.peek_schema(path)
        except (ValueError, OSError, UnicodeDecodeError):
            continue  # the Datasets page shows why a file is unusable
        if kind in datasets.schema_uses(schema):
            options.append(str(path))
            labels[str(path)] = f"{path.relative_to(root)} (local file, {schema})"
    return Choices(options, labels)


def verifier_choices(dataset: str) -> Choices:
    """'' = the dataset's own verifier, then every registered verifier."""
    own = configs.dataset_verifier(dataset) if dataset else None
    labels = {"": f"the dataset's own ({own})" if own else "the dataset's own (it has none)"}
    names = configs.known_verifiers()
    return Choices(["", *names], {**labels, **{n: n for n in names}})


def profile_choices(executor: str) -> list[str]:
    """Saved cluster profiles for ray / slurm (none until core.runner.profiles exists)."""
    if executor == "local":
        return []
    profiles = _profiles_module()
    if profiles is None:
        return []
    try:
        everything = profiles.load_all()
    except Exception:  # a broken profiles file is reported when launching, not here
        return []
    return sorted(n for n, p in everything.items() if _profile_executor(p) == executor)


def _profile_executor(profile: Any) -> str | None:
    if isinstance(profile, dict):
        return profile.get("executor")
    return getattr(profile, "executor", None)


def _profiles_module():
    try:
        from core.runner import profiles
    except ImportError:
        return None
    return profiles


# ----------------------------------------------------------------------------- launch checks


def _check_model(name: str, errors: dict[str, list[str]]) -> None:
    problem = model_problem(name)
    if problem:
        errors.setdefault("model", []).append(f"model.name: {problem}")


def model_problem(name: str) -> str | None:
    """Why a model cannot load here (missing local path, uncached hub model while offline),
    or None. Checked before queueing so that the job does not fail minutes later."""
    if name == _tiny_alias():
        return None  # the job builds the tiny model on first use
    from core.models.loading import ModelNotFoundError, resolve_model  # light at call time

    try:
        resolve_model(name, build_tiny=False)
    except ModelNotFoundError as exc:
        return str(exc)
    return None


def _check_profile(executor: str, profile: str | None, errors: dict[str, list[str]]) -> None:
    profiles = _profiles_module()
    if profiles is None:
        errors.setdefault("executor", []).append(
            f"executor.name: the {executor} executor is not installed in this copy of halo-forge")
        return
    check = getattr(profiles, "check_usable", None)
    if check is None:
        return
    try:
        check(executor, profile)
    except Exception as exc:  # its message names the profile and what is wrong with it
        text = str(exc)
        field = "executor" if text.startswith("executor.name") else "profile"
        if not text.startswith("executor."):
            text = f"executor.profile: {text}"
        errors.setdefault(field, []).append(text)


def _tiny_alias() -> str:
    from core.models.presets import TINY_ALIAS

    return TINY_ALIAS


def _dataset_entries(kind: str):
    from core import datasets

    return datasets.entries(kind)


# ----------------------------------------------------------------------------- the YAML editor

# Config page templates: label -> (kind, preset). Each validates as it is.
TEMPLATES: dict[str, tuple[str, str | None]] = {
    "SFT": ("sft", None),
    "RAFT · conservative": ("raft", "conservative"),
    "RAFT · aggressive": ("raft", "aggressive"),
    "RAFT · custom": ("raft", "custom"),
    "GRPO · dapo": ("grpo", "dapo"),
    "GRPO · grpo": ("grpo", "grpo"),
    "GRPO · dr_grpo": ("grpo", "dr_grpo"),
    "DPO": ("dpo", None),
    "Benchmark": ("benchmark", None),
    "Command": ("command", None),
    "Export": ("export", None),
    "Serve": ("serve", None),
}


def template_text(label: str) -> str:
    if label not in TEMPLATES:
        raise ValueError(f"unknown template '{label}'; known: {', '.join(TEMPLATES)}")
    return configs.template(*TEMPLATES[label])


def check_text(text: str) -> tuple[Any, list[configs.ConfigIssue]]:
    """(config or None, issues) for the editor: the schema, the files it names, and the
    model when it runs here; every issue with its line where the YAML has one."""
    try:
        cfg = configs.parse_config(text)
    except configs.ConfigError as exc:
        return None, list(exc.errors)
    issues: list[configs.ConfigIssue] = []
    model = getattr(cfg, "model", None)
    executor = getattr(getattr(cfg, "executor", None), "name", "local")
    # A serve config names its model as a plain string (a .gguf file is checked by the job).
    name, path = (model, ("model",)) if isinstance(model, str) else (
        getattr(model, "name", None), ("model", "name"))
    if name and executor == "local" and not name.lower().endswith(".gguf"):
        problem = model_problem(name)
        if problem:
            issues.append(configs.ConfigIssue(".".join(path), f"{'.'.join(path)}: {problem}",
                                              _line_of(text, path)))
    if executor != "local":
        found: dict[str, list[str]] = {}
        _check_profile(executor, cfg.executor.profile, found)
        for field, messages in found.items():
            path = ("executor", "name" if field == "executor" else "profile")
            line = _line_of(text, path) or _line_of(text, ("executor",))
            issues += [configs.ConfigIssue(".".join(path), m, line) for m in messages]
    return (None if issues else cfg), issues


def launch_text(text: str, name: str | None = None) -> int:
    """Queue the editor's config; ConfigError (with lines) when it is not valid."""
    cfg, issues = check_text(text)
    if issues:
        raise configs.ConfigError(issues)
    from core import jobs

    return jobs.submit(cfg.kind, configs.to_json_dict(cfg), name=(name or "").strip() or None)


def ace_annotations(issues: list[configs.ConfigIssue]) -> list[dict[str, Any]]:
    """Gutter markers for streamlit-ace (rows are 0-based)."""
    return [{"row": i.line - 1, "column": 0, "type": "error", "text": i.message}
            for i in issues if i.line]


def _line_of(text: str, path: tuple[str, ...]) -> int | None:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    for part in path:
        if not isinstance(node, yaml.MappingNode):
            return None
        match = [v for k, v in node.value if getattr(k, "value", None) == part]
        if not match:
            return None
        node = match[0]
    return node.start_mark.line + 1
