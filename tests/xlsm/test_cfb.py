"""The compound-file writer, read back with olefile in its strictest mode."""

from __future__ import annotations

import io
import random

import olefile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlplan.xlsm.cfb import MINI_CUTOFF, SECTOR, write_compound_file


def read_back(blob: bytes) -> olefile.OleFileIO:
    return olefile.OleFileIO(io.BytesIO(blob), raise_defects=olefile.DEFECT_INCORRECT)


def blob_of(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def test_streams_of_every_size_class_read_back() -> None:
    sizes = [0, 1, 63, 64, 65, MINI_CUTOFF - 1, MINI_CUTOFF, MINI_CUTOFF + 1, 3 * SECTOR, 70_000]
    streams = {f"S{i}": blob_of(size, i) for i, size in enumerate(sizes)}
    ole = read_back(write_compound_file(streams))
    for path, data in streams.items():
        assert ole.openstream(path).read() == data
        assert ole.get_size(path) == len(data)


def test_nested_storages_and_many_siblings() -> None:
    streams = {"PROJECT": b"p" * 100, "VBA/dir": b"d" * 5000, "VBA/_VBA_PROJECT": b"\xcc\x61"}
    streams.update({f"VBA/Module{i}": blob_of(i * 101, i) for i in range(1, 60)})
    streams["A/B/C/deep"] = b"deep"
    ole = read_back(write_compound_file(streams))
    listed = {"/".join(p) for p in ole.listdir(streams=True, storages=False)}
    assert listed == set(streams)
    assert ole.get_type("VBA") == olefile.STGTY_STORAGE
    assert ole.get_type("A/B") == olefile.STGTY_STORAGE
    for path, data in streams.items():
        assert ole.openstream(path).read() == data


def test_lookup_is_case_insensitive_and_tree_ordered() -> None:
    # olefile walks the red-black tree; a wrongly ordered tree hides entries.
    names = ["b", "A", "aa", "Zz", "_VBA_PROJECT", "dir", "PROJECTwm", "PROJECT", "x" * 31]
    ole = read_back(write_compound_file({n: n.encode() for n in names}))
    for n in names:
        assert ole.openstream(n.upper()).read() == n.encode()


def test_needs_several_fat_sectors() -> None:
    streams = {"big": blob_of(2_000_000, 1), "small": b"s"}
    blob = write_compound_file(streams)
    assert len(blob) % SECTOR == 0
    ole = read_back(blob)
    assert ole.openstream("big").read() == streams["big"]
    assert ole.openstream("small").read() == b"s"


def test_empty_file_has_only_a_root() -> None:
    ole = read_back(write_compound_file({}))
    assert ole.listdir() == []


def test_output_is_deterministic() -> None:
    streams = {"PROJECT": b"x" * 10, "VBA/dir": b"y" * 5000}
    assert write_compound_file(streams) == write_compound_file(dict(streams))


@pytest.mark.parametrize("streams", [
    {"": b""},
    {"x" * 32: b""},
    {"a/b": b"", "A/B": b""},
    {"a": b"", "a/b": b""},
])
def test_rejects_bad_names(streams: dict[str, bytes]) -> None:
    with pytest.raises(ValueError):
        write_compound_file(streams)


_names = st.text(alphabet="abcXYZ_09", min_size=1, max_size=8)
_sizes = st.sampled_from([0, 1, 64, 100, MINI_CUTOFF - 1, MINI_CUTOFF, 5000, 20_000])


@settings(max_examples=40, deadline=None)
@given(st.dictionaries(st.tuples(st.sampled_from(["", "VBA/", "VBA/x/"]), _names), _sizes, max_size=25))
def test_any_tree_reads_back(spec: dict[tuple[str, str], int]) -> None:
    streams: dict[str, bytes] = {}
    for (folder, name), size in spec.items():
        path = folder + name
        if path.upper() in {p.upper() for p in streams} or name.upper() in ("VBA", "X"):
            continue
        streams[path] = blob_of(size, len(streams))
    ole = read_back(write_compound_file(streams))
    for path, data in streams.items():
        assert ole.openstream(path).read() == data
