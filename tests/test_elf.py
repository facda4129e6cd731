"""graders.data.elf reads what a cross-compiled library is for and what it exports."""

import struct
import sys
from pathlib import Path

import pytest

from graders.data import elf


def _header(bits: int, little: bool, e_type: int, machine: int) -> bytes:
    ident = elf.MAGIC + bytes([{32: 1, 64: 2}[bits], 1 if little else 2, 1]) + bytes(9)
    return ident + struct.pack("<HH" if little else ">HH", e_type, machine) + bytes(44)


@pytest.mark.parametrize("bits,little,e_type,machine", [
    (64, True, elf.ET_DYN, elf.EM_AARCH64), (32, False, elf.ET_EXEC, 8),
    (32, True, elf.ET_DYN, elf.EM_ARM)])
def test_the_header_fields_are_read_in_the_files_byte_order(tmp_path, bits, little, e_type,
                                                             machine):
    path = tmp_path / "lib.so"
    path.write_bytes(_header(bits, little, e_type, machine))
    assert elf.read_header(path) == elf.ElfHeader(bits, little, e_type, machine)


def test_this_interpreter_is_an_elf_file_of_this_machine():
    if not sys.platform.startswith("linux"):
        pytest.skip("ELF is the Linux format")
    head = elf.read_header(sys.executable)
    assert head.bits == 64 and head.type in (elf.ET_EXEC, elf.ET_DYN)


def test_a_libc_exports_printf():
    libc = next((p for p in (Path("/lib/x86_64-linux-gnu/libc.so.6"),
                             Path("/lib/aarch64-linux-gnu/libc.so.6")) if p.is_file()), None)
    if libc is None:
        pytest.skip("no Debian-style libc here")
    names = {s.name for s in elf.dynamic_symbols(libc) if s.defined and s.kind == elf.STT_FUNC}
    assert "printf" in names


@pytest.mark.parametrize("content", [b"", b"\x7fEL", b"MZ\x90\x00" + bytes(60)])
def test_anything_else_is_not_elf(tmp_path, content):
    path = tmp_path / "x.so"
    path.write_bytes(content)
    with pytest.raises(elf.NotElf):
        elf.read_header(path)


def test_a_cut_section_table_is_reported_not_crashed(tmp_path):
    path = tmp_path / "cut.so"
    head = bytearray(_header(64, True, elf.ET_DYN, elf.EM_AARCH64))
    struct.pack_into("<Q", head, 0x28, 10_000)  # e_shoff: far past the end of the file
    struct.pack_into("<HH", head, 0x3A, 64, 3)  # e_shentsize, e_shnum
    path.write_bytes(bytes(head))
    with pytest.raises(elf.NotElf):
        elf.dynamic_symbols(path)
