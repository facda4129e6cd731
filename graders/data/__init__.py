"""Small deterministic data sets that graders and learners' solutions share (offline)."""
