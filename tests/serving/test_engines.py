"""Engine choice (auto and explicit) and the command lines the engines are started with."""
from __future__ import annotations

import pytest

from core.serving import engines
from core.serving.engines import EngineError


@pytest.fixture
def all_installed(monkeypatch):
    monkeypatch.setattr(engines, "installed", lambda engine: True)


def test_auto_picks_llamacpp_for_gguf_vllm_on_gpu_else_transformers(all_installed):
    assert engines.pick("auto", "/m/model.Q8_0.gguf", has_gpu=False)[0] == "llamacpp"
    assert engines.pick("auto", "/m/model", has_gpu=True) == \
        ("vllm", "vLLM is installed and a GPU is present")
    assert engines.pick("auto", "/m/model", has_gpu=False) == ("transformers", "no GPU for vLLM")


def test_auto_without_vllm_or_llamacpp_falls_back_to_transformers(monkeypatch):
    monkeypatch.setattr(engines, "installed", lambda engine: engine == "transformers")
    assert engines.pick("auto", "/m/model", has_gpu=True) == \
        ("transformers", "vLLM is not installed")
    engine, why = engines.pick("auto", "/m/f.gguf", has_gpu=False)
    assert engine == "transformers" and "llama-cpp-python" in why


@pytest.mark.parametrize("requested, source, gpu, words", [
    ("llamacpp", "/m/model", False, "GGUF files only"),
    ("vllm", "/m/f.gguf", True, "not used for GGUF"),
    ("vllm", "/m/model", False, "needs a GPU"),
    ("ollama", "/m/model", False, "engine must be"),
])
def test_impossible_choices_are_one_sentence(all_installed, requested, source, gpu, words):
    with pytest.raises(EngineError, match=words):
        engines.pick(requested, source, has_gpu=gpu)


def test_missing_engine_names_the_package(monkeypatch):
    monkeypatch.setattr(engines, "installed", lambda engine: False)
    with pytest.raises(EngineError, match=r"pip install 'vllm'"):
        engines.pick("vllm", "/m/model", has_gpu=True)


def test_commands_bind_loopback_only():
    t = engines.command("transformers", "/m/tiny", 4321, name="tiny")
    assert t[t.index("--host") + 1] == "127.0.0.1" and t[t.index("--port") + 1] == "4321"
    assert "serve" in t and "/m/tiny" in t
    g = engines.command("transformers", "/m/d/f.gguf", 1, name="f")
    assert "/m/d:f.gguf" in g  # transformers' `<dir>:<file>.gguf` form
    v = engines.command("vllm", "/m/tiny", 1, name="tiny", has_gpu=True)
    assert v[v.index("--served-model-name") + 1] == "tiny" and v[v.index("--host") + 1] == "127.0.0.1"
    c = engines.command("llamacpp", "/m/f.gguf", 1, name="f", n_ctx=512)
    assert c[2] == "llama_cpp.server" and c[c.index("--n_ctx") + 1] == "512"
    assert c[c.index("--host") + 1] == "127.0.0.1" and c[c.index("--n_gpu_layers") + 1] == "0"
