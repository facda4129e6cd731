"""NVIDIA GPUs through NVML (pynvml, imported only when asked).

No GPU is a fact, not an error: a missing pynvml, a missing NVML library (no driver
installed), a driver that is not loaded or zero devices all come back as an `NvmlProbe`
with an empty GPU list, a status and a sentence saying why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# NVML's clock-event ("throttle") reason bits, as documented in nvml.h; the names pynvml
# exports for them changed across versions (ClocksThrottleReason* -> ClocksEventReason*).
_REASONS = {
    0x1: "gpu-idle",
    0x2: "applications-clocks-setting",
    0x4: "sw-power-cap",
    0x8: "hw-slowdown",
    0x10: "sync-boost",
    0x20: "sw-thermal-slowdown",
    0x40: "hw-thermal-slowdown",
    0x80: "hw-power-brake-slowdown",
    0x100: "display-clock-setting",
}
# Reasons that slow a benchmark down (idle and sync boost are harmless).
SLOWING = frozenset({"sw-power-cap", "hw-slowdown", "sw-thermal-slowdown",
                     "hw-thermal-slowdown", "hw-power-brake-slowdown"})

# Compute capability (major, minor) -> architecture, for drivers whose NVML cannot name it.
_ARCH_BY_CC = {
    (3,): "kepler", (5,): "maxwell", (6,): "pascal", (7, 0): "volta", (7, 2): "volta",
    (7, 5): "turing", (8, 0): "ampere", (8, 6): "ampere", (8, 7): "ampere", (8, 9): "ada",
    (9,): "hopper", (10,): "blackwell", (12,): "blackwell",
}


@dataclass(frozen=True)
class GpuInfo:
    index: int
    name: str
    arch: str  # kepler ... hopper, blackwell; "unknown" when neither NVML nor the CC says
    compute_capability: str | None  # "9.0"
    memory_bytes: int
    sm_clock_mhz: int | None
    sm_clock_max_mhz: int | None
    mem_clock_mhz: int | None
    mem_clock_max_mhz: int | None
    temperature_c: int | None
    throttle_reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def memory_gib(self) -> float:
        return self.memory_bytes / 2**30

    @property
    def slowed(self) -> list[str]:
        """Active reasons that lower the clocks below what a benchmark expects."""
        return [r for r in self.throttle_reasons if r in SLOWING]

    def to_dict(self) -> dict:
        data = asdict(self)
        data["throttle_reasons"] = list(self.throttle_reasons)
        return data


@dataclass(frozen=True)
class NvmlProbe:
    status: str  # ok | no-gpu | no-pynvml | no-library | no-driver | error
    message: str  # one sentence for people
    driver: str | None = None
    cuda_driver: str | None = None  # the CUDA version the driver supports, e.g. "12.4"
    gpus: tuple[GpuInfo, ...] = ()

    def to_dict(self) -> dict:
        return {"status": self.status, "message": self.message, "driver": self.driver,
                "cuda_driver": self.cuda_driver, "gpus": [g.to_dict() for g in self.gpus]}


def detect_gpus() -> NvmlProbe:
    """Ask NVML for the NVIDIA GPUs of this machine; never raises."""
    try:
        import pynvml
    except ImportError:
        return NvmlProbe("no-pynvml", "pynvml is not installed (pip install nvidia-ml-py), "
                         "so NVIDIA GPUs cannot be detected")
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:
        return _init_failure(pynvml, exc)
    try:
        return _probe(pynvml)
    except pynvml.NVMLError as exc:
        return NvmlProbe("error", f"NVML failed while reading the GPUs: {_text(exc)}")
    finally:
        try:
            pynvml.nvmlShutdown()
        except pynvml.NVMLError:
            pass


def _init_failure(pynvml, exc: Exception) -> NvmlProbe:
    if isinstance(exc, getattr(pynvml, "NVMLError_LibraryNotFound", ())):
        return NvmlProbe("no-library", "no NVIDIA driver: the NVML library is not installed, "
                         "so this machine has no usable NVIDIA GPU")
    if isinstance(exc, getattr(pynvml, "NVMLError_DriverNotLoaded", ())):
        return NvmlProbe("no-driver", "the NVIDIA driver is installed but not loaded "
                         "(no GPU, or the kernel module failed to load)")
    return NvmlProbe("error", f"NVML could not start: {_text(exc)}")


def _probe(pynvml) -> NvmlProbe:
    driver = _str(_try(pynvml, pynvml.nvmlSystemGetDriverVersion))
    cuda = _try(pynvml, pynvml.nvmlSystemGetCudaDriverVersion)
    cuda_text = f"{cuda // 1000}.{cuda % 1000 // 10}" if isinstance(cuda, int) else None
    count = pynvml.nvmlDeviceGetCount()
    gpus = tuple(_gpu(pynvml, i) for i in range(count))
    if not gpus:
        return NvmlProbe("no-gpu", "the NVIDIA driver reports no GPU", driver, cuda_text)
    names = ", ".join(g.name for g in gpus)
    return NvmlProbe("ok", f"{len(gpus)} NVIDIA GPU(s): {names}", driver, cuda_text, gpus)


def _gpu(pynvml, index: int) -> GpuInfo:
    h = pynvml.nvmlDeviceGetHandleByIndex(index)
    name = _str(pynvml.nvmlDeviceGetName(h)) or f"GPU {index}"
    memory = pynvml.nvmlDeviceGetMemoryInfo(h).total
    cc = _try(pynvml, pynvml.nvmlDeviceGetCudaComputeCapability, h)
    cc_text = f"{cc[0]}.{cc[1]}" if cc else None
    clock, top = pynvml.nvmlDeviceGetClockInfo, pynvml.nvmlDeviceGetMaxClockInfo
    sm, mem = pynvml.NVML_CLOCK_SM, pynvml.NVML_CLOCK_MEM
    temp = _try(pynvml, pynvml.nvmlDeviceGetTemperature, h, pynvml.NVML_TEMPERATURE_GPU)
    return GpuInfo(
        index=index, name=name, arch=_arch(pynvml, h, cc), compute_capability=cc_text,
        memory_bytes=int(memory),
        sm_clock_mhz=_try(pynvml, clock, h, sm), sm_clock_max_mhz=_try(pynvml, top, h, sm),
        mem_clock_mhz=_try(pynvml, clock, h, mem), mem_clock_max_mhz=_try(pynvml, top, h, mem),
        temperature_c=temp, throttle_reasons=_reasons(pynvml, h),
    )


def _arch(pynvml, handle, cc: tuple[int, int] | None) -> str:
    number = _try(pynvml, getattr(pynvml, "nvmlDeviceGetArchitecture", None), handle)
    if number is not None:
        for attr in dir(pynvml):
            if attr.startswith("NVML_DEVICE_ARCH_") and getattr(pynvml, attr) == number:
                name = attr.removeprefix("NVML_DEVICE_ARCH_").lower()
                if name != "unknown":
                    return name
    if cc:
        return _ARCH_BY_CC.get(tuple(cc), _ARCH_BY_CC.get((cc[0],), "unknown"))
    return "unknown"


def _reasons(pynvml, handle) -> tuple[str, ...]:
    read = (getattr(pynvml, "nvmlDeviceGetCurrentClocksEventReasons", None)
            or getattr(pynvml, "nvmlDeviceGetCurrentClocksThrottleReasons", None))
    mask = _try(pynvml, read, handle)
    if not isinstance(mask, int):
        return ()
    return tuple(name for bit, name in _REASONS.items() if mask & bit)


def _try(pynvml, fn, *args):
    """A field some GPUs or drivers do not support reads as None, not as a failure."""
    if fn is None:
        return None
    try:
        return fn(*args)
    except (pynvml.NVMLError, AttributeError, TypeError):
        return None


def _str(value) -> str | None:
    if isinstance(value, bytes):  # older pynvml returned bytes
        return value.decode("utf-8", "replace")
    return value


def _text(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
