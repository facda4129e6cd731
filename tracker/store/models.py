"""Tables of progress.db. The schema itself is created by migrations (see migrations.py);
these models must match it, which a test checks column for column."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel


def new_uid() -> str:
    """A record's id in every clone of the course: git merges progress.db by these."""
    return uuid.uuid4().hex


class Meta(SQLModel, table=True):
    """Settings of this workspace's record (e.g. the active plan)."""

    key: str = Field(primary_key=True)
    value: str


class Attempt(SQLModel, table=True):
    """One grading of one challenge."""

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(default_factory=new_uid, unique=True)
    plan: str
    day: int
    challenge: str = Field(index=True)
    started_at: datetime
    finished_at: datetime
    duration_s: float
    verdict: str
    message: str
    passed: int
    failed: int
    skipped: int
    total: int
    solution_hash: str  # sha256 of the graded files: was this code graded before?
    source: str  # cli | tui | ci
    # HEAD when the grade started: the commit the graded solution was based on (the grade's
    # own commit, which holds the solution as graded, comes after it; solution_hash names it)
    git_head: str | None = None


class CaseRecord(SQLModel, table=True):
    """One check of one attempt."""

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="attempt.id", index=True)
    nodeid: str
    outcome: str
    duration_s: float
    message: str
    details: str
    skip_kind: str


class MetricRecord(SQLModel, table=True):
    """A figure a grader measured during an attempt (latency, speed-up, size ratio...)."""

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="attempt.id", index=True)
    name: str
    value: float
    unit: str
    target: str
    verdict: str
    details: str  # JSON


class HintUse(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(default_factory=new_uid, unique=True)
    challenge: str = Field(index=True)
    hint_index: int  # 0-based position in challenge.toml's hints
    used_at: datetime


class DayState(SQLModel, table=True):
    """Where a learner stands on a challenge; derived from events, kept for fast reads."""

    challenge: str = Field(primary_key=True)
    status: str  # not-started | in-progress | passed | failed | skipped-hw | inconclusive
    started_at: datetime | None = None
    last_attempt_at: datetime | None = None
    passed_at: datetime | None = None  # first pass; unlocks the reference solution
    attempts: int = 0


class HardwareSnapshot(SQLModel, table=True):
    """A machine as detected (and calibrated) at one moment; benchmarks point at it by
    fingerprint, so history compares like with like."""

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(default_factory=new_uid, unique=True)
    fingerprint: str = Field(index=True)
    hw_class: str
    taken_at: datetime
    summary: str
    data: str  # JSON: hardware.detect.Machine.to_dict()
    compute_gflops: float | None = None  # calibration, when it was run
    memory_gbps: float | None = None
    score: float | None = None
    calibration: str = "{}"  # JSON: statistics of the calibration workloads


class BenchRecord(SQLModel, table=True):
    """One benchmark of an attempt: statistics and raw samples, with the hardware it ran on
    and the code it measured (git HEAD)."""

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: int = Field(foreign_key="attempt.id", index=True)
    challenge: str = Field(index=True)
    recorded_at: datetime
    nodeid: str
    name: str
    kind: str  # measure | compare
    value: float  # median seconds per call (measure) or speed-up (compare)
    unit: str  # s | x
    low: float | None = None  # 95% confidence interval of the value
    high: float | None = None
    target: str  # as resolved on this machine, e.g. ">= 1.5×"; "" when only recorded
    verdict: str  # PASS | FAIL | INCONCLUSIVE | "" when only recorded
    valid: bool
    device: str  # cpu | cuda
    fingerprint: str = Field(index=True)
    hw_class: str
    git_head: str | None = None  # as Attempt.git_head: HEAD when the grade started
    stats: str  # JSON
    samples: str  # JSON: raw per-call seconds (measure) or per-round ratios and times (compare)


class Note(SQLModel, table=True):
    """A learner's note on one day of a plan."""

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(default_factory=new_uid, unique=True)
    plan: str
    day: int
    text: str
    created_at: datetime


class DayDone(SQLModel, table=True):
    """A day without a grader (rest, reading, planned-only) that the learner marked done."""

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(default_factory=new_uid, unique=True)
    plan: str
    day: int
    done_at: datetime
