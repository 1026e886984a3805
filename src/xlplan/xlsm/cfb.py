"""A small writer for Compound File Binary files (MS-CFB, version 3, 512-byte sectors).

``write_compound_file({"PROJECT": b"...", "VBA/dir": b"..."})`` returns the file
bytes.  Streams shorter than 4096 bytes go into the mini stream; the directory
is a binary search tree per storage with every node black, which [MS-CFB]
§2.6.4 explicitly allows.  No DIFAT sectors: files up to ~6.8 MB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
FREESECT = 0xFFFFFFFF
ENDOFCHAIN = 0xFFFFFFFE
FATSECT = 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_HEADER_DIFAT = 109
_STORAGE, _STREAM, _ROOT = 1, 2, 5
_DIR_ENTRY = 128


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: list["_Entry"] = field(default_factory=list)
    sid: int = 0
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    start: int = ENDOFCHAIN


def write_compound_file(streams: Mapping[str, bytes]) -> bytes:
    """Build a compound file holding *streams* (paths use ``/`` between storages)."""
    root = _build_tree(streams)
    entries = _number(root)
    mini_data, mini_fat = _layout_mini(entries)
    return _assemble(entries, mini_data, mini_fat)


def _build_tree(streams: Mapping[str, bytes]) -> _Entry:
    root = _Entry("Root Entry", _ROOT)
    for path, data in streams.items():
        parts = path.split("/")
        node = root
        for part in parts[:-1]:
            node = _child(node, part, _STORAGE)
        if any(_key(c.name) == _key(parts[-1]) for c in node.children):
            raise ValueError(f"duplicate compound-file entry: {path}")
        node.children.append(_Entry(_check_name(parts[-1]), _STREAM, bytes(data)))
    return root


def _child(node: _Entry, name: str, kind: int) -> _Entry:
    for c in node.children:
        if _key(c.name) == _key(name):
            if c.kind != kind:
                raise ValueError(f"{name} is both a stream and a storage")
            return c
    new = _Entry(_check_name(name), kind)
    node.children.append(new)
    return new


def _check_name(name: str) -> str:
    if not name or len(name) > 31 or any(ch in name for ch in "/\\:!"):
        raise ValueError(f"invalid compound-file entry name: {name!r}")
    return name


def _key(name: str) -> tuple[int, str]:
    """Sibling order of [MS-CFB] §2.6.4: shorter names first, then upper-case compare."""
    return len(name.encode("utf-16-le")), name.upper()


def _number(root: _Entry) -> list[_Entry]:
    """Assign directory ids depth-first and link each storage's children as a balanced tree."""
    entries: list[_Entry] = []

    def visit(node: _Entry) -> None:
        node.sid = len(entries)
        entries.append(node)
        ordered = sorted(node.children, key=lambda e: _key(e.name))
        for c in ordered:
            visit(c)
        node.child = _link(ordered)

    visit(root)
    return entries


def _link(ordered: list[_Entry]) -> int:
    if not ordered:
        return NOSTREAM
    mid = len(ordered) // 2
    node = ordered[mid]
    node.left = _link(ordered[:mid])
    node.right = _link(ordered[mid + 1:])
    return node.sid


