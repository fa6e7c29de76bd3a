"""HF model directory -> GGUF with llama.cpp's own converter and quantizer.

The converter (`convert_hf_to_gguf.py`, see core.export.converter) runs as a child process of
the job (it is a script, and its output goes to the job's log); f32 / f16 / bf16 come straight
from it. Other types are quantized from an f16 file with `llama_cpp.llama_model_quantize`,
the same code as llama.cpp's `llama-quantize` tool, in this process.
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from core.export.converter import script
from core.export.source import CONVERTER_OUTTYPES

QUANT_FTYPES = {"q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0", "q4_0": "LLAMA_FTYPE_MOSTLY_Q4_0",
                "q4_k_m": "LLAMA_FTYPE_MOSTLY_Q4_K_M", "q5_k_m": "LLAMA_FTYPE_MOSTLY_Q5_K_M",
                "q6_k": "LLAMA_FTYPE_MOSTLY_Q6_K"}
QUANTS = CONVERTER_OUTTYPES + tuple(QUANT_FTYPES)


class ConversionError(RuntimeError):
    """The converter or quantizer failed; the message says which and why (last log line)."""


def convert(hf_dir: Path, out_file: Path, outtype: str, log=print, stats: dict | None = None) -> Path:
    """Run llama.cpp's converter; its output is streamed into our log. stats gets the
    converter's peak RSS in MB (sampled at each line it prints: ru_maxrss would count the
    memory of the process it was forked from)."""
    import psutil

    cmd = [sys.executable, str(script()), str(hf_dir), "--outfile", str(out_file), "--outtype", outtype]
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    env.pop("NO_LOCAL_GGUF", None)  # the converter must use its own gguf-py, not another copy
    log(f"converting with llama.cpp: {' '.join(cmd[1:])}")
    last, peak = "", 0
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as proc:
        for line in proc.stdout:
            try:
                peak = max(peak, psutil.Process(proc.pid).memory_info().rss)
            except psutil.Error:
                pass
            line = line.rstrip()
            if line and not line.startswith("Writing:"):  # a progress bar per chunk: noise
                log(f"  convert: {line}")
                last = line
        rc = proc.wait()
    if stats is not None:
        stats["converter_peak_rss_mb"] = max(stats.get("converter_peak_rss_mb", 0), round(peak / 2**20, 1))
    if rc != 0 or not out_file.is_file():
        raise ConversionError(f"llama.cpp's converter failed (exit {rc}): {last}")
    return out_file


def quantize(src: Path, dst: Path, quant: str, threads: int = 0) -> Path:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, QUANT_FTYPES[quant])
    params.nthread = threads
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(params))
    if rc != 0 or not dst.is_file():
        raise ConversionError(f"llama.cpp's quantizer failed to write {quant} (return code {rc})")
    return dst


def export_gguf(hf_dir: Path, out_dir: Path, quant: str, stem: str, log=print, stats: dict | None = None) -> Path:
    """Write out_dir/<stem>-<quant>.gguf (an f16 intermediate is removed after quantizing)."""
    final = out_dir / f"{stem}-{quant}.gguf"
    if quant in CONVERTER_OUTTYPES:
        return convert(hf_dir, final, quant, log, stats)
    f16 = out_dir / f".{stem}-f16.intermediate.gguf"
    try:
        convert(hf_dir, f16, "f16", log, stats)
        log(f"quantizing to {quant} with llama.cpp")
        quantize(f16, final, quant)
    finally:
        f16.unlink(missing_ok=True)
    return final


def tensor_types(gguf_file: Path) -> dict[str, int]:
    """How many tensors of each GGUF type a file holds (shows k-quant fallbacks honestly)."""
    sys.path.insert(0, str(script().parent / "gguf-py"))
    try:
        from gguf import GGUFReader
    finally:
        sys.path.pop(0)
    reader = GGUFReader(str(gguf_file))
    return dict(sorted(Counter(t.tensor_type.name for t in reader.tensors).items()))
