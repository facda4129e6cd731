"""The HTML report in a real browser: headless Chromium lays it out, offline, and every
chart must be drawn — each <svg> and its marks with a non-empty box — and it must print."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tracker import report

BROWSER = next((b for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)),
               None)
pytestmark = pytest.mark.skipif(BROWSER is None, reason="needs chromium (apt-get install chromium)")

# Added to a copy of the report only: the report itself carries no script.
PROBE = """<script>
addEventListener("load", () => {
  const charts = [...document.querySelectorAll("svg[data-chart]")].map(svg => {
    const box = svg.getBoundingClientRect();
    const marks = [...svg.querySelectorAll(".mark")];
    const drawn = marks.filter(m => { const b = m.getBoundingClientRect();
                                      return b.width > 0 && b.height > 0; });
    return {chart: svg.dataset.chart, width: box.width, height: box.height,
            marks: marks.length, drawn: drawn.length,
            shapes: svg.querySelectorAll("rect, circle, polyline, line").length};
  });
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({charts, width: document.body.scrollWidth});
  document.body.append(probe);
});
</script>"""


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--no-first-run", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={profile}"]
    return subprocess.run([BROWSER, *flags, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def page(history, tmp_path) -> Path:
    path = tmp_path / "report.html"
    path.write_text(report.render(report.build(history), "html"), encoding="utf-8")
    return path


def test_chromium_draws_every_chart(page, tmp_path):
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"), encoding="utf-8")
    done = chromium(tmp_path / "profile", "--window-size=1100,1600", "--dump-dom",
                    probed.as_uri())
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stderr[-2000:]
    result = json.loads(found.group(1).replace("&amp;", "&"))
    charts = {}
    for c in result["charts"]:
        charts.setdefault(c["chart"], []).append(c)
        assert c["width"] > 100 and c["height"] > 50, c
        assert c["drawn"] == c["marks"], c  # every mark has a visible box
    assert sorted(charts) == ["heatmap", "phases", "trend"] and len(charts["trend"]) == 2
    assert charts["heatmap"][0]["marks"] == 3  # the three days with attempts
    assert charts["heatmap"][0]["shapes"] >= 12 * 7  # a square for every day of 12 weeks
    assert charts["phases"][0]["marks"] == 1  # phase 1 is complete; phase 2 has nothing yet
    marks = sorted(c["marks"] for c in charts["trend"])
    assert marks == [2, 4]  # (accuracy: 1 point, no chart) latency: 2 machines, 1 point each;
    # the speed-up: 3 attempts on one machine and the line through them
    assert result["width"] <= 1100  # nothing overflows the window sideways


def test_chromium_prints_it(page, tmp_path):
    pdf = tmp_path / "report.pdf"
    done = chromium(tmp_path / "profile", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                    page.as_uri())
    assert pdf.is_file(), done.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page\b", data)) >= 1
