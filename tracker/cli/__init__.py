"""The `mltrack` command line (Typer): parses, calls the engine, renders."""

try:
    from tracker.cli.app import app, main, run
except KeyboardInterrupt:  # Ctrl-C while mltrack is still starting: one line, exit 130
    import sys

    print("error: interrupted", file=sys.stderr)
    sys.exit(130)

__all__ = ["app", "main", "run"]
