"""Hardware detection: this machine for real, boards from fake system trees, declared boards,
classes as data, and a fingerprint that names the hardware, not its mood."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from hardware.boards import detect_board, detect_fpga
from hardware.classes import load_classes
from hardware.cpu import detect_cpu
from hardware.detect import available, detect, fingerprint_of
from hardware.nvidia import detect_gpus
from tracker.errors import ContractError

CLASSES = load_classes()


def write(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def device_tree(root: Path, model: str, *compatible: str,
                where: str = "proc/device-tree") -> Path:
    """A device tree as the kernel exposes it: NUL-terminated strings."""
    write(root / where / "model", model.encode() + b"\0")
    write(root / where / "compatible", b"".join(c.encode() + b"\0" for c in compatible))
    return root


def fpga_manager(root: Path, name: str = "Xilinx Zynq FPGA Manager") -> Path:
    write(root / "sys/class/fpga_manager/fpga0/name", name + "\n")
    write(root / "sys/class/fpga_manager/fpga0/state", "operating\n")
    return root


# ---- this machine ------------------------------------------------------------------------


def test_this_machine_is_described_with_psutil():
    m = detect()
    assert m.cpu.arch == platform.machine()
    assert m.cpu.logical_cores == psutil.cpu_count(logical=True)
    assert m.cpu.physical_cores == psutil.cpu_count(logical=False)
    assert m.cpu.memory_bytes == psutil.virtual_memory().total
    assert m.cpu.model and m.cpu.model != "unknown CPU"
    assert m.cls.id in CLASSES or m.cls.id == "unknown"
    assert len(m.fingerprint) == 16 and int(m.fingerprint, 16) >= 0
    json.dumps(m.to_dict())  # plain data, ready for the db and the faces


def test_detecting_twice_gives_the_same_fingerprint():
    assert detect().fingerprint == detect().fingerprint


def test_the_fingerprint_ignores_clocks_but_not_the_hardware():
    m = detect()
    parts = (m.cpu, m.nvml, m.board, m.fpga, m.declared)
    base = fingerprint_of(*parts)
    slower = replace(m.cpu, freq_mhz=800.0, freq_max_mhz=None)
    assert fingerprint_of(slower, *parts[1:]) == base, "clock speed is a state, not identity"
    wobble = replace(m.cpu, memory_bytes=m.cpu.memory_bytes + 3 * 2**20)
    assert fingerprint_of(wobble, *parts[1:]) == base, "MBs of kernel reservations wobble"
    bigger = replace(m.cpu, memory_bytes=m.cpu.memory_bytes + 16 * 2**30)
    assert fingerprint_of(bigger, *parts[1:]) != base
    other = replace(m.cpu, model="Some Other CPU")
    assert fingerprint_of(other, *parts[1:]) != base


def test_no_nvml_is_a_fact_not_an_error():
    probe = detect_gpus()
    if probe.status == "ok":
        pytest.skip(f"this machine has NVIDIA GPUs ({probe.message}); the GPU test covers it")
    assert probe.status in {"no-pynvml", "no-library", "no-driver", "no-gpu"}, probe
    assert probe.gpus == () and probe.message
    machine = detect()  # and detection as a whole goes on
    assert not machine.has("nvidia-gpu")
    ok, why = available("nvidia-gpu")
    assert not ok and probe.message in why


@pytest.mark.gpu
def test_nvidia_gpus_are_read_through_nvml():
    probe = detect_gpus()
    if probe.status != "ok":
        pytest.skip(f"no NVIDIA GPU here: {probe.message}")
    g = probe.gpus[0]
    assert g.name and g.memory_bytes > 2**30
    assert g.arch != "unknown" and g.compute_capability
    assert probe.driver
    assert g.sm_clock_max_mhz is None or g.sm_clock_max_mhz > 0
    assert all(isinstance(r, str) for r in g.throttle_reasons)
    machine = detect()
    assert machine.has("nvidia-gpu") and machine.cls.kind == "gpu"
    assert machine.cls.id == f"nvidia-{g.arch}" or machine.cls.id == "nvidia-gpu"


def test_detection_imports_pynvml_only_when_it_runs():
    probe = ("import sys, hardware.detect, hardware.nvidia\n"
             "assert 'pynvml' not in sys.modules, 'imported at module level'\n"
             "hardware.detect.detect()\n"
             "print('pynvml' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


# ---- boards from their system trees -------------------------------------------------------


@pytest.mark.parametrize("model,compatible,cls", [
    ("Raspberry Pi 5 Model B Rev 1.0", ["raspberrypi,5-model-b", "brcm,bcm2712"], "rpi5"),
    ("Raspberry Pi 4 Model B Rev 1.4", ["raspberrypi,4-model-b", "brcm,bcm2711"], "rpi4"),
    ("Raspberry Pi 3 Model B Plus Rev 1.3", ["raspberrypi,3-model-b-plus", "brcm,bcm2837"],
     "rpi"),
    ("NVIDIA Jetson Orin Nano Developer Kit",
     ["nvidia,p3768-0000+p3767-0005", "nvidia,p3767-0005", "nvidia,tegra234"], "jetson-orin"),
    ("NVIDIA Jetson Xavier NX Developer Kit", ["nvidia,p3509-0000+p3668-0001",
                                               "nvidia,tegra194"], "jetson-xavier"),
    ("NVIDIA Jetson Nano Developer Kit", ["nvidia,p3450-0000", "nvidia,tegra210"],
     "jetson-nano"),
])
def test_boards_are_recognised_from_the_device_tree(tmp_path, model, compatible, cls):
    m = detect(device_tree(tmp_path, model, *compatible), gpus=False, environ={})
    assert m.cls.id == cls
    assert m.board.model == model and list(m.board.compatible) == compatible
    assert m.summary().startswith(f"{cls}: {model}")


def test_the_device_tree_is_also_read_from_sysfs(tmp_path):
    root = device_tree(tmp_path, "Raspberry Pi 5 Model B Rev 1.0", "brcm,bcm2712",
                       where="sys/firmware/devicetree/base")
    assert detect(root, gpus=False, environ={}).cls.id == "rpi5"


@pytest.mark.parametrize("compatible,cls", [
    (["tul,pynq-z2", "xlnx,zynq-7000"], "zynq-7000"),
    (["xlnx,zynqmp-zcu104-revC", "xlnx,zynqmp-zcu104", "xlnx,zynqmp"], "zynq-ultrascale"),
    (["acme,mystery-soc"], "fpga-board"),
])
def test_fpga_boards_are_recognised_by_the_fpga_manager(tmp_path, compatible, cls):
    root = fpga_manager(device_tree(tmp_path, "A board", *compatible))
    m = detect(root, gpus=False, environ={"BOARD": "Pynq-Z2"})
    assert m.cls.id == cls and m.has("fpga")
    assert m.fpga.managers[0] == {"device": "fpga0", "name": "Xilinx Zynq FPGA Manager",
                                  "state": "operating"}
    assert m.fpga.pynq_board == "Pynq-Z2"


def test_a_zynq_device_tree_without_fpga_manager_is_no_fpga_board(tmp_path):
    m = detect(device_tree(tmp_path, "A board", "xlnx,zynq-7000"), gpus=False, environ={})
    assert not m.fpga.present and m.cls.kind != "fpga"


def test_the_old_xdevcfg_device_counts_as_an_fpga(tmp_path):
    root = device_tree(tmp_path, "Zybo", "digilent,zybo", "xlnx,zynq-7000")
    write(root / "dev" / "xdevcfg", b"")
    assert detect(root, gpus=False, environ={}).cls.id == "zynq-7000"


def test_an_ordinary_pc_has_no_board_and_no_fpga(tmp_path):
    assert not detect_board(tmp_path).present
    assert not detect_fpga(tmp_path, environ={"BOARD": "x"}).present
    assert detect_cpu(tmp_path).logical_cores >= 1  # no /proc/cpuinfo: psutil still answers


# ---- declared boards -------------------------------------------------------------------


def test_a_declared_board_becomes_the_machine_class(tmp_path):
    write(tmp_path / ".mltrack" / "hardware.toml",
          'class = "zynq-7000"\nname = "PYNQ-Z2 in the lab"\n')
    m = detect(workspace_root=tmp_path)
    assert m.cls.id == "zynq-7000" and m.has("fpga")
    assert m.declared.name == "PYNQ-Z2 in the lab"
    assert m.class_ids[1:] == detect().class_ids  # detected classes still follow
    assert m.fingerprint != detect().fingerprint  # another identity for its history


def test_the_declaration_file_can_be_named_by_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "board.toml"
    write(path, 'class = "rpi5"\n')
    monkeypatch.setenv("MLTRACK_HARDWARE_FILE", str(path))
    assert detect().cls.id == "rpi5"
    monkeypatch.setenv("MLTRACK_HARDWARE_FILE", str(tmp_path / "missing.toml"))
    with pytest.raises(ContractError, match="missing.toml: file is missing"):
        detect()


@pytest.mark.parametrize("text,needle", [
    ('class = "pynq"\n', "field 'class' names no hardware class ('pynq'); known: arm-cpu"),
    ('name = "x"\n', "field 'class' is required"),
    ('class = "rpi5"\nclas = "x"\n', "field 'clas' is not a known field"),
    ("class = \n", "invalid TOML"),
])
def test_a_broken_declaration_names_file_and_field(tmp_path, text, needle):
    write(tmp_path / ".mltrack" / "hardware.toml", text)
    with pytest.raises(ContractError) as err:
        detect(workspace_root=tmp_path)
    assert str(err.value).startswith(str(tmp_path / ".mltrack" / "hardware.toml"))
    assert needle in str(err.value)


# ---- classes as data -------------------------------------------------------------------


def test_the_class_files_cover_every_family_of_the_design():
    ids = set(CLASSES)
    assert {"x86-cpu", "arm-cpu", "rpi4", "rpi5", "jetson-orin", "nvidia-hopper",
            "nvidia-ampere", "zynq-7000", "zynq-ultrascale"} <= ids
    for c in CLASSES.values():
        assert c.title and c.kind in {"cpu", "gpu", "board", "fpga"} and c.features, c.id


def test_every_architecture_nvml_names_has_a_class():
    import pynvml

    archs = {n.removeprefix("NVML_DEVICE_ARCH_").lower() for n in dir(pynvml)
             if n.startswith("NVML_DEVICE_ARCH_")}
    covered = {a for c in CLASSES.values() for a in c.match.get("gpu_arch", [])}
    recent = {"volta", "turing", "ampere", "ada", "hopper", "blackwell"}
    assert recent <= covered and recent <= archs


@pytest.mark.parametrize("text,needle", [
    ('[[class]]\nid = "a"\ntitle = "A"\nkind = "tpu"\n', "field 'class[0].kind' must be one of"),
    ('[[class]]\nid = "a"\ntitle = "A"\nkind = "cpu"\n[class.match]\nbits = 64\n',
     "field 'class[0].match.bits' is not a known field"),
    ('[[class]]\nid = "a"\ntitle = "A"\nkind = "cpu"\n[[class]]\nid = "a"\ntitle = "B"\n'
     'kind = "cpu"\n', "field 'class[1].id' 'a' is already defined in bad.toml"),
    ('[[class]]\nid = "a"\nkind = "cpu"\n', "field 'class[0].title' is required"),
])
def test_a_broken_class_file_names_file_and_field(tmp_path, text, needle):
    write(tmp_path / "bad.toml", text)
    with pytest.raises(ContractError) as err:
        load_classes(tmp_path)
    assert str(tmp_path / "bad.toml") in str(err.value) and needle in str(err.value)


def test_hardware_needs_no_gpu_or_board_library_at_import():
    done = subprocess.run(
        [sys.executable, "-c", "import sys, hardware.detect; "
         "print(sorted(m for m in ('torch', 'pynvml', 'numpy') if m in sys.modules))"],
        capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
