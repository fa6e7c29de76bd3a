"""GPU telemetry and detection without torch: vendor tools, NVML, then sysfs.

sample_gpus() tries, in order, `amd-smi metric --json`, `rocm-smi --json`, NVML (nvidia-ml-py),
`nvidia-smi --query-gpu`, then the amdgpu sysfs files; the first source that reports a GPU
wins, and the source that worked last time is tried first on the next call. A missing tool, a
timeout, a non-zero exit or output that does not parse moves on to the next source; nothing
here raises. Units everywhere: memory in bytes, utilization in percent, temperature in degrees
Celsius, power in watts. amd-smi's "MB" is MiB (its sizes are powers of two).

detect_gpus() is the light inventory (count, vendor, name, gfx arch) used for slot counting
and the Strix Halo environment; it reads the KFD topology in sysfs first (no subprocess) and
asks amd-smi / rocminfo / NVML / nvidia-smi only for what sysfs cannot tell.

The parsers are public and pure (text in, samples out) so that they are tested on fixtures
in each tool's own format; on a machine without the tools, the same code paths run against
fake executables in the tests.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

__all__ = [
    "GpuSample", "parse_amd_smi", "parse_rocm_smi", "parse_nvidia_smi", "parse_amd_smi_static",
    "parse_rocminfo", "read_nvml", "read_sysfs", "read_kfd", "sample_gpus", "sample_host",
    "detect_gpus",
]

DRM_ROOT = "/sys/class/drm"
KFD_NODES = "/sys/class/kfd/kfd/topology/nodes"
SAMPLE_TIMEOUT_S = 4.0  # one telemetry call; the supervisor samples every few seconds
DETECT_TIMEOUT_S = 10.0  # once per supervisor start; rocminfo can be slow on first use
AMD_VENDOR_ID = 0x1002
NVIDIA_QUERY = "index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw"

_MIB = 1024 * 1024
_UNIT_BYTES = {"b": 1, "kb": 1024, "kib": 1024, "mb": _MIB, "mib": _MIB, "gb": 1024 * _MIB,
               "gib": 1024 * _MIB}
_NA = {"", "n/a", "[n/a]", "[not supported]", "not supported", "na", "none", "null",
       "[unknown error]", "[insufficient permissions]"}


@dataclass
class GpuSample:
    """One GPU at one moment; the columns of the ledger's gpu_sample table (less the time)."""

    device: str
    name: str | None = None
    utilization: float | None = None  # percent
    mem_used: float | None = None  # bytes (VRAM)
    mem_total: float | None = None
    gtt_used: float | None = None  # bytes (system memory the GPU maps; Strix Halo's real pool)
    gtt_total: float | None = None
    temperature: float | None = None  # degrees Celsius
    power: float | None = None  # watts
    source: str = ""

    def empty(self) -> bool:
        return all(v is None for v in (self.utilization, self.mem_used, self.mem_total,
                                       self.gtt_used, self.gtt_total, self.temperature,
                                       self.power))


# ---- small helpers ---------------------------------------------------------------------------

def _number(value: Any) -> float | None:
    """A finite float from a number or a string such as "57.0", "87 %", "[N/A]"; else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        f = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text.lower() in _NA:
            return None
        m = re.match(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?", text)
        if m is None:
            return None
        f = float(m.group())
    else:
        return None
    return f if f == f and abs(f) != float("inf") else None


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    return None if text.lower() in _NA else text


def _load_json(text: str | bytes | None) -> Any:
    """JSON from a tool's stdout, tolerating log lines printed before it; None on failure."""
    if not text:
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start <= 0:
        return None
    try:
        return json.JSONDecoder().raw_decode(text[start:])[0]
    except ValueError:
        return None


def _index(value: Any, fallback: int) -> str:
    n = _number(value)
    return str(int(n)) if n is not None and n >= 0 else str(fallback)


# ---- amd-smi ---------------------------------------------------------------------------------

def _amd_value(node: Any, default_unit: str = "") -> tuple[float | None, str]:
    """amd-smi leaves are {"value": N, "unit": U}, a bare number, or "N/A"."""
    if isinstance(node, dict):
        return _number(node.get("value")), str(node.get("unit") or default_unit)
    return _number(node), default_unit


