"""A served model against in-process `generate`: time to first token, tokens/s, memory.

The tiny offline model is served by a real `serve` job (a supervisor on a temporary home,
engine `transformers serve` behind the job's proxy) and asked the same chat prompts, greedy,
streamed, as `model.generate` in this process with the same chat template. Prints per path the
median TTFT and median decode tokens/s, the ratio endpoint / in-process, and the resident
memory of the serve job's processes (the engine, and the whole job: wrapper + runner/proxy +
engine).

Run: .venv/bin/python bench/serve.py [--prompts 5] [--new-tokens 64] [--repeats 3]
     [--hidden 512 --layers 8]   (a wider random model with the tiny tokenizer)
Figures depend on the CPU and on what else runs; the tiny model is random, so only speed is
meaningful, not text. The model is tiny, so fixed costs (HTTP, SSE, the proxy hop) weigh more
here than they would on a real model.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# One torch thread on both sides (the engine inherits it through the supervisor): on a shared
# 2-core machine a second thread only fights the other processes and makes figures noisy.
os.environ.setdefault("OMP_NUM_THREADS", "1")

PROMPTS = ["What is the capital of France?", "Give me a short greeting.",
           "How many days are in a week?", "Explain what a function is.",
           "Write a haiku about rain.", "Name three colours.", "Why is testing useful?"]
SYSTEM = "You are a helpful assistant."


def in_process(model_dir: str, new_tokens: int):
    """A function prompt -> (ttft, decode tokens/s, tokens) with the model loaded here."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.generation.streamers import BaseStreamer

    class Clock(BaseStreamer):
        """Times each generated token (generate calls put() once with the prompt first)."""

        def __init__(self):
            self.times: list[float] = []
            self.calls = 0

        def put(self, value):
            self.calls += 1
            if self.calls > 1:
                self.times.append(time.perf_counter())

        def end(self):
            pass

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()

    def one(prompt: str) -> tuple:
        msgs = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]
        ids = tok.apply_chat_template(msgs, add_generation_prompt=True, return_tensors="pt",
                                      return_dict=True)
        clock = Clock()
        t0 = time.perf_counter()
        with torch.no_grad():
            model.generate(**ids, max_new_tokens=new_tokens, do_sample=False, streamer=clock)
        n = len(clock.times)
        ttft = clock.times[0] - t0
        rate = (n - 1) / (clock.times[-1] - clock.times[0]) if n > 1 else None
        return ttft, rate, n

    return one


def widen(tiny_dir: Path, out: Path, hidden: int, layers: int) -> str:
    """The tiny model's tokenizer and config with wider, deeper random weights (seeded): a
    model whose per-token compute is closer to a real one's, so fixed per-token costs of the
    server (SSE chunk, JSON, event loop) weigh what they would there."""
    import shutil

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    shutil.copytree(tiny_dir, out)
    cfg = AutoConfig.from_pretrained(tiny_dir)
    cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers = hidden, hidden * 3, layers
    cfg.num_attention_heads, cfg.num_key_value_heads = hidden // 64, max(1, hidden // 128)
    torch.manual_seed(0)
    for f in out.glob("model*.safetensors*"):
        f.unlink()
    AutoModelForCausalLM.from_config(cfg).save_pretrained(out)
    return str(out)


def endpoint(url: str, prompt: str, new_tokens: int) -> tuple:
    from core import chat

    reply = chat.Reply()
    msgs = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]
    for _piece in chat.stream(url, msgs, chat.Params(temperature=0.0, max_tokens=new_tokens), reply):
        pass
    return reply.ttft_s, reply.tokens_per_s, reply.tokens


def engine_url(job: dict) -> str:
    """The engine's internal endpoint, read from the job's `starting ...` log line."""
    import re

    log = (Path(job["job_dir"]) / "output.log").read_text()
    port = re.search(r"halo-forge: starting \w+: .* --port (\d+)", log).group(1)
    return f"http://127.0.0.1:{port}/v1"


