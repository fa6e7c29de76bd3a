"""The AMD Strix Halo (gfx1151) environment a job process gets.

ROCm builds often lack gfx1151 kernels or misbehave on the APU, so a job on Strix Halo runs
with:

- HSA_OVERRIDE_GFX_VERSION=11.5.1: the runtime treats the GPU as gfx1151 (the override is
  process-wide: every GPU the process sees claims gfx1151, which is why the visible devices
  are narrowed to the gfx1151 ones by default);
- PYTORCH_ROCM_ARCH=gfx1151: the arch PyTorch builds extensions for;
- HIP_VISIBLE_DEVICES: the job's devices (the supervisor's slot assignment, or every gfx1151
  GPU in ROCm's numbering);
- PYTORCH_HIP_ALLOC_CONF=expandable_segments:True: fewer fragmentation OOMs in the shared pool;
- HSA_ENABLE_SDMA=0: copies by shader instead of the DMA engines, a common fix for hangs on APUs.

A variable the user already set (present in base_env, even empty) is never overridden, and
when the user already chose the devices (HIP_, ROCR_ or CUDA_VISIBLE_DEVICES), no
HIP_VISIBLE_DEVICES is added.
"""
from __future__ import annotations

from typing import Mapping

__all__ = ["STRIX_HALO_ARCH", "STRIX_HALO_ENV", "is_strix_halo", "strix_halo_env"]

STRIX_HALO_ARCH = "gfx1151"
STRIX_HALO_ENV = {
    "HSA_OVERRIDE_GFX_VERSION": "11.5.1",
    "PYTORCH_ROCM_ARCH": STRIX_HALO_ARCH,
    "PYTORCH_HIP_ALLOC_CONF": "expandable_segments:True",
    "HSA_ENABLE_SDMA": "0",
}
_DEVICE_VARS = ("HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES")
_NAMES = ("strix halo", "8060s", "8050s")


def is_strix_halo(gpu: Mapping) -> bool:
    """A detected GPU (core.hardware.detect_gpus) that is a Strix Halo: gfx1151 (with or
    without target features such as ":xnack-"), or, without an arch, its product name."""
    arch = str(gpu.get("arch") or "").strip().lower()
    if arch:
        return arch.split(":")[0] == STRIX_HALO_ARCH
    name = str(gpu.get("name") or "").lower()
    return gpu.get("vendor", "amd") == "amd" and any(n in name for n in _NAMES)


def _index(gpu: Mapping, position: int) -> str:
    index = gpu.get("index")
    return str(index) if isinstance(index, int) and index >= 0 else str(position)


def strix_halo_env(gpus: list[dict], base_env: Mapping[str, str], force: bool | None = None,
                   visible_devices: str | None = None) -> dict[str, str]:
    """The variables to add to base_env for a job: the Strix Halo set when a gfx1151 GPU is
    among the job's devices (all detected AMD GPUs when visible_devices is None), or always
    with force=True; never with force=False. Values already in base_env are left out."""
    if force is False:
        return {}
    amd = [(i, g) for i, g in enumerate(gpus) if g.get("vendor", "amd") == "amd"]
    halo = [_index(g, i) for i, g in amd if is_strix_halo(g)]
    if visible_devices is not None:
        chosen = {d.strip() for d in visible_devices.split(",") if d.strip()}
        applies = any(d in chosen for d in halo)
        devices: str | None = visible_devices
    else:
        applies = bool(halo)
        devices = ",".join(halo) or None
    if not applies and not force:
        return {}
    env = dict(STRIX_HALO_ENV)
    if devices is not None and not any(v in base_env for v in _DEVICE_VARS):
        env["HIP_VISIBLE_DEVICES"] = devices
    return {k: v for k, v in env.items() if k not in base_env}
