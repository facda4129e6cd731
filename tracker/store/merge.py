"""progress.db as git sees it: a merge driver that unions two records and a textconv
driver that prints one line per record.

Every record has a stable uid and is never edited or deleted, so a merge needs no base:
the result holds every record of either side, once (hints and done days, which can
happen once per day, are keyed by what they are about). Day states are derived again from
the merged attempts. Ids are renumbered in time order, so "newest first" stays true.

Plain sqlite3, no ORM: git runs these as `python -m tracker.store.merge merge %O %A %B` and
`python -m tracker.store.merge textconv FILE` (see tracker.gitops.install_drivers).
Older schemas are read by column name, so `git log -p` works across every version.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from tracker.store.health import damage
from tracker.store.migrations import LEGACY_STAMPS, legacy_uid, upgrade

Row = dict[str, object]
CHILDREN = ("caserecord", "metricrecord", "benchrecord")  # rows of an attempt
# record tables keyed by something other than their uid: one per key, the earliest kept
NATURAL_KEYS = {"hintuse": ("challenge", "hint_index"), "daydone": ("plan", "day")}
STAMPS = {"attempt": "finished_at", "hintuse": "used_at", "hardwaresnapshot": "taken_at",
          "note": "created_at", "daydone": "done_at"}


@dataclass
class Records:
    """Everything a progress.db holds that is not derived (day states are)."""

    meta: dict[str, str] = field(default_factory=dict)
    records: dict[str, dict[object, Row]] = field(
        default_factory=lambda: {table: {} for table in STAMPS})
    children: dict[str, dict[str, list[Row]]] = field(
        default_factory=lambda: {table: {} for table in CHILDREN})  # by attempt uid
    states: list[Row] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # what could not be read, in words

    def add(self, other: Records) -> None:
        for key, value in other.meta.items():
            self.meta.setdefault(key, value)
        for table, rows in other.records.items():
            mine = self.records[table]
            for key, row in rows.items():
                if key not in mine or str(row[STAMPS[table]]) < str(mine[key][STAMPS[table]]):
                    mine[key] = row
        for table, by_attempt in other.children.items():
            for uid, rows in by_attempt.items():
                self.children[table].setdefault(uid, rows)
        self.states += other.states
        self.lost += other.lost

    def count(self, table: str) -> int:
        return len(self.records[table])


# ---- reading -------------------------------------------------------------------------


class Damaged(ValueError):
    """A side of a merge (or the file to show) is not a sound progress.db."""


def read(path: Path, *, tolerant: bool = False) -> Records:
    """The records of the database at `path` (any schema up to the latest). `tolerant`:
    keep what can be read from a damaged file and list what could not in `lost`; otherwise
    a damaged file raises Damaged."""
    found = Records()
    with tempfile.TemporaryDirectory(prefix="mltrack-read-") as tmp:
        copy = Path(tmp) / "progress.db"
        # never open the original (git's file or the learner's): even a read-only look at a
        # WAL database leaves side files next to it
        shutil.copyfile(path, copy)
        problem = None if tolerant else damage(copy)
        if problem:
            raise Damaged(f"{path.name}: {problem}")
        with closing(sqlite3.connect(copy)) as conn:
            tables = _tables(conn, found, tolerant)
            for row in _rows(conn, "meta", tables, found, tolerant):
                found.meta[str(row["key"])] = str(row["value"])
            ids: dict[object, str] = {}
            for table in STAMPS:
                for row in _rows(conn, table, tables, found, tolerant):
                    if not row.get("uid"):
                        stamp = LEGACY_STAMPS.get(table, "id")
                        row["uid"] = legacy_uid(table, row["id"], row.get(stamp))
                    if table == "attempt":
                        ids[row["id"]] = str(row["uid"])
                    key = tuple(row[c] for c in NATURAL_KEYS.get(table, ("uid",)))
                    found.records[table][key] = row
            for table in CHILDREN:
                for row in _rows(conn, table, tables, found, tolerant):
                    owner = ids.get(row["attempt_id"])
                    if owner is not None:
                        found.children[table].setdefault(owner, []).append(row)
            found.states = list(_rows(conn, "daystate", tables, found, tolerant))
    return found


def _tables(conn: sqlite3.Connection, found: Records, tolerant: bool) -> set[str]:
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        if not tolerant:
            raise
        found.lost.append(f"the table list ({exc})")
        # guess: the tables of the latest schema; each read below may still succeed
        return set(STAMPS) | set(CHILDREN) | {"meta", "daystate"}


def _rows(conn: sqlite3.Connection, table: str, tables: set[str], found: Records,
          tolerant: bool) -> Iterable[Row]:
    """Rows of `table` as dicts; tolerant: in id order, skipping past unreadable pages."""
    if table not in tables:
        return []
    if not tolerant:
        cur = conn.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur]
    return _salvage(conn, table, found)


def _salvage(conn: sqlite3.Connection, table: str, found: Records) -> list[Row]:
    order = "key" if table == "meta" else ("challenge" if table == "daystate" else "id")
    rows: list[Row] = []
    last: object = None
    skipped = 0
    for _ in range(100_000):
        where, args = (f"WHERE {order} > ?", (last,)) if last is not None else ("", ())
        try:
            cur = conn.execute(f"SELECT * FROM {table} {where} ORDER BY {order} LIMIT 1", args)
            names = [d[0] for d in cur.description]
            got = cur.fetchone()
        except sqlite3.DatabaseError as exc:
            if order != "id" or skipped > 1000:
                found.lost.append(f"{table}: rows after {order} {last!r} ({exc})")
                break
            skipped += 1
            last = (last or 0) + 1  # an unreadable row: try the next id
            continue
        if got is None:
            break
        row = dict(zip(names, got, strict=True))
        rows.append(row)
        last = row[order]
    if skipped:
        found.lost.append(f"{table}: {skipped} unreadable id(s) skipped")
    return rows


# ---- writing -------------------------------------------------------------------------


def write(records: Records, dest: Path) -> None:
    """A new database at `dest` (replaced whole, atomically) holding `records`, with ids in
    time order and day states derived from the attempts."""
    part = dest.with_name(f".{dest.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.merge")
    try:
        with closing(sqlite3.connect(part, isolation_level=None)) as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            upgrade(conn)
            conn.execute("BEGIN IMMEDIATE")
            columns = {t: _columns(conn, t) for t in
                       ("meta", "daystate", *STAMPS, *CHILDREN)}
            for key, value in sorted(records.meta.items()):
                conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))
            for table, rows in records.records.items():
                ordered = sorted(rows.values(), key=lambda r, t=table: (str(r[STAMPS[t]]),
                                                                        str(r["uid"])))
                for number, row in enumerate(ordered, start=1):
                    _insert(conn, table, columns[table], {**row, "id": number})
                    if table == "attempt":
                        for child in CHILDREN:
                            for sub in records.children[child].get(str(row["uid"]), []):
                                _insert(conn, child, columns[child],
                                        {**sub, "id": None, "attempt_id": number})
            for state in derive_states(records):
                _insert(conn, "daystate", columns["daystate"], state)
            conn.execute("COMMIT")
            found = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if found != "ok":
                raise sqlite3.DatabaseError(f"the merged database fails its check: {found}")
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]


def _insert(conn: sqlite3.Connection, table: str, columns: list[str], row: Row) -> None:
    names = [c for c in columns if c in row]
    marks = ", ".join("?" for _ in names)
    conn.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",
                 [row[c] for c in names])


def derive_states(records: Records) -> list[Row]:
    """Day states from the attempts (and, for a day only started or reset, the states the
    sides had): the same rules as Store.record_attempt, applied to the union."""
    attempts: dict[str, list[Row]] = {}
    for row in records.records["attempt"].values():
        attempts.setdefault(str(row["challenge"]), []).append(row)
    by_challenge: dict[str, list[Row]] = {}
    for state in records.states:
        by_challenge.setdefault(str(state["challenge"]), []).append(state)
    derived = []
    for challenge in sorted(set(attempts) | set(by_challenge)):
        rows = sorted(attempts.get(challenge, []), key=lambda r: str(r["finished_at"]))
        states = by_challenge.get(challenge, [])
        started = [s["started_at"] for s in states if s.get("started_at")]
        started += [r["started_at"] for r in rows]
        passes = [r["finished_at"] for r in rows if r["verdict"] == "passed"]
        passes += [s["passed_at"] for s in states if s.get("passed_at")]
        state: Row = {
            "challenge": challenge, "attempts": len(rows),
            "started_at": min(started, key=str) if started else None,
            "last_attempt_at": rows[-1]["finished_at"] if rows else None,
            "passed_at": min(passes, key=str) if passes else None,
        }
        state["status"] = _status(rows, states, state)
        derived.append(state)
    return derived


def _status(attempts: list[Row], states: list[Row], state: Row) -> str:
    latest = state["last_attempt_at"]
    # a reset after the latest attempt (`mltrack reset`) puts the day back in progress
    if not attempts or any(s["status"] == "in-progress" and s.get("last_attempt_at") == latest
                           for s in states):
        return "in-progress"
    verdict = attempts[-1]["verdict"]
    if verdict == "passed" or state["passed_at"] is not None:
        return "passed"
    return {"skipped": "skipped-hw", "inconclusive": "inconclusive"}.get(str(verdict), "failed")


def merge_files(ours: Path, theirs: Path, dest: Path) -> Records:
    """Union of two databases into `dest` (which may be `ours`)."""
    merged = read(ours)
    merged.add(read(theirs))
    write(merged, dest)
    return merged


# ---- text ----------------------------------------------------------------------------


def text_lines(records: Records) -> list[str]:
    """One line per record, in time order: what `git diff` shows for progress.db."""
    lines = []
    for row in records.records["attempt"].values():
        checks = f"{row['passed']}/{row['total']} checks"
        lines.append((str(row["finished_at"]), (
            f"{_when(row['finished_at'])}  attempt  {row['plan']} day {row['day']} "
            f"{row['challenge']}: {row['verdict']}, {checks} passed, "
            f"{float(row['duration_s']):.1f} s ({row['source']})  {str(row['uid'])[:8]}")))
    for row in records.records["hintuse"].values():
        lines.append((str(row["used_at"]), f"{_when(row['used_at'])}  hint     "
                      f"{row['challenge']} #{int(row['hint_index']) + 1}"))
    for row in records.records["note"].values():
        text = " ".join(str(row["text"]).split())
        lines.append((str(row["created_at"]), f"{_when(row['created_at'])}  note     "
                      f"{row['plan']} day {row['day']}: {text}"))
    for row in records.records["daydone"].values():
        lines.append((str(row["done_at"]), f"{_when(row['done_at'])}  done     "
                      f"{row['plan']} day {row['day']}"))
    for row in records.records["hardwaresnapshot"].values():
        score = f", score {row['score']:.3g}" if row.get("score") is not None else ""
        lines.append((str(row["taken_at"]), f"{_when(row['taken_at'])}  machine  "
                      f"{row['hw_class']} {str(row['fingerprint'])[:12]}{score}"))
    meta = [f"setting  {k} = {v}" for k, v in sorted(records.meta.items())]
    return meta + [text for _stamp, text in sorted(lines)]


def _when(stamp: object) -> str:
    return str(stamp)[:19]


def textconv(path: Path) -> str:
    try:
        records = read(path)
    except Damaged as exc:
        return f"progress.db: {str(exc).split(': ', 1)[-1]}\n"
    return "".join(line + "\n" for line in text_lines(records))


# ---- git's entry points --------------------------------------------------------------


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "merge":
        _base, ours, theirs = (Path(a) for a in argv[1:])
        try:
            merged = merge_files(ours, theirs, ours)
        except (ValueError, OSError, sqlite3.Error) as exc:
            print(f"mltrack: progress.db was not merged: {exc}; git leaves it conflicted "
                  "(run `mltrack doctor`)", file=sys.stderr)
            return 1
        print(f"mltrack: progress.db merged ({merged.count('attempt')} attempts)",
              file=sys.stderr)
        return 0
    if len(argv) == 2 and argv[0] == "textconv":
        sys.stdout.write(textconv(Path(argv[1])))
        return 0
    print("usage: python -m tracker.store.merge merge BASE OURS THEIRS | textconv FILE",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
