"""progress.db under git: two clones that grade merge by the union of their records (pull
both ways, rebase), `git diff` reads it as text, and the first grade sets the drivers up."""

from __future__ import annotations

import sqlite3
import subprocess

import pytest

from tests.conftest import SOLUTIONS, git
from tracker.engine import Tracker
from tracker.workspace import Workspace


def clone(origin, where) -> Workspace:
    git(origin.parent, "clone", "-q", str(origin), str(where))
    git(where, "config", "user.name", "Learner")
    git(where, "config", "user.email", "learner@example.com")
    git(where, "config", "commit.gpgsign", "false")
    git(where, "config", "pull.rebase", "false")
    return Workspace(where)


def solve(ws: Workspace, challenge: str, name: str) -> None:
    folder = ws.solutions_dir / challenge
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "solution.py").write_text((SOLUTIONS / f"{name}.py").read_text())


def grade(ws: Workspace, day: str, challenge: str, name: str) -> str:
    """Grade and commit; the attempt's uid."""
    solve(ws, challenge, name)
    t = Tracker(ws)
    outcome = t.grade(day)
    assert outcome.commit.committed, outcome.commit.reason
    [attempt] = [a for a in t.store.attempts() if a.id == outcome.attempt_id]
    t.store.close()
    return attempt.uid


def pull(ws: Workspace, *args: str) -> None:
    """`git pull`; the same day solved differently on both sides is a real conflict in the
    solution file (the learner keeps one), never in progress.db."""
    run = subprocess.run(["git", "pull", "-q", "--no-edit", *args, "origin", "main"],
                         cwd=ws.root, capture_output=True, text=True)
    if run.returncode:
        conflicted = git(ws.root, "diff", "--name-only", "--diff-filter=U").splitlines()
        assert conflicted and all(p.startswith("solutions/") for p in conflicted), run
        git(ws.root, "checkout", "--ours", "--", *conflicted)
        git(ws.root, "add", "--", *conflicted)
        env_edit = ["-c", "core.editor=true"]
        git(ws.root, *env_edit, "rebase" if "--rebase" in args else "commit",
            *(["--continue"] if "--rebase" in args else ["-q", "--no-edit"]))


def uids(ws: Workspace) -> set[str]:
    with sqlite3.connect(ws.db_path) as raw:
        return {r[0] for r in raw.execute("SELECT uid FROM attempt")}


def integrity(ws: Workspace) -> str:
    with sqlite3.connect(ws.db_path) as raw:
        return raw.execute("PRAGMA integrity_check").fetchone()[0]


@pytest.fixture
def clones(workspace, tmp_path):
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(workspace.root), str(origin))
    return clone(origin, tmp_path / "laptop"), clone(origin, tmp_path / "desktop")


def test_two_clones_that_graded_merge_every_attempt_both_ways(clones):
    laptop, desktop = clones
    mine = {grade(laptop, "day1", "add", "add_fail"), grade(laptop, "day1", "add", "add_pass")}
    theirs = {grade(desktop, "day1", "add", "add_fail"), grade(desktop, "day3", "gpu-only",
                                                                 "add_pass")}
    t = Tracker(desktop)
    gpu_day = t.store.state("gpu-only").status
    t.store.add_note(plan="mini", day=2, text="rested")
    t.store.mark_day_done(plan="mini", day=2)
    git(desktop.root, "commit", "-q", "-m", "note", "--", "progress.db")
    git(laptop.root, "push", "-q", "origin", "main")

    pull(desktop)  # a real merge
    assert uids(desktop) == mine | theirs and integrity(desktop) == "ok"
    git(desktop.root, "push", "-q", "origin", "main")
    pull(laptop)  # and back
    assert uids(laptop) == mine | theirs and integrity(laptop) == "ok"

    state = Tracker(laptop).store.state("add")
    assert (state.status, state.attempts) == ("passed", 3)  # derived from the merged attempts
    merged = Tracker(laptop).store
    assert [n.text for n in merged.notes("mini", 2)] == ["rested"]
    assert merged.days_done("mini") == {2}
    assert (merged.state("gpu-only").status, merged.state("gpu-only").attempts) == (gpu_day, 1)


def test_a_rebase_replays_grades_onto_the_other_clones(clones):
    laptop, desktop = clones
    mine = {grade(laptop, "day1", "add", "add_pass")}
    git(laptop.root, "push", "-q", "origin", "main")
    theirs = {grade(desktop, "day1", "add", "add_fail"), grade(desktop, "day1", "add", "add_fail")}
    pull(desktop, "--rebase")
    assert uids(desktop) == mine | theirs and integrity(desktop) == "ok"
    assert "rebase" not in git(desktop.root, "status")
    # the day stays passed: the laptop's pass is older than the desktop's failures or not,
    # a pass is never lost
    assert Tracker(desktop).store.state("add").status == "passed"


def test_git_diff_shows_one_line_per_attempt(clones):
    laptop, _ = clones
    grade(laptop, "day1", "add", "add_fail")
    grade(laptop, "day1", "add", "add_pass")
    diff = git(laptop.root, "log", "-p", "-1", "--format=", "--", "progress.db")
    added = [line for line in diff.splitlines() if line.startswith("+") and "attempt" in line]
    assert len(added) == 1, diff
    assert "mini day 1 add: passed, 2/2 checks passed" in added[0]
    assert "Binary files" not in diff


def test_the_first_use_sets_the_drivers_up_in_a_course_without_them(tmp_path, workspace):
    root = workspace.root
    (root / ".gitattributes").unlink()
    git(root, "commit", "-q", "-am", "no attributes")
    for key in ("merge.mltrack.driver", "diff.mltrack.textconv"):
        subprocess.run(["git", "config", "--unset", key], cwd=root)
    ws = Workspace(root)
    grade(ws, "day1", "add", "add_pass")
    assert "progress.db merge=mltrack" in (root / ".gitattributes").read_text()
    assert "progress.db merge=mltrack" in git(root, "show", "HEAD:.gitattributes")
    assert "tracker.store.merge merge" in git(root, "config", "merge.mltrack.driver")



def test_doctor_fix_merges_a_progress_db_that_git_left_conflicted(clones):
    """A clone where the drivers were never set up: `git pull` conflicts on progress.db;
    `mltrack doctor --fix` sets them up, merges both sides' records and stages the result."""
    from typer.testing import CliRunner

    from tracker import gitops
    from tracker.cli import app

    laptop, desktop = clones
    mine = {grade(laptop, "day1", "add", "add_pass")}
    git(laptop.root, "push", "-q", "origin", "main")
    theirs = {grade(desktop, "day3", "gpu-only", "add_pass")}
    git(desktop.root, "config", "--remove-section", "merge.mltrack")
    pulled = subprocess.run(["git", "pull", "-q", "--no-edit", "origin", "main"],
                            cwd=desktop.root, capture_output=True, text=True)
    assert pulled.returncode != 0 and "progress.db" in pulled.stdout + pulled.stderr
    assert "`mltrack doctor --fix` merges" in gitops.why_not(desktop.root)  # a grade says so
    doctor = CliRunner().invoke(app, ["--workspace", str(desktop.root), "doctor"])
    assert "doctor --fix" in doctor.output
    fixed = CliRunner().invoke(app, ["--workspace", str(desktop.root), "doctor", "--fix"])
    assert "merged the conflicted progress.db (2 attempts" in fixed.output, fixed.output
    git(desktop.root, "commit", "-q", "--no-edit")
    assert uids(desktop) == mine | theirs and integrity(desktop) == "ok"
    assert "tracker.store.merge merge" in git(desktop.root, "config", "merge.mltrack.driver")
