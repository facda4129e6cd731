"""Day 116 reference: a live view of the benchmarks mltrack has recorded in progress.db (the
file MLTRACK_DB names), read-only, cached until the file changes, refreshed by any rerun.
Run it with `streamlit run solution.py`."""

import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd
import streamlit as st

COLUMNS = ["challenge", "attempt_id", "name", "kind", "value", "unit", "verdict", "hw_class"]


def load_benchmarks(db_path) -> pd.DataFrame:
    """Every benchmark record in progress.db, oldest first, read without writing."""
    path = Path(db_path)
    if not path.is_file():  # sqlite3.connect would create an empty database here
        raise FileNotFoundError(f"no progress database at {path}")
    uri = f"{path.resolve().as_uri()}?mode=ro"  # read-only: no journal, no migration
    with closing(sqlite3.connect(uri, uri=True)) as conn:
        rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM benchrecord ORDER BY id").fetchall()
    return pd.DataFrame(rows, columns=COLUMNS)


@st.cache_data(max_entries=8)
def cached(db_path: str, mtime_ns: int, size: int) -> pd.DataFrame:
    """The records, cached per state of the file: a write changes mtime (and often size), so
    the next rerun misses the cache and reads again."""
    return load_benchmarks(db_path)


def main() -> None:
    st.title("Live benchmarks")
    name = os.environ.get("MLTRACK_DB", "")
    path = Path(name)
    if not name or not path.is_file():
        st.error(f"No progress database at {name or '(MLTRACK_DB is not set)'}.")
        return
    st.button("Refresh")  # a click reruns the script; the cache key sees the new file
    stat = path.stat()
    table = cached(str(path), stat.st_mtime_ns, stat.st_size)
    if table.empty:
        st.warning("No benchmark has been recorded yet.")
        return
    challenge = st.selectbox("Challenge", sorted(table["challenge"].unique()), key="challenge")
    rows = table[table["challenge"] == challenge]
    left, right = st.columns(2)
    left.metric("Records", len(rows))
    right.metric("Latest attempt", int(rows["attempt_id"].max()))
    st.dataframe(rows[["attempt_id", "name", "kind", "value", "unit", "verdict"]]
                 .reset_index(drop=True))
    times = rows[rows["unit"] == "s"].assign(ms=lambda t: t["value"] * 1e3)
    st.line_chart(times, x="attempt_id", y="ms", color="name")  # one line per benchmark


if __name__ == "__main__":
    main()
