"""JUnit XML for a batch of grades (tracker.ci.Batch): what every CI system can display.

One <testsuite> per day, one <testcase> per check. The day's verdict is the truth: when it
fails although no check did (the solution tampered with the run, the grader could not be
loaded, the day was not graded because its grader was modified), a `verdict` test case
carries it, so that a JUnit reader never shows a failed day as green.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

_FAILING = {"failed", "error", "timeout", "crashed"}
TAIL_CHARS = 4000


def _text(value: Any) -> str:
    # XML 1.0 cannot hold most control characters: drop them rather than write bad XML
    return "".join(ch for ch in str(value) if ch in "\t\n\r" or ord(ch) >= 0x20)


def _case(suite: ET.Element, classname: str, name: str, seconds: float = 0.0) -> ET.Element:
    return ET.SubElement(suite, "testcase", classname=classname, name=_text(name),
                         time=f"{seconds:.3f}")


def _figure(b: dict[str, Any]) -> str:
    parts = [f"{b['value']:.6g}{b.get('unit', '')}"]
    if b.get("target"):
        parts.append(f"target {b['target']}")
    if b.get("verdict"):
        parts.append(b["verdict"])
    if b.get("hw_class"):
        parts.append(f"on {b['hw_class']}")
    return ", ".join(parts)


def _suite(root: ET.Element, run) -> dict[str, int]:
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    classname = f"{run.label}.{run.challenge}"
    suite = ET.SubElement(root, "testsuite", name=_text(f"{run.label} {run.title}"))
    props = ET.SubElement(suite, "properties")
    outcome = run.outcome
    fields = {"challenge": run.challenge, "plan": run.plan, "verdict": run.verdict,
              "message": run.message, "hardware": ", ".join(run.hardware)}
    for b in (outcome.to_dict()["benchmarks"] if outcome else []):
        fields[f"benchmark: {b['name']}"] = _figure(b)
    for m in (outcome.result.metrics if outcome else []):
        fields[f"metric: {m.name}"] = _figure({"value": m.value, "unit": f" {m.unit}".rstrip(),
                                               "target": m.target, "verdict": m.verdict})
    for name, value in fields.items():
        ET.SubElement(props, "property", name=_text(name), value=_text(value))
    seconds = 0.0
    any_bad = False
    for c in outcome.result.cases if outcome else []:
        case = _case(suite, classname, c.name, c.duration_s)
        seconds += c.duration_s
        counts["tests"] += 1
        kind = str(c.outcome)
        if kind == "failed":
            _child(case, "failure", c.message, c.details, "failed")
            counts["failures"] += 1
            any_bad = True
        elif kind in ("error", "not-run"):
            message = c.message or ("not run: the grading process ended before this check"
                                    if kind == "not-run" else "error")
            _child(case, "error", message, c.details, kind)
            counts["errors"] += 1
            any_bad = True
        elif kind in ("skipped", "inconclusive"):
            prefix = "inconclusive: " if kind == "inconclusive" else ""
            ET.SubElement(case, "skipped", message=_text(prefix + c.message))
            counts["skipped"] += 1
    if run.verdict in _FAILING and not any_bad:
        case = _case(suite, classname, "verdict")
        details = "\n".join(run.tampered)
        _child(case, "error", f"{run.verdict}: {run.message}", details, run.verdict)
        counts["tests"] += 1
        counts["errors"] += 1
    elif not outcome:
        case = _case(suite, classname, "verdict")
        ET.SubElement(case, "skipped", message=_text(run.reason or run.verdict))
        counts["tests"] += 1
        counts["skipped"] += 1
    if outcome and run.verdict in _FAILING and outcome.result.output_tail:
        ET.SubElement(suite, "system-out").text = _text(outcome.result.output_tail[-TAIL_CHARS:])
    suite.set("time", f"{(outcome.result.duration_s if outcome else seconds):.3f}")
    for key, value in counts.items():
        suite.set(key, str(value))
    return counts


def _child(case: ET.Element, tag: str, message: str, details: str, kind: str) -> None:
    el = ET.SubElement(case, tag, message=_text(message), type=kind)
    if details:
        el.text = _text(details)


def to_xml(batch) -> str:
    """The batch as a JUnit XML document (a <testsuites> root)."""
    root = ET.Element("testsuites", name="mltrack")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for run in batch.days:
        for key, value in _suite(root, run).items():
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def write(batch, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_xml(batch), encoding="utf-8")
    return path