def _layout_mini(entries: list[_Entry]) -> tuple[bytes, list[int]]:
    mini = bytearray()
    fat: list[int] = []
    for e in entries:
        if e.kind == _STREAM and 0 < len(e.data) < MINI_CUTOFF:
            e.start = len(fat)
            n = -(-len(e.data) // MINI_SECTOR)
            fat += list(range(e.start + 1, e.start + n)) + [ENDOFCHAIN]
            mini += e.data.ljust(n * MINI_SECTOR, b"\x00")
    return bytes(mini), fat


class _Sectors:
    """Regular sectors in file order with their FAT chains."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.fat: list[int] = []

    def add(self, blob: bytes, marker: int | None = None) -> int:
        if not blob:
            return ENDOFCHAIN
        start = len(self.fat)
        n = -(-len(blob) // SECTOR)
        if marker is None:
            self.fat += list(range(start + 1, start + n)) + [ENDOFCHAIN]
        else:
            self.fat += [marker] * n
        self.data += blob.ljust(n * SECTOR, b"\x00")
        return start


def _fat_sector_count(other_sectors: int) -> int:
    n = 0
    while n * (SECTOR // 4) < other_sectors + n:
        n += 1
    return n


def _assemble(entries: list[_Entry], mini_data: bytes, mini_fat: list[int]) -> bytes:
    mini_fat_blob = b"".join(v.to_bytes(4, "little") for v in mini_fat)
    big = [e for e in entries if e.kind == _STREAM and len(e.data) >= MINI_CUTOFF]
    dir_sectors = -(-len(entries) // (SECTOR // _DIR_ENTRY))
    counted = [mini_data, mini_fat_blob] + [e.data for e in big]
    others = dir_sectors + sum(-(-len(b) // SECTOR) for b in counted)
    n_fat = _fat_sector_count(others)
    if n_fat > _HEADER_DIFAT:
        raise ValueError("compound file too large for a writer without DIFAT sectors")
    sectors = _Sectors()
    sectors.add(b"\x00" * (n_fat * SECTOR), marker=FATSECT)
    root = entries[0]
    root.start = sectors.add(mini_data)
    root.data = mini_data
    mini_fat_start = sectors.add(mini_fat_blob)
    for e in big:
        e.start = sectors.add(e.data)
    dir_start = sectors.add(b"".join(_dir_entry(e) for e in entries))
    _fill_free_dir_entries(sectors, dir_start, len(entries), dir_sectors)
    fat = sectors.fat + [FREESECT] * (n_fat * SECTOR // 4 - len(sectors.fat))
    sectors.data[:n_fat * SECTOR] = b"".join(v.to_bytes(4, "little") for v in fat)
    header = _header(n_fat, dir_start, mini_fat_start, len(mini_fat_blob) // SECTOR + bool(len(mini_fat_blob) % SECTOR))
    return header + bytes(sectors.data)


def _fill_free_dir_entries(sectors: _Sectors, dir_start: int, used: int, dir_sectors: int) -> None:
    """Unused directory slots carry NOSTREAM sibling/child ids ([MS-CFB] §2.6.3)."""
    free = _free_dir_entry()
    base = dir_start * SECTOR
    for i in range(used, dir_sectors * SECTOR // _DIR_ENTRY):
        sectors.data[base + i * _DIR_ENTRY: base + (i + 1) * _DIR_ENTRY] = free


def _free_dir_entry() -> bytes:
    blob = bytearray(_DIR_ENTRY)
    blob[68:80] = NOSTREAM.to_bytes(4, "little") * 3
    return bytes(blob)


def _dir_entry(e: _Entry) -> bytes:
    name = (e.name + "\x00").encode("utf-16-le")
    blob = bytearray(_DIR_ENTRY)
    blob[0:len(name)] = name
    blob[64:66] = len(name).to_bytes(2, "little")
    blob[66] = e.kind
    blob[67] = 1  # black
    blob[68:72] = e.left.to_bytes(4, "little")
    blob[72:76] = e.right.to_bytes(4, "little")
    blob[76:80] = e.child.to_bytes(4, "little")
    start = e.start if e.kind != _STORAGE else 0
    size = len(e.data) if e.kind != _STORAGE else 0
    blob[116:120] = start.to_bytes(4, "little")
    blob[120:128] = size.to_bytes(8, "little")
    return bytes(blob)


def _header(n_fat: int, dir_start: int, mini_fat_start: int, n_mini_fat: int) -> bytes:
    h = bytearray(SECTOR)
    h[0:8] = _MAGIC
    h[24:26] = (0x003E).to_bytes(2, "little")  # minor version
    h[26:28] = (0x0003).to_bytes(2, "little")  # major version 3
    h[28:30] = (0xFFFE).to_bytes(2, "little")  # little-endian byte order mark
    h[30:32] = (9).to_bytes(2, "little")       # 2**9 = 512-byte sectors
    h[32:34] = (6).to_bytes(2, "little")       # 2**6 = 64-byte mini sectors
    h[44:48] = n_fat.to_bytes(4, "little")
    h[48:52] = dir_start.to_bytes(4, "little")
    h[56:60] = MINI_CUTOFF.to_bytes(4, "little")
    h[60:64] = (mini_fat_start if n_mini_fat else ENDOFCHAIN).to_bytes(4, "little")
    h[64:68] = n_mini_fat.to_bytes(4, "little")
    h[68:72] = ENDOFCHAIN.to_bytes(4, "little")  # no DIFAT sectors
    difat = list(range(n_fat)) + [FREESECT] * (_HEADER_DIFAT - n_fat)
    h[76:512] = b"".join(v.to_bytes(4, "little") for v in difat)
    return bytes(h)
