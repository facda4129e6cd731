"""How big progress.db grows, and how much each graded commit adds to the git pack.

    python benchmarks/db_size.py [--attempts 1000] [--days 111] [--json]

Records `--attempts` attempts spread over `--days` days through the real write path
(`Store.record_attempt`), failing and passing mixed, each with as many checks and as much
failure output as the course's graders produce (day 1's starter: 31 checks, ~1.1 KB of
traceback per failed check), benchmarks with raw samples on one day in seven, and commits
progress.db after every attempt as a grade does. Reports the file's size (budget: 5 MB for
1,000 attempts over 111 days) and the pack's growth per graded commit after `git gc`.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graders.results import (  # noqa: E402
    BenchResult,
    CaseResult,
    GradeResult,
    Metric,
    Outcome,
    Verdict,
)
from tracker.store import Store  # noqa: E402

BUDGET_MB = 5.0
TRACEBACK = """    def test_matmul_matches_numpy(shape):
        a, b = random_matrix(shape[0], shape[1]), random_matrix(shape[1], shape[2])
>       assert_close(solution.matmul(a, b), np.asarray(a) @ np.asarray(b))
E       AssertionError: matmul of a {n}x{m} by a {m}x{k} matrix is wrong at [0][1]:
E       expected 1.8346212 got 0.0
E       first rows: [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]

test_day{day:03d}.py:{line}: AssertionError
----------------------------- Captured stdout call -----------------------------
""" + "debug row {i}: [0.1, 0.2, 0.3, 0.4]\n" * 8


def fake_result(rng: random.Random, day: int, passing: bool) -> GradeResult:
    checks = rng.randint(8, 35)
    cases = []
    for i in range(checks):
        failed = not passing and rng.random() < 0.6
        details = TRACEBACK.format(n=i, m=3, k=4, day=day, line=40 + i, i=i) if failed else ""
        cases.append(CaseResult(
            f"test_day{day:03d}.py::test_check_{i % 9}[{i}-{i + 1}-{i + 2}]",
            Outcome.FAILED if failed else Outcome.PASSED, rng.uniform(0.001, 0.4),
            "matmul of a 3x4 by a 4x5 matrix is wrong at [0][1]" if failed else "", details))
    benches, metrics = [], []
    if day % 7 == 0:
        for name in ("vectorised", "loop"):
            samples = [rng.uniform(1e-4, 2e-4) for _ in range(rng.randint(30, 200))]
            benches.append(BenchResult(
                nodeid=f"test_day{day:03d}.py::test_speed", name=name, kind="measure",
                value=sorted(samples)[len(samples) // 2], unit="s", low=1e-4, high=2e-4,
                target="<= 2 ms", verdict="PASS", valid=True, device="cpu",
                fingerprint="f" * 16, hw_class="laptop-cpu",
                stats={"n": len(samples), "mad": 1e-5}, samples={"samples_s": samples}))
            metrics.append(Metric(f"{name} median", samples[0], "s", "<= 2 ms", "PASS",
                                  {"low": 1e-4, "high": 2e-4}))
    verdict = Verdict.PASSED if passing else Verdict.FAILED
    return GradeResult(f"day{day:03d}", verdict, "summary", cases, metrics, benches=benches)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                          text=True).stdout


def pack_bytes(root: Path) -> int:
    git(root, "gc", "-q", "--prune=now")
    return sum(p.stat().st_size for p in (root / ".git" / "objects" / "pack").glob("*.pack"))


def measure(attempts: int, days: int, seed: int = 7) -> dict:
    rng = random.Random(seed)
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="mltrack-dbsize-") as tmp:
        root = Path(tmp)
        git(root, "init", "-q", "-b", "main")
        for key, value in (("user.name", "b"), ("user.email", "b@example.com"),
                           ("commit.gpgsign", "false")):
            git(root, "config", key, value)
        db = root / "progress.db"
        now = [start]
        store = Store(db, clock=lambda: now[0])
        packs: list[tuple[int, int]] = []
        began = time.perf_counter()
        for n in range(attempts):
            day = 1 + n * days // attempts
            now[0] = start + timedelta(days=day - 1, minutes=n % 600)
            passing = rng.random() < 0.4
            store.record_attempt(plan="ml150", day=day, result=fake_result(rng, day, passing),
                                 solution_hash=f"{n:064x}", source="cli", started_at=now[0])
            store.checkpoint()
            git(root, "add", "progress.db")
            git(root, "commit", "-q", "--no-verify", "-m", f"attempt {n}")
            if n + 1 in (attempts // 2, attempts):
                packs.append((n + 1, pack_bytes(root)))
        store.close()
        size = db.stat().st_size
        (half, first), (full, second) = packs
        return {
            "attempts": attempts, "days": days, "db_bytes": size,
            "db_mb": round(size / 2**20, 2), "budget_mb": BUDGET_MB,
            "within_budget": size / 2**20 <= BUDGET_MB * attempts / 1000,
            "bytes_per_attempt": round(size / attempts),
            "pack_bytes": second,
            "pack_growth_per_commit_bytes": round((second - first) / (full - half)),
            "seconds": round(time.perf_counter() - began, 1),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=1000)
    parser.add_argument("--days", type=int, default=111)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    found = measure(args.attempts, args.days)
    if args.json:
        print(json.dumps(found))
    else:
        print(f"progress.db: {found['db_mb']} MB for {found['attempts']} attempts over "
              f"{found['days']} days ({found['bytes_per_attempt']} bytes each); budget "
              f"{BUDGET_MB} MB per 1,000: {'ok' if found['within_budget'] else 'OVER'}")
        print(f"git pack: {found['pack_bytes'] / 2**20:.2f} MB after gc; "
              f"{found['pack_growth_per_commit_bytes'] / 1024:.1f} KB per graded commit "
              f"(second half of the run)")
    return 0 if found["within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main())
