"""The Typer application, its global options and the error boundary.

Exit codes: 0 passed / success; 1 the solution did not pass (failed, error, timeout,
crashed); 2 bad input (unknown day, rest day, malformed course file, usage); 3 no verdict
possible here (inconclusive measurement, every check needs missing hardware); 4 mltrack
could not work (progress.db unusable, internal error).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from tracker.errors import MltrackError, StoreError

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_NO_VERDICT, EXIT_INTERNAL = 0, 1, 2, 3, 4

class FlagGroup(TyperGroup):
    """A command group whose help shows flags as flags (see `_flags_without_type`)."""

    def get_command(self, ctx, name):
        command = super().get_command(ctx, name)
        if command is not None:
            _flags_without_type(command, ctx)
        return command

    def format_help(self, ctx, formatter):
        _flags_without_type(self, ctx)
        return super().format_help(ctx, formatter)


class _Group(FlagGroup):
    """The error boundary: engine errors become one red line and an exit code, in real runs
    and under CliRunner alike; a traceback only with --debug."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MltrackError as exc:
            if options.debug:
                raise
            _print_error(str(exc))
            code = EXIT_INTERNAL if isinstance(exc, StoreError) else exc.exit_code
            raise typer.Exit(code) from None
        except KeyboardInterrupt:
            _print_error("interrupted")
            raise typer.Exit(130) from None
        except Exception as exc:
            if options.debug or _is_cli_flow(exc):
                raise
            _print_error(f"internal error: {type(exc).__name__}: {exc} "
                         "(run with --debug for the traceback)")
            raise typer.Exit(EXIT_INTERNAL) from None



def _flags_without_type(command, ctx) -> None:
    """A flag takes no value (`--json`, never `--json=true`): the help must not give it a
    type such as `<bool>`, which Typer shows for every option. And a docstring's line breaks
    are only where the source wraps: the help text flows them into the terminal's width."""
    if command.help:
        command.help = _unwrap(command.help)
    for param in command.get_params(ctx):
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""


def _unwrap(text: str) -> str:
    """Join the lines of each paragraph (paragraphs are separated by a blank line)."""
    import inspect
    import re

    return re.sub(r"(?<=\S)[ \t]*\n(?=[ \t]*\S)", " ", inspect.cleandoc(text))


def _is_cli_flow(exc: Exception) -> bool:
    """Exit, Abort and usage errors belong to Typer/Click, which report them themselves."""
    return type(exc).__module__.split(".")[0] in ("typer", "click")


app = typer.Typer(
    name="mltrack",
    cls=_Group,
    help="Learn ML one day at a time: read the spec, write the code, get an honest verdict.\n\n"
    "Run without a command to open the interactive tracker.",
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


class Options:
    workspace: Path | None = None
    debug: bool = False
    command: bool = False  # a subcommand ran (not the TUI)


options = Options()


def tracker(source: str = "cli"):
    """The engine for the current workspace."""
    from tracker.engine import Tracker
    from tracker.workspace import Workspace

    return Tracker(Workspace.discover(options.workspace), source=source)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    workspace: Annotated[Path | None, typer.Option(
        "--workspace", "-w", envvar="MLTRACK_WORKSPACE", file_okay=False,
        help="The course folder (default: the nearest folder up with challenges/plans/).",
    )] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    options.workspace, options.debug = workspace, debug
    options.command = ctx.invoked_subcommand is not None
    if version:
        from tracker import __version__

        typer.echo(f"mltrack {__version__}")
        raise typer.Exit()
    if ctx.invoked_subcommand is None:
        from tracker.tui import run_tui

        run_tui(tracker(source="tui"))


def _register() -> None:
    from tracker.cli import ci, days, hw, notes, overview, report, tools

    app.command("start")(days.start)
    app.command("grade")(days.grade)
    app.command("hint")(days.hint)
    app.command("spec")(days.spec)
    app.command("show", hidden=True)(days.spec)
    app.command("solution")(days.solution)
    app.command("reset")(days.reset)
    app.command("note")(notes.note)
    app.command("done")(notes.done)
    app.command("status")(overview.status)
    app.command("plans")(overview.plans)
    app.command("watch")(tools.watch)
    app.command("doctor")(tools.doctor)
    app.command("hw")(hw.hw)
    app.command("verify")(ci.verify)
    app.add_typer(ci.app, name="ci")
    app.command("report")(report.report)


_register()


def main() -> None:
    """Console-script entry point; Ctrl-C outside a command (while parsing, or once it has
    returned) also ends with one line and exit code 130."""
    try:
        app()
    except KeyboardInterrupt:
        _print_error("interrupted")
        raise SystemExit(130) from None


def run() -> None:
    """The `mltrack` console script: `main`, then, after a command (not the TUI), leave
    without the interpreter's teardown (see `_leave`)."""
    try:
        main()
    except SystemExit as done:
        if options.command and not options.debug:
            _leave(done.code)
        raise


def _leave(code: int | str | None) -> None:
    """End a command without the interpreter's teardown, which frees SQLAlchemy's and
    pydantic's module state for ~150 ms after a grade. Everything the command wrote is
    closed by now (progress.db commits each transaction, scratch folders are removed in
    `finally` blocks); only the standard streams are still buffered."""
    import os
    import sys

    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code or 0)


def _print_error(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(f"[bold red]error:[/] {escape(message)}")
