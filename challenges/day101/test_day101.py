"""Day 101 grader: the learner's tiled shared-memory matmul kernel (numba.cuda), run on the
CPU in numba's CUDA simulator — results against numpy on sizes that leave partial tiles at
every edge, and the simulator instrumented to see the tiling itself: the shared arrays,
the barriers each thread passes, and how often each input element is read from global
memory. On an NVIDIA GPU the same kernel then runs for real in a process of its own
(graders.data.cuda_matmul): results against torch.matmul, timed against the grader's naive
kernel and cuBLAS."""

import os

# The CPU checks run in the simulator: numba reads this once, when it is imported, and
# nothing imports it before this module in the grading process.
os.environ["NUMBA_ENABLE_CUDASIM"] = "1"

import collections  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import numbers  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from graders import requires  # noqa: E402
from graders.bench import Comparison  # noqa: E402
from graders.requires import HardwareSkip  # noqa: E402
from hardware.detect import available  # noqa: E402

TILE = 16
SEED = 101
EDGES = (20, 40, 18)  # (m, k, n): 2 x 2 blocks, 3 tile steps, partial tiles at every edge
WHOLE = (16, 32, 32)  # whole tiles only: 2 blocks side by side (x spans columns), 2 steps
HELPER = (17, 7, 5)  # matmul(): 2 blocks, k shorter than a tile
ATOL, RTOL = 1e-4, 1e-5  # float32 kernel vs the float64 product of the same float32 inputs
GPU_RUN_S = 100


def _grid(m, n):
    return (math.ceil(n / TILE), math.ceil(m / TILE)), (TILE, TILE)


def _inputs(m, k, n, seed=SEED):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((m, k)).astype(np.float32),
            rng.standard_normal((k, n)).astype(np.float32))


# ---- the simulator, instrumented ------------------------------------------------------------


class Probe:
    """What one simulated launch did: the kernels launched with the dtypes of their array
    arguments, the shared arrays of each launch, the barriers each (block, thread) passed,
    and the global-memory reads and writes per array shape."""

    def __init__(self):
        self.lock = threading.Lock()
        self.launches = []
        self.modules = []
        self.barriers = collections.Counter()
        self.reads = collections.Counter()
        self.writes = collections.Counter()

    def shared_arrays(self):
        return [a for mod in self.modules for a in mod._shared._allocations.values()]


@contextlib.contextmanager
def probing():
    from numba.cuda.simulator import kernel as sim_kernel
    from numba.cuda.simulator import kernelapi
    from numba.cuda.simulator.cudadrv import devicearray

    probe = Probe()
    call = sim_kernel.FakeCUDAKernel.__call__
    module_init = kernelapi.FakeCUDAModule.__init__
    sync = sim_kernel.BlockThread.syncthreads
    array = devicearray.FakeWithinKernelCUDAArray
    get, put = array.__getitem__, array.__setitem__

    def recorded_call(self, *args):
        dtypes = [str(a.dtype) for a in args if hasattr(a, "dtype") and hasattr(a, "shape")]
        probe.launches.append((self, dtypes))
        return call(self, *args)

    def init(self, *args, **kwargs):
        module_init(self, *args, **kwargs)
        probe.modules.append(self)

    def counted_sync(self):
        with probe.lock:
            probe.barriers[tuple(self.blockIdx), tuple(self.threadIdx)] += 1
        return sync(self)

    def counted_get(self, idx):
        with probe.lock:
            probe.reads[self._item._ary.shape] += 1
        return get(self, idx)

    def counted_put(self, idx, val):
        with probe.lock:
            probe.writes[self._item._ary.shape] += 1
        return put(self, idx, val)

    sim_kernel.FakeCUDAKernel.__call__ = recorded_call
    kernelapi.FakeCUDAModule.__init__ = init
    sim_kernel.BlockThread.syncthreads = counted_sync
    array.__getitem__, array.__setitem__ = counted_get, counted_put
    try:
        yield probe
    finally:
        sim_kernel.FakeCUDAKernel.__call__ = call
        kernelapi.FakeCUDAModule.__init__ = module_init
        sim_kernel.BlockThread.syncthreads = sync
        array.__getitem__, array.__setitem__ = get, put


