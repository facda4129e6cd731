"""The exported progress report: `build` the data once, `render` it as md, html or json.

The JSON is the data itself, versioned by its `schema` field and described by
`schema.json` (JSON Schema) next to this file; see README.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tracker.report.data import SCHEMA, build

FORMATS = ("md", "html", "json")
SCHEMA_FILE = Path(__file__).with_name("schema.json")


def render(data: dict[str, Any], fmt: str) -> str:
    if fmt == "md":
        from tracker.report.markdown import render as markdown

        return markdown(data)
    if fmt == "html":
        from tracker.report.html import render as html

        return html(data)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown report format {fmt!r}; formats: {', '.join(FORMATS)}")


def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


__all__ = ["FORMATS", "SCHEMA", "build", "render", "schema"]
