"""Day 102 grader: the learner's HLS-style C++ dense layer (ap_fixed<16,6>, ReLU, round half
up, saturation) is compiled with g++ against the ap_types headers that the installed hls4ml
package ships, run as C-simulation on vectors generated here, and compared bit for bit with
a numpy integer model of the same fixed-point arithmetic. Pragmas and the ban on floating
point are checked in the source; Vitis HLS synthesis runs only where the tool is installed."""

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from graders import requires

N_IN, N_OUT, FRAC = 16, 8, 10  # ap_fixed<16,6>: 10 fraction bits, raw range -32768..32767
LSB = 2.0 ** -FRAC
RAW_MIN, RAW_MAX = -(1 << 15), (1 << 15) - 1
SENTINEL = 0x5555  # what the testbench puts in y before the call: an unwritten output shows
CXXFLAGS = ["-std=c++14", "-O0", "-Wall", "-Wextra", "-Werror", "-Wno-unknown-pragmas",
            "-Wno-unused-label", "-Wno-uninitialized", "-Wno-maybe-uninitialized"]
COMPILE_TIMEOUT_S, RUN_TIMEOUT_S = 60, 20

HEADER = f"""#pragma once
#include <ap_fixed.h>
constexpr int N_IN = {N_IN};
constexpr int N_OUT = {N_OUT};
typedef ap_fixed<16, 6> data_t;
void dense_relu(const data_t x[N_IN], const data_t w[N_OUT][N_IN], const data_t b[N_OUT],
                data_t y[N_OUT]);
"""

# reads raw 16-bit words (two's complement) and prints the raw outputs, one case a line
TESTBENCH = f"""#include <cstdio>
#include "dense_layer.h"
static bool get(data_t &v) {{
    int raw;
    if (std::scanf("%d", &raw) != 1) return false;
    v.range() = raw;
    return true;
}}
int main() {{
    int cases;
    if (std::scanf("%d", &cases) != 1) return 2;
    for (int c = 0; c < cases; c++) {{
        data_t x[N_IN], w[N_OUT][N_IN], b[N_OUT], y[N_OUT];
        for (int i = 0; i < N_IN; i++) if (!get(x[i])) return 2;
        for (int j = 0; j < N_OUT; j++)
            for (int i = 0; i < N_IN; i++) if (!get(w[j][i])) return 2;
        for (int j = 0; j < N_OUT; j++) if (!get(b[j])) return 2;
        for (int j = 0; j < N_OUT; j++) y[j].range() = {SENTINEL};
        dense_relu(x, w, b, y);
        for (int j = 0; j < N_OUT; j++) std::printf("%d ", (int)y[j].range().to_int());
        std::printf("\\n");
    }}
    return 0;
}}
"""


# ---------------------------------------------------------------- the numpy model

def _wrap16(v):
    return ((v - RAW_MIN) % (1 << 16)) + RAW_MIN


def model(x, w, b, *, rounding="rnd", overflow="sat", relu=True, accumulator="exact"):
    """Raw outputs (int64, scale 2^-10) for raw int inputs x (C, N_IN), w (C, N_OUT, N_IN),
    b (C, N_OUT). The defaults are the spec; the keywords describe the usual slips."""
    x, w, b = (np.asarray(a, dtype=np.int64) for a in (x, w, b))
    if accumulator == "exact":  # scale 2^-20: products and their sum are exact in int64
        s = (b << FRAC) + np.einsum("ci,cji->cj", x, w)
    else:  # accumulated in data_t itself: every step truncated (floor) and wrapped to 16 bits
        acc = b.copy()
        for i in range(N_IN):
            acc = _wrap16(((acc << FRAC) + x[:, None, i] * w[:, :, i]) >> FRAC)
        s = acc << FRAC
    if relu:
        s = np.maximum(s, 0)
    half = 1 << (FRAC - 1)
    if rounding == "rnd":  # half up
        q = (s + half) >> FRAC
    elif rounding == "conv":  # half to even
        q = s >> FRAC
        rem = s & ((1 << FRAC) - 1)
        q = q + ((rem > half) | ((rem == half) & (q % 2 == 1)))
    else:  # truncation: floor
        q = s >> FRAC
    if overflow == "zero":  # AP_SAT_ZERO: an overflow gives 0
        return np.where(q > RAW_MAX, 0, q)
    return np.clip(q, RAW_MIN, RAW_MAX) if overflow == "sat" else _wrap16(q)


