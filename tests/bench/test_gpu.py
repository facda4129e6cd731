"""CUDA timing: events and synchronisation on a GPU; a clean skip without one."""

from __future__ import annotations

import pytest

from graders.bench import PASS, compare, measure
from graders.requires import HardwareSkip


def cuda_or_reason() -> str:
    """'' when CUDA works here, else why not (from NVML and torch)."""
    import torch

    if torch.cuda.is_available():
        return ""
    from hardware.nvidia import detect_gpus

    return (f"no CUDA device: torch {torch.__version__} reports none; "
            f"NVML: {detect_gpus().message}")


def test_cuda_timing_without_a_gpu_is_a_hardware_skip_not_a_crash():
    reason = cuda_or_reason()
    if not reason:
        pytest.skip("this machine has a GPU; the GPU tests below cover it")
    with pytest.raises(HardwareSkip, match="needs nvidia-gpu: CUDA timing was asked for"):
        measure(lambda: None, device="cuda")


@pytest.fixture
def cuda():
    reason = cuda_or_reason()
    if reason:
        pytest.skip(reason)
    import torch

    return torch


@pytest.mark.gpu
def test_gpu_work_is_timed_with_cuda_events(cuda):
    torch = cuda
    a = torch.randn(2048, 2048, device="cuda")
    m = measure(torch.matmul, a, a, name="matmul 2048")  # device found from the arguments
    assert m.device == "cuda" and m.timer == "cuda-events" and m.mem_method == "cuda"
    assert m.peak_mem_bytes >= 2048 * 2048 * 4  # the result matrix at least
    flops = 2 * 2048**3 / m.median_s
    assert 1e11 < flops < 2e15, f"{flops / 1e12:.1f} TFLOP/s is not a plausible GPU figure"


@pytest.mark.gpu
def test_asynchronous_launches_are_not_mistaken_for_fast_work(cuda):
    """Without synchronisation a launch returns in microseconds; the events must see the
    kernels. Four matmuls take about four times one."""
    torch = cuda
    a = torch.randn(1024, 1024, device="cuda")

    def one():
        return a @ a

    def four():
        for _ in range(4):
            a @ a

    c = compare(four, one, device="cuda")
    assert 3.0 <= c.speedup <= 5.0, str(c)
    assert c.verdict(2.0) == PASS


@pytest.mark.gpu
def test_a_closure_over_gpu_tensors_is_timed_on_the_gpu_without_being_told(cuda):
    """No CUDA tensor in the arguments, no device given: once CUDA is in use, auto mode
    still synchronises, so a closure's kernels are measured, not its launches."""
    torch = cuda
    a = torch.randn(2048, 2048, device="cuda")
    m = measure(lambda: a @ a, name="closure")
    assert m.device == "cuda" and m.timer == "cuda-events"
    flops = 2 * 2048**3 / m.median_s
    assert flops < 2e15, f"{flops / 1e12:.0f} TFLOP/s: the launches were timed, not the work"
