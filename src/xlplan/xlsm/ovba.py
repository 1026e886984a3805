"""MS-OVBA primitives: RLE compression (§2.4.1) and data "encryption" (§2.4.3).

Compression is written from the specification; :func:`decompress` exists for
symmetry, tests use oletools' independent decompressor as the oracle.
"""

from __future__ import annotations

import hashlib

CHUNK = 4096
_SIGNATURE = 0x01
_MIN_MATCH = 3


def compress(data: bytes) -> bytes:
    """Return the CompressedContainer for *data* (§2.4.1.3.1)."""
    out = bytearray([_SIGNATURE])
    for start in range(0, len(data), CHUNK):
        out += _compress_chunk(data[start:start + CHUNK])
    return bytes(out)


def _compress_chunk(chunk: bytes) -> bytes:
    body = _compress_tokens(chunk)
    if len(body) > CHUNK:
        # Raw chunk (§2.4.1.3.10): exactly 4096 bytes, padded with 0x00.
        header = (CHUNK + 2 - 3) | (0b011 << 12)
        return header.to_bytes(2, "little") + chunk.ljust(CHUNK, b"\x00")
    header = (len(body) + 2 - 3) | (0b011 << 12) | 0x8000
    return header.to_bytes(2, "little") + body


def _copy_token_shape(position: int) -> tuple[int, int]:
    """(bit count of the offset, maximum length) at *position* in a chunk (§2.4.1.3.19.1)."""
    bit_count = max((position - 1).bit_length(), 4)
    return bit_count, (0xFFFF >> bit_count) + _MIN_MATCH


def _compress_tokens(chunk: bytes) -> bytes:
    out = bytearray()
    heads: dict[bytes, list[int]] = {}
    pos, end = 0, len(chunk)
    while pos < end:
        flag_at, flags = len(out), 0
        out.append(0)
        for bit in range(8):
            if pos >= end:
                break
            length, offset = _longest_match(chunk, pos, heads)
            if length >= _MIN_MATCH:
                bit_count, _ = _copy_token_shape(pos)
                token = ((offset - 1) << (16 - bit_count)) | (length - _MIN_MATCH)
                out += token.to_bytes(2, "little")
                flags |= 1 << bit
                step = length
            else:
                out.append(chunk[pos])
                step = 1
            for p in range(pos, pos + step):
                heads.setdefault(chunk[p:p + _MIN_MATCH], []).append(p)
            pos += step
        out[flag_at] = flags
    return bytes(out)


def _longest_match(chunk: bytes, pos: int, heads: dict[bytes, list[int]]) -> tuple[int, int]:
    """Longest earlier match for chunk[pos:], nearest first (§2.4.1.3.19.4); (length, offset)."""
    candidates = heads.get(chunk[pos:pos + _MIN_MATCH])
    if not candidates or pos + _MIN_MATCH > len(chunk):
        return 0, 0
    _, max_len = _copy_token_shape(pos)
    limit = min(max_len, len(chunk) - pos)
    best_len, best_pos = 0, 0
    for cand in reversed(candidates):
        n = _MIN_MATCH
        while n < limit and chunk[cand + n] == chunk[pos + n]:
            n += 1
        if n > best_len:
            best_len, best_pos = n, cand
            if n == limit:
                break
    return best_len, pos - best_pos


def decompress(container: bytes) -> bytes:
    """Inverse of :func:`compress` (§2.4.1.3.1), for diagnostics."""
    if not container or container[0] != _SIGNATURE:
        raise ValueError("not an MS-OVBA compressed container")
    out = bytearray()
    pos = 1
    while pos < len(container):
        header = int.from_bytes(container[pos:pos + 2], "little")
        size = (header & 0x0FFF) + 3
        body = container[pos + 2:pos + size]
        out += _decompress_chunk(body) if header & 0x8000 else body
        pos += size
    return bytes(out)


def _decompress_chunk(body: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while pos < len(body):
        flags = body[pos]
        pos += 1
        for bit in range(8):
            if pos >= len(body):
                break
            if flags & (1 << bit):
                token = int.from_bytes(body[pos:pos + 2], "little")
                bit_count, _ = _copy_token_shape(len(out))
                offset = (token >> (16 - bit_count)) + 1
                length = (token & (0xFFFF >> bit_count)) + _MIN_MATCH
                for _ in range(length):
                    out.append(out[-offset])
                pos += 2
            else:
                out.append(body[pos])
                pos += 1
    return bytes(out)


def encrypt(data: bytes, project_id: str, salt: str = "") -> str:
    """Obfuscate *data* as in §2.4.3.2 and return upper-case hex (CMG, DPB, GC values).

    The seed and the ignored bytes are free choices; they are derived from
    *project_id* and *salt* so that the result is deterministic.
    """
    noise = hashlib.sha256(f"{project_id}|{salt}".encode()).digest()
    seed = noise[0]
    proj_key = sum(project_id.encode("latin-1")) & 0xFF
    version_enc = seed ^ 2
    proj_key_enc = seed ^ proj_key
    out = bytearray([seed, version_enc, proj_key_enc])
    unenc1, enc1, enc2 = proj_key, proj_key_enc, version_enc
    ignored = noise[1:1 + (seed & 6) // 2]
    plain = bytes(ignored) + len(data).to_bytes(4, "little") + data
    for byte in plain:
        enc = byte ^ ((enc2 + unenc1) & 0xFF)
        out.append(enc)
        enc2, enc1, unenc1 = enc1, enc, byte
    return out.hex().upper()


def decrypt(hex_text: str) -> bytes:
    """Inverse of :func:`encrypt` (§2.4.3.3): the plain data bytes."""
    raw = bytes.fromhex(hex_text)
    seed, version_enc, proj_key_enc = raw[0], raw[1], raw[2]
    if seed ^ version_enc != 2:
        raise ValueError("unsupported MS-OVBA encryption version")
    unenc1, enc1, enc2 = seed ^ proj_key_enc, proj_key_enc, version_enc
    plain = bytearray()
    for enc in raw[3:]:
        byte = enc ^ ((enc2 + unenc1) & 0xFF)
        plain.append(byte)
        enc2, enc1, unenc1 = enc1, enc, byte
    ignored = (seed & 6) // 2
    length = int.from_bytes(plain[ignored:ignored + 4], "little")
    data = bytes(plain[ignored + 4:])
    if len(data) != length:
        raise ValueError("MS-OVBA encrypted data has the wrong length")
    return data
