"""A short reference workload that says how fast this machine is, as one score.

Two parts, each timed with graders.bench.measure:
- compute-bound: float64 matrix product (256×256) on one core (BLAS limited to one
  thread: learner code is mostly single-threaded, and a multi-threaded BLAS on a busy
  machine measures the neighbours more than the machine);
- memory-bound: copying a 64 MiB array (larger than the caches), counted as bytes read
  plus bytes written.

score = geometric mean of (GFLOP/s / REF_GFLOPS, GB/s / REF_GBPS): 1.0 is the machine the
reference figures were taken on (one core of a 2.45 GHz AMD EPYC virtual machine), 2.0
a machine twice as fast. Absolute targets without a bound for this machine's class are
scaled by it (tracker/targets.py). numpy is imported only when calibrating.
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import asdict, dataclass

SCORES_VAR = "MLTRACK_CALIBRATION"  # JSON {fingerprint: score} the engine gives graders
REF_GFLOPS = 40.0
REF_GBPS = 8.0
MATMUL_N = 256
COPY_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Calibration:
    compute_gflops: float
    memory_gbps: float
    score: float
    compute_rel_iqr: float
    memory_rel_iqr: float
    valid: bool  # both measurements stable (relative IQR within 10 %)
    seconds: float  # how long calibrating took

    def to_dict(self) -> dict:
        return asdict(self)


def calibrate(max_time_s: float = 1.0) -> Calibration:
    import time

    import numpy as np

    from graders.bench import measure

    started = time.perf_counter()
    rng = np.random.default_rng(0)
    a = rng.standard_normal((MATMUL_N, MATMUL_N))
    b = rng.standard_normal((MATMUL_N, MATMUL_N))
    out = np.empty((MATMUL_N, MATMUL_N))
    with _one_blas_thread():
        mm = measure(np.matmul, a, b, kwargs={"out": out}, name="matmul", memory=False,
                     max_time_s=max_time_s)
    src = np.ones(COPY_BYTES // 8)
    dst = np.empty_like(src)
    cp = measure(np.copyto, dst, src, name="copy", memory=False, max_time_s=max_time_s)
    gflops = 2 * MATMUL_N**3 / mm.median_s / 1e9
    gbps = 2 * src.nbytes / cp.median_s / 1e9
    score = math.sqrt((gflops / REF_GFLOPS) * (gbps / REF_GBPS))
    return Calibration(
        compute_gflops=round(gflops, 3), memory_gbps=round(gbps, 3), score=round(score, 4),
        compute_rel_iqr=round(mm.rel_iqr, 4), memory_rel_iqr=round(cp.rel_iqr, 4),
        valid=mm.valid and cp.valid, seconds=round(time.perf_counter() - started, 3),
    )


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # without it BLAS keeps its threads; the figure is still a figure
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def is_valid_calibration(calibration_json: str | None) -> bool:
    """Whether a stored calibration was stable (a noisy one is kept but not preferred)."""
    try:
        return bool(json.loads(calibration_json or "{}").get("valid"))
    except (ValueError, AttributeError):
        return False


def preferred_calibration(rows: list[tuple[str, float, str | None]]) -> dict[str, float]:
    """{fingerprint: score} from (fingerprint, score, calibration json) rows, newest first:
    the newest valid calibration of each machine, else its newest one. A calibration taken
    while the machine was busy would otherwise shift every scaled target by its noise."""
    scores: dict[str, float] = {}
    settled: set[str] = set()
    for fingerprint, score, calibration in rows:
        if score is None or fingerprint in settled:
            continue
        if is_valid_calibration(calibration):
            scores[fingerprint] = score
            settled.add(fingerprint)
        else:
            scores.setdefault(fingerprint, score)
    return scores