SLIPS = {
    "the output is truncated (rounded down, AP_TRN) instead of rounded half up: quantise "
    "through ap_fixed<16, 6, AP_RND, AP_SAT> (writing the sum straight into data_t "
    "truncates and wraps: its defaults)": dict(rounding="trn"),
    "ties are rounded to even (AP_RND_CONV): the spec rounds half up (AP_RND)":
        dict(rounding="conv"),
    "sums above the largest ap_fixed<16,6> value wrap around (AP_WRAP) instead of "
    "saturating at 31.999 (AP_SAT)": dict(overflow="wrap"),
    "sums above the largest ap_fixed<16,6> value give 0 (AP_SAT_ZERO) instead of "
    "saturating at 31.999 (AP_SAT)": dict(overflow="zero"),
    "the output is truncated and wraps around: assigning the sum to data_t directly uses "
    "its defaults (AP_TRN, AP_WRAP); quantise through ap_fixed<16, 6, AP_RND, AP_SAT>":
        dict(rounding="trn", overflow="wrap"),
    "the sum is accumulated in data_t (ap_fixed<16,6>): every partial sum is truncated and "
    "can wrap — the accumulator must hold the exact sum (20 fraction bits, enough integer "
    "bits)": dict(accumulator="data_t", rounding="trn"),
    "ReLU is missing: negative sums must give 0": dict(relu=False),
}


# ---------------------------------------------------------------- source checks (cheap)

def _source(solution) -> str:
    src = getattr(solution, "DENSE_CPP", None)
    assert isinstance(src, str), (
        f"DENSE_CPP must be a str holding the C++ source, got {type(src).__name__}")
    return src


def _code(src: str) -> str:
    """The source without comments (pragmas stay: they are not comments)."""
    src = re.sub(r"/\*.*?\*/", " ", src, flags=re.S)
    return re.sub(r"//[^\n]*", "", src)


def test_source_defines_dense_relu(solution):
    code = _code(_source(solution))
    assert '#include "dense_layer.h"' in code, (
        'DENSE_CPP must #include "dense_layer.h" (the grader writes it: data_t, N_IN, N_OUT)')
    assert re.search(r"\bvoid\s+dense_relu\s*\(", code), (
        "DENSE_CPP must define void dense_relu(const data_t x[N_IN], const data_t "
        "w[N_OUT][N_IN], const data_t b[N_OUT], data_t y[N_OUT])")
    assert not re.search(r"\bint\s+main\s*\(", code), (
        "DENSE_CPP must not define main(): the grader's testbench does")


def test_no_floating_point_in_the_datapath(solution):
    code = _code(_source(solution))
    found = sorted(set(re.findall(r"\b(float|double|to_double|to_float|half)\b", code)))
    assert not found, (
        f"the source uses {', '.join(found)}: the layer must compute in fixed point only "
        "(ap_fixed types); floating point is not what the hardware would build")


PIPELINE = r"#pragma\s+HLS\s+PIPELINE\b[^\n]*\bII\s*=\s*1\b"


def _closing(code: str, opening: int) -> int:
    """Index of the bracket that closes the one at `opening` (len(code) if none does)."""
    pairs = {"{": "}", "(": ")"}
    depth = 0
    for k in range(opening, len(code)):
        if code[k] == code[opening]:
            depth += 1
        elif code[k] == pairs[code[opening]]:
            depth -= 1
            if depth == 0:
                return k
    return len(code)


