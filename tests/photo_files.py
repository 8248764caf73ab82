"""Shared by the photo tests: the suite's bucket (emptied for each test), what is stored in it, and
a hand-built PNG of any size (a decompression bomb when large)."""

from __future__ import annotations

import functools
import re
import struct
import zlib
from dataclasses import dataclass


@dataclass
class StoredObject:
    """One object in the bucket, as the store holds it."""

    key: str
    blob: bytes

    def read_bytes(self) -> bytes:
        return self.blob


def stored(settings: dict) -> list[StoredObject]:
    """Every object in the bucket."""
    from tests.services import bucket_objects

    return [StoredObject(k, v) for k, v in sorted(bucket_objects(settings).items())]


def assert_sealed(raw: bytes) -> None:
    """A stored photo is a Fernet token: URL-safe base64 text, never a JPEG. A JPEG starts FF D8 and
    names its blocks "JFIF" and "Exif" with a zero byte after each, which base64 cannot hold; the
    letters alone turn up by chance in a long token, so they are not what is looked for."""
    assert not raw.startswith(b"\xff\xd8")
    assert b"JFIF\x00" not in raw and b"Exif\x00" not in raw
    assert re.fullmatch(rb"[A-Za-z0-9_=-]+", raw), raw[:40]


def png(width: int = 8000, height: int = 6000) -> bytes:
    """A 1-bit black PNG of any size, built by hand so the test itself stays small and fast
    (the default, 48 megapixels in a few kilobytes, is a decompression bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row * 256) for _ in range(height // 256))
    idat += packer.compress(row * (height % 256)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@functools.cache
def png16(width: int = 6000, height: int = 6000) -> bytes:
    """A 16-bit RGBA PNG (8 bytes a pixel in the file): 6000 × 6000 is 36 megapixels, under the
    pixel limit, in a few hundred kilobytes, but hundreds of megabytes once decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" * (1 + width * 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row * 64) for _ in range(height // 64))
    idat += packer.compress(row * (height % 64)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# END
