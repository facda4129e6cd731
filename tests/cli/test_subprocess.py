"""The installed `mltrack` for real: a child process, and what start-up imports."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

HEAVY = ["torch", "sklearn", "onnxruntime", "textual", "scipy", "pandas"]


def run_mltrack(workspace, *args, **kw):
    env = {**os.environ, "MLTRACK_WORKSPACE": str(workspace.root), "COLUMNS": "120"}
    exe = shutil.which("mltrack")
    command = [exe] if exe else [sys.executable, "-c", "from tracker.cli import main; main()"]
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env,
                          cwd=workspace.root, timeout=120, **kw)


def modules_loaded_by(workspace, *argv: str) -> list[str]:
    """Run mltrack's main in a fresh interpreter and list the heavy modules it imported."""
    probe = (
        "import sys, json\n"
        f"sys.argv = ['mltrack', *{list(argv)!r}]\n"
        "from tracker.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)), file=sys.stderr)\n"
    )
    env = {**os.environ, "MLTRACK_WORKSPACE": str(workspace.root)}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                          timeout=60)
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_the_real_command_grades_a_day(workspace, write_solution):
    write_solution("add", "add_pass")
    done = run_mltrack(workspace, "grade", "day001", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["verdict"], data["passed"], data["total"]) == ("passed", 2, 2)
    assert data["commit"]["committed"] is True


def test_the_real_command_fails_cleanly_on_an_unknown_day(workspace):
    done = run_mltrack(workspace, "grade", "day999")
    assert done.returncode == 2
    assert done.stderr.startswith("error: unknown day 'day999'")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("argv", [["--help"], ["status"], ["status", "--json"],
                                  ["grade", "--help"]])
def test_start_up_imports_nothing_heavy(workspace, argv):
    assert modules_loaded_by(workspace, *argv) == []


def test_the_engine_imports_no_ui_library():
    probe = (
        "import sys, json\n"
        "import tracker.engine, tracker.store, tracker.gitops, tracker.progress, tracker.catalog\n"
        "import graders.runner, graders.results, hardware\n"
        "print(json.dumps(sorted(m for m in ('textual', 'typer', 'rich', 'click')"
        " if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
