"""The `mltrack` command line (Typer): parses, calls the engine, renders."""

from tracker.cli.app import app, main

__all__ = ["app", "main"]
