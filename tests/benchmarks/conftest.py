"""Tiny models built once per session (offline, seeded) for the benchmark tests."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_llava(tmp_path_factory):
    from core.benchmarks.tiny_models import build_tiny_llava

    return build_tiny_llava(tmp_path_factory.mktemp("tiny-llava"))


@pytest.fixture(scope="session")
def tiny_whisper(tmp_path_factory):
    from core.benchmarks.tiny_models import build_tiny_whisper

    return build_tiny_whisper(tmp_path_factory.mktemp("tiny-whisper"))


@pytest.fixture(scope="session")
def tiny_text(tmp_path_factory):
    from core.models.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-text"))