@pytest.fixture(scope="session")
def simulator():
    from numba import config

    if not config.ENABLE_CUDASIM:
        pytest.fail("grader error: numba was imported before the grader set "
                    "NUMBA_ENABLE_CUDASIM=1", pytrace=False)


def launch(solution, m, k, n):
    """The learner's kernel on the grader's launch configuration; C starts as NaN so an
    element the kernel never writes shows."""
    A, B = _inputs(m, k, n)
    C = np.full((m, n), np.nan, dtype=np.float32)
    grid, block = _grid(m, n)
    with probing() as probe:
        try:
            solution.matmul_kernel[grid, block](A, B, C)
        except NotImplementedError:
            raise
        except Exception as exc:  # an out-of-bounds index names its thread and block
            hint = (" — guard every global load and store with the matrix bounds (partial "
                    "tiles at the edges)" if isinstance(exc, IndexError) else "")
            pytest.fail(f"matmul_kernel[{grid}, {block}] on A {m}x{k}, B {k}x{n} raised "
                        f"{type(exc).__name__}: {exc}{hint}", pytrace=False)
    return A, B, C, probe


@pytest.fixture(scope="session")
def edges(solution, simulator):
    return launch(solution, *EDGES)


def check_product(C, A, B, what):
    want = A.astype(np.float64) @ B.astype(np.float64)
    unwritten = np.argwhere(np.isnan(C))
    if len(unwritten):
        r, c = unwritten[0]
        pytest.fail(f"{what}: {len(unwritten)} of {C.size} elements of C are NaN (first at row "
                    f"{r}, column {c}): never written — does the grid cover every row and "
                    "column (block counts rounded up; x spans columns, y rows), does each "
                    "thread write its element? — "
                    "or summed from shared memory not loaded yet (a missing cuda.syncthreads())",
                    pytrace=False)
    bad = ~np.isclose(C, want, rtol=RTOL, atol=ATOL)
    if bad.any():
        rows, cols = np.nonzero(bad)
        pytest.fail(f"{what}: {int(bad.sum())} of {C.size} elements differ from numpy's A @ B "
                    f"(max abs error {np.abs(C - want).max():.3g}, first at row {rows[0]}, "
                    f"column {cols[0]}); the usual causes: a missing cuda.syncthreads(), a "
                    "wrong tile index, or the parts of an edge tile outside A or B not loaded "
                    "as 0", pytrace=False)


# ---- the API --------------------------------------------------------------------------------


def test_tile_is_16(solution):
    assert getattr(solution, "TILE", None) == TILE, (
        f"TILE must be {TILE} (threads per block edge and the shared tiles' edge), "
        f"got {getattr(solution, 'TILE', None)!r}")


@pytest.mark.parametrize("m,n", [(37, 29), (32, 16), (1, 1), (16, 17), (33, 32), (100, 3)])
def test_launch_config_covers_every_element(solution, m, n):
    got = solution.launch_config(m, n)
    want = _grid(m, n)
    assert all(isinstance(v, numbers.Integral) for part in got for v in part), (
        f"launch_config({m}, {n}) returned {got!r}: block and thread counts are ints")
    got = tuple(tuple(int(v) for v in part) for part in got)
    assert got == want, (
        f"launch_config({m}, {n}) returned {got}, expected {want}: blocks per grid "
        f"(ceil(n / TILE), ceil(m / TILE)) — x spans columns, y rows, rounded up so the partial "
        f"tiles at the edges get a block — and threads per block (TILE, TILE)")


@pytest.mark.parametrize("shapes", [((3, 4), (5, 2)), ((4,), (4, 2)), ((3, 4), (4,))],
                         ids=["inner-mismatch", "1-D-A", "1-D-B"])
