"""The serve job process: start an engine on loopback, put the proxy in front, wait, supervise.

    run(config, job_dir)   # called by core.runner.job for kind `serve`

Life: resolve the source (fail at once with one sentence when it does not exist), merge an
adapter into JOB_DIR/merged when there is one (no engine here loads a LoRA adapter on its own
in the same way, so one path for all), bind the public port (next free if taken), start the
engine as a child (same process group: a stop reaches it), poll its /v1/models until it
answers, then print the MODEL_READY line that the supervisor turns into the job's endpoint and
its RUNNING state. Then watch: a stop request, the engine dying (FAILED with its last lines),
or the idle timeout (the job ends COMPLETED, saying so) ends it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from core.access import is_loopback, new_token
from core.runner.signals import stop_requested
from core.serving import READY_PREFIX, engines, sources
from core.serving.proxy import Proxy, free_loopback_port


def say(message: str) -> None:
    print(f"halo-forge: {message}", flush=True)


def run(config: dict, job_dir: Path) -> int:
    from core.configs import parse_config

    cfg = parse_config({**config, "kind": "serve"})
    job_dir = Path(job_dir)
    try:
        model, adapter, label = _resolve(cfg)
        has_gpu = _has_gpu()
        engine, why = engines.pick(cfg.engine, model, has_gpu)
    except (sources.SourceError, engines.EngineError, LookupError) as exc:
        print(f"error: {exc}", flush=True)
        return 1
    except RuntimeError as exc:  # ModelNotFoundError
        print(f"error: {exc}", flush=True)
        return 1
    say(f"engine {engine} ({why}) for {label}")
    merged = None
    if adapter:
        merged = job_dir / "merged"
        say(f"merging adapter {adapter} into {model} at {merged} (the engines here serve one "
            f"model directory; the merge is deleted when the job ends)")
        model = merge_adapter(model, adapter, merged)
    try:
        return _serve(cfg, job_dir, engine, model, label, has_gpu)
    finally:
        if merged is not None:
            shutil.rmtree(merged, ignore_errors=True)


def _resolve(cfg) -> tuple[str, str | None, str]:
    """(model path or hub id, adapter dir or None, label)."""
    from core.models.loading import resolve_model

    if cfg.job is not None:
        src = sources.from_job(cfg.job)
    else:
        src = sources.Source(cfg.model, None, cfg.model)
    adapter = sources.check_adapter(cfg.adapter) if cfg.adapter else src.adapter
    gguf = sources.gguf_file(src.model)
    if gguf:
        if adapter:
            raise sources.SourceError("a LoRA adapter cannot be put on a GGUF file here; "
                                      "export the merged model to GGUF instead")
        return gguf, None, src.label
    return resolve_model(src.model), adapter, src.label + (f" + {adapter}" if adapter and not cfg.job else "")


def _has_gpu() -> bool:
    from core.hardware import detect_gpus

    return bool(detect_gpus())


def merge_adapter(base: str, adapter: str, out: Path) -> str:
    """base + LoRA adapter → a plain model directory (peft's merge_and_unload)."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    shutil.rmtree(out, ignore_errors=True)
    merged.save_pretrained(str(out))
    tok_from = adapter if (Path(adapter) / "tokenizer_config.json").is_file() else base
    AutoTokenizer.from_pretrained(tok_from).save_pretrained(str(out))
    return str(out)


def _token(cfg, job_dir: Path) -> str | None:
    """None on loopback; beyond it the halo-forge token (JOB_DIR/token, else HALO_FORGE_TOKEN,
    else a new one written to JOB_DIR/token)."""
    if is_loopback(cfg.host):
        return None
    path = job_dir / "token"
    if path.is_file() and path.read_text().strip():
        return path.read_text().strip()
    token = os.environ.get("HALO_FORGE_TOKEN") or new_token()
    path.write_text(token)
    path.chmod(0o600)
    say(f"the endpoint is exposed on {cfg.host}: requests need 'Authorization: Bearer <token>' "
        f"(token in {path})")
    return token


def _serve(cfg, job_dir: Path, engine: str, model: str, label: str, has_gpu: bool) -> int:
    internal = free_loopback_port()
    try:
        proxy = Proxy(internal, host=cfg.host, port=cfg.port, token=_token(cfg, job_dir)).start()
    except OSError as exc:
        print(f"error: could not bind {cfg.host}:{cfg.port}: {exc}", flush=True)
        return 1
    if cfg.port and proxy.port != cfg.port:
        say(f"port {cfg.port} is in use; using {proxy.port}")
    name = Path(model).name if Path(model).exists() else model
    cmd = engines.command(engine, model, internal, name=name, has_gpu=has_gpu,
                          n_ctx=cfg.n_ctx, dtype=cfg.dtype)
    say(f"starting {engine}: {' '.join(cmd)}")
    child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    try:
        model_id = _wait_ready(child, internal, cfg.ready_timeout_s)
        if model_id is None:
            return 0 if stop_requested() else _engine_failed(child, engine, "before it was ready")
        endpoint = f"http://{_shown_host(cfg.host)}:{proxy.port}/v1"
        ready = {"endpoint": endpoint, "model": model_id, "engine": engine, "source": label}
        (job_dir / "endpoint.json").write_text(json.dumps(ready))
        print(READY_PREFIX + json.dumps(ready), flush=True)
        return _watch(cfg, child, proxy, engine)
    finally:
        _stop_child(child)
        proxy.close()


def _shown_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def _wait_ready(child: subprocess.Popen, port: int, timeout_s: float) -> str | None:
    """The served model's id once GET /v1/models answers; None when the engine died, the
    job was stopped, or the timeout passed."""
    deadline = time.monotonic() + timeout_s
    url = f"http://127.0.0.1:{port}/v1/models"
    while time.monotonic() < deadline:
        if stop_requested() or child.poll() is not None:
            return None
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                data = json.loads(resp.read())
            ids = [m.get("id") for m in data.get("data") or [] if m.get("id")]
            if ids:
                return ids[0]
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.25)
    print(f"error: the engine did not answer /v1/models within {timeout_s:.0f} s", flush=True)
    return None


def _watch(cfg, child: subprocess.Popen, proxy: Proxy, engine: str) -> int:
    idle_limit = cfg.idle_minutes * 60
    while True:
        if stop_requested():
            say("stop requested: shutting the server down")
            return 0
        if child.poll() is not None:
            return _engine_failed(child, engine, "while serving")
        if idle_limit and proxy.idle_seconds() >= idle_limit:
            say(f"no request for {cfg.idle_minutes:g} min (idle timeout): shutting the server "
                f"down after {proxy.requests} request(s)")
            return 0
        time.sleep(0.5)


def _engine_failed(child: subprocess.Popen, engine: str, when: str) -> int:
    rc = child.poll()
    print(f"error: the {engine} server exited with code {rc} {when}", flush=True)
    return 1


def _stop_child(child: subprocess.Popen) -> None:
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=15)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait(timeout=5)
