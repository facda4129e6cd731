"""Numbers as the report shows them: figures with units, durations, sparklines."""

from __future__ import annotations

SPARK = "▁▂▃▄▅▆▇█"
_TIME_STEPS = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6))


def figure(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        for name, scale in _TIME_STEPS:
            if abs(value) >= scale:
                return f"{value / scale:.3g} {name}"
        return f"{value / 1e-9:.3g} ns"
    if unit == "x":
        return f"{value:.3g}×"
    return f"{value:.4g} {unit}".strip()


def duration(seconds: float | None) -> str:
    """12 s, 4 min 5 s, 3 h 20 min, 2 d 4 h."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    if s < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{s} s"
    minutes, s = divmod(s, 60)
    if minutes < 60:
        return f"{minutes} min {s} s" if s else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return SPARK[3] * len(values)
    return "".join(SPARK[int((v - low) / (high - low) * (len(SPARK) - 1) + 0.5)] for v in values)


def bar(done: int, total: int, width: int = 10) -> str:
    filled = round(width * done / total) if total else 0
    return "█" * filled + "░" * (width - filled)


def machines(series: dict) -> str:
    """The hardware classes a figure's history was measured on, newest last."""
    seen = []
    for p in series["history"]:
        if p.get("hw_class") and p["hw_class"] not in seen:
            seen.append(p["hw_class"])
    return ", ".join(seen) or "—"
