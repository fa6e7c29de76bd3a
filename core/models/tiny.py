"""A tiny Llama-architecture causal LM built offline from nothing but code we ship.

Used by the tests, the benches and the "tiny (offline, CPU)" preset: nothing on this machine
can reach the Hugging Face hub, yet every runner needs a real model with a real tokenizer and
chat template. The weights are random (seeded), so the model produces noise until trained.

Determinism: the corpus is a pure function of this file, SentencePiece BPE training (one
thread) is deterministic, and weights are drawn from a seeded generator, so the same seed
gives byte-identical files.

    python -m core.models.tiny [--out DIR] [--seed N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
from pathlib import Path

TINY_VOCAB_SIZE = 1024
# Bumped when the files change shape (2: SentencePiece tokenizer); an older build is rebuilt.
TINY_VERSION = 2
TINY_MAX_POSITIONS = 1024
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

# Qwen-style ChatML. The {% generation %} block marks assistant tokens, which is what TRL's
# assistant_only_loss needs to mask everything else.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}{{- message['content'] + '<|im_end|>' }}{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# Hand-written corpus pieces (ours). The templated part below adds variety so that BPE learns
# merges for the things tests train on: Python keywords, numbers, chat roles.
_CODE_SNIPPETS = [
    'def add(a, b):\n    """Return the sum of a and b."""\n    return a + b\n',
    "def is_even(n):\n    return n % 2 == 0\n",
    "def reverse_words(text):\n    return ' '.join(reversed(text.split()))\n",
    "def count_vowels(s):\n    return sum(1 for c in s.lower() if c in 'aeiou')\n",
    "def factorial(n):\n    result = 1\n    for i in range(2, n + 1):\n        result *= i\n    return result\n",
    "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
    "def max_of(items):\n    best = items[0]\n    for x in items:\n        if x > best:\n            best = x\n    return best\n",
    "class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n        self.items.append(x)\n\n    def pop(self):\n        return self.items.pop()\n",
    "import math\n\n\ndef circle_area(r):\n    return math.pi * r * r\n",
    "def unique(values):\n    seen = set()\n    out = []\n    for v in values:\n        if v not in seen:\n            seen.add(v)\n            out.append(v)\n    return out\n",
    "def parse_int(s, default=0):\n    try:\n        return int(s)\n    except ValueError:\n        return default\n",
    "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
    "with open(path) as f:\n    lines = [line.strip() for line in f]\n",
    "if __name__ == '__main__':\n    print(main())\n",
    "def clamp(x, lo, hi):\n    return max(lo, min(hi, x))\n",
    "def squares(n):\n    return [i * i for i in range(n)]\n",
    "def word_count(text):\n    counts = {}\n    for w in text.split():\n        counts[w] = counts.get(w, 0) + 1\n    return counts\n",
]

_CHAT_PAIRS = [
    ("What is the capital of France?", "The capital of France is Paris."),
    ("Give me a short greeting.", "Hello! How can I help you today?"),
    ("How many days are in a week?", "There are seven days in a week."),
    ("Explain what a function is.", "A function is a named block of code that takes inputs and returns a result."),
    ("Summarise: the cat sat on the mat.", "A cat sat on a mat."),
    ("What is 12 plus 30?", "12 plus 30 is 42."),
    ("Name three colours.", "Red, green and blue."),
    ("Translate 'thank you' to French.", "Merci."),
    ("Why is testing useful?", "Tests catch mistakes early and make changes safer."),
    ("Write a haiku about rain.", "Soft rain on the roof\nthe garden drinks in silence\nclouds drift to the east"),
]

_SYSTEM_PROMPTS = [
    "You are a helpful assistant.",
    "You are a careful Python programmer. Answer with code only.",
]


def build_corpus(seed: int = 0) -> list[str]:
    """The training text for the tokenizer: code, chat turns and numbers, deterministic."""
    rng = random.Random(seed)
    texts = list(_CODE_SNIPPETS)
    for q, a in _CHAT_PAIRS:
        sys_prompt = rng.choice(_SYSTEM_PROMPTS)
        texts.append(
            f"<|im_start|>system\n{sys_prompt}<|im_end|>\n<|im_start|>user\n{q}<|im_end|>\n"
            f"<|im_start|>assistant\n{a}<|im_end|>\n"
        )
    for n in range(200):
        name = rng.choice(["answer", "value", "get_number", "solve", "result", "compute"])
        texts.append(f"Write a Python function {name}() that returns {n}.")
        texts.append(f"def {name}():\n    return {n}\n")
        a, b = rng.randint(0, 99), rng.randint(0, 99)
        texts.append(f"What is {a} plus {b}? The answer is {a + b}.")
        texts.append(f"assert {name}() == {n}\nprint({a} * {b})\n")
    return texts


def _train_sentencepiece(corpus: list[str]) -> bytes:
    """A SentencePiece BPE model (the bytes of tokenizer.model), trained in about 0.1 s.

    SentencePiece rather than a `tokenizers` byte-level BPE because llama.cpp's HF -> GGUF
    converter only accepts byte-level BPEs whose pre-tokenizer it knows by hash; a
    SentencePiece model converts as is. Identity normalisation and no whitespace squashing
    keep code indentation; byte fallback means no text is ever <unk>. One thread: the same
    corpus gives byte-identical output.
    """
    import io

    import sentencepiece as spm

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus), model_writer=buf, model_type="bpe",
        vocab_size=TINY_VOCAB_SIZE, byte_fallback=True, character_coverage=1.0,
        normalization_rule_name="identity", remove_extra_whitespaces=False,
        add_dummy_prefix=False, split_digits=True, allow_whitespace_only_pieces=True,
        user_defined_symbols=SPECIAL_TOKENS, unk_id=0, bos_id=-1, eos_id=-1, pad_id=-1,
        num_threads=1, minloglevel=2, max_sentence_length=100_000,
    )
    return buf.getvalue()


def _train_tokenizer(corpus: list[str], out: Path):
    """Write tokenizer.model into out and return the transformers tokenizer built from it."""
    from transformers import AutoTokenizer

    (out / "tokenizer.model").write_bytes(_train_sentencepiece(corpus))
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "LlamaTokenizer", "legacy": False, "add_bos_token": False,
        "add_prefix_space": False,
        "add_eos_token": False, "bos_token": None, "unk_token": "<unk>",
        "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
        "model_max_length": TINY_MAX_POSITIONS, "padding_side": "right",
    }))
    tok = AutoTokenizer.from_pretrained(out)
    tok.chat_template = CHAT_TEMPLATE
    return tok


def declare_added_tokens(out: Path, tokenizer) -> None:
    """List the added (special) tokens in tokenizer_config.json as transformers 4 did.

    transformers 5 keeps them only in tokenizer.json; llama.cpp's converter reads them from
    tokenizer_config.json's `added_tokens_decoder`, and without it <|im_start|> would be plain
    text to llama.cpp instead of one control token.
    """
    path = Path(out) / "tokenizer_config.json"
    cfg = json.loads(path.read_text())
    cfg["added_tokens_decoder"] = {
        str(i): {"content": t.content, "lstrip": t.lstrip, "rstrip": t.rstrip, "normalized": t.normalized,
                 "single_word": t.single_word, "special": t.special}
        for i, t in sorted(tokenizer.added_tokens_decoder.items())}
    path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def _build_model(tokenizer, seed: int):
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    pad = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    # Llama rather than Qwen2: transformers 5 forces its byte-level Qwen2Tokenizer on any
    # qwen2 model, whatever tokenizer_class says, and that would not read our SentencePiece.
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=TINY_MAX_POSITIONS,
        tie_word_embeddings=True,
        bos_token_id=pad,
        eos_token_id=eos,
        pad_token_id=pad,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).to(torch.float32)
    model.generation_config = GenerationConfig(
        bos_token_id=pad, eos_token_id=eos, pad_token_id=pad, do_sample=False
    )
    return model


def build_tiny_model(out_dir: str | os.PathLike, seed: int = 0) -> Path:
    """Build the tiny model + tokenizer into out_dir and return it (created if needed).

    Offline and deterministic: the same seed gives byte-identical files.
    """
    out = Path(out_dir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = _train_tokenizer(build_corpus(seed), out)
    model = _build_model(tokenizer, seed)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    declare_added_tokens(out, tokenizer)
    (out / "halo_forge_tiny.json").write_text(
        json.dumps({"builder": "core.models.tiny", "version": TINY_VERSION, "seed": seed}, indent=2) + "\n"
    )
    return out


def is_tiny_model_dir(path: str | os.PathLike) -> bool:
    """True when path holds a complete tiny model built by this module."""
    p = Path(path).expanduser()
    try:
        marker = json.loads((p / "halo_forge_tiny.json").read_text())
    except (OSError, ValueError):
        return False
    return marker.get("version") == TINY_VERSION and (p / "model.safetensors").is_file()


def ensure_tiny_model(out_dir: str | os.PathLike, seed: int = 0) -> Path:
    """Build the tiny model into out_dir unless a complete one is already there."""
    p = Path(out_dir).expanduser().resolve()
    return p if is_tiny_model_dir(p) else build_tiny_model(p, seed)


def main(argv: list[str] | None = None) -> int:
    from core.models.presets import tiny_model_dir

    ap = argparse.ArgumentParser(description="Build the tiny offline model.")
    ap.add_argument("--out", default=None, help="output directory (default: the tiny preset's directory)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    out = build_tiny_model(args.out or tiny_model_dir(), seed=args.seed)
    print(f"tiny model written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
