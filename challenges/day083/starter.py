"""Day 83: automated benchmarking — run a suite with the project's harness, log raw samples
and statistics as JSON lines, render a markdown dashboard from the log."""

from pathlib import Path

from graders.bench import measure  # noqa: F401  (the harness to time each case with)


def summarise(samples: list[float]) -> dict:
    """{'median', 'p90', 'iqr' (floats, linear interpolation), 'outliers' (int, Tukey
    fences, strictly outside)} of the samples; the list is not modified."""
    # TODO: quartiles, p90, IQR = Q3 - Q1, count the samples outside the fences
    raise NotImplementedError("summarise")


def run_suite(cases: list[dict], log_path: Path) -> list[dict]:
    """Time each case {'name', 'fn', 'args', 'params'} with graders.bench.measure, append one
    JSON record per case to log_path (JSON lines) and return the records in case order."""
    # TODO: measure, convert to microseconds, summarise, fingerprint, UTC timestamp, append
    raise NotImplementedError("run_suite")


def dashboard(records: list[dict]) -> str:
    """A markdown table of the records (see the spec for its exact columns and formats)."""
    # TODO
    raise NotImplementedError("dashboard")
