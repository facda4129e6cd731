"""Day 83: automated benchmarking — a suite runner that logs raw samples and statistics as
JSON lines, and a markdown dashboard rendered from the log."""

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from graders.bench import measure
from hardware.detect import this_machine

US = 1e6  # seconds -> microseconds
HEADER = ["name", "params", "n", "median (us)", "p90 (us)", "IQR (us)", "outliers",
          "vs fastest"]


def summarise(samples: list[float]) -> dict:
    """median, p90 and IQR (linear interpolation) and the Tukey outlier count."""
    xs = np.asarray(samples, dtype=np.float64)
    q1, med, q3, p90 = np.percentile(xs, [25, 50, 75, 90])
    iqr = q3 - q1
    low, high = q1 - 1.5 * iqr, q3 + 1.5 * iqr
    outliers = int(np.count_nonzero((xs < low) | (xs > high)))  # on a fence is not outside
    return {"median": float(med), "p90": float(p90), "iqr": float(iqr), "outliers": outliers}


def run_suite(cases: list[dict], log_path: Path) -> list[dict]:
    fingerprint = this_machine().fingerprint
    records = []
    for case in cases:
        m = measure(case["fn"], *case.get("args", ()), name=case["name"], max_time_s=0.5,
                    memory=False)
        samples = [s * US for s in m.samples_s]  # per-call times already: block divided out
        record = {"name": case["name"], "params": dict(case.get("params", {})), "unit": "us",
                  "n": len(samples), "block": m.block, "samples": samples,
                  **summarise(samples), "hardware": fingerprint,
                  "timestamp": datetime.now(UTC).isoformat(timespec="seconds")}
        records.append(record)
    with open(log_path, "a", encoding="utf-8") as f:  # a log grows: never overwrite it
        for record in records:
            f.write(json.dumps(record) + "\n")
    return records


def _params(params: dict) -> str:
    return ", ".join(f"{k}={params[k]}" for k in sorted(params))


def dashboard(records: list[dict]) -> str:
    fastest = min(r["median"] for r in records)
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in records:
        cells = [r["name"], _params(r["params"]), str(r["n"]), f"{r['median']:.2f}",
                 f"{r['p90']:.2f}", f"{r['iqr']:.2f}", str(r["outliers"]),
                 f"{r['median'] / fastest:.2f}x"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
