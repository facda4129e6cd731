"""What graders read from a learner's Streamlit script run by `streamlit.testing.v1.AppTest`
(days 115, 116, 135): the exception the script raised, the data behind its charts, a metric.

    at = AppTest.from_file(path, default_timeout=30).run()
    fail_on_exception(at, "the app", "a dashboard")
    for spec, frame in chart_frames(at): ...
"""

from __future__ import annotations

import pytest


def fail_on_exception(at, what: str, instead: str) -> None:
    """A script that raised is the learner's verdict: NotImplementedError stays itself (the
    starter's "not implemented yet"), anything else fails the check with where it happened."""
    if not at.exception:
        return
    e = at.exception[0]
    kind = getattr(e.proto, "type", "") or "Exception"
    if kind == "NotImplementedError":
        raise NotImplementedError(e.value)
    where = (e.stack_trace or ["?"])[-1].strip().replace("\n", " ")
    pytest.fail(f"{what} raised {kind}: {e.value} (at {where}) — the harness shows "
                f"Streamlit's exception box where {instead} should be", pytrace=False)


def chart_frames(at) -> list:
    """(Vega-Lite spec, data frame) of every dataset of every chart, decoded from Arrow."""
    import pyarrow as pa

    frames = []
    for chart in at.get("vega_lite_chart"):
        blobs = [d.data.data for d in chart.proto.datasets]
        if chart.proto.HasField("data"):
            blobs.append(chart.proto.data.data)
        frames += [(chart.proto.spec, pa.ipc.open_stream(b).read_all().to_pandas())
                   for b in blobs]
    return frames


def metric(at, label: str) -> str:
    """The value of the one st.metric labelled `label`."""
    found = [m for m in at.metric if m.label == label]
    assert len(found) == 1, (
        f"expected one st.metric labelled {label!r}, found {len(found)} (the metrics are "
        f"{[m.label for m in at.metric]})")
    return found[0].value