def rss_mb(root_pid: int) -> tuple[float, float]:
    """(largest single process, whole process group) resident memory in MB."""
    import psutil

    procs = [p for p in psutil.process_iter(["pid"]) if _pgid(p.pid) == root_pid]
    sizes = []
    for p in procs:
        try:
            sizes.append(p.memory_info().rss / 2**20)
        except psutil.Error:
            pass
    return (max(sizes) if sizes else 0.0, sum(sizes))


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _summary(rows: list[tuple]) -> tuple[float, float, float]:
    ttfts = [r[0] for r in rows if r[0] is not None]
    rates = [r[1] for r in rows if r[1]]
    return statistics.median(ttfts), statistics.median(rates), statistics.mean(r[2] for r in rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prompts", type=int, default=5)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--hidden", type=int, default=0,
                    help="serve a wider random model (e.g. 512) instead of the tiny one")
    ap.add_argument("--layers", type=int, default=8)
    args = ap.parse_args()
    prompts = PROMPTS[: args.prompts]

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        os.environ["HALO_FORGE_HOME"] = str(home)
        os.environ["HALO_FORGE_POLL_S"] = "0.2"
        from core.models.tiny import build_tiny_model
        from core.serving import service

        model_dir = str(build_tiny_model(Path(tmp) / "tiny", seed=0))
        if args.hidden:
            model_dir = widen(Path(model_dir), Path(tmp) / "wide", args.hidden, args.layers)
        sup = subprocess.Popen([sys.executable, "-m", "core.cli", "supervisor", "run"], cwd=ROOT,
                               env=dict(os.environ, PYTHONPATH=str(ROOT)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                               start_new_session=True)
        try:
            t0 = time.perf_counter()
            job_id = service.start(model_dir, port=0, idle_minutes=0)
            job = service.wait_ready(job_id, timeout=600)
            ready_s = time.perf_counter() - t0
            url = job["endpoint"]
            local_one = in_process(model_dir, args.new_tokens)
            endpoint(url, prompts[0], 4)  # warm-up (the first request loads lazy parts)
            local_one(prompts[0])
            direct = engine_url(job)  # the engine's own loopback port, behind our proxy
            served, local, bare = [], [], []
            for _ in range(args.repeats):  # interleaved: all paths see the same machine load
                for prompt in prompts:
                    served.append(endpoint(url, prompt, args.new_tokens))
                    bare.append(endpoint(direct, prompt, args.new_tokens))
                    local.append(local_one(prompt))
            engine_mb, group_mb = rss_mb(job["pid"])
            from core import jobs

            jobs.request_stop(job_id)
            service_stop_wait(job_id)
        finally:
            sup.terminate()
            sup.wait(timeout=30)

    s_ttft, s_rate, s_n = _summary(served)
    l_ttft, l_rate, l_n = _summary(local)
    b_ttft, b_rate, b_n = _summary(bare)
    what = f"random model hidden {args.hidden} x {args.layers} layers" if args.hidden else "tiny model"
    print(f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}; {what}, {len(prompts)} prompts x {args.repeats}, greedy, up to {args.new_tokens} new tokens, streamed")
    print(f"serve job ready (submit -> MODEL_READY): {ready_s:.1f} s")
    print(f"{'path':<28}{'TTFT median':>14}{'tokens/s median':>18}{'tokens/reply':>14}")
    print(f"{'in-process generate':<28}{l_ttft * 1000:>11.1f} ms{l_rate:>18.1f}{l_n:>14.1f}")
    print(f"{'engine port (no proxy)':<28}{b_ttft * 1000:>11.1f} ms{b_rate:>18.1f}{b_n:>14.1f}")
    print(f"{'endpoint (serve job)':<28}{s_ttft * 1000:>11.1f} ms{s_rate:>18.1f}{s_n:>14.1f}")
    print(f"ratio endpoint / in-process: tokens/s {s_rate / l_rate:.2f}, TTFT {s_ttft / l_ttft:.2f}x")
    print(f"the proxy hop: TTFT +{(s_ttft - b_ttft) * 1000:.1f} ms, tokens/s x{s_rate / b_rate:.2f}")
    print(f"serve job memory (RSS): engine process {engine_mb:.0f} MB, whole job {group_mb:.0f} MB")
    return 0


def service_stop_wait(job_id: int, timeout: float = 60) -> None:
    from core import jobs, ledger

    deadline = time.monotonic() + timeout
    while jobs.get(job_id)["status"] not in ledger.FINAL and time.monotonic() < deadline:
        time.sleep(0.2)


if __name__ == "__main__":
    raise SystemExit(main())