def _body_of_dense_relu(code: str) -> str:
    """The text between the braces of dense_relu's definition ('' without one)."""
    for m in re.finditer(r"\bdense_relu\s*\(", code):
        close = _closing(code, m.end() - 1)
        brace = re.match(r"\s*\{", code[close + 1:])
        if brace:
            start = close + 1 + brace.end() - 1
            return code[start + 1:_closing(code, start)]
    return ""


def _loops(body: str) -> list[tuple[str, int, int]]:
    """(header, start, end) of each braced for loop in `body`."""
    found = []
    for m in re.finditer(r"\bfor\s*\(", body):
        close = _closing(body, m.end() - 1)
        brace = re.match(r"\s*\{", body[close + 1:])
        if brace:
            start = close + 1 + brace.end() - 1
            found.append((body[m.end():close], start, _closing(body, start)))
    return found


@pytest.mark.parametrize("pragma,pattern", [
    ("#pragma HLS PIPELINE II=1", PIPELINE),
    ("#pragma HLS ARRAY_PARTITION variable=x complete",
     r"#pragma\s+HLS\s+ARRAY_PARTITION\b(?=[^\n]*\bvariable\s*=\s*x\b)(?=[^\n]*\bcomplete\b)"),
    ("#pragma HLS ARRAY_PARTITION variable=w complete dim=2",
     r"#pragma\s+HLS\s+ARRAY_PARTITION\b(?=[^\n]*\bvariable\s*=\s*w\b)(?=[^\n]*\bcomplete\b)"
     r"(?=[^\n]*\bdim\s*=\s*2\b)"),
], ids=["pipeline", "partition-x", "partition-w"])
def test_pragmas_are_present(solution, pragma, pattern):
    body = _body_of_dense_relu(_code(_source(solution)))
    assert re.search(pattern, body), (
        f"the spec asks for `{pragma}` inside dense_relu; it is missing (HLS ignores unknown "
        "pragmas silently, so a typo counts as missing)")


def test_pipeline_pragma_is_in_the_loop_over_the_outputs(solution):
    body = _body_of_dense_relu(_code(_source(solution)))
    pragmas = [m.start() for m in re.finditer(PIPELINE, body)]
    if not pragmas:
        return  # missing altogether: test_pragmas_are_present says so
    loops = _loops(body)
    for at in pragmas:
        around = [header for header, start, end in loops if start < at < end]
        if len(around) == 1 and re.search(r"\bN_OUT\b|\b8\b", around[0]):
            return
    pytest.fail("`#pragma HLS PIPELINE II=1` must be in the body of the loop over the outputs "
                "(for j < N_OUT), not at function level nor in the inner loop over the inputs: "
                "there it asks Vitis HLS for another design (a function-level PIPELINE "
                "unrolls every loop; an inner one leaves the output loop sequential)",
                pytrace=False)


# ---------------------------------------------------------------- C-simulation

def _ap_types() -> Path:
    spec = importlib.util.find_spec("hls4ml")  # located, not imported: the headers suffice
    if spec is None or not spec.submodule_search_locations:
        raise requires.PackageSkip("needs package hls4ml for the ap_types headers "
                                   "(pip install hls4ml)")
    path = Path(spec.submodule_search_locations[0]) / "templates" / "vivado" / "ap_types"
    if not (path / "ap_fixed.h").is_file():
        raise requires.PackageSkip(f"needs ap_fixed.h from hls4ml; not found under {path}")
    return path


