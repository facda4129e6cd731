"""The time source of the record: aware UTC datetimes (injectable in tests for a fixed clock)."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
