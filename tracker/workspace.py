"""Where a course lives: the folder with challenges/plans/, solutions/ and progress.db."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tracker.errors import WorkspaceError

ENV_VAR = "MLTRACK_WORKSPACE"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def challenges_dir(self) -> Path:
        return self.root / "challenges"

    @property
    def plans_dir(self) -> Path:
        return self.challenges_dir / "plans"

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    @property
    def db_path(self) -> Path:
        return self.root / "progress.db"

    @property
    def private_dir(self) -> Path:
        """Local, git-ignored state (backups made by `reset`)."""
        return self.root / ".mltrack"

    @classmethod
    def discover(cls, explicit: Path | None = None, start: Path | None = None) -> Workspace:
        """`explicit`, else $MLTRACK_WORKSPACE, else the nearest folder up from `start`
        (default: the current directory) that holds challenges/plans/."""
        given = explicit or (Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else None)
        if given is not None:
            root = given.expanduser().resolve()
            if not (root / "challenges" / "plans").is_dir():
                raise WorkspaceError(f"{root} is not an mltrack course (no challenges/plans/)")
            return cls(root)
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / "challenges" / "plans").is_dir():
                return cls(folder)
        raise WorkspaceError(
            f"no mltrack course in {here} or above it: run mltrack inside the course "
            f"repository, or pass --workspace / set {ENV_VAR}"
        )
