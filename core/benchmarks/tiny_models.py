"""Tiny randomly initialised vision-language (LLaVA) and speech (Whisper) models, built offline.

They exist so that the VLM and audio benchmark paths run end to end on a machine that cannot
download anything: real processors, real `generate`, real save/reload. Their answers are noise.
Deterministic: the same seed gives the same weights and the same tokenizer.

    python -m core.benchmarks.tiny_models --llava DIR --whisper DIR
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

MARKER = "halo_forge_tiny.json"

LLAVA_SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>"]
WHISPER_SPECIALS = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|translate|>",
                    "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>",
                    "<|notimestamps|>"]

# ChatML with image placeholders: content may be a string or a list of {"type": "image"} /
# {"type": "text", "text": ...} parts, as processors' apply_chat_template pass it.
LLAVA_CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['content'] is string %}{{- message['content'] }}"
    "{%- else %}{%- for part in message['content'] %}"
    "{%- if part['type'] == 'image' %}{{- '<image>\\n' }}"
    "{%- elif part['type'] == 'text' %}{{- part['text'] }}{%- endif %}"
    "{%- endfor %}{%- endif %}"
    "{{- '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# Words the tiny tokenizers learn merges from: benchmark-style questions and answers (ours).
_CORPUS = [
    "What does the sign say? stop", "What colour is the circle? red blue green yellow",
    "How many triangles are in the image? Options: A: 1, B: 2, C: 3, D: 4 Answer: C",
    "What is the invoice number? INV-2041", "What is the total amount due? $141.00",
    "Which fruit sold the most crates? Apples", "What was the rainfall in February? 48",
    "the lantern swung slowly in the evening wind", "she folded the map and walked home",
    "please close the window before you leave", "the train to the city leaves at noon",
    "nobody had opened the old library door for years", "he counted seven boats on the sand",
    "my neighbour grows tomatoes on her balcony", "could you turn the music down a little",
    "Answer the question using a single word or phrase.", "The answer is B.",
] + [f"{i} {i * 3} {i / 4:.2f}" for i in range(60)]


def _bpe_tokenizer(specials: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tok.train_from_iterator(_CORPUS, trainer=trainer)
    return tok


def _mark(out: Path, kind: str, seed: int) -> None:
    (out / MARKER).write_text(json.dumps({"builder": f"core.benchmarks.tiny_models.{kind}",
                                          "seed": seed}, indent=2) + "\n")


def is_tiny_dir(path: str | os.PathLike, kind: str) -> bool:
    p = Path(path)
    try:
        info = json.loads((p / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return info.get("builder", "").endswith(f".{kind}") and (p / "model.safetensors").is_file()


# --------------------------------------------------------------------------------------------


def build_tiny_llava(out_dir: str | os.PathLike, seed: int = 0) -> Path:
    """LlavaForConditionalGeneration with a 2-layer CLIP vision tower (32 px, 8 px patches)
    and a 2-layer Qwen2 text model, plus its LlavaProcessor. About 0.3M parameters."""
    import torch
    from transformers import (CLIPImageProcessorPil, CLIPVisionConfig, GenerationConfig,
                              LlavaConfig, LlavaForConditionalGeneration, LlavaProcessor,
                              PreTrainedTokenizerFast, Qwen2Config)

    out = Path(out_dir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    tok = PreTrainedTokenizerFast(tokenizer_object=_bpe_tokenizer(LLAVA_SPECIALS, 400),
                                  eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                  padding_side="left", model_max_length=512)
    tok.chat_template = LLAVA_CHAT_TEMPLATE
    image_id = tok.convert_tokens_to_ids("<image>")
    eos, pad = tok.eos_token_id, tok.pad_token_id
    vision = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                              num_attention_heads=2, image_size=32, patch_size=8,
                              projection_dim=32)
    text = Qwen2Config(vocab_size=len(tok), hidden_size=64, intermediate_size=128,
                       num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                       max_position_embeddings=512, tie_word_embeddings=True,
                       bos_token_id=pad, eos_token_id=eos, pad_token_id=pad)
    config = LlavaConfig(vision_config=vision, text_config=text, image_token_index=image_id,
                         vision_feature_select_strategy="default", vision_feature_layer=-1,
                         projector_hidden_act="gelu")
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config).to(torch.float32).eval()
    model.generation_config = GenerationConfig(bos_token_id=pad, eos_token_id=eos,
                                               pad_token_id=pad, do_sample=False)
    image_processor = CLIPImageProcessorPil(size={"shortest_edge": 32},
                                            crop_size={"height": 32, "width": 32})
    processor = LlavaProcessor(image_processor=image_processor, tokenizer=tok, patch_size=8,
                               vision_feature_select_strategy="default",
                               num_additional_image_tokens=1, chat_template=LLAVA_CHAT_TEMPLATE)
    model.save_pretrained(out, safe_serialization=True)
    processor.save_pretrained(out)
    _mark(out, "build_tiny_llava", seed)
    return out


# --------------------------------------------------------------------------------------------

WHISPER_CHUNK_S = 10  # 10 s windows instead of 30 s: a smaller encoder, same code path


def build_tiny_whisper(out_dir: str | os.PathLike, seed: int = 0) -> Path:
    """WhisperForConditionalGeneration (1 encoder + 1 decoder layer, d_model 32, 10 s window)
    with a WhisperProcessor whose tokenizer carries Whisper's special tokens."""
    import torch
    from transformers import (GenerationConfig, WhisperConfig, WhisperFeatureExtractor,
                              WhisperForConditionalGeneration, WhisperProcessor,
                              WhisperTokenizerFast)

    out = Path(out_dir).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    bpe = _bpe_tokenizer([], 400)
    # Special tokens go after the text vocabulary, as in Whisper, with <|en|> right after
    # <|startoftranscript|> (the tokenizer derives language ids from that order).
    bpe.add_special_tokens(WHISPER_SPECIALS)
    tok = WhisperTokenizerFast(tokenizer_object=bpe, language="en", task="transcribe",
                               predict_timestamps=False, eos_token="<|endoftext|>",
                               bos_token="<|endoftext|>", unk_token="<|endoftext|>",
                               pad_token="<|endoftext|>", model_max_length=64)
    ids = {t: tok.convert_tokens_to_ids(t) for t in WHISPER_SPECIALS}
    feature_extractor = WhisperFeatureExtractor(feature_size=80, sampling_rate=16_000,
                                                hop_length=160, chunk_length=WHISPER_CHUNK_S)
    frames = WHISPER_CHUNK_S * 100
    config = WhisperConfig(vocab_size=len(tok), num_mel_bins=80, d_model=32,
                           encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                           decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                           max_source_positions=frames // 2, max_target_positions=64,
                           pad_token_id=ids["<|endoftext|>"], bos_token_id=ids["<|endoftext|>"],
                           eos_token_id=ids["<|endoftext|>"],
                           decoder_start_token_id=ids["<|startoftranscript|>"],
                           suppress_tokens=[], begin_suppress_tokens=[])
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config).to(torch.float32).eval()
    gen = GenerationConfig(decoder_start_token_id=ids["<|startoftranscript|>"],
                           bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|endoftext|>"],
                           pad_token_id=ids["<|endoftext|>"], max_length=64, num_beams=1,
                           do_sample=False)
    gen.no_timestamps_token_id = ids["<|notimestamps|>"]
    gen.is_multilingual = True
    gen.lang_to_id = {"<|en|>": ids["<|en|>"]}
    gen.task_to_id = {"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]}
    gen.suppress_tokens = []
    gen.begin_suppress_tokens = []
    # Without this, save_pretrained regenerates the config from the model and drops the maps.
    gen._from_model_config = False
    model.generation_config = gen
    processor = WhisperProcessor(feature_extractor=feature_extractor, tokenizer=tok)
    model.save_pretrained(out, safe_serialization=True)
    processor.save_pretrained(out)
    _mark(out, "build_tiny_whisper", seed)
    return out


BUILDERS = {"tiny-llava": build_tiny_llava, "tiny-whisper": build_tiny_whisper}
_KIND = {"tiny-llava": "build_tiny_llava", "tiny-whisper": "build_tiny_whisper"}


def ensure_tiny(name: str, out_dir: str | os.PathLike, seed: int = 0) -> Path:
    """Build the named tiny model into out_dir unless a complete one is already there."""
    if name not in BUILDERS:
        raise ValueError(f"unknown tiny model {name!r}; choose one of {', '.join(BUILDERS)}")
    out = Path(out_dir).expanduser().resolve()
    return out if is_tiny_dir(out, _KIND[name]) else BUILDERS[name](out, seed)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Build the tiny offline LLaVA and Whisper models.")
    ap.add_argument("--llava", help="output directory for the tiny LLaVA")
    ap.add_argument("--whisper", help="output directory for the tiny Whisper")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.llava:
        print(f"tiny LLaVA written to {build_tiny_llava(args.llava, args.seed)}")
    if args.whisper:
        print(f"tiny Whisper written to {build_tiny_whisper(args.whisper, args.seed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
