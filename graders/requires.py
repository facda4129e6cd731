"""Skip a check that needs hardware or a package this machine lacks, recorded with its kind.

A skipped check is reported as skipped with its reason, never as passed.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

_Skipped = pytest.skip.Exception


class HardwareSkip(_Skipped):
    """Skipped because the machine lacks the hardware the check needs."""


class PackageSkip(_Skipped):
    """Skipped because an optional package is not installed."""


class Inconclusive(_Skipped):
    """A measurement too noisy to decide: neither a pass nor the learner's failure."""


def package(name: str, pip_name: str | None = None) -> ModuleType:
    """Import `name`, or skip the check with 'needs package <pip_name>'."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise PackageSkip(
            f"needs package {pip_name or name} (pip install {pip_name or name})",
            allow_module_level=True,
        ) from None


def hardware(kind: str, available: bool, why: str = "") -> None:
    """Skip with 'needs <kind>' unless `available`; graders pass the result of detection."""
    if not available:
        reason = f"needs {kind}" + (f": {why}" if why else "")
        raise HardwareSkip(reason, allow_module_level=True)
