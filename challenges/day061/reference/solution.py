"""Day 61 reference: roofline arithmetic, a CPU profile's top operators, and a GPU device
query through NVML."""

import pynvml
import torch
from torch.autograd import DeviceType
from torch.profiler import ProfilerActivity, profile


def op_cost(op: str, dims: dict, itemsize: int = 4) -> tuple[int, int]:
    """(FLOPs, bytes moved): every input read once, the output written once."""
    if op == "matmul":
        m, k, n = dims["m"], dims["k"], dims["n"]
        return 2 * m * k * n, (m * k + k * n + m * n) * itemsize
    if op == "linear":
        b, i, o = dims["batch"], dims["in_features"], dims["out_features"]
        return 2 * b * i * o + b * o, (b * i + i * o + o + b * o) * itemsize
    if op == "conv2d":
        n, c, h, w = dims["n"], dims["c_in"], dims["h"], dims["w"]
        co, k = dims["c_out"], dims["k"]
        return 2 * n * co * h * w * c * k * k, (n * c * h * w + co * c * k * k
                                                + n * co * h * w) * itemsize
    if op == "add":
        return dims["n"], 3 * dims["n"] * itemsize
    if op == "relu":
        return dims["n"], 2 * dims["n"] * itemsize
    raise ValueError(f"unknown op {op!r}")


def ridge_point(peak_flops: float, bandwidth: float) -> float:
    _positive(peak_flops=peak_flops, bandwidth=bandwidth)
    return peak_flops / bandwidth


def attainable_flops(intensity: float, peak_flops: float, bandwidth: float) -> float:
    _positive(peak_flops=peak_flops, bandwidth=bandwidth)
    if intensity < 0:
        raise ValueError("intensity must be >= 0")
    return min(peak_flops, intensity * bandwidth)


def bound(intensity: float, peak_flops: float, bandwidth: float) -> str:
    return "memory" if intensity < ridge_point(peak_flops, bandwidth) else "compute"


def roofline_table(ops: list[tuple[str, str, dict]], peak_flops: float, bandwidth: float,
                   itemsize: int = 4) -> list[dict]:
    rows = []
    for name, op, dims in ops:
        flops, nbytes = op_cost(op, dims, itemsize)
        intensity = flops / nbytes
        rows.append({
            "name": name, "flops": flops, "bytes": nbytes, "intensity": intensity,
            "attainable_flops": attainable_flops(intensity, peak_flops, bandwidth),
            "bound": bound(intensity, peak_flops, bandwidth),
            "min_time_s": max(flops / peak_flops, nbytes / bandwidth),
        })
    return rows


def _positive(**values: float) -> None:
    for key, value in values.items():
        if not value > 0:
            raise ValueError(f"{key} must be > 0, got {value}")


def profile_top_ops(model, x, runs: int = 10, warmup: int = 2, top: int = 5) -> list[dict]:
    model.eval()
    with torch.no_grad():
        for _ in range(warmup):  # first calls allocate and pick kernels: keep them out
            model(x)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(runs):
                model(x)
    ops = [e for e in prof.key_averages() if e.key.startswith("aten::")]
    ops.sort(key=lambda e: e.self_cpu_time_total, reverse=True)  # self, not total, time
    total = sum(e.self_cpu_time_total for e in ops)
    return [{"name": e.key, "self_cpu_us": float(e.self_cpu_time_total), "calls": int(e.count),
             "share": e.self_cpu_time_total / total} for e in ops[:top]]


def cuda_kernels(model, x, runs: int = 3) -> list[str]:
    if not x.is_cuda:
        raise ValueError("cuda_kernels needs a model and input on a CUDA device")
    model.eval()
    with torch.no_grad():
        model(x)
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            for _ in range(runs):
                model(x)
            torch.cuda.synchronize()
    kernels = [e for e in prof.key_averages() if e.device_type == DeviceType.CUDA
               and not getattr(e, "is_user_annotation", False)]  # GPU-side spans, not work
    kernels.sort(key=lambda e: e.self_device_time_total, reverse=True)
    return [e.key for e in kernels]


def device_query() -> dict:
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError as exc:  # no driver, no library: a fact, not a crash
        return {"gpu": False, "devices": [], "reason": str(exc)}
    try:
        devices = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            name = pynvml.nvmlDeviceGetName(handle)
            major, minor = pynvml.nvmlDeviceGetCudaComputeCapability(handle)
            devices.append({
                "index": i,
                "name": name.decode() if isinstance(name, bytes) else name,
                "memory_bytes": int(pynvml.nvmlDeviceGetMemoryInfo(handle).total),
                "compute_capability": f"{major}.{minor}",
            })
    finally:
        pynvml.nvmlShutdown()
    if not devices:
        return {"gpu": False, "devices": [], "reason": "NVML reports 0 devices"}
    return {"gpu": True, "devices": devices, "reason": ""}
