"""Day 107 reference: one benchmark report from progress.db, read through mltrack's own
read-only API (tracker.store.readout.Readout), never written to."""

from pathlib import Path

from tracker.store.readout import Readout

HEADER = ("| challenge | attempt | benchmark | median | speed-up | verdict | hardware |\n"
          "|---|---|---|---|---|---|---|\n")


def collect(db_path, challenges, baselines=None) -> dict:
    """The benchmarks of the newest attempt of each challenge in `challenges` that recorded
    any, as {"rows": [...], "missing": [...]} (see the spec for the keys of a row)."""
    path = Path(db_path)
    if not path.is_file():  # a Store would create a fresh database here: a report must not
        raise FileNotFoundError(f"no progress database at {path}")
    readout = Readout.read(path)  # plain sqlite3, reads only
    if readout is None:
        raise ValueError(f"{path} is damaged or not at this mltrack's schema")
    latest = readout.latest_benches()  # {challenge: records of its newest attempt with any}
    baselines = baselines or {}
    rows, missing = [], []
    for challenge in challenges:
        records = latest.get(challenge)
        if not records:
            missing.append(challenge)
            continue
        base_s = None
        if challenge in baselines:
            found = [r for r in records if r["name"] == baselines[challenge] and r["unit"] == "s"]
            if not found:
                raise ValueError(f"{challenge}: no measured benchmark named "
                                 f"{baselines[challenge]!r} in its newest attempt")
            base_s = found[0]["value"]
        for r in records:
            timed = r["unit"] == "s"
            speedup = (r["value"] if r["unit"] == "x"
                       else base_s / r["value"] if base_s is not None else None)
            rows.append({
                "challenge": challenge, "attempt_id": r["attempt_id"], "name": r["name"],
                "kind": r["kind"], "value": r["value"], "unit": r["unit"],
                "ms": r["value"] * 1e3 if timed else None, "speedup": speedup,
                "verdict": r["verdict"], "hw_class": r["hw_class"],
            })
    return {"rows": rows, "missing": missing}


def to_markdown(report: dict) -> str:
    """The report as the markdown table of the spec, then its `missing:` line."""
    lines = []
    for r in report["rows"]:
        median = f"{r['ms']:.3f} ms" if r["ms"] is not None else "-"
        speedup = f"{r['speedup']:.2f}x" if r["speedup"] is not None else "-"
        cells = [r["challenge"], str(r["attempt_id"]), r["name"], median, speedup,
                 r["verdict"] or "-", r["hw_class"] or "-"]
        lines.append("| " + " | ".join(cells) + " |\n")
    missing = ", ".join(report["missing"]) or "none"
    return HEADER + "".join(lines) + f"missing: {missing}\n"
