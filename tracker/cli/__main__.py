"""`python -m tracker.cli`: the same as the `mltrack` command (the pre-push hook uses it, so
that it works where the console script is not on git's PATH)."""

from tracker.cli import run

run()