def _amd_bytes(node: Any) -> float | None:
    value, unit = _amd_value(node, "MB")
    factor = _UNIT_BYTES.get(unit.strip().lower())
    return None if value is None or factor is None else value * factor


def _amd_watts(node: Any) -> float | None:
    value, unit = _amd_value(node, "W")
    if value is None:
        return None
    return value / 1000.0 if unit.strip().lower() == "mw" else value


def _first(section: Any, keys: Iterable[str], read: Callable[[Any], float | None]) -> float | None:
    if not isinstance(section, dict):
        return None
    for key in keys:
        value = read(section.get(key))
        if value is not None:
            return value
    return None


def _gpu_list(data: Any) -> list:
    """Older amd-smi prints a list of GPUs; newer ones wrap it as {"gpu_data": [...]}."""
    if isinstance(data, dict):
        data = data.get("gpu_data")
    return [g for g in data if isinstance(g, dict)] if isinstance(data, list) else []


def parse_amd_smi(text: str) -> list[GpuSample]:
    """`amd-smi metric --json` (list or {"gpu_data": [...]} shape) -> samples; [] when empty
    or not JSON."""
    samples = []
    for i, gpu in enumerate(_gpu_list(_load_json(text))):
        mem = gpu.get("mem_usage")
        sample = GpuSample(
            device=_index(gpu.get("gpu"), i),
            utilization=_first(gpu.get("usage"), ("gfx_activity", "gfx_usage"),
                               lambda n: _amd_value(n)[0]),
            mem_used=_first(mem, ("used_vram",), _amd_bytes),
            mem_total=_first(mem, ("total_vram",), _amd_bytes),
            gtt_used=_first(mem, ("used_gtt",), _amd_bytes),
            gtt_total=_first(mem, ("total_gtt",), _amd_bytes),
            temperature=_first(gpu.get("temperature"), ("edge", "hotspot", "junction"),
                               lambda n: _amd_value(n)[0]),
            power=_first(gpu.get("power"),
                         ("socket_power", "average_socket_power", "current_socket_power"),
                         _amd_watts),
            source="amd-smi",
        )
        samples.append(sample)
    return samples


def parse_amd_smi_static(text: str) -> list[dict]:
    """`amd-smi static --json` -> detection dicts (index, name, arch, memory_total)."""
    gpus = []
    for i, gpu in enumerate(_gpu_list(_load_json(text))):
        asic = gpu.get("asic") if isinstance(gpu.get("asic"), dict) else {}
        vram = gpu.get("vram") if isinstance(gpu.get("vram"), dict) else {}
        arch = _text(asic.get("target_graphics_version"))
        gpus.append(_gpu_dict(int(_index(gpu.get("gpu"), i)), "amd", _text(asic.get("market_name")),
                              arch.lower() if arch else None, _amd_bytes(vram.get("size")),
                              "amd-smi"))
    return gpus


# ---- rocm-smi --------------------------------------------------------------------------------

_ROCM_POWER = ("Average Graphics Package Power (W)", "Current Socket Graphics Package Power (W)")
_ROCM_TEMP = ("Temperature (Sensor edge) (C)", "Temperature (Sensor junction) (C)")
_ROCM_NAME = ("Card Series", "Card series", "Device Name", "Card Model", "Card model")


def parse_rocm_smi(text: str) -> list[GpuSample]:
    """`rocm-smi --json` (keys card0, card1, ...; every value a string) -> samples; [] when
    rocm-smi printed nothing (it exits 0 with no output when there is no GPU)."""
    data = _load_json(text)
    if not isinstance(data, dict):
        return []
    cards = [(int(k[4:]), v) for k, v in data.items()
             if re.fullmatch(r"card\d+", k) and isinstance(v, dict)]
    samples = []
    for index, card in sorted(cards):
        total = _number(card.get("VRAM Total Memory (B)"))
        used = _number(card.get("VRAM Total Used Memory (B)"))
        percent = _number(card.get("GPU Memory Allocated (VRAM%)"))
        if used is None and total is not None and percent is not None:
            used = total * percent / 100.0
        samples.append(GpuSample(
            device=str(index),
            name=next((n for n in map(_text, (card.get(k) for k in _ROCM_NAME))
                       if n and not n.startswith("0x")), None),
            utilization=_number(card.get("GPU use (%)")),
            mem_used=used,
            mem_total=total,
            gtt_used=_number(card.get("GTT Total Used Memory (B)")),
            gtt_total=_number(card.get("GTT Total Memory (B)")),
            temperature=_first(card, _ROCM_TEMP, _number),
            power=_first(card, _ROCM_POWER, _number),
            source="rocm-smi",
        ))
    return samples


