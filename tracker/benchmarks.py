"""Benchmarks and hardware as the faces see them: `mltrack hw`, status output, the TUI.

    hardware_report(ws, calibrate=True)   detect (+ calibrate) this machine, store a snapshot
    latest_by_day(tracker)                the newest benchmark figures of every day
    grading_env(ws)                       what the grading child needs to know about hardware

No UI imports; numpy only while calibrating; sqlmodel only where the store is opened.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from tracker.workspace import Workspace


def hardware_report(ws: Workspace | None, *, calibrate: bool = True,
                    store=None) -> dict[str, Any]:
    """This machine (hardware.detect.snapshot) with its calibration; stored in progress.db
    when `store` is given. Without a fresh calibration, the newest stored one is shown."""
    from hardware.detect import detect

    machine = detect(workspace_root=ws.root if ws else None).to_dict()
    report: dict[str, Any] = {"machine": machine, "calibration": None, "stored": False,
                              "calibrated_at": None}
    if calibrate:
        from hardware.calibrate import calibrate as run

        calibration = run()
        if not calibration.valid:  # a busy moment: one longer try before keeping it as noisy
            calibration = run(max_time_s=3.0)
        report["calibration"] = calibration.to_dict()
    if store is not None:
        from tracker.store.benchstore import latest_calibration, record_hardware

        if report["calibration"] is not None:
            row = record_hardware(store, machine, report["calibration"])
            report["stored"] = True
            report["calibrated_at"] = row.taken_at.isoformat()
        else:
            row = latest_calibration(store, machine["fingerprint"])
            if row is not None:
                report["calibration"] = json.loads(row.calibration)
                report["calibrated_at"] = row.taken_at.isoformat()
    return report


def latest_by_day(tracker, summaries: dict[str, list[dict[str, Any]]] | None = None
                  ) -> dict[str, list[dict[str, Any]]]:
    """{day label: the benchmark figures of that day's newest attempt that ran any};
    `summaries` ({challenge: figures}), if already read, saves opening the store."""
    if summaries is None:
        from tracker.store.benchstore import bench_summary, latest_benches

        summaries = {cid: [bench_summary(r) for r in rows]
                     for cid, rows in latest_benches(tracker.store).items()}
    if not summaries:
        return {}
    plan = tracker.plan if tracker._store is not None else tracker.quick_plan()
    labels = {d.challenge: d.label for d in plan.challenge_days()}
    return {labels.get(cid, cid): rows for cid, rows in summaries.items()}


def grading_env(ws: Workspace) -> dict[str, str]:
    """Environment for the grading child: the declared-board file and the stored
    calibration scores ({fingerprint: score}), read with plain sqlite3 so grading does
    not wait for the store to open."""
    from hardware.calibrate import SCORES_VAR
    from hardware.declared import ENV_VAR, declared_path

    env: dict[str, str] = {}
    path = declared_path(ws.root)
    if path is not None and path.is_file() and not os.environ.get(ENV_VAR):
        env[ENV_VAR] = str(path)
    scores = _stored_scores(ws.db_path)
    if scores:
        env[SCORES_VAR] = json.dumps(scores)
    return env


def _stored_scores(db: Path) -> dict[str, float]:
    if not db.is_file():
        return {}
    try:
        with closing(sqlite3.connect(db, timeout=0.5)) as conn:
            rows = conn.execute("SELECT fingerprint, score, calibration FROM hardwaresnapshot "
                                "WHERE score IS NOT NULL ORDER BY id DESC").fetchall()
    except sqlite3.Error:  # an older schema or a busy file: the child calibrates itself
        return {}
    from hardware.calibrate import preferred_calibration

    return preferred_calibration(rows)
