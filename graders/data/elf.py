"""Read the header and the dynamic symbols of an ELF file, in pure Python (no binutils needed):
enough to tell what machine a cross-compiled library is for and what it exports.

    from graders.data.elf import read_header, dynamic_symbols, EM_AARCH64
    head = read_header(path)     # ElfHeader(bits=64, little_endian=True, type=3, machine=183)
    [s.name for s in dynamic_symbols(path) if s.defined]

Only ELF64 little-endian files have their symbols read (what the aarch64 and x86-64 Linux
targets produce); headers of any ELF file are read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"\x7fELF"
ET_EXEC, ET_DYN = 2, 3
EM_X86_64, EM_ARM, EM_AARCH64 = 62, 40, 183
MACHINES = {EM_X86_64: "x86-64", EM_ARM: "32-bit ARM", EM_AARCH64: "AArch64", 3: "x86"}
SHT_DYNSYM = 11
STT_OBJECT, STT_FUNC = 1, 2
STB_GLOBAL, STB_WEAK = 1, 2


class NotElf(ValueError):
    """The file is not an ELF file (or is cut short)."""


@dataclass(frozen=True)
class ElfHeader:
    bits: int  # 32 or 64 (EI_CLASS)
    little_endian: bool  # EI_DATA
    type: int  # e_type: ET_DYN for a shared object
    machine: int  # e_machine: EM_AARCH64, EM_X86_64, ...

    @property
    def machine_name(self) -> str:
        return MACHINES.get(self.machine, f"machine {self.machine}")


@dataclass(frozen=True)
class Symbol:
    name: str
    kind: int  # STT_*
    bind: int  # STB_*
    section: int  # 0: undefined (imported)
    size: int

    @property
    def defined(self) -> bool:
        return self.section != 0


def read_header(path: Path | str) -> ElfHeader:
    head = Path(path).read_bytes()[:20]
    if len(head) < 20 or head[:4] != MAGIC:
        raise NotElf(f"{path} is not an ELF file (starts with {head[:4]!r})")
    bits = {1: 32, 2: 64}.get(head[4], 0)
    little = head[5] == 1
    e_type, e_machine = struct.unpack("<HH" if little else ">HH", head[16:20])
    return ElfHeader(bits, little, e_type, e_machine)


def dynamic_symbols(path: Path | str) -> list[Symbol]:
    """The entries of .dynsym (what a shared object exports and imports)."""
    data = Path(path).read_bytes()
    head = read_header(path)
    if head.bits != 64 or not head.little_endian:
        raise NotElf(f"{path}: only ELF64 little-endian symbol tables are read")
    try:
        e_shoff, = struct.unpack_from("<Q", data, 0x28)
        e_shentsize, e_shnum = struct.unpack_from("<HH", data, 0x3A)
        sections = [struct.unpack_from("<IIQQQQIIQQ", data, e_shoff + i * e_shentsize)
                    for i in range(e_shnum)]
        symbols = []
        for sec in sections:
            if sec[1] != SHT_DYNSYM:
                continue
            offset, size, link, entsize = sec[4], sec[5], sec[6], sec[9] or 24
            strtab = sections[link][4]
            for at in range(offset + entsize, offset + size, entsize):  # entry 0 is null
                st_name, info, _other, shndx, _value, st_size = struct.unpack_from(
                    "<IBBHQQ", data, at)
                end = data.index(b"\0", strtab + st_name)
                symbols.append(Symbol(data[strtab + st_name:end].decode("utf-8", "replace"),
                                      info & 0xF, info >> 4, shndx, st_size))
        return symbols
    except (struct.error, IndexError, ValueError) as exc:
        raise NotElf(f"{path}: a damaged ELF section table ({exc})") from None
