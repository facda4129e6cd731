"""Day 62: measure the latency of every candidate batch size and choose the one with the best
throughput under a latency SLO."""

import statistics  # noqa: F401
import time  # noqa: F401

import torch  # noqa: F401


def measure_batches(model, make_input, candidates, repeats: int = 15,
                    warmup: int = 2) -> dict[int, list[float]]:
    """{batch: [latency of each measured call in ms]} for every candidate batch size, measured
    in interleaved rounds (see the spec)."""
    # TODO: eval mode, torch.no_grad(); build every input once with make_input(b) first
    # TODO: warmup + repeats rounds over the sorted candidates, ascending in even rounds and
    #       descending in odd ones; time each call with time.perf_counter(); keep only the
    #       rounds after the warm-up
    raise NotImplementedError("measure_batches")


def summarize(samples: dict[int, list[float]]) -> list[dict]:
    """[{"batch", "median_ms", "throughput"}, ...] sorted by batch size."""
    raise NotImplementedError("summarize")


def choose_batch_size(samples: dict[int, list[float]], slo_ms: float) -> int:
    """The batch size with the best throughput among those whose median latency meets the
    SLO; ValueError when none does."""
    raise NotImplementedError("choose_batch_size")
