from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """The tiny offline model, built once per test session."""
    from core.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny", seed=0)


# The benchmark tests' models: the tiny text model, and a copy fine-tuned to reproduce one
# HumanEval answer (so a job's pass@1 is neither 0 nor 1).
from tests.benchmarks.conftest import MEMORISED, memorised_tiny, tiny_text  # noqa: E402,F401
