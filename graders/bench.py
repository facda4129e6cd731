"""The benchmark harness behind every latency, throughput and speed-up target.

`measure(fn, *args)` times one function:
  1. one untimed first call (imports, caches, JIT, lazy allocation); its peak memory is
     read here: the resident-set high-water mark on Linux (reset before the call), else
     tracemalloc; on a GPU, CUDA's allocator peak;
  2. a block size n, grown until n calls take at least `block_s` (0.2 ms), so timer
     resolution and loop overhead are negligible;
  3. a fixed warm-up of `warmup` (3) blocks, timed and thrown away (cut short only when
     warming up has taken a quarter of the time budget: such a function is warm anyway);
  4. samples (block time / n) for at least `min_time_s` and `min_samples`, continued until
     the relative IQR is at most `rel_iqr_max` (10 %) or `max_time_s` runs out.
  The result has the median, nearest-rank p90/p99 (only with block=1, from 10/100
  samples on: a block's mean has no per-call tail), the
  relative IQR, the raw samples, the peak memory and a validity flag (at least 5 samples,
  relative IQR within the bound).

`compare(baseline, candidate, *args)` measures a speed-up the only way a shared machine
allows: interleaved rounds, one block of each per round, in ABBA order so drift and
"who runs second" cancel. The speed-up is the median of the per-round ratios
baseline/candidate, with a distribution-free confidence interval for that median (order
statistics, exact binomial coverage; 6 rounds at least for 95 %). `verdict(target)` is
PASS when the lower bound meets the target, FAIL when the upper bound is below it and
INCONCLUSIVE otherwise: noise can only leave a result undecided, never turn it into a
pass or a failure. Rounds stop on the width of the interval, never on the verdict.

On a GPU (device="cuda", CUDA tensors among the arguments, or, in auto mode, any call once
the process has initialised CUDA, closures included) blocks are timed with CUDA events
after a synchronise. torch is imported only then.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import math
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graders.bench_stats import (
    median,
    median_ci,
    min_samples_for_ci,
    nearest_rank,
    quantile,
    rel_iqr,
)

PASS, FAIL, INCONCLUSIVE = "PASS", "FAIL", "INCONCLUSIVE"

BLOCK_S = 2e-4  # a sample times a block of calls lasting at least this long (short blocks:
# on a busy machine fewer of them are interrupted, and the median sees through those that are)
MAX_BLOCK = 1 << 20
WARMUP = 3  # blocks (measure) or rounds (compare) timed and discarded
REL_IQR_MAX = 0.10
MIN_VALID_SAMPLES = 5
MAX_SAMPLES = 5000


# ---- results ----------------------------------------------------------------------------


@dataclass
class Measurement:
    """One function timed by `measure`; times are seconds per call."""

    name: str
    samples_s: list[float]
    block: int  # calls per sample
    warmup: int
    device: str  # cpu | cuda
    timer: str  # perf_counter | cuda-events
    first_call_s: float  # the untimed first call (cold)
    peak_mem_bytes: int | None  # peak extra memory of one call (see mem_method)
    mem_method: str  # tracemalloc (Python + numpy heap) | cuda (torch allocator) | ""
    total_s: float  # wall time the measurement took
    stop: str  # stable | time-cap | sample-cap
    rel_iqr_max: float = REL_IQR_MAX

    @property
    def n(self) -> int:
        return len(self.samples_s)

    @property
    def median_s(self) -> float:
        return median(self.samples_s)

    @property
    def mean_s(self) -> float:
        return sum(self.samples_s) / self.n

    @property
    def min_s(self) -> float:
        return min(self.samples_s)

    # A sample of a block is a mean of `block` calls: its tail is not the calls' tail, so
    # tails are reported only for per-call samples (block=1).
    @property
    def p90_s(self) -> float | None:
        return nearest_rank(self.samples_s, 90) if self.block == 1 else None

    @property
    def p99_s(self) -> float | None:
        return nearest_rank(self.samples_s, 99) if self.block == 1 else None

    @property
    def rel_iqr(self) -> float:
        return rel_iqr(self.samples_s)

    @property
    def valid(self) -> bool:
        return self.n >= MIN_VALID_SAMPLES and self.rel_iqr <= self.rel_iqr_max

    @property
    def reason(self) -> str:
        """Why the measurement is not valid ("" when it is)."""
        if self.n < MIN_VALID_SAMPLES:
            return f"only {self.n} sample(s) in {self.total_s:.1f} s (need {MIN_VALID_SAMPLES})"
        if self.rel_iqr > self.rel_iqr_max:
            return (f"too noisy: relative IQR {self.rel_iqr:.0%} > {self.rel_iqr_max:.0%} "
                    f"after {self.total_s:.1f} s")
        return ""

    def ci(self, confidence: float = 0.95) -> tuple[float, float] | None:
        """Confidence interval of the median per-call time."""
        return median_ci(self.samples_s, confidence)

    def verdict(self, bound: float, op: str = "<=", confidence: float = 0.95) -> str:
        """An absolute target (e.g. median latency <= bound): decided by a valid
        measurement whose confidence interval lies wholly on one side of the bound. A noisy
        one decides only when every sample lies on the same side (noise adds time, so the
        slowest sample meeting a bound, or the fastest missing it, is still a fair verdict);
        anything else is INCONCLUSIVE."""
        ci = self.ci(confidence)
        if ci is None or self.n < MIN_VALID_SAMPLES:
            return INCONCLUSIVE
        if not self.valid:
            ci = (min(self.samples_s), max(self.samples_s))
        return _decide(ci, bound, op)

    def stats(self) -> dict[str, Any]:
        ci = self.ci()
        return {
            "median_s": self.median_s, "mean_s": self.mean_s, "min_s": self.min_s,
            "p90_s": self.p90_s, "p99_s": self.p99_s, "rel_iqr": self.rel_iqr,
            "ci95_s": list(ci) if ci else None, "n": self.n, "block": self.block,
            "warmup": self.warmup, "first_call_s": self.first_call_s,
            "peak_mem_bytes": self.peak_mem_bytes, "mem_method": self.mem_method,
            "total_s": self.total_s, "stop": self.stop, "valid": self.valid,
            "reason": self.reason, "device": self.device, "timer": self.timer,
        }

    def __str__(self) -> str:
        tail = f", p90 {fmt_s(self.p90_s)}" if self.p90_s is not None else ""
        state = "" if self.valid else f" [{self.reason}]"
        spread = f"IQR {self.rel_iqr:.1%}" if math.isfinite(self.rel_iqr) else "no IQR"
        return (f"{self.name}: median {fmt_s(self.median_s)}{tail}, {spread}, "
                f"{self.n}×{self.block} calls{state}")


@dataclass
class Comparison:
    """Baseline vs candidate, timed in interleaved rounds; speed-up = baseline/candidate."""

    name: str
    ratios: list[float]  # per round: baseline time / candidate time (> 1: candidate faster)
    baseline_s: list[float] = field(default_factory=list)  # per-call times, one per round
    candidate_s: list[float] = field(default_factory=list)
    blocks: tuple[int, int] = (1, 1)
    confidence: float = 0.95
    device: str = "cpu"
    timer: str = "perf_counter"
    total_s: float = 0.0
    stop: str = ""
    warmup: int = 0  # rounds thrown away

    @classmethod
    def from_ratios(cls, ratios: list[float], name: str = "", **kw: Any) -> Comparison:
        return cls(name=name, ratios=list(ratios), **kw)

    @property
    def rounds(self) -> int:
        return len(self.ratios)

    @property
    def speedup(self) -> float:
        return median(self.ratios)

    @property
    def interval(self) -> tuple[float, float] | None:
        return median_ci(self.ratios, self.confidence)

    @property
    def low(self) -> float | None:
        ci = self.interval
        return ci[0] if ci else None

    @property
    def high(self) -> float | None:
        ci = self.interval
        return ci[1] if ci else None

    @property
    def valid(self) -> bool:
        """Enough rounds for a confidence interval at all."""
        return self.interval is not None

    @property
    def rel_width(self) -> float:
        ci = self.interval
        return (ci[1] - ci[0]) / self.speedup if ci and self.speedup > 0 else math.inf

    def verdict(self, target: float) -> str:
        """PASS when the lower bound meets `target`, FAIL when the upper bound is below it,
        INCONCLUSIVE when the interval straddles it (or there are too few rounds)."""
        ci = self.interval
        if ci is None:
            return INCONCLUSIVE
        return _decide(ci, target, ">=")

    def stats(self) -> dict[str, Any]:
        ci = self.interval
        return {
            "speedup": self.speedup, "low": ci[0] if ci else None, "high": ci[1] if ci else None,
            "confidence": self.confidence, "rounds": self.rounds, "rel_width": self.rel_width,
            "baseline_median_s": median(self.baseline_s) if self.baseline_s else None,
            "candidate_median_s": median(self.candidate_s) if self.candidate_s else None,
            "blocks": list(self.blocks), "warmup": self.warmup, "total_s": self.total_s,
            "stop": self.stop,
            "valid": self.valid, "device": self.device, "timer": self.timer,
        }

    def __str__(self) -> str:
        ci = self.interval
        bounds = f" [{ci[0]:.3g}, {ci[1]:.3g}]" if ci else " [too few rounds for an interval]"
        return (f"{self.name}: speed-up {self.speedup:.3g}×{bounds} "
                f"({self.confidence:.0%} CI, {self.rounds} rounds)")


def _decide(ci: tuple[float, float], bound: float, op: str) -> str:
    low, high = ci
    if op == ">=":
        return PASS if low >= bound else FAIL if high < bound else INCONCLUSIVE
    if op == "<=":
        return PASS if high <= bound else FAIL if low > bound else INCONCLUSIVE
    raise ValueError(f"unknown comparison {op!r}")


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(seconds) >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


# ---- timing ------------------------------------------------------------------------------


class _Clock:
    """Runs a block of n calls and returns its duration in seconds."""

    device = "cpu"

    def __init__(self, fn: Callable[[], Any], now: Callable[[], float] = time.perf_counter):
        self.fn = fn
        self.now = now
        self.timer = getattr(now, "__name__", "custom clock")

    def sync(self) -> None:
        pass

    def block(self, n: int) -> float:
        fn = self.fn
        loop = itertools.repeat(None, n)
        now = self.now
        with _gc_paused():
            t0 = now()
            for _ in loop:
                fn()
            return now() - t0

    def first_call(self, memory: bool) -> tuple[float, int | None, str]:
        """The untimed first call: its duration and the peak memory it added."""
        if memory:
            probe = _RssPeak.start()
            if probe is not None:
                took = self._timed_call()
                return took, probe.peak_above_start(), "rss"
            return self._traced_call()
        return self._timed_call(), None, ""

    def _timed_call(self) -> float:
        t0 = time.perf_counter()
        self.fn()
        return time.perf_counter() - t0

    def _traced_call(self) -> tuple[float, int | None, str]:
        """tracemalloc (Python objects and numpy buffers only; slows Python-heavy code, but
        this call is untimed) where the kernel offers no resettable RSS peak."""
        already = tracemalloc.is_tracing()
        if already:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
        else:
            base = 0
            tracemalloc.start()
        try:
            took = self._timed_call()
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            if not already:
                tracemalloc.stop()
        return took, max(0, peak), "tracemalloc"


class _RssPeak:
    """Peak resident memory of one call on Linux: reset the process's high-water mark
    (`echo 5 > /proc/self/clear_refs`), then read VmHWM. Counts every allocation (numpy,
    torch CPU tensors, C libraries) at no cost to the call."""

    def __init__(self, base: int):
        self.base = base

    @classmethod
    def start(cls) -> _RssPeak | None:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            return cls(_status_kib("VmRSS"))
        except (OSError, ValueError):
            return None

    def peak_above_start(self) -> int | None:
        try:
            return max(0, _status_kib("VmHWM") - self.base) * 1024
        except (OSError, ValueError):
            return None


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise ValueError(f"{key} not in /proc/self/status")


class _CudaClock(_Clock):
    """CUDA work is asynchronous: time blocks with events recorded on the stream and wait
    for the end event, so a sample is the GPU's time, not the launch time."""

    device = "cuda"

    def __init__(self, fn: Callable[[], Any], now: Callable[[], float] = time.perf_counter):
        super().__init__(fn)
        self.timer = "cuda-events"
        import torch  # only when CUDA timing is asked for

        if not torch.cuda.is_available():
            from graders.requires import HardwareSkip

            raise HardwareSkip("needs nvidia-gpu: CUDA timing was asked for but "
                               "torch.cuda.is_available() is False on this machine")
        self.torch = torch

    def sync(self) -> None:
        self.torch.cuda.synchronize()

    def block(self, n: int) -> float:
        cuda, fn = self.torch.cuda, self.fn
        start, end = cuda.Event(enable_timing=True), cuda.Event(enable_timing=True)
        cuda.synchronize()  # nothing earlier may leak into this block
        with _gc_paused():
            start.record()
            for _ in itertools.repeat(None, n):
                fn()
            end.record()
            end.synchronize()
        return start.elapsed_time(end) / 1e3  # elapsed_time is in milliseconds

    def first_call(self, memory: bool) -> tuple[float, int | None, str]:
        cuda = self.torch.cuda
        cuda.synchronize()
        before = cuda.memory_allocated()
        if memory:
            cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        self.fn()
        cuda.synchronize()
        took = time.perf_counter() - t0
        if not memory:
            return took, None, ""
        return took, max(0, cuda.max_memory_allocated() - before), "cuda"


