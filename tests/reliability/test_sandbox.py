"""The grading sandbox's modes: bubblewrap where it works, plain grading (said once, with the
reason) where it does not, the device nodes GPU days need, the cgroup per grade, and the
CI's --require-sandbox. What the sandbox stops is in test_hostile_solutions.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from graders import cgroup, runner, sandbox
from graders.runner import Job, Limits, grade
from tracker import doctor

MODE = sandbox.detect()
PROBE_LIMITS = Limits(timeout_s=60)


@pytest.fixture
def run_probe(workspace, write_solution):
    """Grade a solution that runs `code` at import; returns the verdict and its output."""

    def run(code: str):
        folder = write_solution("add", "import os, sys\nsys.stdout = sys.__stderr__\n" + code
                                + "\n\ndef add(a, b):\n    return a + b\n")
        job = Job("add", workspace.challenges_dir / "add", folder, api=("add",),
                  limits=PROBE_LIMITS)
        return grade(job)

    return run


@pytest.fixture
def fresh(monkeypatch):
    """A process that has announced nothing yet."""
    monkeypatch.setattr(runner, "_told", set())


def _path_without_bwrap(tmp_path: Path) -> str:
    empty = tmp_path / "bin"
    empty.mkdir(exist_ok=True)
    return str(empty)


def test_without_bwrap_grading_works_and_says_so_once(run_probe, fresh, monkeypatch, capsys,
                                                      tmp_path):
    monkeypatch.setenv("PATH", _path_without_bwrap(tmp_path))
    mode = sandbox.detect()
    assert not mode.sandboxed and "bwrap is not installed" in mode.why
    first = run_probe("print('PPID', os.getppid())")
    second = run_probe("")
    assert (first.verdict, second.verdict) == ("passed", "passed"), first.message
    assert f"PPID {os.getpid()}" in first.output_tail  # a plain child of this process
    said = [line for line in capsys.readouterr().err.splitlines() if "OS sandbox" in line]
    assert said == ["mltrack: none: grading runs without the OS sandbox (bwrap is not "
                    "installed (Debian/Ubuntu: apt install bubblewrap))"]


def test_a_bwrap_that_cannot_create_namespaces_falls_back_with_its_reason(
        run_probe, fresh, monkeypatch, tmp_path):
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    mode = sandbox.detect()
    assert mode.describe() == ("none: grading runs without the OS sandbox (bwrap cannot "
                               "create namespaces here: bwrap: setting up uid map: "
                               "Permission denied)")
    assert run_probe("").verdict == "passed"


def test_the_sandbox_can_be_turned_off(monkeypatch):
    monkeypatch.setenv(sandbox.MODE_VAR, "off")
    assert sandbox.detect().describe() == ("none: grading runs without the OS sandbox "
                                           "(turned off by MLTRACK_SANDBOX=off)")


def test_doctor_names_the_mode_in_use_and_why(monkeypatch):
    check = doctor._sandbox()
    assert check.name == "sandbox" and check.ok == MODE.sandboxed
    assert check.detail.startswith(MODE.describe())
    monkeypatch.setenv(sandbox.MODE_VAR, "off")
    check = doctor._sandbox()
    assert (check.ok, check.warning) == (False, True)
    assert "turned off by MLTRACK_SANDBOX=off" in check.detail


def test_ci_can_require_the_sandbox(workspace, write_solution):
    write_solution("add", "add_pass")
    env = {**os.environ, "MLTRACK_WORKSPACE": str(workspace.root), sandbox.MODE_VAR: "off"}
    done = subprocess.run([sys.executable, "-c", "from tracker.cli import main; main()",
                           "grade", "day1", "--ci", "--require-sandbox"], env=env,
                          cwd=workspace.root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "--require-sandbox: none: grading runs without the OS sandbox" in done.stderr
    assert done.stdout == ""  # nothing was graded


def test_the_device_nodes_gpu_days_need_are_passed_through(monkeypatch, tmp_path):
    nodes = {"/dev/nvidia[0-9]*": ["/dev/nvidia0"], "/dev/nvidiactl": ["/dev/nvidiactl"],
             "/dev/nvidia-uvm": ["/dev/nvidia-uvm"]}
    monkeypatch.setattr(sandbox.glob, "glob", lambda pattern: nodes.get(pattern, []))
    paths = sandbox.Paths(scratch=tmp_path, cwd=tmp_path)
    argv = sandbox.command(sandbox.Mode("bwrap", "", "/usr/bin/bwrap"), ["python"], paths)
    binds = [argv[i + 1] for i, a in enumerate(argv) if a == "--dev-bind"]
    assert binds == ["/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-uvm"]
    assert argv.index("--dev-bind") > argv.index("--dev")  # on top of the sandbox's own /dev


@pytest.mark.skipif(not MODE.sandboxed, reason=MODE.describe())
@pytest.mark.skipif(not os.path.exists("/dev/nvidiactl"), reason="no NVIDIA GPU on this machine")
def test_cuda_works_inside_the_sandbox(run_probe):
    result = run_probe(
        "import torch, pynvml\n"
        "pynvml.nvmlInit()\n"
        "print('NVML', pynvml.nvmlDeviceGetCount())\n"
        "x = torch.ones(1024, device='cuda')\n"
        "print('CUDA', float((x * 2).sum().item()))\n")
    assert result.verdict == "passed", result.message + result.output_tail
    assert "CUDA 2048.0" in result.output_tail
    assert "NVML 0" not in result.output_tail


@pytest.mark.skipif(cgroup.detect().kind == "none", reason=cgroup.detect().describe())
def test_each_grade_runs_in_a_cgroup_of_its_own_removed_after(run_probe):
    result = run_probe("print('CGROUP', open('/proc/self/cgroup').read().replace('\\n', ' '))")
    assert result.verdict == "passed", result.message
    [line] = [x for x in result.output_tail.splitlines() if x.startswith("CGROUP ")]
    groups = [g.split(":", 2)[2] for g in line.split()[1:]
              if "pids" in g.split(":")[1] or g.startswith("0::")]
    own = [g for g in groups if "/grade-" in g]
    assert own, line
    for base in cgroup.detect().bases:
        assert not list(base.glob(f"grade-{os.getpid()}-*")), "a grade's cgroup was left"


@pytest.mark.skipif(not MODE.sandboxed, reason=MODE.describe())
def test_inside_the_sandbox_the_system_is_read_only_and_the_scratch_writable(run_probe):
    result = run_probe(
        "for target in ('/usr/mltrack-probe', sys.prefix + '/mltrack-probe', 'probe.txt'):\n"
        "    try:\n"
        "        open(target, 'w').close()\n"
        "        print('WROTE', target)\n"
        "    except OSError as exc:\n"
        "        print('REFUSED', target, exc.strerror)\n")
    out = result.output_tail
    assert "REFUSED /usr/mltrack-probe Read-only file system" in out
    assert f"REFUSED {sys.prefix}/mltrack-probe Read-only file system" in out
    assert "WROTE probe.txt" in out  # the scratch copy of the solution folder


@pytest.fixture
def listings(monkeypatch):
    """Counts the sandbox's listings of hidden paths; the first one names `vanished` too:
    a file listed as present that is gone when bwrap mounts over it (progress.db-wal and
    -shm come and go with every mltrack command that opens the store)."""
    real, calls = sandbox.workspace_secrets, []

    def listing(challenge_dir, solution_dir, vanished=Path("/usr/mltrack-gone.db-wal")):
        calls.append(1)
        found = real(challenge_dir, solution_dir)
        return (*found, vanished) if len(calls) == 1 else found

    monkeypatch.setattr(sandbox, "workspace_secrets", listing)
    return calls


@pytest.mark.skipif(not MODE.sandboxed, reason=MODE.describe())
def test_a_hidden_file_that_vanishes_before_bwrap_mounts_it_only_delays_the_grade(
        run_probe, listings):
    result = run_probe("")
    assert result.verdict == "passed", result.message + result.output_tail
    assert len(listings) == 2  # bwrap exited 1 ("Can't create file at ..."): built again


@pytest.mark.skipif(not MODE.sandboxed, reason=MODE.describe())
def test_a_solution_that_exits_with_1_is_not_graded_again(run_probe, monkeypatch):
    calls = []
    real = sandbox.workspace_secrets
    monkeypatch.setattr(sandbox, "workspace_secrets",
                        lambda *a: calls.append(1) or real(*a))
    result = run_probe("print('bwrap: not really'); os._exit(1)")
    assert result.verdict == "crashed" and "exited with code 1" in result.message
    assert len(calls) == 1
