"""mltrack: a terminal learning-and-challenge tracker with auto-graded ML exercises."""

__version__ = "0.1.0"
