"""Grading several days (`grade --changed/--all/--ci`), `verify`, and the pre-push hook."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tracker.cli import render
from tracker.cli.app import FlagGroup, tracker

Changed = Annotated[bool, typer.Option(
    "--changed", help="Grade the days whose solution (or course folder) changed since --since.")]
Since = Annotated[str | None, typer.Option(
    "--since", metavar="REF", show_default=False,
    help="With --changed: the git ref to compare with (default: where the branch's upstream "
         "is, else HEAD~1). Uncommitted and untracked files count as changed.")]
All = Annotated[bool, typer.Option("--all", help="Grade every day that has a solution folder.")]
Ci = Annotated[bool, typer.Option(
    "--ci", help="CI mode: regrade from the sources (progress.db is neither read nor written), "
                 "no commits, course files checked against the manifest first, one JSON object "
                 "on stdout. Exit 0 when no graded day failed, 1 otherwise.")]
Junit = Annotated[Path | None, typer.Option(
    "--junit", metavar="FILE", dir_okay=False, help="Write the grades as JUnit XML to FILE.")]
Summary = Annotated[Path | None, typer.Option(
    "--summary", metavar="FILE", dir_okay=False,
    help="Append a Markdown summary to FILE (in GitHub Actions: $GITHUB_STEP_SUMMARY).")]
PlanName = Annotated[str | None, typer.Option(
    "--plan", metavar="NAME", help="With --ci: the plan to label days by (default ml150).")]
Manifest = Annotated[Path | None, typer.Option(
    "--manifest", metavar="FILE", exists=True, dir_okay=False, resolve_path=True,
    help="Check against this manifest (e.g. the upstream course's) instead of "
         "challenges/MANIFEST.sha256.")]
Hardware = Annotated[list[str] | None, typer.Option(
    "--hardware", metavar="KIND",
    help="Only the days that need this hardware (repeatable), e.g. nvidia-gpu on a "
         "self-hosted runner that has one.")]
SkipHardware = Annotated[list[str] | None, typer.Option(
    "--skip-hardware", metavar="KIND",
    help="Do not grade days that need this hardware here (repeatable; `any` for all kinds): "
         "they are listed as skipped with the reason, for a self-hosted runner to grade.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
RequireSandbox = Annotated[bool, typer.Option(
    "--require-sandbox",
    help="With --ci: grade nothing unless the OS sandbox (bubblewrap) works here; exit 2 "
         "with the reason it does not. `mltrack doctor` shows the mode in use.")]


def grade_many(*, day: str | None, changed: bool, since: str | None, all_: bool, ci: bool,
               junit: Path | None, summary: Path | None, plan: str | None,
               manifest: Path | None, hardware: list[str] | None,
               skip_hardware: list[str] | None,
               json: bool, no_commit: bool, solution: Path | None,
               require_sandbox: bool = False) -> None:
    """`mltrack grade` for several days, or for one day in CI mode."""
    from tracker import ci as engine

    if sum((day is not None, changed, all_)) != 1:
        raise typer.BadParameter("give one of DAY, --changed or --all", param_hint="DAY")
    if solution is not None:
        raise typer.BadParameter("grades one day's folder: not with --changed, --all, --ci, "
                                 "--junit or --summary", param_hint="--solution")
    if since is not None and not changed:
        raise typer.BadParameter("goes with --changed", param_hint="--since")
    if plan is not None and not ci:
        raise typer.BadParameter("labels days in --ci mode; otherwise the active plan is used "
                                 "(mltrack plans --use NAME)", param_hint="--plan")
    if require_sandbox and not ci:
        raise typer.BadParameter("goes with --ci", param_hint="--require-sandbox")
    if require_sandbox:
        engine.require_sandbox()
    t = tracker(source="ci" if ci else "cli")
    chosen = engine.plan_without_db(t.plans(), plan) if ci else t.plan
    mode = "changed" if changed else "all" if all_ else "day"
    if changed and since is None:
        since = engine.default_since(t.ws.root)
    runs = engine.select(t, chosen, mode=mode, since=since, day=day)
    engine.route(runs, only=hardware or (), skip=skip_hardware or ())
    quiet = json or ci
    batch = engine.grade_batch(t, runs, plan=chosen, mode=mode, since=since, ci=ci,
                               commit=not no_commit, manifest_path=manifest,
                               on_day=_announce(to_stderr=quiet))
    if junit is not None:
        engine.junit.write(batch, junit)
    if summary is not None:
        engine.summary.append(batch, summary)
    if quiet:
        render.print_json(batch.to_dict())
    else:
        show_batch(batch)
    raise typer.Exit(batch.exit_code)


def _announce(to_stderr: bool):
    """One line per day as it is graded (on stderr when stdout carries JSON)."""
    from rich.console import Console

    console = Console(stderr=True, highlight=False, soft_wrap=True) if to_stderr \
        else render.console

    def on_day(run) -> None:
        style = render.VERDICT_STYLE.get(run.verdict, "bold")
        r = run.outcome.result if run.outcome else None
        figures = f" [dim]({r.passed}/{r.total} checks, {r.duration_s:.1f} s)[/]" if r else ""
        console.print(f"{render.escape(run.label)} {render.escape(run.challenge)}: "
                      f"[{style}]{run.verdict}[/]{figures} — {render.escape(run.message)}")

    return on_day


def show_batch(batch) -> None:
    from tracker.summary import headline

    v = batch.verification
    if v is not None and not v.ok:
        render.console.print(f"[bold red]course files differ from {v.manifest}:[/]")
        for line in v.problems():
            render.console.print(f"  {render.escape(line)}")
    for line in batch.changed_during:
        render.console.print(f"[bold red]changed while grading:[/] {render.escape(line)}")
    style = "bold green" if batch.exit_code == 0 else "bold red"
    render.console.print(f"[{style}]{headline(batch)}[/]")


def verify(
    manifest: Manifest = None,
    update: Annotated[bool, typer.Option(
        "--update", help="Course authors: regenerate the manifest from the files as they are.",
    )] = False,
    json: Json = False,
) -> None:
    """Check the course's graders, data, starters, specs, plans and grading helpers against
    challenges/MANIFEST.sha256. Exit 0 when all match, 1 when a file is modified, missing
    or added, 2 when there is no manifest."""
    from tracker import manifest as m

    root = tracker().ws.root
    if update:
        path, count = m.write(root, manifest)
        if json:
            render.print_json({"updated": str(path), "files": count})
        else:
            render.console.print(f"wrote {path} ({count} files)")
        return
    result = m.verify(root, manifest)
    if json:
        render.print_json(result.to_dict())
    elif result.ok:
        render.console.print(f"[green]ok[/]: {result.checked} course files match {result.manifest}")
    else:
        render.console.print(f"[bold red]{len(result.problems())} course file(s) differ from "
                             f"{result.manifest}[/]:")
        for line in result.problems():
            render.console.print(f"  {render.escape(line)}")
    if not result.ok:
        raise typer.Exit(1)


app = typer.Typer(help="Grading in CI and before a push.", no_args_is_help=True, cls=FlagGroup)


@app.command("install-hook")
def install_hook(
    force: Annotated[bool, typer.Option(
        "--force", help="Replace a pre-push hook that is not mltrack's (kept as .backup).",
    )] = False,
) -> None:
    """Install a git pre-push hook that grades the days a push changes, as CI will, and
    stops the push when one fails (skip it once with `git push --no-verify`)."""
    from tracker import prepush

    hook, backup = prepush.install(tracker().ws.root, force=force)
    render.console.print(f"installed {hook}")
    if backup is not None:
        render.console.print(f"the previous hook is kept as {backup}")


@app.command("uninstall-hook")
def uninstall_hook() -> None:
    """Remove mltrack's pre-push hook."""
    from tracker import prepush

    hook = prepush.uninstall(tracker().ws.root)
    render.console.print(f"removed {hook}" if hook else "no mltrack pre-push hook installed")


