"""The grading child's OS sandbox: bubblewrap (`bwrap`) where it works, nothing elsewhere.

Inside the sandbox the child has its own network namespace (loopback only: servers and
clients of a grade talk on it, nothing else is reachable), its own PID namespace (it cannot
see or signal mltrack, and everything in it dies with it), no capabilities, a read-only view
of the system and the Python environment, and one writable folder: the grade's scratch.
Temporary folders, /run (daemon sockets), the home folder (keys, tokens) and the
workspace's course folder (with the references), progress.db, .git and solutions are not
visible at all.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import site
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

MODE_VAR = "MLTRACK_SANDBOX"  # "off": grade without the OS sandbox (debugging, tests)
# Device nodes the sandbox passes through, in one place: NVIDIA's CUDA runtime and NVML
# (desktop GPUs and Jetson boards) and the FPGA boards' configuration and UIO devices.
DEVICE_GLOBS = (
    "/dev/nvidia[0-9]*", "/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools",
    "/dev/nvidia-modeset", "/dev/nvidia-caps", "/dev/nvhost-*", "/dev/nvmap",
    "/dev/xdevcfg", "/dev/uio[0-9]*",
)
HIDDEN_DIRS = ("/tmp", "/var/tmp", "/run")  # other grades' scratch, daemon sockets
PROBE_TIMEOUT_S = 10


@dataclass(frozen=True)
class Mode:
    """How grading children run here: "bwrap", or "none" with the reason."""

    name: str
    why: str
    bwrap: str | None = None

    @property
    def sandboxed(self) -> bool:
        return self.name == "bwrap"

    def describe(self) -> str:
        if self.sandboxed:
            return f"bwrap ({self.why})"
        return f"none: grading runs without the OS sandbox ({self.why})"


def detect() -> Mode:
    """The mode grading uses now: bwrap where it is on PATH and can create the namespaces,
    otherwise none, with why."""
    return _detect(os.environ.get(MODE_VAR, ""), shutil.which("bwrap"))


@functools.cache
def _detect(setting: str, bwrap: str | None) -> Mode:
    if setting == "off":
        return Mode("none", f"turned off by {MODE_VAR}=off")
    if sys.platform != "linux":
        return Mode("none", f"bubblewrap needs Linux; this is {sys.platform}")
    if bwrap is None:
        return Mode("none", "bwrap is not installed (Debian/Ubuntu: apt install bubblewrap)")
    probe = [bwrap, *_isolation(), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
             "--", shutil.which("true") or "/bin/true"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=PROBE_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Mode("none", f"bwrap could not run: {exc}")
    if done.returncode != 0:
        why = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return Mode("none", f"bwrap cannot create namespaces here: "
                            f"{why[-1] if why else f'exit code {done.returncode}'}")
    return Mode("bwrap", f"{bwrap}: no network, own PID space, read-only system", bwrap)


def _isolation() -> list[str]:
    # bwrap keeps root's capabilities unless told: without them, root in the sandbox cannot
    # remount, unmount the hiding tmpfs or leave the namespaces
    drop = ["--cap-drop", "ALL"] if os.geteuid() == 0 else []
    return ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent", *drop]


@dataclass(frozen=True)
class Paths:
    """What one grade's sandbox shows and hides."""

    scratch: Path
    cwd: Path
    read_only: tuple[Path, ...] = ()  # inside the scratch: the grader copy
    hidden: tuple[Path, ...] = ()  # workspace folders and files the child must not see
    shown: tuple[Path, ...] = ()  # files the child is told about (a declared-board file)


def workspace_secrets(challenge_dir: Path, solution_dir: Path) -> tuple[Path, ...]:
    """The workspace's course folder (references; the grade has its copy of the grader),
    progress.db, .git and solutions, and the graded folder itself (the grade has its copy).
    One mount for the whole course: one per reference folder costs ~2 ms each."""
    course = challenge_dir.resolve().parent
    root = course.parent
    found = [course, root / ".git", root / "solutions",
             *(root / f"progress.db{suffix}" for suffix in ("", "-wal", "-shm", "-journal")),
             solution_dir.resolve()]
    return tuple(p for p in found if p.exists())


