"""The engine's exceptions: each carries a message a learner can act on.

The CLI prints them as one red line and exits with `exit_code`; the TUI shows a notification.
"""


class MltrackError(Exception):
    """Base class; `exit_code` is what `mltrack` exits with when this reaches the CLI."""

    exit_code = 2


class WorkspaceError(MltrackError):
    """No course here, or the workspace is unusable."""


class ContractError(MltrackError):
    """A plan or challenge file breaks the contract; the message names the file and field."""


class UnknownDay(MltrackError):
    """A day id that resolves to nothing in the active plan."""


class NotGradable(MltrackError):
    """A real day that has nothing to grade (a rest day, a buffer day, no grader yet)."""


class NotStarted(MltrackError):
    """The day has no solution folder yet."""


class Locked(MltrackError):
    """Something is withheld until a condition is met (e.g. the reference before a pass)."""


class StoreError(MltrackError):
    """progress.db cannot be opened, read or written."""
