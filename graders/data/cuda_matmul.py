"""Day 101 on a real NVIDIA GPU: the learner's numba.cuda tiled matmul kernel checked
against torch.matmul and timed against the grader's naive kernel and cuBLAS.

The grading process runs numba in its CUDA simulator (NUMBA_ENABLE_CUDASIM=1 is set before
numba is imported there, and numba reads it once), so the real-GPU run needs a process of
its own. The grader starts

    python -m graders.data.cuda_matmul SOLUTION_PY OUT_JSON

with the variable removed from its environment. OUT_JSON holds {"skip": reason} when this
machine cannot run numba.cuda kernels, {"error": text} when the learner's code failed, or the
results: {"cases": [...], "helper": {...}, "naive" / "coalesced" / "cublas": the fields of
graders.bench.Comparison}.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import os
import sys
import traceback
from pathlib import Path

SEED = 101
CASES = [(1000, 513, 700), (1024, 1024, 1024)]  # (m, k, n): edge tiles, then whole tiles
HELPER_CASE = (300, 200, 100)
TIMED = 1024  # n x n x n for the timing
ATOL, RTOL = 1e-3, 1e-4  # float32 kernel vs the float64 product, inputs uniform in [-1, 1)


class Skip(Exception):
    """This machine cannot run the GPU checks (reason in the message)."""


def _cuda():
    try:
        import torch
    except ImportError:
        raise Skip("needs package torch with CUDA") from None
    if not torch.cuda.is_available():
        raise Skip("torch.cuda.is_available() is False in a process without "
                   "NUMBA_ENABLE_CUDASIM")
    try:
        from numba import config, cuda
    except ImportError as exc:
        raise Skip(f"needs numba-cuda (pip install numba-cuda[cu12]): {exc}") from None
    if config.ENABLE_CUDASIM:
        raise Skip("grader error: numba was imported with NUMBA_ENABLE_CUDASIM set")
    if not cuda.is_available():
        raise Skip("numba.cuda.is_available() is False: numba finds no CUDA driver/toolkit "
                   "(pip install numba-cuda[cu12])")
    try:  # a driver without NVVM (the CUDA toolkit's compiler library) cannot compile kernels
        @cuda.jit
        def probe(x):
            x[0] = 1.0

        x = cuda.device_array(1, dtype="float32")
        probe[1, 1](x)
        cuda.synchronize()
    except Exception as exc:
        raise Skip(f"numba cannot compile a CUDA kernel here (pip install numba-cuda[cu12]): "
                   f"{type(exc).__name__}: {exc}") from None
    return torch, cuda


def _naive_kernels():
    """Two one-thread-per-element kernels reading A and B straight from global memory: the
    numba documentation's (x spans rows: a warp reads a column of A and writes a column of C,
    strided) and the coalesced one (x spans columns, as in the learner's kernel)."""
    # module globals, not closure cells: the simulator swaps only a kernel's global `cuda`
    global cuda, float32
    from numba import cuda, float32

    @cuda.jit
    def rows(A, B, C):
        row, col = cuda.grid(2)
        if row < C.shape[0] and col < C.shape[1]:
            acc = float32(0.0)
            for i in range(A.shape[1]):
                acc += A[row, i] * B[i, col]
            C[row, col] = acc

    @cuda.jit
    def cols(A, B, C):
        col, row = cuda.grid(2)
        if row < C.shape[0] and col < C.shape[1]:
            acc = float32(0.0)
            for i in range(A.shape[1]):
                acc += A[row, i] * B[i, col]
            C[row, col] = acc

    return rows, cols


def _load(path: str):
    folder = str(Path(path).parent)
    sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location("solution", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["solution"] = module
    spec.loader.exec_module(module)
    return module


def _grid(m: int, n: int, tile: int) -> tuple[tuple[int, int], tuple[int, int]]:
    return (math.ceil(n / tile), math.ceil(m / tile)), (tile, tile)


def _error(torch, got, want) -> dict:
    bad = ~torch.isclose(got.double(), want, rtol=RTOL, atol=ATOL)
    diff = (got.double() - want).abs()
    return {"max_abs_err": float(torch.nan_to_num(diff, nan=math.inf).max()),
            "nan": int(torch.isnan(got).sum()), "bad": int(bad.sum())}


def run(solution_path: str, cases=CASES, helper_case=HELPER_CASE, timed=TIMED,
        dry_run: bool = False) -> dict:
    """The GPU checks; `dry_run` runs the same code on CPU tensors in numba's simulator (small
    sizes only), which is how this module is tested on a machine without a GPU."""
    if dry_run:
        import torch
        from numba import cuda

        device, as_array, name = "cpu", (lambda t: t.numpy()), "numba CUDA simulator"
    else:
        torch, cuda = _cuda()
        device, as_array, name = "cuda", cuda.as_cuda_array, torch.cuda.get_device_name()
    import numpy as np

    from graders import bench

    sol = _load(solution_path)
    tile = int(sol.TILE)
    torch.backends.cuda.matmul.allow_tf32 = False  # cuBLAS in true float32
    gen = torch.Generator(device=device).manual_seed(SEED)

    def rand(*shape):
        return torch.rand(*shape, generator=gen, device=device) * 2 - 1

    def launch(kernel, a, b, c):
        grid, block = _grid(a.shape[0], b.shape[1], tile)
        kernel[grid, block](as_array(a), as_array(b), as_array(c))

    rows = []
    for m, k, n in cases:
        a, b = rand(m, k), rand(k, n)
        c = torch.full((m, n), math.nan, device=device)
        launch(sol.matmul_kernel, a, b, c)
        cuda.synchronize()
        want = torch.matmul(a.double(), b.double())
        rows.append({"shape": [m, k, n], **_error(torch, c, want)})

    rng = np.random.default_rng(SEED)
    m, k, n = helper_case
    ha = rng.uniform(-1, 1, (m, k)).astype(np.float32)
    hb = rng.uniform(-1, 1, (k, n)).astype(np.float32)
    got = sol.matmul(ha, hb)
    helper = {"shape": [m, k, n], "type": type(got).__name__,
              "dtype": str(getattr(got, "dtype", "")),
              "out_shape": list(getattr(got, "shape", ()))}
    if isinstance(got, np.ndarray) and got.shape == (m, n):
        helper.update(_error(torch, torch.from_numpy(np.asarray(got, dtype=np.float32)),
                             torch.from_numpy(ha.astype(np.float64) @ hb)))

    a, b = rand(timed, timed), rand(timed, timed)
    c1, c2, c3, c4 = (torch.empty(timed, timed, device=device) for _ in range(4))
    da, db, dc1, dc2, dc4 = (as_array(t) for t in (a, b, c1, c2, c4))
    grid, block = _grid(timed, timed, tile)
    naive_rows, naive_cols = _naive_kernels()

    def tiled():
        sol.matmul_kernel[grid, block](da, db, dc1)

    def naive():  # square problem: the same grid covers C with x spanning rows
        naive_rows[grid, block](da, db, dc2)

    def coalesced():
        naive_cols[grid, block](da, db, dc4)

    def cublas():
        torch.matmul(a, b, out=c3)

    options = {"device": device, "max_time_s": 3.0}
    if dry_run:  # a simulated launch takes seconds: a few rounds show the plumbing works
        options.update(max_time_s=0.1, min_rounds=1, warmup=0)
    size = f"{timed}³ float32"
    vs_naive = bench.compare(naive, tiled, name=f"tiled vs naive kernel {size}", **options)
    vs_coalesced = bench.compare(coalesced, tiled,
                                 name=f"tiled vs coalesced naive kernel {size}", **options)
    vs_cublas = bench.compare(tiled, cublas, name=f"cuBLAS vs tiled kernel {size}", **options)
    if dry_run:
        c1 = torch.from_numpy(dc1)
    timed_ok = _error(torch, c1, torch.matmul(a.double(), b.double()))
    return {"device": name, "cases": rows, "helper": helper, "timed_result": timed_ok,
            **{key: dataclasses.asdict(c) for key, c in
               (("naive", vs_naive), ("coalesced", vs_coalesced), ("cublas", vs_cublas))}}


def main(argv: list[str]) -> int:
    solution_path, out = argv
    os.environ.pop("NUMBA_ENABLE_CUDASIM", None)
    try:
        report = run(solution_path)
    except Skip as exc:
        report = {"skip": str(exc)}
    except Exception as exc:  # the learner's kernel failed: its message goes to the verdict
        report = {"error": f"{type(exc).__name__}: {exc}",
                  "trace": traceback.format_exc(limit=-4)}
    Path(out).write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
