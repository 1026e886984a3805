"""MS-OVBA compression and encryption, checked against oletools' independent decompressor."""

from __future__ import annotations

import io
import os
import random
import zipfile
from importlib import resources

import olefile
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oletools.olevba import decompress_stream

from xlplan.xlsm.ovba import CHUNK, compress, decompress, decrypt, encrypt


def oletools_decompress(container: bytes) -> bytes:
    return bytes(decompress_stream(bytearray(container)))


def real_module_texts() -> list[bytes]:
    xlwings_bas = resources.files("xlwings").joinpath("xlwings.bas").read_bytes()
    ours = [f.read_bytes() for f in resources.files("xlplan").joinpath("excel_src/vba").iterdir()
            if f.name.endswith(".bas")]
    return [xlwings_bas, *ours]


@pytest.mark.parametrize("index", range(len(real_module_texts())))
def test_real_modules_round_trip_through_oletools(index: int) -> None:
    text = real_module_texts()[index]
    container = compress(text)
    assert oletools_decompress(container) == text
    assert decompress(container) == text
    assert len(container) < len(text)  # VBA source compresses


def test_xlwings_module_is_large_enough_to_need_many_chunks() -> None:
    text = real_module_texts()[0]
    assert len(text) > 10 * CHUNK


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="ab \r\nSubEnd()'\"", max_size=3 * CHUNK + 17))
def test_compressible_text_round_trips(text: str) -> None:
    data = text.encode("ascii")
    assert oletools_decompress(compress(data)) == data


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3 * CHUNK))
def test_arbitrary_bytes_round_trip_up_to_raw_chunk_padding(data: bytes) -> None:
    out = oletools_decompress(compress(data))
    # An incompressible final chunk is stored raw and padded to 4096 bytes (§2.4.1.3.10).
    assert out[:len(data)] == data
    assert set(out[len(data):]) <= {0}
    assert len(out) in (len(data), -(-len(data) // CHUNK) * CHUNK)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 17, CHUNK - 1, CHUNK, CHUNK + 1, 5 * CHUNK + 3])
def test_chunk_boundaries(size: int) -> None:
    rng = random.Random(size)
    data = bytes(rng.choice(b"Dim x As Long\r\n") for _ in range(size))
    assert oletools_decompress(compress(data)) == data


def test_long_runs_use_maximum_length_copy_tokens() -> None:
    data = b" " * (3 * CHUNK) + b"x"
    container = compress(data)
    assert oletools_decompress(container) == data
    assert len(container) < 200


def test_random_bytes_become_raw_chunks() -> None:
    data = os.urandom(2 * CHUNK)
    container = compress(data)
    assert len(container) == 1 + 2 * (2 + CHUNK)
    assert oletools_decompress(container) == data


def test_decompress_rejects_a_missing_signature() -> None:
    with pytest.raises(ValueError):
        decompress(b"\x00abc")


# Values from the PROJECT stream of xlwings' quickstart_standalone.xlsm.
XLWINGS_ID = "{5CF9CDAB-B77B-4FE4-BD7E-D29900070E1B}"


@pytest.mark.parametrize("hex_text, plain", [
    ("8D8FA61394EA98EA98EA98EA98", bytes(4)),   # CMG: not protected
    ("8D8FA61394EF95EF95EF", bytes(1)),         # DPB: no password
    ("8D8FA61394EF95EF9510", b"\xff"),          # GC: visible
])
def test_decrypt_reads_values_written_by_excel(hex_text: str, plain: bytes) -> None:
    assert decrypt(hex_text) == plain
    # the project key is the byte sum of the project id
    assert bytes.fromhex(hex_text)[0] ^ bytes.fromhex(hex_text)[2] == sum(XLWINGS_ID.encode()) & 0xFF


@pytest.mark.parametrize("data", [bytes(4), bytes(1), b"\xff", b"password\x00"])
@pytest.mark.parametrize("salt", ["CMG", "DPB", "GC", "x"])
def test_encrypt_round_trips_and_is_deterministic(data: bytes, salt: str) -> None:
    hex_text = encrypt(data, XLWINGS_ID, salt)
    assert hex_text == encrypt(data, XLWINGS_ID, salt)
    assert hex_text == hex_text.upper()
    assert decrypt(hex_text) == data
    raw = bytes.fromhex(hex_text)
    assert raw[0] ^ raw[1] == 2
    assert raw[0] ^ raw[2] == sum(XLWINGS_ID.encode()) & 0xFF


def test_decompress_reads_excel_written_streams() -> None:
    book = resources.files("xlwings").joinpath("quickstart_standalone.xlsm").read_bytes()
    ole = olefile.OleFileIO(io.BytesIO(zipfile.ZipFile(io.BytesIO(book)).read("xl/vbaProject.bin")))
    dir_container = ole.openstream("VBA/dir").read()
    assert decompress(dir_container) == oletools_decompress(dir_container)
    # the xlwings module stream has no p-code (MODULEOFFSET 0)
    container = ole.openstream("VBA/xlwings").read()
    assert decompress(container) == oletools_decompress(container)
    assert decompress(container).startswith(b'Attribute VB_Name = "xlwings"')
