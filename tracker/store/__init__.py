"""progress.db: the learner's record (attempts, checks, metrics, hints, day states)."""

from tracker.clock import utcnow
from tracker.store.db import Store

__all__ = ["Store", "utcnow"]
