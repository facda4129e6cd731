"""Benchmark results and hardware snapshots in progress.db.

Bench records are written with their attempt (`Store.record_attempt` calls
`add_bench_records` in the same transaction); hardware snapshots by `mltrack hw` and, for
a machine not seen before, by a grade that ran benchmarks. The functions below are the
accessors both faces use.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from graders.results import GradeResult
from hardware.calibrate import is_valid_calibration, preferred_calibration
from tracker.store import outputs
from tracker.store.models import Attempt, BenchRecord, HardwareSnapshot


def add_bench_records(s: Session, attempt: Attempt, result: GradeResult,
                      recorded_at: datetime) -> None:
    """Stage the attempt's benchmarks (and the machine, if new) in session `s`."""
    for b in result.benches:
        s.add(BenchRecord(
            attempt_id=attempt.id, challenge=attempt.challenge, recorded_at=recorded_at,
            nodeid=b.nodeid, name=b.name, kind=b.kind, value=float(b.value), unit=b.unit,
            low=b.low, high=b.high, target=b.target, verdict=b.verdict, valid=bool(b.valid),
            device=b.device, fingerprint=b.fingerprint, hw_class=b.hw_class,
            git_head=attempt.git_head, stats=json.dumps(b.stats, default=str),
            samples=json.dumps(outputs.samples(b.samples)),  # bounded: travels in git
        ))
    machine = result.hardware
    if machine and machine.get("fingerprint"):
        known = s.exec(select(HardwareSnapshot.id).where(
            HardwareSnapshot.fingerprint == machine["fingerprint"]).limit(1)).first()
        if known is None:
            s.add(_snapshot(machine, None, recorded_at))


def _snapshot(machine: dict[str, Any], calibration: dict[str, Any] | None,
              taken_at: datetime) -> HardwareSnapshot:
    cal = calibration or {}
    return HardwareSnapshot(
        fingerprint=machine["fingerprint"], hw_class=machine["class"]["id"], taken_at=taken_at,
        summary=machine.get("summary", ""), data=json.dumps(machine, default=str),
        compute_gflops=cal.get("compute_gflops"), memory_gbps=cal.get("memory_gbps"),
        score=cal.get("score"), calibration=json.dumps(cal, default=str),
    )


def record_hardware(store, machine: dict[str, Any],
                    calibration: dict[str, Any] | None = None) -> HardwareSnapshot:
    """Store a snapshot of `machine` (hardware.detect.Machine.to_dict()) and its calibration."""
    with store.session() as s:
        row = _snapshot(machine, calibration, store.clock())
        s.add(row)
        s.flush()
        return row


def hardware_snapshots(store, fingerprint: str | None = None) -> list[HardwareSnapshot]:
    """Snapshots, newest first."""
    with store.session() as s:
        query = select(HardwareSnapshot).order_by(HardwareSnapshot.id.desc())
        if fingerprint is not None:
            query = query.where(HardwareSnapshot.fingerprint == fingerprint)
        return list(s.exec(query))


def latest_calibration(store, fingerprint: str) -> HardwareSnapshot | None:
    """The newest valid calibrated snapshot of the machine `fingerprint`, else its newest
    calibrated one."""
    rows = [r for r in hardware_snapshots(store, fingerprint) if r.score is not None]
    return next((r for r in rows if is_valid_calibration(r.calibration)),
                rows[0] if rows else None)


def calibration_scores(store) -> dict[str, float]:
    """{fingerprint: score} for every calibrated machine (see preferred_calibration)."""
    return preferred_calibration([(r.fingerprint, r.score, r.calibration)
                                  for r in hardware_snapshots(store)])


def bench_records(store, *, challenge: str | None = None, attempt_id: int | None = None,
                  fingerprint: str | None = None, limit: int | None = None
                  ) -> list[BenchRecord]:
    """Benchmark records, newest first."""
    with store.session() as s:
        query = select(BenchRecord).order_by(BenchRecord.id.desc())
        if challenge is not None:
            query = query.where(BenchRecord.challenge == challenge)
        if attempt_id is not None:
            query = query.where(BenchRecord.attempt_id == attempt_id)
        if fingerprint is not None:
            query = query.where(BenchRecord.fingerprint == fingerprint)
        if limit is not None:
            query = query.limit(limit)
        return list(s.exec(query))


def latest_benches(store) -> dict[str, list[BenchRecord]]:
    """{challenge: the benchmarks of its newest attempt that ran any}, oldest record first."""
    latest: dict[str, int] = {}
    rows = bench_records(store)
    for row in rows:  # newest first
        latest.setdefault(row.challenge, row.attempt_id)
    found: dict[str, list[BenchRecord]] = {}
    for row in reversed(rows):
        if latest[row.challenge] == row.attempt_id:
            found.setdefault(row.challenge, []).append(row)
    return found


def bench_summary(row: BenchRecord) -> dict[str, Any]:
    """A record as plain data without the raw samples (status output, the TUI)."""
    return {
        "name": row.name, "kind": row.kind, "value": row.value, "unit": row.unit,
        "low": row.low, "high": row.high, "target": row.target, "verdict": row.verdict,
        "valid": row.valid, "device": row.device, "hw_class": row.hw_class,
        "fingerprint": row.fingerprint, "git_head": row.git_head,
        "recorded_at": row.recorded_at.isoformat(), "attempt_id": row.attempt_id,
    }


def bench_samples(row: BenchRecord) -> dict[str, list[float]]:
    return json.loads(row.samples)