def test_matmul_rejects_bad_shapes(solution, simulator, shapes):
    a, b = (np.ones(s, dtype=np.float32) for s in shapes)
    rule = (f"for shapes {shapes[0]} @ {shapes[1]}: the spec asks for ValueError (inner "
            "dimensions must agree, both 2-D)")
    try:
        got = solution.matmul(a, b)
    except ValueError:
        return
    except NotImplementedError:
        raise
    except Exception as exc:
        pytest.fail(f"matmul raised {type(exc).__name__} {rule}", pytrace=False)
    pytest.fail(f"matmul returned a {type(got).__name__} {rule}", pytrace=False)


# ---- the kernel in the simulator ------------------------------------------------------------


def test_kernel_matches_numpy_with_partial_edge_tiles(edges):
    A, B, C, _ = edges
    check_product(C, A, B, f"matmul_kernel on A {EDGES[0]}x{EDGES[1]}, B {EDGES[1]}x{EDGES[2]}")


def test_kernel_matches_numpy_on_whole_tiles(solution, simulator):
    A, B, C, _ = launch(solution, *WHOLE)
    check_product(C, A, B, f"matmul_kernel on A {WHOLE[0]}x{WHOLE[1]}, B {WHOLE[1]}x{WHOLE[2]}")


def test_kernel_stages_tiles_in_shared_memory(edges):
    shared = edges[3].shared_arrays()
    tiles = [a for a in shared if a.shape == (TILE, TILE) and a.dtype == np.float32]
    assert len(tiles) >= 2, (
        f"the kernel allocated {len(shared)} shared array(s) "
        f"{[(a.shape, str(a.dtype)) for a in shared]}; a tiled kernel stages one tile of A "
        f"and one of B: two cuda.shared.array(({TILE}, {TILE}), float32), each on its own line")


def test_every_thread_passes_two_barriers_per_tile_step(edges):
    m, k, n = EDGES
    steps = math.ceil(k / TILE)
    barriers = edges[3].barriers
    grid, block = _grid(m, n)
    threads = grid[0] * grid[1] * block[0] * block[1]
    assert len(barriers) == threads, (
        f"{len(barriers)} of the {threads} threads called cuda.syncthreads() at all: every "
        "thread, inside the matrices or not, loads its part of each tile and waits at the "
        "barriers (a thread that returns early leaves the others' tiles half loaded)")
    fewest = min(barriers.values())
    assert fewest >= 2 * steps, (
        f"a thread passed only {fewest} barrier(s) over {steps} tile steps (k = {k}); each "
        "step needs two cuda.syncthreads(): after loading the tiles (before anyone reads "
        "them) and after using them (before anyone overwrites them)")


def test_each_input_element_is_read_once_per_block_row_or_column(edges):
    (m, k, n), probe = EDGES, edges[3]
    reads_a, reads_b = probe.reads[(m, k)], probe.reads[(k, n)]
    max_a, max_b = m * k * math.ceil(n / TILE), k * n * math.ceil(m / TILE)
    assert reads_a <= max_a and reads_b <= max_b, (
        f"the kernel read A {reads_a} times and B {reads_b} times from global memory; tiled, "
        f"each element of A is loaded once per block column ({max_a} reads at most) and each "
        f"of B once per block row ({max_b}) — one thread per element reading whole rows and "
        f"columns makes {m * k * n} of each: read the tiles from shared memory")
    assert reads_a > 0 and reads_b > 0, "the kernel never read A or B"
    assert probe.reads[(m, n)] == 0 and probe.writes[(m, n)] == m * n, (
        f"C was read {probe.reads[(m, n)]} times and written {probe.writes[(m, n)]} times; "
        f"accumulate in a register and write each of its {m * n} elements once, only inside "
        "the matrix")


# ---- the host helper ------------------------------------------------------------------------


