"""Schema migrations of progress.db, applied in order; `PRAGMA user_version` is the version.

Never edit a released migration: add a new one. Each runs in one transaction.
"""

from __future__ import annotations

import hashlib
import sqlite3

# tables that gained a uid in version 3, with the column that dates a record
LEGACY_STAMPS = {"attempt": "started_at", "hintuse": "used_at", "hardwaresnapshot": "taken_at"}


def legacy_uid(table: str, row_id: int, stamp: object) -> str:
    """The uid of a record written before uids existed: the same in every clone."""
    return hashlib.sha256(f"{table}:{row_id}:{stamp}".encode()).hexdigest()[:32]


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
    (3, "stable unique ids for merging clones; day notes and days marked done", [
        # a random id per record, the same in every clone: the merge driver unions by it
        # (records from before this version get one derived from id and time, so two clones
        # that upgrade separately give their shared records the same uid)
        *[stmt for table, stamp in LEGACY_STAMPS.items() for stmt in (
            f"ALTER TABLE {table} ADD COLUMN uid VARCHAR",
            f"UPDATE {table} SET uid = legacy_uid('{table}', id, {stamp}) WHERE uid IS NULL",
            f"CREATE UNIQUE INDEX ix_{table}_uid ON {table} (uid)",
        )],
        """CREATE TABLE note (
            id INTEGER NOT NULL PRIMARY KEY,
            uid VARCHAR NOT NULL UNIQUE,
            plan VARCHAR NOT NULL,
            day INTEGER NOT NULL,
            text VARCHAR NOT NULL,
            created_at DATETIME NOT NULL)""",
        "CREATE INDEX ix_note_plan_day ON note (plan, day)",
        """CREATE TABLE daydone (
            id INTEGER NOT NULL PRIMARY KEY,
            uid VARCHAR NOT NULL UNIQUE,
            plan VARCHAR NOT NULL,
            day INTEGER NOT NULL,
            done_at DATETIME NOT NULL,
            UNIQUE (plan, day))""",
    ]),
]

LATEST = MIGRATIONS[-1][0]


class NewerSchema(Exception):
    """The file was written by a newer mltrack: reading it could misread, writing could
    damage it."""

    def __init__(self, version: int):
        super().__init__(f"schema version {version}, newer than this mltrack knows ({LATEST})")
        self.version = version


def version_of(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def upgrade(conn: sqlite3.Connection) -> None:
    """Bring the database of `conn` (in autocommit mode) to LATEST, one transaction per
    migration; safe when another process migrates at the same time."""
    conn.create_function("legacy_uid", 3, legacy_uid, deterministic=True)
    version = version_of(conn)
    if version > LATEST:
        raise NewerSchema(version)
    for number, _title, statements in MIGRATIONS:
        if number <= version:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # re-read under the write lock: another process may have migrated
            if version_of(conn) < number:
                for sql in statements:
                    conn.execute(sql)
                conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
