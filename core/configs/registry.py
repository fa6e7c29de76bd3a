"""The job kinds' config models, by kind, as `core/kinds.py` names them."""
from __future__ import annotations

import importlib

from pydantic import BaseModel

from core import kinds


def _load(ref: str) -> type[BaseModel]:
    module, _, cls = ref.partition(":")
    return getattr(importlib.import_module(module), cls)


MODELS: dict[str, type[BaseModel]] = {k.name: _load(k.config) for k in kinds.KINDS.values()}
KINDS = tuple(MODELS)
JobConfig = BaseModel  # any of MODELS' values
