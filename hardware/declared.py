"""A board the learner declares, for hardware that cannot be detected.

The file is `.mltrack/hardware.toml` in the course folder (git-ignored: it describes this
machine, not the course), or the file named by $MLTRACK_HARDWARE_FILE:

    class = "zynq-7000"            # required: a class id from hardware/classes/*.toml
    name = "PYNQ-Z2 on my desk"    # optional: shown by `mltrack hw`

A declared class becomes the machine's class; detected classes still follow it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tracker.tomlfile import Fields, read_toml

ENV_VAR = "MLTRACK_HARDWARE_FILE"
RELATIVE_PATH = Path(".mltrack") / "hardware.toml"


@dataclass(frozen=True)
class Declared:
    cls: str
    name: str
    path: str

    def to_dict(self) -> dict:
        return {"class": self.cls, "name": self.name, "path": self.path}


def declared_path(workspace_root: Path | None = None) -> Path | None:
    """$MLTRACK_HARDWARE_FILE, else <workspace>/.mltrack/hardware.toml, else None."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    if workspace_root is not None:
        return workspace_root / RELATIVE_PATH
    return None


def load_declared(path: Path | None, known: set[str]) -> Declared | None:
    """The declaration in `path` (None when there is no such file); errors name the field."""
    if path is None or not path.is_file():
        if path is not None and os.environ.get(ENV_VAR) and str(path) == os.environ[ENV_VAR]:
            from tracker.errors import ContractError

            raise ContractError(f"{path}: file is missing (named by ${ENV_VAR})")
        return None
    f = Fields(read_toml(path), path)
    cls = f.str("class")
    if cls not in known:
        raise f.fail("class", f"names no hardware class ({cls!r}); "
                              f"known: {', '.join(sorted(known))}")
    declared = Declared(cls=cls, name=f.str("name", ""), path=str(path))
    f.done()
    return declared
