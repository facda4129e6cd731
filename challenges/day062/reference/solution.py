"""Day 62 reference: latency of every candidate batch size measured in interleaved rounds,
summarised by medians, and the batch size with the best throughput under a latency SLO."""

import statistics
import time

import torch


def measure_batches(model, make_input, candidates, repeats: int = 15,
                    warmup: int = 2) -> dict[int, list[float]]:
    model.eval()
    sizes = sorted(int(b) for b in candidates)
    inputs = {b: make_input(b) for b in sizes}  # built once, outside every timing
    samples: dict[int, list[float]] = {b: [] for b in sizes}
    with torch.no_grad():
        for r in range(warmup + repeats):
            # alternate the order so that drift and "who runs first" cancel out
            for b in sizes if r % 2 == 0 else sizes[::-1]:
                x = inputs[b]
                start = time.perf_counter()
                model(x)
                if x.is_cuda:  # kernels run asynchronously: wait for them before stopping
                    torch.cuda.synchronize()
                elapsed_ms = (time.perf_counter() - start) * 1e3
                if r >= warmup:
                    samples[b].append(elapsed_ms)
    return samples


def summarize(samples: dict[int, list[float]]) -> list[dict]:
    rows = []
    for b in sorted(samples):
        median_ms = statistics.median(samples[b])  # one preempted call must not move it
        rows.append({"batch": b, "median_ms": median_ms, "throughput": b / (median_ms / 1e3)})
    return rows


def choose_batch_size(samples: dict[int, list[float]], slo_ms: float) -> int:
    feasible = [r for r in summarize(samples) if r["median_ms"] <= slo_ms]
    if not feasible:
        raise ValueError(f"no batch size meets the SLO of {slo_ms} ms")
    best = max(r["throughput"] for r in feasible)
    return min(r["batch"] for r in feasible if r["throughput"] == best)
