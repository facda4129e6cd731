"""Detect this machine: CPU, NVIDIA GPUs, board, FPGA, a declared board; its class and
fingerprint. `snapshot()` is the plain function the faces (CLI, TUI) call.

The fingerprint identifies the hardware, not its momentary state: it hashes what does not
change between runs (CPU model and cores, memory size, GPU models and memory, board model,
FPGA presence, declared class) and leaves out clocks, temperatures, load, driver versions
and serial numbers, so benchmark history can be compared like with like.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hardware.boards import BoardInfo, FpgaInfo, detect_board, detect_fpga
from hardware.classes import Facts, HardwareClass, load_classes, matching
from hardware.cpu import CpuInfo, detect_cpu
from hardware.declared import Declared, declared_path, load_declared
from hardware.nvidia import NvmlProbe, detect_gpus


@dataclass(frozen=True)
class Machine:
    cpu: CpuInfo
    nvml: NvmlProbe
    board: BoardInfo
    fpga: FpgaInfo
    declared: Declared | None
    classes: tuple[HardwareClass, ...]  # the machine's class first, then every other match
    fingerprint: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cls(self) -> HardwareClass:
        return self.classes[0]

    @property
    def class_ids(self) -> list[str]:
        return [c.id for c in self.classes]

    @property
    def features(self) -> set[str]:
        return {f for c in self.classes for f in c.features}

    @property
    def gpus(self):
        return self.nvml.gpus

    def has(self, feature: str) -> bool:
        return feature in self.features

    def summary(self) -> str:
        """One line: the class and the parts that matter for speed."""
        parts = [self.board.model or self.cpu.model,
                 f"{self.cpu.logical_cores} threads", f"{self.cpu.memory_gib:.0f} GiB"]
        parts += [f"{g.name} {g.memory_gib:.0f} GiB" for g in self.gpus]
        if self.declared:
            parts.append(f"declared {self.declared.name or self.declared.cls}")
        return f"{self.cls.id}: " + ", ".join(parts)

    def to_dict(self) -> dict:
        return {
            "fingerprint": self.fingerprint,
            "class": self.cls.to_dict(),
            "classes": self.class_ids,
            "features": sorted(self.features),
            "summary": self.summary(),
            "cpu": self.cpu.to_dict(),
            "nvml": self.nvml.to_dict(),
            "board": self.board.to_dict(),
            "fpga": self.fpga.to_dict(),
            "declared": self.declared.to_dict() if self.declared else None,
        }


def detect(root: Path = Path("/"), *, declared: Path | None = None,
           workspace_root: Path | None = None, gpus: bool = True,
           environ: dict[str, str] | None = None) -> Machine:
    """Look at this machine (or at the fake system tree under `root`, for tests).

    `declared` is the board declaration file; by default $MLTRACK_HARDWARE_FILE or
    `<workspace_root>/.mltrack/hardware.toml`. `gpus=False` skips NVML (a fake tree has none).
    """
    classes = load_classes()
    cpu = detect_cpu(root)
    nvml = detect_gpus() if gpus else NvmlProbe("not-probed", "GPU detection was not asked for")
    board = detect_board(root)
    fpga = detect_fpga(root, environ)
    decl = load_declared(declared or declared_path(workspace_root), set(classes))
    facts = Facts(arch=cpu.arch, model=board.model, compatible=board.compatible,
                  gpu_archs=tuple(g.arch for g in nvml.gpus), gpu=bool(nvml.gpus),
                  fpga=fpga.present)
    found = matching(facts, classes)
    if decl is not None:
        found = [classes[decl.cls], *(c for c in found if c.id != decl.cls)]
    if not found:  # an architecture no class knows: still a machine, with a class
        found = [HardwareClass(id="unknown", title=f"unrecognised machine ({cpu.arch})",
                               kind="cpu", priority=0, features=("cpu",))]
    return Machine(cpu=cpu, nvml=nvml, board=board, fpga=fpga, declared=decl,
                   classes=tuple(found), fingerprint=fingerprint_of(cpu, nvml, board, fpga, decl))


def fingerprint_of(cpu: CpuInfo, nvml: NvmlProbe, board: BoardInfo, fpga: FpgaInfo,
                   declared: Declared | None) -> str:
    identity = {
        "arch": cpu.arch,
        "cpu": cpu.model,
        "cores": [cpu.physical_cores, cpu.logical_cores],
        "memory_gib": round(cpu.memory_bytes / 2**30),  # the kernel's total wobbles by MBs
        "gpus": sorted([g.name, round(g.memory_bytes / 2**30)] for g in nvml.gpus),
        "board": board.model,
        "fpga": fpga.present,
        "declared": declared.cls if declared else None,
    }
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_cached: dict[str, Machine] = {}


def this_machine(workspace_root: Path | None = None) -> Machine:
    """`detect()` once per process (graders ask for it many times)."""
    key = str(workspace_root)
    if key not in _cached:
        _cached[key] = detect(workspace_root=workspace_root)
    return _cached[key]


def snapshot(workspace_root: Path | None = None) -> dict:
    """This machine as plain data (JSON-ready): what the CLI and the TUI show."""
    return detect(workspace_root=workspace_root).to_dict()


def available(feature: str, workspace_root: Path | None = None) -> tuple[bool, str]:
    """(has it, why not) for `requires.hardware(feature, available=..., why=...)`."""
    machine = this_machine(workspace_root)
    if machine.has(feature):
        return True, ""
    why = f"this machine is {machine.cls.id} ({machine.cls.title})"
    if feature in ("nvidia-gpu", "cuda") and not machine.gpus:
        why += f"; {machine.nvml.message}"
    return False, why
