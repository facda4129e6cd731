"""Day 115: a Streamlit dashboard of the phase's backend benchmarks, read from the CSV file
named by the environment variable MLTRACK_RESULTS. Run it with `streamlit run solution.py`."""

import os  # noqa: F401  (you will need it)

import pandas as pd
import streamlit as st  # noqa: F401  (you will need it)

BASELINE = "eager"


def summarise(table: pd.DataFrame, batch: int) -> dict:
    """{"fastest": the backend with the smallest p50_ms at `batch` (the first in table order on
    a tie), "speedup": eager's p50_ms / the fastest's p50_ms, or None when the batch has no
    eager row}. ValueError when no row has that batch."""
    # TODO: the rows of that batch (ValueError if none), the first smallest p50_ms, eager's row
    raise NotImplementedError("summarise")


def main() -> None:
    """The dashboard: a 'Batch size' selectbox, two metrics, the table and a chart of the
    selected batch; st.error for a missing file, st.warning for one without rows."""
    # TODO: read the path from os.environ["MLTRACK_RESULTS"] on every run
    # TODO: missing file -> st.error naming the path; zero bytes or header only -> st.warning
    # TODO: st.selectbox("Batch size", batch sizes ascending), then st.metric x2, st.dataframe,
    #       and a chart drawn from the same filtered rows (columns backend and p50_ms)
    raise NotImplementedError("main")


if __name__ == "__main__":  # `streamlit run` and the grader's AppTest run the file as __main__
    main()
