"""Which engine serves a model, and the command line that starts it. Light: no torch.

The engines are the field's own servers; halo-forge only starts them on a loopback port:
- transformers: `transformers serve MODEL` (CPU, ROCm, CUDA; also reads GGUF weights),
- vllm: vLLM's OpenAI server (a GPU and the vllm package),
- llamacpp: `python -m llama_cpp.server` (llama-cpp-python[server]) for GGUF files.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ENGINES = ("transformers", "vllm", "llamacpp")
# `transformers serve` without relying on the console script being on PATH.
_TRANSFORMERS_MAIN = "import sys; from transformers.cli.transformers import main; sys.exit(main())"


class EngineError(ValueError):
    """An engine that cannot serve this model here; the message is one sentence."""


def is_gguf(source: str) -> bool:
    return str(source).lower().endswith(".gguf")


def installed(engine: str) -> bool:
    modules = {"transformers": ("transformers", "fastapi", "uvicorn"), "vllm": ("vllm",),
               "llamacpp": ("llama_cpp", "uvicorn", "fastapi")}[engine]
    return all(importlib.util.find_spec(m) is not None for m in modules)


def pick(requested: str, source: str, has_gpu: bool) -> tuple[str, str]:
    """(engine, why) for serving `source`; raises EngineError with one sentence when the
    requested engine cannot serve it here."""
    if requested not in ("auto",) + ENGINES:
        raise EngineError(f"engine must be auto, {', '.join(ENGINES)}; got {requested!r}")
    gguf = is_gguf(source)
    if requested == "auto":
        if gguf:
            engine, why = "llamacpp", "a GGUF file is served by llama.cpp"
            if not installed("llamacpp"):
                engine, why = "transformers", "llama-cpp-python[server] is not installed"
        elif has_gpu and installed("vllm"):
            engine, why = "vllm", "vLLM is installed and a GPU is present"
        else:
            engine = "transformers"
            why = "no GPU for vLLM" if not has_gpu else "vLLM is not installed"
    else:
        engine, why = requested, "asked for"
    if engine == "llamacpp" and not gguf:
        raise EngineError(f"engine llamacpp serves GGUF files only and {source} is not a .gguf "
                          f"file (export it to GGUF first, or use engine transformers)")
    if engine == "vllm" and gguf:
        raise EngineError("engine vllm is not used for GGUF files here; use llamacpp or "
                          "transformers")
    if engine == "vllm" and not has_gpu:
        raise EngineError("engine vllm needs a GPU and none was detected; use transformers")
    if not installed(engine):
        package = {"transformers": "transformers[serving]", "vllm": "vllm",
                   "llamacpp": "llama-cpp-python[server]"}[engine]
        raise EngineError(f"engine {engine} is not installed (pip install '{package}')")
    return engine, why


def command(engine: str, model: str, port: int, *, name: str, has_gpu: bool = False,
            n_ctx: int = 2048, dtype: str = "auto") -> list[str]:
    """The engine's own server on 127.0.0.1:port (only the proxy is reachable from outside)."""
    py = sys.executable
    if engine == "transformers":
        target = model
        if is_gguf(model):  # transformers names GGUF weights `<repo or dir>:<file>.gguf`
            target = f"{Path(model).parent}:{Path(model).name}"
        return [py, "-c", _TRANSFORMERS_MAIN, "serve", target, "--host", "127.0.0.1",
                "--port", str(port), "--dtype", dtype, "--log-level", "warning"]
    if engine == "vllm":
        return [py, "-m", "vllm.entrypoints.openai.api_server", "--model", model,
                "--served-model-name", name, "--host", "127.0.0.1", "--port", str(port),
                "--dtype", dtype]
    if engine == "llamacpp":
        return [py, "-m", "llama_cpp.server", "--model", model, "--model_alias", name,
                "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx),
                "--n_gpu_layers", "-1" if has_gpu else "0"]
    raise EngineError(f"unknown engine {engine!r}")
