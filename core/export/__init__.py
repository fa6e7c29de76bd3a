

# Declared here, in a module without imports, so the CLI can offer them as choices without
# loading the config models (pydantic: about 0.3 s of every command's start).
FORMATS = ("merged", "gguf")
# f32/f16/bf16: llama.cpp's converter writes them; the others its quantizer makes from f16.
QUANTS = ("f16", "bf16", "f32", "q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0")
