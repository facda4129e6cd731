"""progress.db: the learner's record (attempts, checks, metrics, hints, day states)."""

from tracker.store.db import Store, utcnow

__all__ = ["Store", "utcnow"]
