"""Typed grading results, shared by the runner, the store and both faces (CLI and TUI)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    PASSED = "passed"  # every check that could run passed
    FAILED = "failed"  # a check failed: the solution is wrong
    ERROR = "error"  # the solution could not be imported, or the grader could not run
    TIMEOUT = "timeout"  # stopped at the wall-clock limit
    CRASHED = "crashed"  # the process died (signal, os._exit, memory or output limit)
    INCONCLUSIVE = "inconclusive"  # correct, but a benchmark was too noisy to decide; re-run
    SKIPPED = "skipped"  # nothing could run here (every check needs missing hardware)

    @property
    def ok(self) -> bool:
        return self is Verdict.PASSED


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    INCONCLUSIVE = "inconclusive"
    NOT_RUN = "not-run"  # the process ended before this check finished


@dataclass
class CaseResult:
    """One check of a grader (one pytest test)."""

    nodeid: str
    outcome: Outcome
    duration_s: float = 0.0
    message: str = ""  # one line: what went wrong, or why it was skipped
    details: str = ""  # the trimmed traceback / assertion diff
    skip_kind: str = ""  # "hardware" | "package" | "other" for skips

    @property
    def name(self) -> str:
        return self.nodeid.split("::", 1)[-1]


@dataclass
class Metric:
    """A figure the grader measured (a latency, a speed-up, a size ratio, an accuracy)."""

    name: str
    value: float
    unit: str = ""
    target: str = ""  # e.g. ">= 1.5" (rendered as written)
    verdict: str = ""  # PASS | FAIL | INCONCLUSIVE | "" when only recorded
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class BenchResult:
    """A benchmark a grader ran (graders.bench): statistics, raw samples, the machine."""

    nodeid: str
    name: str
    kind: str  # measure | compare
    value: float  # median seconds per call (measure) or speed-up (compare)
    unit: str  # s | x
    low: float | None = None  # 95% confidence interval of the value
    high: float | None = None
    target: str = ""  # as resolved on this machine; "" when only recorded
    verdict: str = ""  # PASS | FAIL | INCONCLUSIVE | ""
    valid: bool = True
    device: str = "cpu"
    fingerprint: str = ""  # hardware.detect fingerprint of the machine it ran on
    hw_class: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Everything but the raw samples."""
        return {k: v for k, v in asdict(self).items() if k != "samples"}


@dataclass
class GradeResult:
    challenge: str
    verdict: Verdict
    message: str
    cases: list[CaseResult] = field(default_factory=list)
    metrics: list[Metric] = field(default_factory=list)
    duration_s: float = 0.0
    exit_code: int | None = None
    output_tail: str = ""  # the end of the child's stdout/stderr, for diagnosing crashes
    benches: list[BenchResult] = field(default_factory=list)
    hardware: dict[str, Any] | None = None  # the machine the benchmarks ran on (its snapshot)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for c in self.cases if c.outcome == outcome)

    @property
    def passed(self) -> int:
        return self.count(Outcome.PASSED)

    @property
    def failed(self) -> int:
        return self.count(Outcome.FAILED) + self.count(Outcome.ERROR)

    @property
    def skipped(self) -> int:
        return self.count(Outcome.SKIPPED)

    @property
    def total(self) -> int:
        return len(self.cases)

    def skip_reasons(self) -> list[str]:
        return sorted({c.message for c in self.cases if c.outcome == Outcome.SKIPPED})

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(passed=self.passed, failed=self.failed, skipped=self.skipped, total=self.total)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradeResult:
        cases = [
            CaseResult(**{**c, "outcome": Outcome(c["outcome"])}) for c in data.get("cases", [])
        ]
        metrics = [Metric(**m) for m in data.get("metrics", [])]
        return cls(
            challenge=data["challenge"],
            verdict=Verdict(data["verdict"]),
            message=data["message"],
            cases=cases,
            metrics=metrics,
            duration_s=data.get("duration_s", 0.0),
            exit_code=data.get("exit_code"),
            output_tail=data.get("output_tail", ""),
            benches=[BenchResult(**b) for b in data.get("benches", [])],
            hardware=data.get("hardware"),
        )


# ---- reading a failure's traceback ------------------------------------------------------

_SHORT_ENTRY = re.compile(r"^(?P<file>\S+?\.py):(?P<line>\d+): in (?P<func>\S+)$")
_LONG_END = re.compile(r"^(?P<file>\S+?\.py):(?P<line>\d+):(?: \S*)?$")
_DEF = re.compile(r"^\s*(?:async\s+)?def (\w+)\(")
_SEPARATOR = re.compile(r"^(?:_ )+_?$")


@dataclass(frozen=True)
class Frame:
    """One frame of a traceback: where it is and the line of code it was running."""

    file: str
    line: int
    function: str
    code: str

    def where(self) -> str:
        return f"{self.file}:{self.line} in {self.function}"


def _is_learners(path: str) -> bool:
    """The child runs in the solution's folder, so the learner's files have relative paths;
    the grader's are `../grader/...` and installed packages' absolute."""
    return not (path.startswith(("/", "..", "<")) or path.startswith("\\") or ":" in path[:3])


def traceback_frames(details: str) -> list[Frame]:
    """Every frame of pytest's traceback text (`CaseResult.details`), outermost first."""
    frames: list[Frame] = []
    entry: list[str] = []  # the lines of the current long entry, up to its location line
    lines = details.splitlines()
    for i, line in enumerate(lines):
        short = _SHORT_ENTRY.match(line)
        if short:
            code = lines[i + 1].strip() if i + 1 < len(lines) else ""
            frames.append(Frame(short["file"], int(short["line"]), short["func"], code))
            entry = []
            continue
        end = _LONG_END.match(line)
        if end:
            marked = [e[1:].strip() for e in entry if e.startswith(">")]
            defs = [m.group(1) for e in entry if (m := _DEF.match(e.lstrip(">")))]
            file, number = end["file"], int(end["line"])
            same = [f for f in frames if (f.file, f.line) == (file, number)]
            func = defs[-1] if defs else (same[0].function if same else "?")
            frames.append(Frame(file, number, func, marked[-1] if marked else ""))
            entry = []
            continue
        if _SEPARATOR.match(line.strip()):
            entry = []
        else:
            entry.append(line)
    return frames


def learner_frames(details: str) -> list[Frame]:
    """The frames in the learner's own files, outermost first, one per line of code (a
    comprehension's frame is folded into the function it runs in)."""
    frames: list[Frame] = []
    for frame in traceback_frames(details):
        if not _is_learners(frame.file):
            continue
        if frames and (frames[-1].file, frames[-1].line) == (frame.file, frame.line):
            continue
        frames.append(frame)
    return frames


def summarise(details: str, *, width: int = 160, max_lines: int = 12) -> str:
    """Traceback text fit to read: an overlong line (a model's or a tensor's repr) is cut
    with its length said, and a long run of `E   ` lines (an object printed whole) is folded."""
    out: list[str] = []
    run = 0  # lines in the current run of `E   ` lines
    for line in details.splitlines():
        if len(line) > width:
            line = f"{line[:width - 1]}… ({len(line)} characters)"
        run = run + 1 if line.startswith("E   ") else 0
        if run == max_lines + 1:
            out.append("    … (more lines of the same output)")
        if run > max_lines:
            continue
        out.append(line)
    return "\n".join(out)
