"""Day 116: a live, read-only Streamlit view of the benchmarks mltrack has recorded in the
progress.db that the environment variable MLTRACK_DB names. Run it with
`streamlit run solution.py`."""

import os  # noqa: F401  (you will need it)
import sqlite3  # noqa: F401
from pathlib import Path  # noqa: F401

import pandas as pd
import streamlit as st  # noqa: F401

COLUMNS = ["challenge", "attempt_id", "name", "kind", "value", "unit", "verdict", "hw_class"]


def load_benchmarks(db_path) -> pd.DataFrame:
    """Every row of progress.db's benchrecord table (the COLUMNS, ORDER BY id), read-only;
    FileNotFoundError when db_path is not a file (and nothing is created)."""
    # TODO: FileNotFoundError unless Path(db_path).is_file()
    # TODO: sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True), SELECT ... ORDER BY id
    raise NotImplementedError("load_benchmarks")


def main() -> None:
    """The page: st.error for a missing database, a 'Refresh' button, st.warning without
    records, else a 'Challenge' selectbox, two metrics, the table and the history chart."""
    # TODO: cache the read with st.cache_data keyed on the file's st_mtime_ns and st_size,
    #       so that any rerun after a write shows the new records
    raise NotImplementedError("main")


if __name__ == "__main__":  # `streamlit run` and the grader's AppTest run the file as __main__
    main()
