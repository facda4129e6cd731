"""Day 115 reference: a Streamlit dashboard of the phase's backend benchmarks, read from the
CSV file named by MLTRACK_RESULTS. Run it with `streamlit run solution.py`."""

import os
from pathlib import Path

import pandas as pd
import streamlit as st

BASELINE = "eager"
COLUMNS = ["backend", "batch", "p50_ms", "p99_ms", "throughput"]


def summarise(table: pd.DataFrame, batch: int) -> dict:
    """{"fastest": backend with the smallest p50_ms at `batch` (the first in table order on a
    tie), "speedup": the baseline's p50_ms / the fastest's (None without a baseline row)}."""
    rows = table[table["batch"] == batch]
    if rows.empty:
        raise ValueError(f"no results for batch {batch}")
    best = rows.loc[rows["p50_ms"].idxmin()]  # idxmin: the first of equal minima
    eager = rows[rows["backend"] == BASELINE]
    speedup = float(eager["p50_ms"].iloc[0] / best["p50_ms"]) if len(eager) else None
    return {"fastest": str(best["backend"]), "speedup": speedup}


def load(path: Path) -> pd.DataFrame | None:
    """The results, or None for a file with no rows (zero bytes or a header alone)."""
    if path.stat().st_size == 0:
        return None
    table = pd.read_csv(path)
    return None if table.empty else table


def main() -> None:
    st.title("Backend benchmarks")
    name = os.environ.get("MLTRACK_RESULTS", "")
    path = Path(name)
    if not name or not path.is_file():
        st.error(f"No results file at {name or '(MLTRACK_RESULTS is not set)'}: run the "
                 "benchmarks first.")
        return
    table = load(path)
    if table is None:
        st.warning(f"{path} holds no results yet.")
        return
    batches = sorted(int(b) for b in table["batch"].unique())  # numbers, not strings
    batch = st.selectbox("Batch size", batches, key="batch")
    rows = table[table["batch"] == batch][["backend", "p50_ms", "p99_ms", "throughput"]]
    summary = summarise(table, batch)
    left, right = st.columns(2)
    left.metric("Fastest backend", summary["fastest"])
    speedup = summary["speedup"]
    right.metric(f"Speed-up vs {BASELINE}", "-" if speedup is None else f"{speedup:.2f}x")
    st.dataframe(rows.reset_index(drop=True))
    st.bar_chart(rows, x="backend", y="p50_ms")  # the same rows as the table


if __name__ == "__main__":
    main()