def _wants_cuda(device: str, args: tuple, kwargs: dict) -> bool:
    if device in ("cuda", "gpu"):
        return True
    if device == "cpu":
        return False
    if device != "auto":
        raise ValueError(f"device must be auto, cpu or cuda (got {device!r})")
    torch = sys.modules.get("torch")  # CUDA tensors exist only if torch is already imported
    if torch is None:
        return False
    values = itertools.chain(args, kwargs.values())
    if any(isinstance(v, torch.Tensor) and v.is_cuda for v in values):
        return True
    # a closure over CUDA tensors shows none in its arguments: once this process has used
    # CUDA, its work may be asynchronous and only a synchronised clock times it
    return bool(torch.cuda.is_initialized())


def _clock(fn: Callable, args: tuple, kwargs: dict, device: str,
           now: Callable[[], float]) -> _Clock:
    call = (lambda: fn(*args, **kwargs)) if (args or kwargs) else fn
    return _CudaClock(call) if _wants_cuda(device, args, kwargs) else _Clock(call, now)


def _calibrate_block(clock: _Clock, block_s: float) -> int:
    """The smallest power-of-two-ish n whose block lasts at least `block_s`."""
    n = 1
    while n < MAX_BLOCK:
        took = clock.block(n)
        if took >= block_s:
            break
        grow = 2 if took <= 0 else min(10.0, max(2.0, 1.2 * block_s / took))
        n = min(MAX_BLOCK, int(n * grow))
    return n


