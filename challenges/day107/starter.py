"""Day 107: an end-to-end benchmarking suite — one report of the benchmarks recorded in
progress.db, read through mltrack's own API and never written to."""

from pathlib import Path  # noqa: F401  (you will need it)


def collect(db_path, challenges, baselines=None) -> dict:
    """{"rows": [...], "missing": [...]}: one row per benchmark record of the newest attempt of
    each challenge in `challenges` that recorded any (in the order asked, records oldest
    first); `missing` lists the challenges asked for without any. `baselines` maps a challenge
    to the name of its baseline time: speedup = baseline time / the row's time. Open the
    database read-only; a missing file raises FileNotFoundError."""
    # TODO: FileNotFoundError when Path(db_path) is not a file (never create it)
    # TODO: tracker.store.readout.Readout.read(path).latest_benches() reads without writing
    # TODO: rows with the keys of the spec: ms for times (unit 's'), speedup, None elsewhere
    raise NotImplementedError("collect")


def to_markdown(report: dict) -> str:
    """The report as the spec's markdown table, then one line 'missing: ...'."""
    # TODO: header, separator, one line per row, 'missing: a, b' (or 'missing: none')
    raise NotImplementedError("to_markdown")