# ---- NVIDIA ----------------------------------------------------------------------------------

def _csv_rows(text: str | None, fields: int) -> Iterable[list[str]]:
    for line in (text or "").splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < fields:
            continue
        if len(parts) > fields:  # a comma inside the name (the second column)
            extra = len(parts) - fields
            parts = [parts[0], ", ".join(parts[1:2 + extra])] + parts[2 + extra:]
        yield parts


def parse_nvidia_smi(text: str) -> list[GpuSample]:
    """`nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total,
    temperature.gpu,power.draw --format=csv,noheader,nounits` -> samples ("[N/A]" -> None)."""
    samples = []
    for i, (index, name, util, used, total, temp, power) in enumerate(_csv_rows(text, 7)):
        if _number(index) is None:
            continue
        used_mib, total_mib = _number(used), _number(total)
        samples.append(GpuSample(
            device=_index(index, i), name=_text(name), utilization=_number(util),
            mem_used=used_mib * _MIB if used_mib is not None else None,
            mem_total=total_mib * _MIB if total_mib is not None else None,
            temperature=_number(temp), power=_number(power), source="nvidia-smi",
        ))
    return samples


def _import_pynvml():
    try:
        import pynvml  # nvidia-ml-py
    except Exception:  # noqa: BLE001 -- absent or broken bindings mean "no NVML"
        return None
    return pynvml


