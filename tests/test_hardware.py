"""core.hardware: parsers on fixtures in each tool's format, sysfs and KFD trees in tmp_path,
and the sampling order through fake executables (this machine has no GPU and no GPU tools)."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import types
from pathlib import Path

import pytest

from core import hardware
from core.hardware import (GpuSample, detect_gpus, gfx_arch, parse_amd_smi, parse_amd_smi_static,
                           parse_nvidia_smi, parse_rocm_smi, parse_rocminfo, read_kfd, read_nvml,
                           read_sysfs, sample_gpus, sample_host)

FIX = Path(__file__).parent / "fixtures" / "telemetry"
MIB = 1024 * 1024


def fixture(name: str) -> str:
    return (FIX / name).read_text()


@pytest.fixture(autouse=True)
def _fresh_state(monkeypatch):
    monkeypatch.setattr(hardware, "_last_source", None)
    hardware._detected.cache_clear()
    yield
    hardware._detected.cache_clear()


# ---- amd-smi -------------------------------------------------------------------------------

def test_amd_smi_gpu_data_shape_strix_halo():
    [s] = parse_amd_smi(fixture("amd_smi_metric_gpu_data_strix_halo.json"))
    assert s == GpuSample(device="0", name=None, utilization=87.0, mem_used=389 * MIB,
                          mem_total=512 * MIB, gtt_used=41217 * MIB, gtt_total=98304 * MIB,
                          temperature=58.0, power=71.0, source="amd-smi")


def test_amd_smi_list_shape_with_na_values():
    first, second = parse_amd_smi(fixture("amd_smi_metric_list_two_gpus.json"))
    assert (first.device, first.utilization, first.temperature, first.power) == ("0", 3.0, 44.0, 29.0)
    assert (first.mem_used, first.gtt_total) == (1534 * MIB, 31946 * MIB)
    # {"value": "N/A"} power, "N/A" edge temperature (hotspot is read instead), "N/A" GTT
    assert (second.device, second.power, second.temperature) == ("1", None, 88.0)
    assert (second.gtt_used, second.gtt_total, second.mem_used) == (None, None, 20480 * MIB)


def test_amd_smi_all_na_is_an_empty_sample():
    [s] = parse_amd_smi(fixture("amd_smi_metric_all_na.json"))
    assert s.device == "0" and s.empty()


@pytest.mark.parametrize("text", [
    fixture("amd_smi_metric_empty.txt"), fixture("amd_smi_metric_truncated.txt"), "not json",
    "null", "[1, 2]", '{"gpu_data": "N/A"}', '{"error": "amdgpu driver not loaded"}', "\x00\xff",
])
def test_amd_smi_nothing_usable(text):
    assert parse_amd_smi(text) == []


@pytest.mark.parametrize("node, expected", [
    ({"value": 2, "unit": "GB"}, 2 * 1024 * MIB), ({"value": 2048, "unit": "KB"}, 2 * MIB),
    ({"value": 512, "unit": "B"}, 512.0), ({"value": "512", "unit": "MB"}, 512 * MIB),
    (3, 3 * MIB), ({"value": 5, "unit": "parsecs"}, None), ({"value": "N/A", "unit": "MB"}, None),
])
def test_amd_smi_memory_units(node, expected):
    assert hardware._amd_bytes(node) == expected


def test_amd_smi_milliwatts():
    assert hardware._amd_watts({"value": 71500, "unit": "mW"}) == 71.5


def test_amd_smi_static():
    [g] = parse_amd_smi_static(fixture("amd_smi_static_strix_halo.json"))
    assert g == {"index": 0, "vendor": "amd", "name": "AMD Radeon 8060S", "arch": "gfx1151",
                 "memory_total": 512 * MIB, "source": "amd-smi"}


# ---- rocm-smi ------------------------------------------------------------------------------

def test_rocm_smi_strix_halo():
    [s] = parse_rocm_smi(fixture("rocm_smi_strix_halo.json"))
    assert s == GpuSample(device="0", name="Strix Halo [Radeon Graphics / Radeon 8050S / 8060S Graphics]",
                          utilization=94.0, mem_used=409247744.0, mem_total=536870912.0,
                          gtt_used=43218771968.0, gtt_total=103079215104.0, temperature=57.0,
                          power=68.113, source="rocm-smi")


def test_rocm_smi_two_discrete_cards():
    a, b = parse_rocm_smi(fixture("rocm_smi_two_discrete.json"))
    assert (a.device, a.utilization, a.temperature, a.power) == ("0", 99.0, 46.0, 287.0)
    assert a.name.startswith("Navi 31") and a.mem_used is None  # only a percentage, no total
    # "N/A" edge temperature -> junction; used bytes "N/A" -> percentage of the total
    assert (b.device, b.temperature, b.power, b.mem_total, b.mem_used) == \
        ("1", 38.0, None, 25753026560.0, 0.0)


@pytest.mark.parametrize("text", [
    fixture("rocm_smi_empty.txt"), fixture("rocm_smi_truncated.txt"), "   \n", "[]",
    '{"system": {"Driver version": "6.10.5"}}', '{"card0": "N/A"}',
])
def test_rocm_smi_nothing_usable(text):
    assert parse_rocm_smi(text) == []


def test_rocm_smi_log_line_before_json():
    text = "WARNING: a message on stdout\n" + fixture("rocm_smi_strix_halo.json")
    assert parse_rocm_smi(text)[0].utilization == 94.0


# ---- nvidia-smi and NVML -------------------------------------------------------------------

def test_nvidia_smi_query():
    h200, rtx = parse_nvidia_smi(fixture("nvidia_smi_query.csv"))
    assert h200 == GpuSample(device="0", name="NVIDIA H200", utilization=97.0,
                             mem_used=130712 * MIB, mem_total=143771 * MIB, temperature=63.0,
                             power=612.45, source="nvidia-smi")
    assert (rtx.device, rtx.mem_used, rtx.power) == ("1", 3 * MIB, 17.81)


def test_nvidia_smi_not_available_values():
    mig, k80 = parse_nvidia_smi(fixture("nvidia_smi_query_na.csv"))
    assert (mig.utilization, mig.temperature, mig.power, mig.mem_used) == (None, None, None, 11 * MIB)
    assert (k80.utilization, k80.power, k80.temperature) == (None, None, 31.0)


def test_nvidia_smi_odd_lines():
    text = "0, Card, with comma, 5, 1, 2, 30, 40.5\nnot,enough\nx, bad index, 1, 1, 1, 1, 1\n"
    [s] = parse_nvidia_smi(text)
    assert (s.name, s.utilization, s.power) == ("Card, with comma", 5.0, 40.5)
    assert parse_nvidia_smi(fixture("nvidia_smi_empty.csv")) == []


def test_read_nvml_without_a_driver_is_empty():
    assert read_nvml() == []  # nvidia-ml-py is installed here, the driver library is not


class FakeNVMLError(Exception):
    pass


def fake_pynvml(fail_init: bool = False) -> types.ModuleType:
    """Mirrors the nvidia-ml-py calls read_nvml makes (same names, units: bytes, mW)."""
    nv = types.ModuleType("pynvml")
    nv.NVML_TEMPERATURE_GPU = 0
    nv.calls = []

    def init():
        if fail_init:
            raise FakeNVMLError("NVML Shared Library Not Found")

    def not_supported(*_):
        raise FakeNVMLError("Not Supported")

    nv.nvmlInit = init
    nv.nvmlShutdown = lambda: nv.calls.append("shutdown")
    nv.nvmlDeviceGetCount = lambda: 2
    nv.nvmlDeviceGetHandleByIndex = lambda i: f"h{i}"
    nv.nvmlDeviceGetName = lambda h: {"h0": "NVIDIA H200", "h1": b"Tesla K80"}[h]
    nv.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=42, memory=10)
    nv.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(used=5 * MIB, total=80 * MIB, free=75 * MIB)
    nv.nvmlDeviceGetTemperature = lambda h, sensor: 51
    nv.nvmlDeviceGetPowerUsage = lambda h: 123456 if h == "h0" else not_supported()
    nv.nvmlDeviceGetCudaComputeCapability = lambda h: (9, 0)
    return nv


def test_read_nvml_with_bindings(monkeypatch):
    nv = fake_pynvml()
    monkeypatch.setitem(sys.modules, "pynvml", nv)
    h200, k80 = read_nvml()
    assert h200 == GpuSample(device="0", name="NVIDIA H200", utilization=42.0, mem_used=5 * MIB,
                             mem_total=80 * MIB, temperature=51.0, power=123.456, source="nvml")
    assert (k80.name, k80.power) == ("Tesla K80", None)
    assert nv.calls == ["shutdown"]


def test_read_nvml_failed_init(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(fail_init=True))
    assert read_nvml() == []


# ---- sysfs ---------------------------------------------------------------------------------

def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def fake_drm(root: Path) -> Path:
    dev = root / "card1" / "device"  # card0 is often a simple framebuffer: skipped below
    write(root / "card0" / "device" / "vendor", "0x1af4")
    write(dev / "vendor", "0x1002")
    write(dev / "gpu_busy_percent", "93")
    write(dev / "mem_info_vram_used", str(389 * MIB))
    write(dev / "mem_info_vram_total", str(512 * MIB))
    write(dev / "mem_info_gtt_used", str(41217 * MIB))
    write(dev / "mem_info_gtt_total", str(98304 * MIB))
    write(dev / "hwmon" / "hwmon5" / "temp1_input", "57000")
    write(dev / "hwmon" / "hwmon5" / "power1_average", "68113000")
    (root / "card1-DP-1").mkdir()  # a connector, not a card
    second = root / "card10" / "device"
    write(second / "gpu_busy_percent", "garbage")
    write(second / "mem_info_vram_total", str(24560 * MIB))
    write(second / "mem_info_vram_used", "")
    write(second / "hwmon" / "hwmon2" / "power1_input", "17810000")
    write(second / "product_name", "AMD Radeon RX 7900 XTX")
    return root


def test_read_sysfs(tmp_path):
    apu, card = read_sysfs(fake_drm(tmp_path))
    assert apu == GpuSample(device="0", name=None, utilization=93.0, mem_used=389 * MIB,
                            mem_total=512 * MIB, gtt_used=41217 * MIB, gtt_total=98304 * MIB,
                            temperature=57.0, power=68.113, source="sysfs")
    assert card == GpuSample(device="1", name="AMD Radeon RX 7900 XTX", utilization=None,
                             mem_used=None, mem_total=24560 * MIB, temperature=None,
                             power=17.81, source="sysfs")


def test_read_sysfs_missing_root(tmp_path):
    assert read_sysfs(tmp_path / "absent") == []
    assert read_sysfs(tmp_path) == []


# ---- KFD and rocminfo ----------------------------------------------------------------------

@pytest.mark.parametrize("version, arch", [
    (110501, "gfx1151"), (110000, "gfx1100"), (90010, "gfx90a"), (90402, "gfx942"),
    (100300, "gfx1030"), (120001, "gfx1201"), (0, None),
])
def test_gfx_arch(version, arch):
    assert gfx_arch(version) == arch


def fake_kfd(root: Path, *targets: int) -> Path:
    write(root / "0" / "properties", "cpu_cores_count 32\nsimd_count 0\ngfx_target_version 0")
    for n, target in enumerate(targets, start=1):
        node = 10 if n == len(targets) and n > 2 else n  # node 10 sorts after node 2
        write(root / str(node) / "properties",
              f"cpu_cores_count 0\nsimd_count 80\ndevice_id 5510\nvendor_id 4098\n"
              f"gfx_target_version {target}\ndrm_render_minor {127 + n}")
    return root


def test_read_kfd(tmp_path):
    gpus = read_kfd(fake_kfd(tmp_path, 110000, 120001, 110501))
    assert [(g["index"], g["arch"]) for g in gpus] == [(0, "gfx1100"), (1, "gfx1201"), (2, "gfx1151")]
    assert gpus[0]["device_id"] == "0x1586" and gpus[0]["vendor"] == "amd"
    assert read_kfd(tmp_path / "absent") == []


def test_parse_rocminfo():
    [g] = parse_rocminfo(fixture("rocminfo_strix_halo.txt"))
    assert (g["index"], g["name"], g["arch"], g["source"]) == (0, "AMD Radeon Graphics", "gfx1151", "rocminfo")
    assert parse_rocminfo("") == [] and parse_rocminfo("garbage\nAgent 1\n  Name: x") == []


# ---- the sampling order, through fake executables ------------------------------------------

def fake_tool(bindir: Path, name: str, body: str) -> None:
    bindir.mkdir(exist_ok=True)
    path = bindir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No real tool, NVML or sysfs: only what a test puts in tmp_path."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setattr(hardware, "_import_pynvml", lambda: None)
    monkeypatch.setattr(hardware, "DRM_ROOT", str(tmp_path / "drm"))
    monkeypatch.setattr(hardware, "KFD_NODES", str(tmp_path / "kfd"))
    return bindir


def test_sample_gpus_prefers_amd_smi(isolated):
    metric = FIX / "amd_smi_metric_gpu_data_strix_halo.json"
    fake_tool(isolated, "amd-smi", f'[ "$1" = metric ] && exec /bin/cat {metric}; exit 1')
    fake_tool(isolated, "rocm-smi", f"/bin/cat {FIX / 'rocm_smi_strix_halo.json'}")
    fake_tool(isolated, "rocminfo", f"/bin/cat {FIX / 'rocminfo_strix_halo.txt'}")
    [s] = sample_gpus()
    assert (s.source, s.utilization, s.gtt_total) == ("amd-smi", 87.0, 98304 * MIB)
    assert s.name == "AMD Radeon Graphics"  # amd-smi metric has no names: taken from detection


def test_sample_gpus_falls_through_empty_and_failing_tools(isolated, tmp_path):
    fake_tool(isolated, "amd-smi", "exit 0")  # no output
    fake_tool(isolated, "rocm-smi", "echo 'ERROR: no GPU' >&2; exit 2")
    fake_tool(isolated, "nvidia-smi", f"/bin/cat {FIX / 'nvidia_smi_query.csv'}")
    samples = sample_gpus()
    assert [s.source for s in samples] == ["nvidia-smi", "nvidia-smi"]
    assert samples[0].name == "NVIDIA H200"


def test_sample_gpus_times_out_and_moves_on(isolated, monkeypatch):
    monkeypatch.setattr(hardware, "SAMPLE_TIMEOUT_S", 0.5)
    fake_tool(isolated, "amd-smi", "exec /bin/sleep 30")
    fake_tool(isolated, "rocm-smi", f"/bin/cat {FIX / 'rocm_smi_strix_halo.json'}")
    [s] = sample_gpus()
    assert s.source == "rocm-smi"


def test_sample_gpus_all_na_amd_smi_then_sysfs(isolated, tmp_path):
    fake_tool(isolated, "amd-smi", f"/bin/cat {FIX / 'amd_smi_metric_all_na.json'}")
    fake_drm(tmp_path / "drm")
    samples = sample_gpus()
    assert [s.source for s in samples] == ["sysfs", "sysfs"]
    assert hardware._last_source == "sysfs"


def test_sample_gpus_nothing(isolated):
    assert sample_gpus() == []


def test_sample_gpus_survives_a_broken_source(isolated, monkeypatch, tmp_path):
    def boom():
        raise RuntimeError("bug in a source")

    monkeypatch.setitem(hardware._SOURCES, "amd-smi", boom)
    fake_drm(tmp_path / "drm")
    assert {s.source for s in sample_gpus()} == {"sysfs"}


def test_sample_gpus_tries_the_last_good_source_first(isolated, monkeypatch):
    calls = []
    for name in list(hardware._SOURCES):
        monkeypatch.setitem(hardware._SOURCES, name,
                            lambda name=name: calls.append(name) or
                            ([GpuSample(device="0", utilization=1.0, source=name)]
                             if name == "nvidia-smi" else []))
    sample_gpus()
    assert calls == ["amd-smi", "rocm-smi", "nvml", "nvidia-smi"]
    calls.clear()
    sample_gpus()
    assert calls == ["nvidia-smi"]


# ---- detection -----------------------------------------------------------------------------

def test_detect_gpus_kfd_names_from_rocminfo(isolated, tmp_path):
    fake_kfd(tmp_path / "kfd", 110501)
    fake_tool(isolated, "rocminfo", f"/bin/cat {FIX / 'rocminfo_strix_halo.txt'}")
    [g] = detect_gpus()
    assert (g["index"], g["vendor"], g["arch"], g["name"], g["source"]) == \
        (0, "amd", "gfx1151", "AMD Radeon Graphics", "kfd")


def test_detect_gpus_amd_smi_static_without_kfd(isolated):
    fake_tool(isolated, "amd-smi", f"/bin/cat {FIX / 'amd_smi_static_strix_halo.json'}")
    [g] = detect_gpus()
    assert (g["arch"], g["name"], g["source"]) == ("gfx1151", "AMD Radeon 8060S", "amd-smi")


def test_detect_gpus_kfd_only(isolated, tmp_path):
    fake_kfd(tmp_path / "kfd", 110000, 110501)
    gpus = detect_gpus()
    assert [(g["index"], g["arch"], g["name"]) for g in gpus] == [(0, "gfx1100", None), (1, "gfx1151", None)]


def test_detect_gpus_nvidia(isolated, monkeypatch):
    fake_tool(isolated, "nvidia-smi", "echo '0, NVIDIA H200, 143771'; echo '1, NVIDIA H200, [N/A]'")
    gpus = detect_gpus()
    assert [(g["index"], g["vendor"], g["name"], g["memory_total"]) for g in gpus] == \
        [(0, "nvidia", "NVIDIA H200", 143771 * MIB), (1, "nvidia", "NVIDIA H200", None)]
    monkeypatch.setattr(hardware, "_import_pynvml", fake_pynvml)
    assert [(g["name"], g["arch"], g["source"]) for g in detect_gpus()] == \
        [("NVIDIA H200", "sm_90", "nvml"), ("Tesla K80", "sm_90", "nvml")]


def test_detect_gpus_nothing(isolated):
    assert detect_gpus() == []


# ---- host and imports ----------------------------------------------------------------------

def test_sample_host():
    host = sample_host()
    assert host["ram_total"] > 0 and 0 < host["ram_used"] <= host["ram_total"]
    assert isinstance(host["cpu_percent"], float) and host["cpu_count"] >= 1


def test_meminfo_fallback(tmp_path):
    path = tmp_path / "meminfo"
    path.write_text("MemTotal:       24684096 kB\nMemFree:  100 kB\nMemAvailable:   23000000 kB\n")
    info = hardware._meminfo(str(path))
    assert info["MemTotal"] == 24684096 * 1024 and info["MemAvailable"] == 23000000 * 1024


def test_no_torch_import():
    code = "import sys, core.hardware, core.rocm_env, core.metrics; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).parents[1], env={**os.environ, "PYTHONPATH": "."})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
