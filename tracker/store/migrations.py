"""Schema migrations of progress.db, applied in order; `PRAGMA user_version` is the version.

Never edit a released migration: add a new one. Each runs in one transaction.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[int, str, list[str]]] = [
    (1, "attempts, checks, metrics, hints, day states", [
        """CREATE TABLE meta (
            key VARCHAR NOT NULL PRIMARY KEY,
            value VARCHAR NOT NULL)""",
        """CREATE TABLE attempt (
            id INTEGER NOT NULL PRIMARY KEY,
            plan VARCHAR NOT NULL,
            day INTEGER NOT NULL,
            challenge VARCHAR NOT NULL,
            started_at DATETIME NOT NULL,
            finished_at DATETIME NOT NULL,
            duration_s FLOAT NOT NULL,
            verdict VARCHAR NOT NULL,
            message VARCHAR NOT NULL,
            passed INTEGER NOT NULL,
            failed INTEGER NOT NULL,
            skipped INTEGER NOT NULL,
            total INTEGER NOT NULL,
            solution_hash VARCHAR NOT NULL,
            source VARCHAR NOT NULL,
            git_head VARCHAR)""",
        "CREATE INDEX ix_attempt_challenge ON attempt (challenge)",
        """CREATE TABLE caserecord (
            id INTEGER NOT NULL PRIMARY KEY,
            attempt_id INTEGER NOT NULL REFERENCES attempt (id) ON DELETE CASCADE,
            nodeid VARCHAR NOT NULL,
            outcome VARCHAR NOT NULL,
            duration_s FLOAT NOT NULL,
            message VARCHAR NOT NULL,
            details VARCHAR NOT NULL,
            skip_kind VARCHAR NOT NULL)""",
        "CREATE INDEX ix_caserecord_attempt_id ON caserecord (attempt_id)",
        """CREATE TABLE metricrecord (
            id INTEGER NOT NULL PRIMARY KEY,
            attempt_id INTEGER NOT NULL REFERENCES attempt (id) ON DELETE CASCADE,
            name VARCHAR NOT NULL,
            value FLOAT NOT NULL,
            unit VARCHAR NOT NULL,
            target VARCHAR NOT NULL,
            verdict VARCHAR NOT NULL,
            details VARCHAR NOT NULL)""",
        "CREATE INDEX ix_metricrecord_attempt_id ON metricrecord (attempt_id)",
        """CREATE TABLE hintuse (
            id INTEGER NOT NULL PRIMARY KEY,
            challenge VARCHAR NOT NULL,
            hint_index INTEGER NOT NULL,
            used_at DATETIME NOT NULL,
            UNIQUE (challenge, hint_index))""",
        "CREATE INDEX ix_hintuse_challenge ON hintuse (challenge)",
        """CREATE TABLE daystate (
            challenge VARCHAR NOT NULL PRIMARY KEY,
            status VARCHAR NOT NULL,
            started_at DATETIME,
            last_attempt_at DATETIME,
            passed_at DATETIME,
            attempts INTEGER NOT NULL DEFAULT 0)""",
    ]),
    (2, "benchmark results and hardware snapshots", [
        """CREATE TABLE hardwaresnapshot (
            id INTEGER NOT NULL PRIMARY KEY,
            fingerprint VARCHAR NOT NULL,
            hw_class VARCHAR NOT NULL,
            taken_at DATETIME NOT NULL,
            summary VARCHAR NOT NULL,
            data VARCHAR NOT NULL,
            compute_gflops FLOAT,
            memory_gbps FLOAT,
            score FLOAT,
            calibration VARCHAR NOT NULL)""",
        "CREATE INDEX ix_hardwaresnapshot_fingerprint ON hardwaresnapshot (fingerprint)",
        """CREATE TABLE benchrecord (
            id INTEGER NOT NULL PRIMARY KEY,
            attempt_id INTEGER NOT NULL REFERENCES attempt (id) ON DELETE CASCADE,
            challenge VARCHAR NOT NULL,
            recorded_at DATETIME NOT NULL,
            nodeid VARCHAR NOT NULL,
            name VARCHAR NOT NULL,
            kind VARCHAR NOT NULL,
            value FLOAT NOT NULL,
            unit VARCHAR NOT NULL,
            low FLOAT,
            high FLOAT,
            target VARCHAR NOT NULL,
            verdict VARCHAR NOT NULL,
            valid BOOLEAN NOT NULL,
            device VARCHAR NOT NULL,
            fingerprint VARCHAR NOT NULL,
            hw_class VARCHAR NOT NULL,
            git_head VARCHAR,
            stats VARCHAR NOT NULL,
            samples VARCHAR NOT NULL)""",
        "CREATE INDEX ix_benchrecord_attempt_id ON benchrecord (attempt_id)",
        "CREATE INDEX ix_benchrecord_challenge ON benchrecord (challenge)",
        "CREATE INDEX ix_benchrecord_fingerprint ON benchrecord (fingerprint)",
    ]),
]

LATEST = MIGRATIONS[-1][0]