@app.command("pre-push", hidden=True)
def pre_push(
    remote: Annotated[str | None, typer.Argument(help="The remote's name (from git).")] = None,
    url: Annotated[str | None, typer.Argument(help="The remote's URL (from git).")] = None,
) -> None:
    """Run by the pre-push hook: grade the pushed commits' changed days; exit 1 to stop."""
    import shutil

    from rich.console import Console

    from tracker import ci as engine
    from tracker import manifest as m
    from tracker import prepush

    t = tracker(source="hook")
    root = t.ws.root
    plan = t.quick_plan()
    updates = prepush.parse_updates(sys.stdin.read())
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    work = prepush.scratch()
    failed = False
    try:
        for update in updates:
            runs = engine.runs_for(t, plan, prepush.pushed_challenges(root, update))
            if not runs:
                continue
            sha = update.local_sha
            console.print(f"mltrack: grading {len(runs)} day(s) pushed to "
                          f"{render.escape(remote or '?')} {update.remote_ref}")
            batch = engine.grade_batch(
                t, runs, plan=plan, mode="changed", since=update.remote_sha, ci=True,
                verify=(root / m.MANIFEST).is_file(),
                folder_of=lambda run, sha=sha: prepush.export_solution(
                    root, sha, run.challenge, work / sha),
                on_day=_announce(to_stderr=True))
            failed = failed or batch.exit_code != 0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        console.print("[bold red]mltrack: push stopped[/] — a day does not pass "
                      "(fix it, or push anyway with `git push --no-verify`)")
        raise typer.Exit(1)
