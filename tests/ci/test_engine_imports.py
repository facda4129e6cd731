"""The CI and report engines are engine code: no UI library, nothing heavy at import."""

from __future__ import annotations

import json
import subprocess
import sys


def test_ci_and_report_engines_import_no_ui_or_heavy_library():
    probe = (
        "import sys, json\n"
        "import tracker.ci, tracker.manifest, tracker.junit, tracker.summary, tracker.prepush\n"
        "import tracker.report, tracker.report.markdown, tracker.report.html, graders.integrity\n"
        "print(json.dumps(sorted(m for m in ('textual', 'typer', 'rich', 'click', 'torch',"
        " 'sklearn', 'onnxruntime', 'numpy') if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
