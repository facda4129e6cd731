"""The `bench` fixture: graders time code with graders.bench and check the targets of
challenge.toml on the learner's own hardware.

    def test_lu_speed(solution, bench):
        c = bench.compare(scipy_lu, solution.lu, A, name="lu vs scipy")
        bench.check(c, "lu_speedup")       # PASS: returns; FAIL: fails the check;
                                           # INCONCLUSIVE: the check is `inconclusive`

Every measurement and comparison is reported to the parent at the end of the check (a
`bench` event with statistics, raw samples, the hardware fingerprint and class, and the
target and verdict if it was checked) together with a `metric` line for the verdict table;
the machine itself is reported once per run (a `hardware` event).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from graders import bench as harness
from graders.bench import FAIL, INCONCLUSIVE, PASS, Comparison, Measurement
from graders.requires import HardwareSkip, Inconclusive
from hardware.calibrate import SCORES_VAR

_reported_machine: list[str] = []
_score_cache: dict[str, float] = {}


class Bench:
    """What a grader gets from the `bench` fixture."""

    def __init__(self, request: pytest.FixtureRequest):
        self.request = request
        self._entries: list[dict[str, Any]] = []
        self._targets = None

    # ---- the machine and the targets --------------------------------------------------

    @property
    def machine(self):
        from hardware.detect import this_machine

        return this_machine()

    def targets(self) -> dict[str, Any]:
        if self._targets is None:
            from tracker.targets import targets_of

            path = Path(self.request.config.rootpath) / "challenge.toml"
            self._targets = {t.metric: t for t in targets_of(path)} if path.is_file() else {}
        return self._targets

    def target(self, metric: str):
        """The bound for `metric` on this machine (a tracker.targets.Bound); skips the check
        with the reason when the target says nothing about this machine."""
        spec = self.targets().get(metric)
        if spec is None:
            pytest.fail(f"grader error: challenge.toml has no [[targets]] entry for "
                        f"metric '{metric}'", pytrace=False)
        machine = self.machine
        # calibrating costs seconds: only a fallback bound is scaled by the score
        scaled = (not spec.relative and spec.fallback is not None and spec.kind != "memory"
                  and not any(c in spec.by_class for c in machine.class_ids))
        bound, why = spec.resolve(machine.class_ids,
                                  calibration_score(machine) if scaled else None)
        if bound is None:
            raise HardwareSkip(f"{metric}: {why}")
        return bound

    # ---- measuring --------------------------------------------------------------------

    def measure(self, fn, *args: Any, name: str = "", **options: Any) -> Measurement:
        m = harness.measure(fn, *args, name=name, **options)
        self._entries.append({"result": m})
        return m

    def compare(self, baseline, candidate, *args: Any, name: str = "",
                **options: Any) -> Comparison:
        c = harness.compare(baseline, candidate, *args, name=name, **options)
        self._entries.append({"result": c})
        return c

    # ---- checking targets -------------------------------------------------------------

    def check(self, result: Measurement | Comparison, metric: str, *, items: float = 1.0) -> str:
        """Hold `result` to the target named `metric`: returns on PASS, fails the check on
        FAIL, makes it `inconclusive` (re-run) when noise leaves the verdict open.

        Speed-up targets take a Comparison; latency, throughput (`items` per call) and
        memory targets a Measurement.
        """
        spec = self.targets().get(metric)
        bound = self.target(metric)
        entry = self._entry_of(result)
        name = result.name
        if isinstance(result, Comparison):
            if spec.kind != "speedup":
                raise TypeError(f"a Comparison checks a speedup target, not {spec.kind}")
            verdict = result.verdict(bound.value)
            ci = result.interval
            figure = f"speed-up {result.speedup:.3g}×" + (
                f" (95% CI {ci[0]:.3g}–{ci[1]:.3g}, {result.rounds} rounds)" if ci
                else f" ({result.rounds} rounds: too few for an interval)")
        elif spec.kind == "latency":
            verdict = result.verdict(bound.value, "<=")
            figure = f"median {harness.fmt_s(result.median_s)}" + _ci_text(result)
        elif spec.kind == "throughput":
            # items/s >= bound  <=>  seconds per call <= items / bound
            verdict = result.verdict(items / bound.value, "<=")
            figure = f"{items / result.median_s:.4g} {bound.unit or 'per s'}"
        elif spec.kind == "memory":
            peak = result.peak_mem_bytes
            if peak is None:
                raise ValueError("measure(..., memory=True) is needed for a memory target")
            verdict = PASS if bound.holds(peak) else FAIL
            figure = f"peak memory {peak / 2**20:.3g} MiB"
        else:
            raise TypeError(f"a Measurement cannot check a {spec.kind} target")
        entry.update(target=bound.describe(), verdict=verdict, metric=metric)
        return self._conclude(name, verdict, figure, bound, result)

    def check_value(self, metric: str, value: float, *, name: str = "") -> str:
        """A deterministic figure (a size ratio, an accuracy drop) against its target."""
        bound = self.target(metric)
        verdict = PASS if bound.holds(value) else FAIL
        _emit(self.request, "metric", nodeid=self.request.node.nodeid, name=name or metric,
              value=float(value), unit=bound.unit, target=bound.describe(), verdict=verdict,
              details={})
        return self._conclude(name or metric, verdict, f"{value:.4g}", bound, None)

    def _conclude(self, name: str, verdict: str, figure: str, bound, result) -> str:
        if verdict == PASS:
            return PASS
        if verdict == FAIL:
            pytest.fail(f"{name}: {figure} misses the target {bound.describe()}", pytrace=False)
        why = ""
        if isinstance(result, Measurement) and not result.valid:
            why = f" ({result.reason})"
        raise Inconclusive(f"{name}: {figure} cannot be decided against the target "
                           f"{bound.describe()}{why}")

    def _entry_of(self, result) -> dict[str, Any]:
        for entry in self._entries:
            if entry["result"] is result:
                return entry
        entry = {"result": result}  # a result the grader built itself (from_ratios)
        self._entries.append(entry)
        return entry

    # ---- reporting --------------------------------------------------------------------

    def report(self) -> None:
        if not self._entries:
            return
        machine = self.machine
        if machine.fingerprint not in _reported_machine:
            _reported_machine.append(machine.fingerprint)
            _emit(self.request, "hardware", machine=machine.to_dict())
        nodeid = self.request.node.nodeid
        for entry in self._entries:
            event = _bench_event(entry, nodeid, machine)
            _emit(self.request, "bench", **event)
            _emit(self.request, "metric", **_metric_event(entry, event, nodeid))


def _ci_text(m: Measurement) -> str:
    ci = m.ci()
    return f" (95% CI {harness.fmt_s(ci[0])}–{harness.fmt_s(ci[1])})" if ci else ""


def _bench_event(entry: dict[str, Any], nodeid: str, machine) -> dict[str, Any]:
    r = entry["result"]
    if isinstance(r, Comparison):
        ci = r.interval
        value, unit = r.speedup, "x"
        low, high = (ci if ci else (None, None))
        samples = {"ratios": r.ratios, "baseline_s": r.baseline_s, "candidate_s": r.candidate_s}
        kind, valid = "compare", r.valid
    else:
        ci = r.ci()
        value, unit = r.median_s, "s"
        low, high = (ci if ci else (None, None))
        samples = {"samples_s": r.samples_s}
        kind, valid = "measure", r.valid
    return {"nodeid": nodeid, "name": r.name, "kind": kind, "value": value, "unit": unit,
            "low": low, "high": high, "target": entry.get("target", ""),
            "verdict": entry.get("verdict", ""), "valid": valid, "device": r.device,
            "fingerprint": machine.fingerprint, "hw_class": machine.cls.id,
            "stats": r.stats(), "samples": samples}


def _metric_event(entry: dict[str, Any], event: dict[str, Any], nodeid: str) -> dict[str, Any]:
    details = {"low": event["low"], "high": event["high"], "valid": event["valid"],
               "hw_class": event["hw_class"]}
    if event["kind"] == "compare":
        name, value, unit = f"{event['name']} speed-up", event["value"], "x"
        details["rounds"] = event["stats"]["rounds"]
    else:
        name = f"{event['name']} median"
        value, unit = _scaled(event["value"])
        details["n"] = event["stats"]["n"]
        details["rel_iqr"] = event["stats"]["rel_iqr"]
    verdict = event["verdict"]
    if not verdict and not event["valid"]:
        details["note"] = "too noisy to be a reliable figure"  # recorded, not judged
    return {"nodeid": nodeid, "name": name, "value": float(value), "unit": unit,
            "target": event["target"], "verdict": verdict, "details": details}


def _scaled(seconds: float) -> tuple[float, str]:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return seconds / scale, unit
    return seconds / 1e-9, "ns"


def calibration_score(machine) -> float | None:
    """This machine's calibration score: the one `mltrack hw` stored (passed down by the
    engine in $MLTRACK_CALIBRATION), else a short calibration run now (cached)."""
    fp = machine.fingerprint
    if fp in _score_cache:
        return _score_cache[fp]
    try:
        stored = json.loads(os.environ.get(SCORES_VAR) or "{}")
    except ValueError:
        stored = {}
    score = stored.get(fp)
    if not isinstance(score, int | float) or score <= 0:
        from hardware.calibrate import calibrate

        score = calibrate().score
    _score_cache[fp] = float(score)
    return _score_cache[fp]


def _emit(request: pytest.FixtureRequest, event: str, **data: Any) -> None:
    from graders.plugin import _emit as emit

    emit(request.config, event, **data)


@pytest.fixture
def bench(request: pytest.FixtureRequest):
    """Time code and check it against the day's targets (see graders/bench_fixture.py)."""
    b = Bench(request)
    yield b
    b.report()


__all__ = ["INCONCLUSIVE", "Bench", "bench", "calibration_score"]
