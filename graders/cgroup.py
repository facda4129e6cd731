"""A control group per grade, where this process may create one (root in CI): a pids limit
bounds a fork bomb, which RLIMIT_NPROC cannot do for root, and a memory limit bounds the
whole grade, tmpfs pages included, between two polls of the parent's watchdog.

cgroup v2 needs its pids and memory controllers delegated to a group without processes, so
grades live under <cgroup2 root>/mltrack/; on a v1 (hybrid) host the pids and memory
hierarchies take a group each, under this process's own groups."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

PIDS_MAX = 4096  # tasks (processes and threads) of one grade: torch workers fit many times
MEMORY_MARGIN_MB = 1024  # above the day's limit: the watchdog's clearer message comes first
_PLACE = 'for f; do [ "$f" = -- ] && break; echo $$ > "$f" || exit 125; done; ' \
         'while [ "$1" != -- ]; do shift; done; shift; exec "$@"'


@dataclass
class Group:
    """One grade's groups (one on v2; pids and memory on v1)."""

    dirs: list[Path]
    v2: bool

    def wrap(self, argv: list[str]) -> list[str]:
        """`argv` started inside the groups: a shell joins them, then execs it, so no
        process of the grade is ever outside."""
        return ["/bin/sh", "-c", _PLACE, "sh", *(str(d / "cgroup.procs") for d in self.dirs),
                "--", *argv]

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of the grade for the memory limit."""
        events = "memory.events" if self.v2 else "memory.oom_control"
        for d in self.dirs:
            with contextlib.suppress(OSError, ValueError):
                for line in (d / events).read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill" and int(value) > 0:
                        return True
        return False

    def kill_and_remove(self) -> None:
        """Kill every process in the groups, then remove them."""
        for d in self.dirs:
            if self.v2 and (d / "cgroup.kill").exists():
                with contextlib.suppress(OSError):
                    (d / "cgroup.kill").write_text("1")
        deadline = time.monotonic() + 5
        for d in self.dirs:
            while time.monotonic() < deadline:
                pids = _pids(d)
                for pid in pids:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)  # EBUSY while the killed processes exit


def _pids(d: Path) -> list[int]:
    try:
        return [int(x) for x in (d / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def create(memory_mb: int) -> Group | None:
    """A new group for one grade, or None where none can be made here."""
    mode = detect()
    if mode.kind == "none":
        return None
    _sweep(mode)
    name = f"grade-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    memory = str((memory_mb + MEMORY_MARGIN_MB) * 2**20)
    if mode.kind == "v2":
        settings = [{"pids.max": str(PIDS_MAX), "memory.max": memory, "memory.swap.max": "0"}]
    else:
        settings = [{"pids.max": str(PIDS_MAX)},
                    {"memory.limit_in_bytes": memory}]
    made: list[Path] = []
    try:
        for base, values in zip(mode.bases, settings, strict=True):
            d = base / name
            d.mkdir()
            made.append(d)
            for key, value in values.items():
                with contextlib.suppress(FileNotFoundError):  # no swap accounting
                    (d / key).write_text(value)
    except OSError:
        Group(made, mode.kind == "v2").kill_and_remove()
        return None
    return Group(made, mode.kind == "v2")


def _sweep(mode: Mode) -> None:
    """Kill and remove the groups of grades whose mltrack was SIGKILLed: whatever a race
    in the sandbox's start-up let outlive it is in there."""
    for base in mode.bases:
        for d in base.glob("grade-*-*"):
            try:
                owner = int(d.name.split("-")[1])
                os.kill(owner, 0)
            except ProcessLookupError:
                Group([d], mode.kind == "v2").kill_and_remove()
            except (ValueError, OSError):
                continue  # alive (or not ours to judge)


@dataclass(frozen=True)
class Mode:
    kind: str  # "v2", "v1" or "none"
    why: str
    bases: tuple[Path, ...] = ()

    def describe(self) -> str:
        if self.kind == "none":
            return f"no cgroup per grade ({self.why})"
        return f"a cgroup per grade ({self.why}): at most {PIDS_MAX} tasks"


@functools.cache
def detect() -> Mode:
    """Whether grades get a cgroup here, and where."""
    mounts = _mounts()
    why_v2 = "no cgroup2 mount"
    if "cgroup2" in mounts:
        root = mounts["cgroup2"]
        ok, why_v2 = _delegate_v2(root)
        if ok:
            return Mode("v2", f"cgroup v2 under {root / 'mltrack'}", (root / "mltrack",))
    v1 = [_own_v1_group(mounts, c) for c in ("pids", "memory")]
    if all(v1) and all(_writable_group(d) for d in v1):
        return Mode("v1", f"cgroup v1 under {v1[0]} and {v1[1]}", tuple(v1))
    return Mode("none", why_v2)


def _mounts() -> dict[str, Path]:
    """cgroup2 -> its mount; pids/memory -> their v1 hierarchy's mount."""
    found: dict[str, Path] = {}
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        fields = line.split()
        if len(fields) < 4:
            continue
        point, kind, options = fields[1], fields[2], fields[3].split(",")
        if kind == "cgroup2":
            found.setdefault("cgroup2", Path(point))
        elif kind == "cgroup":
            for controller in ("pids", "memory"):
                if controller in options:
                    found.setdefault(controller, Path(point))
    return found


def _delegate_v2(root: Path) -> tuple[bool, str]:
    """Make <root>/mltrack a group whose children have pids and memory controllers."""
    try:
        available = (root / "cgroup.controllers").read_text().split()
    except OSError as exc:
        return False, f"cgroup v2 unreadable: {exc}"
    missing = {"pids", "memory"} - set(available)
    if missing:
        return False, f"cgroup v2 here lacks the {' and '.join(sorted(missing))} controller"
    group = root / "mltrack"
    try:
        if "pids" not in (root / "cgroup.subtree_control").read_text().split():
            (root / "cgroup.subtree_control").write_text("+pids +memory")
        group.mkdir(exist_ok=True)
        (group / "cgroup.subtree_control").write_text("+pids +memory")
    except OSError as exc:
        return False, f"cgroup v2 is not writable here ({exc.strerror or exc})"
    return True, ""


def _own_v1_group(mounts: dict[str, Path], controller: str) -> Path | None:
    """This process's own group in a v1 hierarchy: grades nest inside its limits."""
    if controller not in mounts:
        return None
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return mounts[controller] / path.lstrip("/")
    return None


def _writable_group(d: Path | None) -> bool:
    if d is None:
        return False
    probe = d / f"mltrack-probe-{os.getpid()}"
    try:
        probe.mkdir()
        probe.rmdir()
    except OSError:
        return False
    return True
