"""Single-board computers and FPGA boards, read from the device tree and the FPGA manager.

- Raspberry Pi and Jetson name themselves in `/proc/device-tree/model` and list what they
  are compatible with in `/proc/device-tree/compatible` (NUL-separated strings, e.g.
  `raspberrypi,5-model-b`, `brcm,bcm2712`, `nvidia,tegra234`).
- Zynq / Zynq UltraScale+ boards (PYNQ-Z1/Z2, Ultra96, ZCU104, Kria) expose the
  programmable logic through the Linux FPGA manager (`/sys/class/fpga_manager/fpga0/`)
  and, on older PYNQ images, `/dev/xdevcfg`; their device tree says `xlnx,zynq-7000` or
  `xlnx,zynqmp`. A PYNQ image also sets $BOARD (e.g. `Pynq-Z2`).

Every path is read under `root`, so tests build a fake tree in a temporary folder.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

_DT_DIRS = ("proc/device-tree", "sys/firmware/devicetree/base")


@dataclass(frozen=True)
class BoardInfo:
    """What the device tree says; empty on machines without one (most x86 PCs)."""

    model: str = ""
    compatible: tuple[str, ...] = ()
    serial: str = ""  # not used in the fingerprint (stable but personal)

    @property
    def present(self) -> bool:
        return bool(self.model or self.compatible)

    def to_dict(self) -> dict:
        return {"model": self.model, "compatible": list(self.compatible)}


@dataclass(frozen=True)
class FpgaInfo:
    """Programmable logic reachable from Linux; `present` False on ordinary machines."""

    present: bool = False
    managers: tuple[dict, ...] = field(default_factory=tuple)  # {name, state} per fpgaN
    devcfg: bool = False  # /dev/xdevcfg (Zynq-7000 on older kernels)
    pynq_board: str = ""  # $BOARD on PYNQ images

    def to_dict(self) -> dict:
        data = asdict(self)
        data["managers"] = [dict(m) for m in self.managers]
        return data


def detect_board(root: Path = Path("/")) -> BoardInfo:
    for rel in _DT_DIRS:
        folder = root / rel
        if folder.is_dir():
            return BoardInfo(
                model=_dt_string(folder / "model"),
                compatible=tuple(_dt_strings(folder / "compatible")),
                serial=_dt_string(folder / "serial-number"),
            )
    return BoardInfo()


def detect_fpga(root: Path = Path("/"), environ: dict[str, str] | None = None) -> FpgaInfo:
    env = os.environ if environ is None else environ
    managers = []
    folder = root / "sys" / "class" / "fpga_manager"
    if folder.is_dir():
        for entry in sorted(folder.iterdir()):
            managers.append({"device": entry.name, "name": _text(entry / "name"),
                             "state": _text(entry / "state")})
    devcfg = (root / "dev" / "xdevcfg").exists()
    present = bool(managers) or devcfg
    return FpgaInfo(present=present, managers=tuple(managers), devcfg=devcfg,
                    pynq_board=env.get("BOARD", "") if present else "")


def _dt_string(path: Path) -> str:
    values = _dt_strings(path)
    return values[0] if values else ""


def _dt_strings(path: Path) -> list[str]:
    """A device-tree property: NUL-terminated (and NUL-separated) strings."""
    try:
        raw = path.read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace").strip() for part in raw.split(b"\0") if part.strip()]


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""
