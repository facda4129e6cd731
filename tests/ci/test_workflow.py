""".github/workflows/grade.yml cannot run here, so its shape is checked as data and the
shell scripts of its grading steps are run for real, in a course repository, with the
environment GitHub would give them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.ci.conftest import commit_all
from tests.conftest import git

yaml = pytest.importorskip("yaml")

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "grade.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def step(workflow: dict, job: str, name: str) -> dict:
    return next(s for s in workflow["jobs"][job]["steps"] if s.get("name") == name)


def run_step(root: Path, tmp: Path, script: str, **env: str) -> subprocess.CompletedProcess:
    """A `run:` script as the runner executes it (bash -e), in the learner's repository."""
    environ = {k: v for k, v in os.environ.items() if k != "MLTRACK_WORKSPACE"}
    summary = tmp / "step-summary.md"
    environ.update(GITHUB_STEP_SUMMARY=str(summary), RUNNER_TEMP=str(tmp), **env)
    return subprocess.run(["bash", "-e", "-c", script], cwd=root, env=environ,
                          capture_output=True, text=True, timeout=300)


def test_the_workflow_runs_on_push_and_by_hand_and_reads_nothing_it_does_not_need(workflow):
    assert {"push", "pull_request", "workflow_dispatch"} <= set(workflow["on"])
    assert workflow["permissions"] == {"contents": "read"}
    hosted = workflow["jobs"]["grade"]
    assert hosted["runs-on"] == "ubuntu-latest"
    checkout = hosted["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0
    install = step(workflow, "grade", "Install mltrack")["run"]
    assert "pip install -c constraints.txt -e ." in install  # the README's install line
    # ... except for a teacher's course, where mltrack comes from the course itself
    assert 'pip install -c constraints.txt "git+$UPSTREAM"' in install
    assert step(workflow, "grade", "Keep the grades")["if"] == "always()"


def test_the_hosted_job_installs_bubblewrap_and_grades_only_inside_it(workflow):
    names = [s.get("name") for s in workflow["jobs"]["grade"]["steps"]]
    assert names.index("Install bubblewrap") < names.index("Grade")
    install = step(workflow, "grade", "Install bubblewrap")["run"]
    assert "apt-get install -y -qq bubblewrap" in install
    grade = step(workflow, "grade", "Grade")
    assert grade["env"]["SANDBOX"] == "--require-sandbox"
    assert "--ci $SANDBOX" in grade["run"]


def test_hardware_days_are_routed_to_a_labelled_self_hosted_runner(workflow):
    gpu = workflow["jobs"]["grade-gpu"]
    assert gpu["runs-on"] == ["self-hosted", "gpu"]
    assert gpu["if"].startswith("vars.MLTRACK_GPU_RUNNER == 'true' && ")
    # a stranger's pull request never reaches the self-hosted machine
    assert "github.event.pull_request.head.repo.full_name == github.repository" in gpu["if"]
    script = step(workflow, "grade-gpu", "Grade the days that need the GPU")["run"]
    assert "--hardware nvidia-gpu" in script
    route = step(workflow, "grade", "Grade")["env"]["ROUTE"]
    assert "MLTRACK_GPU_RUNNER == 'true' && '--skip-hardware nvidia-gpu'" in route


def test_runs_of_a_branch_queue_so_no_push_goes_ungraded(workflow):
    assert workflow["concurrency"]["cancel-in-progress"] is False


def test_the_push_step_grades_what_changed_and_fails_on_a_failing_day(workflow, course, solve,
                                                                      tmp_path):
    solve("add", "add_pass")
    before = commit_all(course.root, "day 1")
    solve("close", "def root2():\n    return 1.4\n")
    commit_all(course.root, "day 8, wrong")
    script = step(workflow, "grade", "Grade")["run"]

    done = run_step(course.root, tmp_path, script, BEFORE=before, ALL="", BASE="", UPSTREAM="",
                    ROUTE="--skip-hardware nvidia-gpu")
    assert done.returncode == 1, done.stderr
    grades = json.loads((course.root / "mltrack-grades.json").read_text())
    assert grades["selection"] == {"mode": "changed", "since": before}
    assert [d["challenge"] for d in grades["days"]] == ["close"]
    assert (course.root / "mltrack-junit.xml").is_file()
    assert "| day8 | The square root of two | ❌ failed |" in (tmp_path / "step-summary.md"
                                                             ).read_text()


def test_a_new_branch_grades_every_started_day(workflow, course, solve, tmp_path):
    solve("add", "add_pass")
    solve("gpu-only", "def device_name():\n    return 'cpu'\n")
    commit_all(course.root, "work")
    script = step(workflow, "grade", "Grade")["run"]
    done = run_step(course.root, tmp_path, script, BEFORE="0" * 40, ALL="", BASE="",
                    UPSTREAM="", ROUTE="--skip-hardware nvidia-gpu")
    assert done.returncode == 0, done.stderr
    grades = json.loads((course.root / "mltrack-grades.json").read_text())
    assert grades["selection"]["mode"] == "all"
    verdicts = {d["challenge"]: (d["graded"], d["verdict"]) for d in grades["days"]}
    assert verdicts == {"add": (True, "passed"), "gpu-only": (False, "skipped")}


def test_the_upstream_manifest_catches_a_grader_edited_in_the_fork(workflow, course, solve,
                                                                   tmp_path):
    upstream = tmp_path / "upstream.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(course.root), str(upstream)], check=True)
    grader = course.challenges_dir / "close" / "test_close.py"
    grader.write_text(grader.read_text().replace("TOLERANCE = 1e-9", "TOLERANCE = 1.0"))
    from tracker import manifest

    manifest.write(course.root)  # the learner regenerates the manifest in their fork
    solve("close", "def root2():\n    return 1.4\n")
    commit_all(course.root, "loosened")
    script = step(workflow, "grade", "Grade")["run"]
    common = dict(BEFORE="", ALL="true", BASE="", ROUTE="")
    assert run_step(course.root, tmp_path, script, UPSTREAM="", **common).returncode == 0
    done = run_step(course.root, tmp_path, script, UPSTREAM=str(upstream), **common)
    assert done.returncode == 1
    grades = json.loads((course.root / "mltrack-grades.json").read_text())
    assert grades["verify"]["modified"] == ["challenges/close/test_close.py"]


def test_the_gpu_step_grades_only_the_days_that_need_the_gpu(workflow, course, solve, tmp_path):
    solve("add", "add_pass")
    solve("gpu-only", "def device_name():\n    return 'cpu'\n")
    commit_all(course.root, "work")
    script = step(workflow, "grade-gpu", "Grade the days that need the GPU")["run"]
    done = run_step(course.root, tmp_path, script, UPSTREAM="")
    assert done.returncode == 0, done.stderr
    grades = json.loads((course.root / "mltrack-grades-gpu.json").read_text())
    assert [d["challenge"] for d in grades["days"]] == ["gpu-only"]
    assert git(course.root, "status", "--porcelain", "--", "progress.db") == ""