@pytest.fixture(scope="module")
def sim(solution, tmp_path_factory):
    src = _source(solution)
    cxx = shutil.which("g++")
    if cxx is None:
        raise requires.PackageSkip("needs g++ (a C++14 compiler) for the C-simulation "
                                   "(Debian/Ubuntu: apt install g++)")
    ap = _ap_types()
    work = tmp_path_factory.mktemp("csim")
    (work / "dense_layer.h").write_text(HEADER, encoding="utf-8")
    (work / "dense_layer.cpp").write_text(src, encoding="utf-8")
    (work / "tb.cpp").write_text(TESTBENCH, encoding="utf-8")
    cmd = [cxx, *CXXFLAGS, "-isystem", str(ap), "-I", str(work), str(work / "dense_layer.cpp"),
           str(work / "tb.cpp"), "-o", str(work / "csim")]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S)
    if done.returncode != 0:
        errors = "\n".join(done.stderr.splitlines()[:30])
        pytest.fail(f"g++ could not build the C-simulation ({' '.join(CXXFLAGS)}):\n{errors}",
                    pytrace=False)
    return work / "csim"


def run(sim, x, w, b):
    """Raw outputs of the learner's dense_relu for each case (int64, (C, N_OUT))."""
    words = [str(len(x))]
    for xc, wc, bc in zip(x, w, b, strict=True):
        words += map(str, np.concatenate([xc.ravel(), wc.ravel(), bc.ravel()]).tolist())
    done = subprocess.run([str(sim)], input=" ".join(words), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    if done.returncode != 0:
        pytest.fail(f"the C-simulation exited with code {done.returncode}: "
                    f"{done.stderr.strip()[-500:]}", pytrace=False)
    out = np.array([line.split() for line in done.stdout.splitlines()], dtype=np.int64)
    return _wrap16(out)  # the raw word, read as two's complement


def _raw(rng, lo, hi, shape):
    """Raw words of uniform values in [lo, hi)."""
    return rng.integers(int(lo / LSB), int(hi / LSB), size=shape, dtype=np.int64)


def check_bit_exact(sim, x, w, b, what):
    got = run(sim, x, w, b)
    want = model(x, w, b)
    bad = np.argwhere(got != want)
    if len(bad) == 0:
        return got
    c, j = bad[0]
    why = ""
    if np.any(got == SENTINEL) and not np.any(want == SENTINEL):
        why = " — some outputs were never written (they still hold the testbench's 0x5555)"
    for slip, kw in SLIPS.items():
        if np.array_equal(got, model(x, w, b, **kw)):
            why = f" — {slip}"
            break
    pytest.fail(f"{what}: {len(bad)} of {got.size} outputs differ from the fixed-point model; "
                f"first: case {c}, y[{j}] = {got[c, j] * LSB:.10g} (raw {got[c, j]}), expected "
                f"{want[c, j] * LSB:.10g} (raw {want[c, j]}){why}", pytrace=False)


def test_typical_vectors_are_bit_exact(sim):
    rng = np.random.default_rng(102)
    c = 260
    x, w, b = (_raw(rng, -2, 2, (c, N_IN)), _raw(rng, -0.5, 0.5, (c, N_OUT, N_IN)),
               _raw(rng, -1, 1, (c, N_OUT)))
    # ties have a check of their own: keep the first 200 cases whose sums have none
    sums = np.einsum("ci,cji->cj", x, w)
    keep = np.flatnonzero(~np.any((sums & ((1 << FRAC) - 1)) == 1 << (FRAC - 1), axis=1))[:200]
    assert len(keep) == 200
    x, w, b = x[keep], w[keep], b[keep]
    check_bit_exact(sim, x, w, b, "200 random vectors (|x| < 2, |w| < 0.5, |b| < 1)")


def test_ties_round_half_up(sim):
    # x = 2^-10 (one LSB) times w = k/2 LSB is exactly k/2 LSB: odd k lands on a tie at
    # every raw value, even and odd floors alike (round-half-even would differ on the evens)
    c = N_OUT
    x = np.zeros((c, N_IN), dtype=np.int64)
    x[:, 0] = 1
    w = np.zeros((c, N_OUT, N_IN), dtype=np.int64)
    w[:, :, 0] = 512  # 0.5: the product is half an LSB
    b = np.tile(np.arange(N_OUT, dtype=np.int64), (c, 1)) + np.arange(c)[:, None] * 100
    check_bit_exact(sim, x, w, b, "sums that lie exactly halfway between two outputs "
                                  "(round half up: +0.5 LSB goes up)")


def test_large_sums_saturate(sim):
    rng = np.random.default_rng(7)
    c = 50
    x, w = _raw(rng, 2, 8, (c, N_IN)), _raw(rng, 0.5, 2, (c, N_OUT, N_IN))
    b = _raw(rng, -1, 1, (c, N_OUT))
    check_bit_exact(sim, x, w, b, "sums between 16 and 256, above the largest "
                                  "ap_fixed<16,6> (31.999): they must saturate")


def test_extreme_inputs_need_a_wide_accumulator(sim):
    # the largest sums in magnitude: x and w at -32 (products +1024) and at -32 x +31.999
    x = np.full((4, N_IN), RAW_MIN, dtype=np.int64)
    w = np.stack([np.full((N_OUT, N_IN), v, dtype=np.int64)
                  for v in (RAW_MIN, RAW_MAX, RAW_MIN, RAW_MAX)])
    b = np.stack([np.full(N_OUT, v, dtype=np.int64) for v in (RAW_MIN, RAW_MAX, RAW_MAX, 0)])
    # alternate signs so the partial sums swing while the total stays in range
    x[2:, 1::2] = RAW_MAX
    check_bit_exact(sim, x, w, b, "extreme inputs (x, w, b at ±32): the exact sum needs "
                                  "16 integer bits in the accumulator")


def test_quantisation_error_is_at_most_half_an_lsb(sim, record_metric):
    rng = np.random.default_rng(2)
    c = 100
    x, w, b = (_raw(rng, -4, 4, (c, N_IN)), _raw(rng, -1, 1, (c, N_OUT, N_IN)),
               _raw(rng, -2, 2, (c, N_OUT)))
    got = run(sim, x, w, b) * LSB
    real = np.maximum(np.einsum("ci,cji->cj", x * LSB, w * LSB) + b * LSB, 0.0)
    inside = real <= RAW_MAX * LSB
    err = np.abs(got - real)[inside]
    worst = float(err.max()) if err.size else 0.0
    record_metric("worst quantisation error", worst / LSB, unit="LSB", target="<= 0.5",
                  verdict="PASS" if worst <= LSB / 2 else "FAIL")
    assert worst <= LSB / 2, (
        f"an output is {worst / LSB:.3g} LSB ({worst:.3g}) away from the real-valued "
        "ReLU(x·w + b): one rounding to nearest at the end keeps every output within half an "
        "LSB (2^-11); truncation or a narrow accumulator loses more")


# ---------------------------------------------------------------- synthesis (tool needed)

def _vitis() -> str | None:
    return shutil.which("vitis_hls") or shutil.which("vivado_hls")


def test_vitis_hls_synthesis(solution, tmp_path, record_metric):
    tool = _vitis()
    requires.hardware("vitis-hls", tool is not None,
                      "Vitis HLS (vitis_hls or vivado_hls) is not on PATH; synthesis runs "
                      "only where the AMD/Xilinx tools are installed")
    (tmp_path / "dense_layer.h").write_text(HEADER, encoding="utf-8")
    (tmp_path / "dense_layer.cpp").write_text(_source(solution), encoding="utf-8")
    (tmp_path / "run.tcl").write_text(
        "open_project -reset day102\nset_top dense_relu\nadd_files dense_layer.cpp\n"
        "open_solution -reset sol\nset_part xc7z020clg400-1\ncreate_clock -period 10\n"
        "csynth_design\nexit\n", encoding="utf-8")
    done = subprocess.run([tool, "-f", "run.tcl"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, (
        f"{Path(tool).name} csynth_design failed: {done.stdout.strip()[-800:]}")
    reports = list(tmp_path.glob("day102/sol/syn/report/*.rpt"))
    assert reports, f"{Path(tool).name} ran but wrote no synthesis report"
    record_metric("Vitis HLS synthesis reports", len(reports), unit="files")