def _nvml_call(fn: Callable, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001 -- NVMLError_NotSupported and friends, per metric
        return None


def read_nvml() -> list[GpuSample]:
    """Samples through NVML when nvidia-ml-py is importable and a driver answers; else []."""
    nv = _import_pynvml()
    if nv is None or not _nvml_init(nv):
        return []
    try:
        samples = []
        for i in range(_nvml_call(nv.nvmlDeviceGetCount) or 0):
            handle = _nvml_call(nv.nvmlDeviceGetHandleByIndex, i)
            if handle is None:
                continue
            name = _nvml_call(nv.nvmlDeviceGetName, handle)
            util = _nvml_call(nv.nvmlDeviceGetUtilizationRates, handle)
            mem = _nvml_call(nv.nvmlDeviceGetMemoryInfo, handle)
            milliwatts = _nvml_call(nv.nvmlDeviceGetPowerUsage, handle)
            samples.append(GpuSample(
                device=str(i),
                name=name.decode() if isinstance(name, bytes) else name,
                utilization=_number(getattr(util, "gpu", None)),
                mem_used=_number(getattr(mem, "used", None)),
                mem_total=_number(getattr(mem, "total", None)),
                temperature=_number(_nvml_call(nv.nvmlDeviceGetTemperature, handle,
                                               nv.NVML_TEMPERATURE_GPU)),
                power=milliwatts / 1000.0 if _number(milliwatts) is not None else None,
                source="nvml",
            ))
        return samples
    finally:
        _nvml_call(nv.nvmlShutdown)


def _nvml_init(nv: Any) -> bool:
    """False when there is no NVIDIA driver (NVMLError_LibraryNotFound, DriverNotLoaded)."""
    try:
        nv.nvmlInit()
    except Exception:  # noqa: BLE001
        return False
    return True


# ---- sysfs -----------------------------------------------------------------------------------

def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace").strip()
    except (OSError, ValueError):
        return None


def _read_number(path: Path) -> float | None:
    return _number(_read(path))


def _numbered(paths: Iterable[Path], prefix: str) -> list[Path]:
    """card0, card1, card10 in numeric order; connectors such as card0-DP-1 left out."""
    found = [(int(p.name[len(prefix):]), p) for p in paths
             if p.name.startswith(prefix) and p.name[len(prefix):].isdigit()]
    return [p for _, p in sorted(found)]


def read_sysfs(root: str | os.PathLike = DRM_ROOT) -> list[GpuSample]:
    """amdgpu's sysfs files: gpu_busy_percent, mem_info_{vram,gtt}_{used,total}, and hwmon
    temp1_input (millidegrees) and power1_average / power1_input (microwatts)."""
    try:
        cards = _numbered(Path(root).iterdir(), "card")
    except OSError:
        return []
    samples = []
    for card in cards:
        dev = card / "device"
        busy = _read_number(dev / "gpu_busy_percent")
        vram_total = _read_number(dev / "mem_info_vram_total")
        if busy is None and vram_total is None:
            continue  # not an amdgpu device (or no driver): nothing to report
        sample = GpuSample(
            device=str(len(samples)), name=_text(_read(dev / "product_name")),
            utilization=busy, mem_used=_read_number(dev / "mem_info_vram_used"),
            mem_total=vram_total, gtt_used=_read_number(dev / "mem_info_gtt_used"),
            gtt_total=_read_number(dev / "mem_info_gtt_total"), source="sysfs",
        )
        for hwmon in _numbered(_listdir(dev / "hwmon"), "hwmon"):
            milli = _read_number(hwmon / "temp1_input")
            micro = _read_number(hwmon / "power1_average")
            if micro is None:
                micro = _read_number(hwmon / "power1_input")
            if sample.temperature is None and milli is not None:
                sample.temperature = milli / 1000.0
            if sample.power is None and micro is not None:
                sample.power = micro / 1e6
        samples.append(sample)
    return samples


def _listdir(path: Path) -> list[Path]:
    try:
        return list(path.iterdir())
    except OSError:
        return []


# ---- running the tools -----------------------------------------------------------------------

def _run(cmd: list[str], timeout: float) -> str | None:
    """stdout of a tool, or None when it is absent, fails, or takes too long."""
    exe = shutil.which(cmd[0])
    if exe is None:
        return None
    try:
        proc = subprocess.run([exe, *cmd[1:]], capture_output=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    out = proc.stdout.decode("utf-8", "replace")
    # amd-smi may exit non-zero after printing valid JSON (a warning about one GPU): keep it
    return out if proc.returncode == 0 or out.strip() else None


def _from_tool(cmd: list[str], parse: Callable[[str], list[GpuSample]]) -> list[GpuSample]:
    text = _run(cmd, SAMPLE_TIMEOUT_S)
    return parse(text) if text else []


_SOURCES: dict[str, Callable[[], list[GpuSample]]] = {
    "amd-smi": lambda: _from_tool(["amd-smi", "metric", "--json"], parse_amd_smi),
    "rocm-smi": lambda: _from_tool(
        ["rocm-smi", "--showuse", "--showmemuse", "--showmeminfo", "vram", "gtt", "--showtemp",
         "--showpower", "--showproductname", "--json"], parse_rocm_smi),
    "nvml": read_nvml,
    "nvidia-smi": lambda: _from_tool(
        ["nvidia-smi", f"--query-gpu={NVIDIA_QUERY}", "--format=csv,noheader,nounits"],
        parse_nvidia_smi),
    "sysfs": lambda: read_sysfs(DRM_ROOT),
}
_last_source: str | None = None


def sample_gpus() -> list[GpuSample]:
    """Telemetry of every GPU from the first source that reports one; [] without a GPU.
    Never raises."""
    global _last_source
    order = list(_SOURCES)
    if _last_source in _SOURCES:  # the source that answered last time goes first
        order.remove(_last_source)
        order.insert(0, _last_source)
    for name in order:
        try:
            samples = [s for s in _SOURCES[name]() if not s.empty()]
        except Exception:  # noqa: BLE001 -- a broken source must not stop the sampling loop
            samples = []
        if samples:
            _last_source = name
            _fill_names(samples)
            return samples
    return []


def _fill_names(samples: list[GpuSample]) -> None:
    """amd-smi metric and sysfs carry no names: take them from the (cached) detection."""
    if all(s.name for s in samples):
        return
    try:
        names = {str(g["index"]): g.get("name") for g in _detected()}
    except Exception:  # noqa: BLE001
        return
    for s in samples:
        if not s.name:
            s.name = names.get(s.device)


@lru_cache(maxsize=1)
def _detected() -> tuple[dict, ...]:
    return tuple(detect_gpus())


def sample_host() -> dict:
    """CPU and RAM for the "no GPU" card: cpu_percent (since the previous call; the first call
    of a process reads 0.0), ram_used / ram_total in bytes (used = total - available),
    cpu_count, load_1m."""
    out: dict[str, Any] = {"cpu_percent": None, "ram_used": None, "ram_total": None,
                           "cpu_count": os.cpu_count(), "load_1m": None, "source": "psutil"}
    try:
        out["load_1m"] = os.getloadavg()[0]
    except (OSError, AttributeError):
        pass
    try:
        import psutil

        mem = psutil.virtual_memory()
        out.update(cpu_percent=float(psutil.cpu_percent(interval=None)),
                   ram_used=float(mem.total - mem.available), ram_total=float(mem.total))
    except Exception:  # noqa: BLE001 -- psutil missing: fall back to /proc/meminfo
        out["source"] = "proc"
        info = _meminfo()
        if "MemTotal" in info and "MemAvailable" in info:
            out.update(ram_total=info["MemTotal"], ram_used=info["MemTotal"] - info["MemAvailable"])
    return out


HOST_DEVICE = "cpu"  # the device name of host rows in gpu_sample


def host_as_sample() -> GpuSample:
    """CPU and RAM as a gpu_sample row (device "cpu", source "host"), stored when no GPU is
    found so that the Dashboard can chart the machine's history too."""
    from core import cpuload  # the busy share over the last seconds, not since a last call

    h = sample_host()
    try:
        cpu = cpuload.percent()
    except Exception:  # noqa: BLE001 -- psutil missing: keep sample_host's reading
        cpu = h["cpu_percent"]
    return GpuSample(device=HOST_DEVICE, name="CPU", utilization=cpu,
                     mem_used=h["ram_used"], mem_total=h["ram_total"], source="host")


def _meminfo(path: str = "/proc/meminfo") -> dict[str, float]:
    info = {}
    for line in (_read(Path(path)) or "").splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            info[key] = float(parts[0]) * (1024 if parts[1:2] == ["kB"] else 1)
    return info


# ---- detection -------------------------------------------------------------------------------

def _gpu_dict(index: int, vendor: str, name: str | None, arch: str | None,
              memory_total: float | None, source: str) -> dict:
    return {"index": index, "vendor": vendor, "name": name, "arch": arch,
            "memory_total": memory_total, "source": source}


def gfx_arch(target_version: int) -> str | None:
    """KFD's gfx_target_version to an arch name: 110501 -> gfx1151, 90010 -> gfx90a (major,
    then minor and stepping as one hex digit each)."""
    if target_version <= 0:
        return None
    major, rest = divmod(target_version, 10000)
    minor, stepping = divmod(rest, 100)
    return f"gfx{major}{minor:x}{stepping:x}"


def read_kfd(root: str | os.PathLike = KFD_NODES) -> list[dict]:
    """The GPU nodes of the KFD topology in node order, which is the order ROCm numbers them
    in (HIP_VISIBLE_DEVICES)."""
    try:
        nodes = sorted((int(p.name), p) for p in Path(root).iterdir() if p.name.isdigit())
    except OSError:
        return []
    gpus = []
    for _, node in nodes:
        props = {}
        for line in (_read(node / "properties") or "").splitlines():
            key, _, value = line.partition(" ")
            props[key] = value.strip()
        target = int(_number(props.get("gfx_target_version")) or 0)
        if target <= 0 or not _number(props.get("simd_count")):
            continue  # a CPU node
        # no product name in KFD (its node "name" file is the ASIC family): tools add it
        gpus.append(_gpu_dict(len(gpus), "amd", None, gfx_arch(target), None, "kfd"))
        device_id = _number(props.get("device_id"))
        if device_id:
            gpus[-1]["device_id"] = f"0x{int(device_id):04x}"
    return gpus


def parse_rocminfo(text: str) -> list[dict]:
    """The GPU agents of `rocminfo` output, in order: name (marketing name) and gfx arch."""
    gpus = []
    for block in re.split(r"(?m)^\s*Agent \d+\s*$", text or "")[1:]:
        fields: dict[str, str] = {}
        for line in block.splitlines():
            # the agent's own fields are indented by two spaces; ISA and pool entries deeper
            m = re.match(r"^ {2}([A-Za-z][\w .()]*?):\s*(.*?)\s*$", line)
            if m and m.group(1) not in fields:
                fields[m.group(1)] = m.group(2)
        if fields.get("Device Type", "").upper() != "GPU":
            continue
        arch = fields.get("Name", "")
        gpus.append(_gpu_dict(len(gpus), "amd", _text(fields.get("Marketing Name")),
                              arch.lower() if arch.lower().startswith("gfx") else None, None,
                              "rocminfo"))
    return gpus


def _detect_amd(kfd_root: str | os.PathLike) -> list[dict]:
    gpus = read_kfd(kfd_root)
    if gpus and all(g["name"] for g in gpus):
        return gpus
    # names (and, without KFD, the GPUs themselves) from the tools, matched by position
    other = parse_amd_smi_static(_run(["amd-smi", "static", "--json"], DETECT_TIMEOUT_S) or "")
    if not other or (gpus and len(other) != len(gpus)):
        other = parse_rocminfo(_run(["rocminfo"], DETECT_TIMEOUT_S) or "")
    if not gpus:
        return other
    if len(other) == len(gpus):
        for g, o in zip(gpus, other):
            g["name"] = g["name"] or o["name"]
            g["memory_total"] = g["memory_total"] or o["memory_total"]
    return gpus


def _detect_nvidia() -> list[dict]:
    nv = _import_pynvml()
    if nv is not None and _nvml_init(nv):
        try:
            gpus = []
            for i in range(_nvml_call(nv.nvmlDeviceGetCount) or 0):
                handle = _nvml_call(nv.nvmlDeviceGetHandleByIndex, i)
                name = _nvml_call(nv.nvmlDeviceGetName, handle)
                mem = _nvml_call(nv.nvmlDeviceGetMemoryInfo, handle)
                cc = _nvml_call(nv.nvmlDeviceGetCudaComputeCapability, handle)
                gpus.append(_gpu_dict(
                    i, "nvidia", name.decode() if isinstance(name, bytes) else name,
                    f"sm_{cc[0]}{cc[1]}" if isinstance(cc, tuple) and len(cc) == 2 else None,
                    _number(getattr(mem, "total", None)), "nvml"))
            if gpus:
                return gpus
        finally:
            _nvml_call(nv.nvmlShutdown)
    text = _run(["nvidia-smi", "--query-gpu=index,name,memory.total",
                 "--format=csv,noheader,nounits"], DETECT_TIMEOUT_S)
    gpus = []
    for i, (index, name, total) in enumerate(_csv_rows(text, 3)):
        if _number(index) is None:
            continue
        mib = _number(total)
        gpus.append(_gpu_dict(int(_index(index, i)), "nvidia", _text(name), None,
                              mib * _MIB if mib is not None else None, "nvidia-smi"))
    return gpus


def detect_gpus(*, kfd_root: str | os.PathLike | None = None) -> list[dict]:
    """Every GPU: {"index", "vendor" ("amd" | "nvidia"), "name", "arch" (gfx1151, sm_90, or
    None), "memory_total" (bytes or None), "source"}; AMD ones first, each vendor numbered
    the way its runtime numbers them. Never imports torch; never raises."""
    gpus: list[dict] = []
    root = KFD_NODES if kfd_root is None else kfd_root
    for detect in (lambda: _detect_amd(root), _detect_nvidia):
        try:
            gpus.extend(detect())
        except Exception:  # noqa: BLE001 -- detection must never stop the supervisor
            continue
    return gpus