def test_matmul_helper_launches_the_kernel(solution, simulator):
    m, k, n = HELPER
    rng = np.random.default_rng(SEED + 1)
    A, B = rng.standard_normal((m, k)), rng.standard_normal((k, n))  # float64 in
    copies = A.copy(), B.copy()
    with probing() as probe:
        got = solution.matmul(A, B)
    assert probe.modules, (
        "matmul() did not launch a kernel in the simulator: it must compute A @ B with "
        "matmul_kernel")
    ours = [dtypes for kernel, dtypes in probe.launches if kernel is solution.matmul_kernel]
    assert ours, (
        f"matmul() launched {[k.py_func.__name__ for k, _ in probe.launches]}, not "
        "matmul_kernel: it must compute A @ B with matmul_kernel")
    assert all(d == "float32" for d in ours[0]), (
        f"matmul() passed arrays of dtypes {ours[0]} to matmul_kernel for float64 inputs: "
        "convert A and B to float32 and allocate the result as float32")
    assert np.array_equal(A, copies[0]) and np.array_equal(B, copies[1]), (
        "matmul modified its inputs")
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (m, n), (
        f"matmul returns a float32 numpy array of shape {(m, n)}, got {type(got).__name__} "
        f"{getattr(got, 'dtype', '')} {getattr(got, 'shape', '')}")
    check_product(got, A.astype(np.float32), B.astype(np.float32),
                  f"matmul() on float64 A {m}x{k}, B {k}x{n} (converted to float32)")


# ---- on an NVIDIA GPU, for real ---------------------------------------------------------------


@pytest.fixture(scope="session")
def gpu(solution_dir, tmp_path_factory):
    requires.hardware("nvidia-gpu", *available("nvidia-gpu"))
    out = tmp_path_factory.mktemp("gpu") / "gpu.json"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "graders.data.cuda_matmul", str(solution_dir / "solution.py"),
             str(out)], env=env, capture_output=True, text=True, timeout=GPU_RUN_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the GPU run did not finish in {GPU_RUN_S} s", pytrace=False)
    if not out.is_file():
        pytest.fail(f"the GPU run ended with exit code {proc.returncode} and no result: "
                    f"{proc.stderr[-1500:]}", pytrace=False)
    report = json.loads(out.read_text())
    if "skip" in report:
        raise HardwareSkip(f"needs nvidia-gpu with numba.cuda: {report['skip']}")
    if "error" in report:
        pytest.fail(f"the kernel failed on the GPU: {report['error']}\n{report['trace']}",
                    pytrace=False)
    return report


def test_gpu_kernel_matches_torch_matmul(gpu, record_metric):
    for case in gpu["cases"] + [dict(gpu["timed_result"], shape="1024³ (timed)")]:
        record_metric(f"max abs error vs float64, {case['shape']}", case["max_abs_err"])
        assert case["nan"] == 0 and case["bad"] == 0, (
            f"on {gpu['device']}, A @ B of shape {case['shape']} (m, k, n): {case['nan']} "
            f"elements never written, {case['bad']} outside rtol {1e-4} / atol {1e-3} of "
            f"torch.matmul in float64 (max abs error {case['max_abs_err']:.3g})")
    helper = gpu["helper"]
    assert helper["type"] == "ndarray" and helper["dtype"] == "float32" and (
        helper["out_shape"] == [helper["shape"][0], helper["shape"][2]]), (
        f"on the GPU matmul() returned {helper['type']} {helper['dtype']} "
        f"{helper['out_shape']}, expected a float32 ndarray")
    assert helper["nan"] == 0 and helper["bad"] == 0, (
        f"on the GPU matmul() of shape {helper['shape']} differs from numpy "
        f"(max abs error {helper['max_abs_err']:.3g})")


def test_gpu_tiled_kernel_beats_the_naive_one(gpu, bench, record_metric):
    naive, coalesced, cublas = (Comparison(**dict(gpu[key], blocks=tuple(gpu[key]["blocks"])))
                                for key in ("naive", "coalesced", "cublas"))
    for c, name in ((coalesced, "tiled kernel over the coalesced naive kernel"),
                    (cublas, "cuBLAS over the tiled kernel")):
        stats = c.stats()  # figures for the learner's table, without a target
        record_metric(f"speed-up, {name} (1024³ float32)", c.speedup, unit="x",
                      baseline_s=stats["baseline_median_s"],
                      candidate_s=stats["candidate_median_s"], low=stats["low"],
                      high=stats["high"])
    bench.check(naive, "tiled_speedup")
