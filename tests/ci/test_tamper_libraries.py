"""The tamper guard tells a library wrapping its own function on a lazy import (torch's
first optimiser step makes torch._dynamo wrap torch.manual_seed) from a solution doing the
same: the first is no tampering, the second is."""

from __future__ import annotations

import shutil

import pytest

from graders.results import Verdict
from graders.runner import Job, grade

pytest.importorskip("torch")

GRADER = ("import torch\n\n\ndef test_small_integers(solution):\n"
          "    assert solution.add(2, 3) == 5\n")

OPTIMISER_STEP = """\
import torch


def add(a, b):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    (p ** 2).sum().backward()
    opt.step()  # the first step imports torch._dynamo, which wraps torch.manual_seed
    return a + b
"""

OWN_WRAPPER = """\
import functools
import torch

original = torch.manual_seed


@functools.wraps(original)
def manual_seed(*args, **kwargs):
    return original(*args, **kwargs)


torch.manual_seed = manual_seed


def add(a, b):
    return a + b
"""


@pytest.fixture
def torch_challenge(workspace, tmp_path):
    folder = tmp_path / "add"
    shutil.copytree(workspace.challenges_dir / "add", folder)
    (folder / "test_add.py").write_text(GRADER)
    return folder


def run(folder, tmp_path, code):
    solution = tmp_path / "solution"
    solution.mkdir(exist_ok=True)
    (solution / "solution.py").write_text(code)
    return grade(Job("add", folder, solution, api=("add",)))


def test_a_librarys_own_lazy_wrapper_is_not_tampering(torch_challenge, tmp_path):
    result = run(torch_challenge, tmp_path, OPTIMISER_STEP)
    assert result.verdict == Verdict.PASSED, result.message


def test_a_solutions_wrapper_around_a_library_function_is_tampering(torch_challenge, tmp_path):
    result = run(torch_challenge, tmp_path, OWN_WRAPPER)
    assert result.verdict == Verdict.ERROR
    assert "torch.manual_seed was replaced" in result.message