@contextlib.contextmanager
def _gc_paused():
    """No garbage collection inside a timed block (as timeit does): a collection triggered
    by earlier garbage must not land in one sample. It runs between blocks instead, so
    cyclic garbage of many calls cannot pile up."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@contextlib.contextmanager
def _fresh_heap():
    gc.collect()  # start without garbage left by the code before
    yield


def _warm_up(run: Callable[[], Any], count: int, since: float, max_time_s: float) -> int:
    """`count` blocks (or rounds) thrown away, cut short once warming up (block-size
    calibration included) has taken a quarter of the time budget: a function slow enough
    for that is warm after its first calls. Returns how many ran."""
    done = 0
    while done < count and time.perf_counter() - since < max_time_s / 4:
        run()
        done += 1
    return done


def _worth_extending(count: int, need: int, elapsed: float, max_time_s: float) -> bool:
    """Past the time cap with fewer than `need` samples (too few to judge): go on if the
    missing ones fit in the budget again, so slow code gets a verdict, not just a shrug."""
    if count >= need or count == 0:
        return False
    return elapsed + (need - count) * elapsed / count <= 2 * max_time_s


def _thread_limit(threads: int | None):
    if threads is None:
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # no way to limit them: time with whatever threads BLAS uses
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads)


def _should_check(count: int) -> bool:
    return count < 200 or count % max(1, count // 50) == 0


# ---- measure ------------------------------------------------------------------------------


def measure(fn: Callable, *args: Any, name: str = "", kwargs: dict | None = None,
            device: str = "auto", block: int | None = None, warmup: int = WARMUP,
            min_time_s: float = 0.2, max_time_s: float = 2.0, min_samples: int = 10,
            rel_iqr_max: float = REL_IQR_MAX, block_s: float = BLOCK_S,
            memory: bool = True, threads: int | None = None,
            timer: Callable[[], float] = time.perf_counter) -> Measurement:
    """Time `fn(*args, **kwargs)`; see the module docstring for the procedure.

    `block=1` times every call on its own (for per-call latency tails); `memory=False`
    skips the peak-memory reading of the first call; `threads=1` limits the BLAS/OpenMP
    thread pools while timing (a fair single-core figure, steadier on a busy machine);
    `timer` replaces the wall clock on the CPU (e.g. time.thread_time: CPU time, blind to
    preemption, as torch's Timer(timer=...) allows).
    """
    kwargs = kwargs or {}
    clock = _clock(fn, args, kwargs, device, timer)
    started = time.perf_counter()
    samples: list[float] = []
    stop = "time-cap"
    with _thread_limit(threads), _fresh_heap():
        first_s, peak, method = clock.first_call(memory)
        warm_from = time.perf_counter()
        n = block or _calibrate_block(clock, block_s)
        warmed = _warm_up(lambda: clock.block(n), warmup, warm_from, max_time_s)
        t0 = time.perf_counter()
        while True:
            samples.append(clock.block(n) / n)
            elapsed = time.perf_counter() - t0
            count = len(samples)
            if (count >= min_samples and elapsed >= min_time_s and _should_check(count)
                    and rel_iqr(samples) <= rel_iqr_max):
                stop = "stable"
                break
            if elapsed >= max_time_s and not _worth_extending(
                    count, MIN_VALID_SAMPLES, elapsed, max_time_s):
                break
            if count >= MAX_SAMPLES:
                stop = "sample-cap"
                break
    return Measurement(
        name=name or getattr(fn, "__name__", "fn"), samples_s=samples, block=n, warmup=warmed,
        device=clock.device, timer=clock.timer, first_call_s=first_s, peak_mem_bytes=peak,
        mem_method=method, total_s=time.perf_counter() - started, stop=stop,
        rel_iqr_max=rel_iqr_max,
    )


# ---- compare ------------------------------------------------------------------------------


def compare(baseline: Callable, candidate: Callable, *args: Any, name: str = "",
            kwargs: dict | None = None, candidate_args: tuple | None = None,
            device: str = "auto", confidence: float = 0.95, warmup: int = WARMUP,
            min_rounds: int = 20, min_time_s: float = 0.5, max_time_s: float = 4.0,
            max_rounds: int = 2000, ci_rel_width: float = 0.10,
            block_s: float = BLOCK_S, threads: int | None = None,
            timer: Callable[[], float] = time.perf_counter) -> Comparison:
    """How much faster `candidate` is than `baseline` on the same arguments.

    Both get one untimed call and their own block size; then `warmup` rounds are thrown
    away and rounds continue until there are `min_rounds` of them, `min_time_s` has passed
    and the confidence interval is narrower than `ci_rel_width` of the speed-up — or
    `max_time_s` runs out. The stopping rule looks at the width, never at the verdict, so
    stopping cannot steer the result towards PASS or FAIL.
    `candidate_args` gives the candidate other arguments (e.g. its own data layout);
    `threads=1` runs both with one BLAS/OpenMP thread (see `measure`).
    """
    kwargs = kwargs or {}
    a = _clock(baseline, args, kwargs, device, timer)
    b = _clock(candidate, args if candidate_args is None else candidate_args, kwargs, device,
               timer)
    if a.device != b.device:
        raise ValueError("baseline and candidate run on different devices "
                         f"({a.device} vs {b.device}): pass device= explicitly")
    started = time.perf_counter()
    ratios: list[float] = []
    times_a: list[float] = []
    times_b: list[float] = []
    stop = "time-cap"
    with _thread_limit(threads), _fresh_heap():
        a.first_call(memory=False)
        b.first_call(memory=False)
        warm_from = time.perf_counter()
        na, nb = _calibrate_block(a, block_s), _calibrate_block(b, block_s)
        warmed = _warm_up(lambda: (a.block(na), b.block(nb)), warmup, warm_from, max_time_s)
        need = min_samples_for_ci(confidence)
        t0 = time.perf_counter()
        for r in itertools.count():
            # ABBA: even rounds run the baseline first, odd rounds the candidate first
            if r % 2 == 0:
                ta, tb = a.block(na) / na, b.block(nb) / nb
            else:
                tb, ta = b.block(nb) / nb, a.block(na) / na
            times_a.append(ta)
            times_b.append(tb)
            ratios.append(ta / tb if tb > 0 else math.inf)
            elapsed = time.perf_counter() - t0
            count = len(ratios)
            if count >= min_rounds and elapsed >= min_time_s and _should_check(count):
                ci = median_ci(ratios, confidence)
                m = median(ratios)
                if ci and m > 0 and (ci[1] - ci[0]) / m <= ci_rel_width:
                    stop = "stable"
                    break
            if elapsed >= max_time_s and not _worth_extending(count, need, elapsed, max_time_s):
                break
            if count >= max_rounds:
                stop = "round-cap"
                break
    return Comparison(
        name=name or f"{_name(candidate)} vs {_name(baseline)}", ratios=ratios,
        baseline_s=times_a, candidate_s=times_b, blocks=(na, nb), confidence=confidence,
        device=a.device, timer=a.timer, total_s=time.perf_counter() - started, stop=stop,
        warmup=warmed,
    )


def _name(fn: Callable) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


__all__ = ["FAIL", "INCONCLUSIVE", "PASS", "Comparison", "Measurement", "compare", "fmt_s",
           "measure", "quantile"]
