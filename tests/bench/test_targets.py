"""Targets in challenge.toml: validated when the challenge loads (file + field in every
error), resolved per machine: relative everywhere, absolute by class or scaled fallback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tracker.catalog import Catalog, load_challenge
from tracker.errors import ContractError
from tracker.targets import TargetSpec

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_ADD = ROOT / "tests" / "fixtures" / "course" / "challenges" / "add"


@pytest.fixture
def challenge(tmp_path):
    folder = tmp_path / "add"
    shutil.copytree(FIXTURE_ADD, folder)
    return folder


def with_targets(folder: Path, toml: str) -> Path:
    meta = folder / "challenge.toml"
    meta.write_text(meta.read_text() + "\n" + toml)
    return folder


def test_relative_and_absolute_targets_load(challenge):
    ch = load_challenge(with_targets(challenge, """
[[targets]]
metric = "speed"
kind = "speedup"
min = 1.5

[[targets]]
metric = "size"
kind = "ratio"
max = 0.3
note = "int8 weights: about a quarter of float32"

[[targets]]
metric = "latency"
kind = "latency"
unit = "ms"
by_class = { x86-cpu = 20, rpi5 = 90 }
fallback = 25
"""))
    speed, size, latency = ch.targets
    assert (speed.metric, speed.kind, speed.bound, speed.op) == ("speed", "speedup", 1.5, ">=")
    assert (size.bound, size.op, size.note[:4]) == (0.3, "<=", "int8")
    assert latency.by_class == {"x86-cpu": 20.0, "rpi5": 90.0} and latency.fallback == 25.0


@pytest.mark.parametrize("toml,needle", [
    ('metric = "s"\nkind = "fastness"\nmin = 2', "field 'targets[0].kind' must be one of"),
    ('metric = "s"\nkind = "speedup"\nmax = 2',
     "field 'targets[0].max' does not apply: a speedup target is a minimum"),
    ('metric = "s"\nkind = "speedup"', "field 'targets[0].min' is required"),
    ('metric = "s"\nkind = "speedup"\nmin = -1', "field 'targets[0].min' must be positive"),
    ('metric = "s"\nkind = "speedup"\nmin = 2\nby_class = { x86-cpu = 1 }',
     "field 'targets[0].by_class' does not apply: a speedup target is relative"),
    ('metric = "t"\nkind = "latency"\nmax = 2',
     "field 'targets[0].max' does not apply: a latency target is absolute"),
    ('metric = "t"\nkind = "latency"', "field 'targets[0].by_class' is required (or `fallback`)"),
    ('metric = "t"\nkind = "latency"\nby_class = { pentium = 1 }',
     "field 'targets[0].by_class.pentium' names no hardware class"),
    ('metric = "t"\nkind = "latency"\nunit = "min"\nfallback = 1',
     "field 'targets[0].unit' must be one of s, ms, us"),
    ('metric = "s"\nkind = "speedup"\nmin = 2\ntarget = 3',
     "field 'targets[0].target' is not a known field"),
])
def test_a_broken_target_is_reported_with_file_and_field(challenge, toml, needle):
    with_targets(challenge, "[[targets]]\n" + toml + "\n")
    with pytest.raises(ContractError) as err:
        load_challenge(challenge)
    assert str(err.value).startswith(str(challenge / "challenge.toml")), str(err.value)
    assert needle in str(err.value)


def test_a_target_measured_only_on_some_hardware_names_it(challenge):
    ch = load_challenge(with_targets(challenge, """
[[targets]]
metric = "gpu_speedup"
kind = "speedup"
min = 2.0
needs = "nvidia-gpu"
"""))
    (target,) = ch.targets
    assert target.needs == "nvidia-gpu"
    assert target.to_dict()["needs"] == "nvidia-gpu"


def test_one_target_per_metric(challenge):
    block = '[[targets]]\nmetric = "s"\nkind = "speedup"\nmin = 2\n'
    with_targets(challenge, block + block)
    with pytest.raises(ContractError, match=r"targets\[1\].metric' 's' has two targets"):
        load_challenge(challenge)


def test_a_relative_target_is_the_same_on_every_machine():
    spec = TargetSpec("s", "speedup", bound=1.5, unit="x")
    for classes in (["x86-cpu"], ["rpi5", "arm-cpu"], []):
        bound, why = spec.resolve(classes, score=None)
        assert (bound.value, bound.op, bound.source, why) == (1.5, ">=", "relative", "")
    assert bound.describe() == ">= 1.5×" and bound.holds(1.5) and not bound.holds(1.49)


def test_an_absolute_target_takes_the_most_specific_class_it_names():
    spec = TargetSpec("t", "latency", by_class={"arm-cpu": 50.0, "rpi5": 90.0}, unit="ms")
    bound, _ = spec.resolve(["rpi5", "arm-cpu"])
    assert bound.value == pytest.approx(0.090) and bound.source == "class rpi5"
    assert bound.describe() == "<= 90 ms (class rpi5)"
    bound, _ = spec.resolve(["jetson-orin", "arm-cpu"])
    assert bound.value == pytest.approx(0.050) and bound.source == "class arm-cpu"


def test_other_machines_scale_the_fallback_by_their_calibration_score():
    latency = TargetSpec("t", "latency", by_class={"rpi5": 90.0}, fallback=20.0, unit="ms")
    fast, _ = latency.resolve(["x86-cpu"], score=2.0)
    assert fast.value == pytest.approx(0.010)  # twice as fast a machine: half the time
    slow, _ = latency.resolve(["x86-cpu"], score=0.5)
    assert slow.value == pytest.approx(0.040) and "calibration score 0.50" in slow.source
    rate = TargetSpec("r", "throughput", fallback=1000.0, unit="images/s")
    assert rate.resolve(["x86-cpu"], score=2.0)[0].value == pytest.approx(2000.0)
    memory = TargetSpec("m", "memory", fallback=64.0, unit="MiB")
    assert memory.resolve(["x86-cpu"], score=2.0)[0].value == 64 * 2**20  # not scaled


def test_a_target_that_says_nothing_about_this_machine_says_why():
    spec = TargetSpec("t", "latency", by_class={"rpi5": 90.0}, unit="ms")
    bound, why = spec.resolve(["x86-cpu"], score=1.0)
    assert bound is None and "no latency target for x86-cpu" in why and "rpi5" in why
    scaled = TargetSpec("t", "latency", fallback=20.0, unit="ms")
    bound, why = scaled.resolve(["x86-cpu"], score=None)
    assert bound is None and "no calibration score" in why


def test_the_day2_target_is_valid_and_generous():
    ch = Catalog(ROOT / "challenges").get("day002")
    [lu] = ch.targets
    assert (lu.metric, lu.kind, lu.op) == ("lu_speedup", "speedup", ">=")
    assert lu.bound <= 0.01, "a pure-numpy LU runs at ~1/50 of LAPACK: keep the target generous"
