"""Job configs: one typed, documented pydantic model per job kind, and the YAML file format.

LIGHT package (pydantic + yaml; core.datasets / core.verifiers only for name look-ups): the
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

Layout: one module per job kind's model (`sft`, `raft`, `benchmark`, `verify`, `command`) over
the shared `sections`; `registry` maps kind -> model (a new kind is a new module and one entry
there); `parsing` (YAML -> validated model), `yamlfile` (line numbers, overrides), `messages`
(pydantic errors -> one sentence per field), `checks` (datasets, verifiers, files), `docs`
(field docs and templates for forms and the Config page).
"""
from __future__ import annotations

from core.configs.benchmark import BenchmarkConfig, BenchmarkSection
from core.configs.checks import dataset_verifier, job_resources, known_datasets, known_verifiers
from core.configs.command import CommandConfig
from core.configs.docs import FieldDoc, schema_fields, template
from core.configs.errors import ConfigError, ConfigIssue
from core.configs.parsing import load_config_file, parse_config, to_json_dict, to_yaml
from core.configs.dpo import DPOConfig, DpoSection, DpoTrainingSection
from core.configs.grpo import GRPO_PRESETS, GRPOConfig, GrpoSection, GrpoTrainingSection
from core.configs.raft import RAFT_PRESETS, RAFTConfig, RaftSection, RaftTrainingSection
from core.configs.registry import KINDS, MODELS, JobConfig
from core.configs.sections import (CpuExecutorSection, DataSection, ExecutorSection, LoraSection,
                                   ModelSection, TrainingSection)
from core.configs.sft import SFTConfig
from core.configs.verify import VerifyConfig

__all__ = [
    "KINDS", "RAFT_PRESETS", "GRPO_PRESETS", "GRPOConfig", "GrpoSection", "GrpoTrainingSection",
    "DPOConfig", "DpoSection", "DpoTrainingSection", "ConfigIssue", "ConfigError", "FieldDoc",
    "ModelSection", "DataSection", "LoraSection", "TrainingSection", "RaftTrainingSection", "RaftSection",
    "ExecutorSection", "CpuExecutorSection", "BenchmarkSection",
    "SFTConfig", "RAFTConfig", "BenchmarkConfig", "VerifyConfig", "CommandConfig", "JobConfig", "MODELS",
    "parse_config", "load_config_file", "to_yaml", "to_json_dict", "schema_fields", "template",
    "known_datasets", "known_verifiers", "dataset_verifier", "job_resources",
]
