"""progress.db: the learner's record (attempts, checks, metrics, hints, notes, day states)."""

from tracker.clock import utcnow

__all__ = ["Store", "utcnow"]


def __getattr__(name: str):
    # Store pulls in sqlmodel: loaded on first use, so git's merge and textconv drivers
    # (tracker.store.merge) start without it
    if name == "Store":
        from tracker.store.db import Store

        return Store
    raise AttributeError(name)
