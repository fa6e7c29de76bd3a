"""core.rocm_env.strix_halo_env: when the Strix Halo variables apply, and that the user wins."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.hardware import parse_amd_smi_static, parse_rocminfo
from core.rocm_env import STRIX_HALO_ENV, is_strix_halo, strix_halo_env

FIX = Path(__file__).parent / "fixtures" / "telemetry"
HALO = {"index": 0, "vendor": "amd", "name": None, "arch": "gfx1151", "memory_total": None,
        "source": "kfd"}
NAVI31 = {"index": 0, "vendor": "amd", "name": "AMD Radeon RX 7900 XTX", "arch": "gfx1100",
          "memory_total": None, "source": "kfd"}
H200 = {"index": 0, "vendor": "nvidia", "name": "NVIDIA H200", "arch": "sm_90",
        "memory_total": None, "source": "nvml"}
FULL = {"HSA_OVERRIDE_GFX_VERSION": "11.5.1", "PYTORCH_ROCM_ARCH": "gfx1151",
        "PYTORCH_HIP_ALLOC_CONF": "expandable_segments:True", "HSA_ENABLE_SDMA": "0",
        "HIP_VISIBLE_DEVICES": "0"}


def test_detected_gfx1151_gets_everything():
    assert strix_halo_env([HALO], {"PATH": "/usr/bin"}) == FULL


def test_from_real_detection_output():
    gpus = parse_rocminfo((FIX / "rocminfo_strix_halo.txt").read_text())
    assert strix_halo_env(gpus, {}) == FULL
    gpus = parse_amd_smi_static((FIX / "amd_smi_static_strix_halo.json").read_text())
    assert strix_halo_env(gpus, {}) == FULL


@pytest.mark.parametrize("gpus", [[], [NAVI31], [H200], [{**HALO, "vendor": "nvidia"}]])
def test_no_strix_halo_no_variables(gpus):
    assert strix_halo_env(gpus, {}) == {}


def test_force_true_without_detection():
    assert strix_halo_env([], {}, force=True) == STRIX_HALO_ENV  # no device list to give
    assert strix_halo_env([NAVI31], {}, force=True, visible_devices="0") == \
        {**STRIX_HALO_ENV, "HIP_VISIBLE_DEVICES": "0"}


def test_force_false_never_applies():
    assert strix_halo_env([HALO], {}, force=False) == {}
    assert strix_halo_env([HALO], {}, force=False, visible_devices="0") == {}


def test_user_values_win():
    base = {"HSA_OVERRIDE_GFX_VERSION": "11.0.0", "HSA_ENABLE_SDMA": "", "PATH": "/bin"}
    env = strix_halo_env([HALO], base)
    assert "HSA_OVERRIDE_GFX_VERSION" not in env and "HSA_ENABLE_SDMA" not in env
    assert env == {k: v for k, v in FULL.items() if k not in base}


@pytest.mark.parametrize("var", ["HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES"])
def test_user_chosen_devices_win(var):
    env = strix_halo_env([HALO], {var: "0"}, visible_devices="0")
    assert "HIP_VISIBLE_DEVICES" not in env and env["HSA_OVERRIDE_GFX_VERSION"] == "11.5.1"


def test_mixed_gpus_narrowed_to_gfx1151():
    halo = {**HALO, "index": 1}
    assert strix_halo_env([NAVI31, halo], {})["HIP_VISIBLE_DEVICES"] == "1"


def test_supervisor_slot_assignment():
    halo = {**HALO, "index": 1}
    assert strix_halo_env([NAVI31, halo], {}, visible_devices="1")["HIP_VISIBLE_DEVICES"] == "1"
    # the job was given the gfx1100 only: the gfx1151 override would break it
    assert strix_halo_env([NAVI31, halo], {}, visible_devices="0") == {}
    assert strix_halo_env([NAVI31, halo], {}, visible_devices="0, 1")["HIP_VISIBLE_DEVICES"] == "0, 1"


@pytest.mark.parametrize("gpu, expected", [
    ({"arch": "gfx1151"}, True), ({"arch": "GFX1151"}, True), ({"arch": "gfx1151:xnack-"}, True),
    ({"arch": "gfx1150"}, False), ({"arch": "gfx11510"}, False),
    ({"arch": None, "name": "AMD Radeon 8060S"}, True),
    ({"arch": None, "name": "Strix Halo [Radeon Graphics / Radeon 8050S / 8060S Graphics]"}, True),
    ({"arch": None, "name": "AMD Radeon RX 7900 XTX"}, False), ({}, False),
])
def test_is_strix_halo(gpu, expected):
    assert is_strix_halo(gpu) is expected


def test_values_are_strings():
    env = strix_halo_env([HALO], {}, visible_devices="0")
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())
