"""Day 61: the roofline model, a CPU profile's top operators, and an NVML device query."""

import pynvml  # noqa: F401  (call it as pynvml.nvmlInit() etc., see the spec)
import torch  # noqa: F401


def op_cost(op: str, dims: dict, itemsize: int = 4) -> tuple[int, int]:
    """(FLOPs, bytes moved) of one op: 'matmul', 'linear', 'conv2d', 'add' or 'relu'."""
    # TODO: the closed forms of the spec; ValueError for any other op name
    raise NotImplementedError("op_cost")


def ridge_point(peak_flops: float, bandwidth: float) -> float:
    """The intensity (FLOP/byte) where the memory roof meets the compute roof."""
    raise NotImplementedError("ridge_point")


def attainable_flops(intensity: float, peak_flops: float, bandwidth: float) -> float:
    """min(peak, intensity × bandwidth)."""
    raise NotImplementedError("attainable_flops")


def bound(intensity: float, peak_flops: float, bandwidth: float) -> str:
    """'memory' below the ridge point, 'compute' at or above it."""
    raise NotImplementedError("bound")


def roofline_table(ops: list[tuple[str, str, dict]], peak_flops: float, bandwidth: float,
                   itemsize: int = 4) -> list[dict]:
    """One row per (name, op, dims): name, flops, bytes, intensity, attainable_flops, bound,
    min_time_s."""
    raise NotImplementedError("roofline_table")


def profile_top_ops(model, x, runs: int = 10, warmup: int = 2, top: int = 5) -> list[dict]:
    """The `top` aten:: ops by self CPU time over `runs` profiled passes:
    [{"name", "self_cpu_us", "calls", "share"}, ...], largest first."""
    # TODO: eval mode, torch.no_grad(); warm-up passes outside the profiler
    raise NotImplementedError("profile_top_ops")


def cuda_kernels(model, x, runs: int = 3) -> list[str]:
    """Names of the CUDA kernels a profile of `runs` passes records, longest first."""
    raise NotImplementedError("cuda_kernels")


def device_query() -> dict:
    """{"gpu": bool, "devices": [{"index", "name", "memory_bytes", "compute_capability"}],
    "reason": str} through NVML."""
    # TODO: pynvml.nvmlInit() may raise pynvml.NVMLError (no driver): that means no GPU
    raise NotImplementedError("device_query")