def command(mode: Mode, argv: list[str], paths: Paths) -> list[str]:
    """`argv` wrapped in bwrap with the mounts above."""
    assert mode.bwrap is not None
    args = [mode.bwrap, *_isolation(), "--ro-bind", "/", "/", "--dev", "/dev",
            "--perms", "1777", "--tmpfs", "/dev/shm", "--proc", "/proc"]
    _create_uvm_nodes()
    for pattern in DEVICE_GLOBS:
        for node in sorted(glob.glob(pattern)):
            args += ["--dev-bind", node, node]
    covers = _covering_dirs()
    for d in covers:
        args += ["--tmpfs", d]
    shown = [p for p in _needed_paths() + [str(p) for p in paths.shown if p.exists()]
             if _under(p, covers)]
    for p in shown:
        args += ["--ro-bind", p, p]
    # out of sight already, mount point included, unless shown again above: a course
    # cloned under the home folder and installed from there (`pip install -e .`)
    hidden = [p for p in map(str, paths.hidden) if not _under(p, covers) or _under(p, shown)]
    # outermost only: a mount inside a hidden folder would leave its mount point there
    hidden = [p for p in hidden if not _under(p, [o for o in hidden if o != p])]
    for p in hidden:
        args += ["--tmpfs", p] if os.path.isdir(p) else ["--ro-bind", "/dev/null", p]
    args += ["--bind", str(paths.scratch), str(paths.scratch)]
    for p in map(str, paths.read_only):
        args += ["--ro-bind", p, p]
    for d in [*covers, *filter(os.path.isdir, hidden)]:
        args += ["--remount-ro", d]  # after the mount points made in them
    return [*args, "--chdir", str(paths.cwd), "--", *argv]


@functools.cache
def _create_uvm_nodes() -> None:
    """CUDA creates /dev/nvidia-uvm on first use, through the setuid nvidia-modprobe, which
    cannot work inside the sandbox's own /dev: create it before, where the driver is loaded
    and the node is not there yet (a machine that has not run CUDA since it booted)."""
    modprobe = shutil.which("nvidia-modprobe")
    if modprobe and os.path.exists("/dev/nvidiactl") and not os.path.exists("/dev/nvidia-uvm"):
        subprocess.run([modprobe, "-u", "-c=0"], capture_output=True, timeout=PROBE_TIMEOUT_S,
                       check=False)


def _under(path: str, dirs: list[str]) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in dirs)


@functools.cache
def _covering_dirs() -> list[str]:
    """Folders replaced by an empty read-only tmpfs, outermost only."""
    found = [*HIDDEN_DIRS, tempfile.gettempdir(), str(Path.home())]
    real = sorted({os.path.realpath(d) for d in found if os.path.isdir(d)} - {"/"})
    return [d for d in real if not _under(d, [o for o in real if o != d])]


@functools.cache
def _needed_paths() -> list[str]:
    """What the child's Python needs from inside covered folders (pyenv lives under the home
    folder): the interpreter's prefixes, the site folders, mltrack's package root, the
    PYTHONPATH and the entries .pth files add. Not sys.path[0] (the parent's script folder
    or working folder: the child runs with PYTHONSAFEPATH) and never a covered folder
    itself."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable),
             os.path.dirname(os.path.realpath(sys.executable)), site.getuserbase(),
             str(Path(__file__).resolve().parent.parent), *site.getsitepackages()}
    paths.update(sys.path[1:])
    paths.update(os.environ.get("PYTHONPATH", "").split(os.pathsep))
    covers = _covering_dirs()
    real = {os.path.realpath(p) for p in paths if p and os.path.isabs(p) and os.path.exists(p)}
    real = {p for p in real if not any(_under(c, [p]) for c in covers)}
    return sorted(p for p in real if not _under(p, [o for o in real if o != p]))
