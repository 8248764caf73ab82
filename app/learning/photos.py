"""The photo pipeline: a parent's upload in, a clean, small, encrypted photo and thumbnail out.

Formats are allowed by their content, never their name: JPEG, PNG, WebP and HEIC (HEIC through
the ``pillow-heif`` plugin). The upload's size is checked before anything is decoded; the pixel
limit is lowered and Pillow's decompression-bomb warning is treated as an error; animations are
refused; and the memory the decoded picture would take (from the header: width × height × bytes
per pixel of its colour mode and bit depth) must fit ``PHOTO_MAX_DECODED_BYTES``, so a small file
that unpacks into hundreds of megabytes (a 16-bit 6000 × 6000 PNG) is refused before decoding. The EXIF orientation is applied, the picture is decoded at reduced size where JPEG
allows it (draft mode), resized to at most 1600 px (thumbnail 320 px), converted to sRGB, and
re-encoded from pixels alone, so no EXIF, GPS, XMP, ICC profile or comment survives. Both files
are stored encrypted through :mod:`app.core.storage` (P16).
"""

from __future__ import annotations

import io
import logging
import struct
import warnings
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from app.core import storage

log = logging.getLogger(__name__)

try:  # HEIC/HEIF, the iPhone's default format
    from pillow_heif import register_heif_opener

    register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
    HEIC_SUPPORTED = True
except ImportError:  # pragma: no cover - pillow-heif is pinned in requirements.txt
    HEIC_SUPPORTED = False

MAX_UPLOAD_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 12 MP phone photo is 12 000 000; 48 MP sensors bin to 12 MP
LONG_SIDE = 1600
THUMB_SIDE = 320
QUALITIES = (80, 70, 60, 50)  # JPEG quality: the first whose result fits TARGET_BYTES
TARGET_BYTES = 300 * 1024
FORMATS = ("JPEG", "PNG", "WEBP") + (("HEIF",) if HEIC_SUPPORTED else ())
FORMAT_NAMES = "JPEG, PNG, WebP" + (" or HEIC" if HEIC_SUPPORTED else "")

# Pillow refuses (DecompressionBombError) at twice this and warns above it; we turn the warning
# into an error too, so more than MAX_PIXELS is never decoded.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
Image.init()  # load the format plugins now rather than during a parent's first upload
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
# What Pillow and its plugins raise on corrupt data (found by fuzzing damaged uploads).
_BROKEN = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    struct.error,
    ZeroDivisionError,
)


class PhotoRejected(Exception):
    """The upload cannot be used; ``message`` is written for the parent, ``reason`` for code."""

    def __init__(self, message: str, reason: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class ProcessedPhoto:
    photo_key: str
    thumb_key: str
    width: int
    height: int
    bytes: int  # size of the stored (decrypted) photo


def _read_limited(fileobj, limit: int) -> bytes:
    if isinstance(fileobj, (bytes, bytearray, memoryview)):
        data = bytes(fileobj[: limit + 1])
    else:
        stream = getattr(fileobj, "stream", fileobj)  # werkzeug FileStorage
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise PhotoRejected(
            f"This photo is too big: the limit is {limit // (1024 * 1024)} MB. "
            "Please choose a smaller photo, or take one at a lower size.",
            "too_big",
        )
    if not data:
        raise PhotoRejected("The file was empty. Please choose a photo.", "empty")
    return data


def _open(data: bytes) -> Image.Image:
    try:
        im = Image.open(io.BytesIO(data), formats=FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except UnidentifiedImageError:
        raise PhotoRejected(
            f"This file is not a photo we can use. Please choose a {FORMAT_NAMES} photo.", "not_a_photo"
        ) from None
    except _BROKEN:
        raise _damaged() from None
    if im.width * im.height > MAX_PIXELS:  # in case a plugin skipped Pillow's own check
        raise _too_many_pixels()
    if getattr(im, "n_frames", 1) > 1 and im.format != "MPO":
        # MPO is a phone JPEG carrying extra pictures (depth, preview): its first one is the photo.
        raise PhotoRejected(
            "Moving pictures (animations) can't be sent. Please choose a still photo.", "animated"
        )
    return im


def bytes_per_pixel(im: Image.Image) -> int:
    """What one pixel of ``im`` costs once decoded, read from the header alone: Pillow's own
    size for the mode, or the file's channels × bytes per sample if larger (16-bit files)."""
    if im.mode in ("1", "L", "P"):
        in_memory = 1
    elif im.mode.startswith("I;16"):
        in_memory = 2
    else:
        in_memory = 4
    rawmodes = []
    for tile in getattr(im, "tile", None) or ():  # (decoder, box, offset, rawmode or args)
        args = tile[3] if len(tile) > 3 else None
        rawmodes.append(
            args
            if isinstance(args, str)
            else args[0]
            if isinstance(args, tuple) and args and isinstance(args[0], str)
            else ""
        )
    sample = 2 if any(";16" in raw for raw in rawmodes) else 1
    return max(in_memory, len(im.getbands()) * sample)


def _check_decoded_size(im: Image.Image) -> None:
    """Refuse, before any pixel is decoded, a picture whose decoded size is over the budget."""
    budget = current_app.config["PHOTO_MAX_DECODED_BYTES"]
    frames = 1  # animations are refused in _open; of an MPO only the first picture is decoded
    if im.width * im.height * bytes_per_pixel(im) * frames > budget:
        raise PhotoRejected(
            f"This picture is too large for us to process ({im.width:,} × {im.height:,} pixels"
            + (", in 16-bit colour" if bytes_per_pixel(im) > 4 else "")
            + "). Please choose a "
            "smaller photo, or send the photo as your phone's camera saved it.",
            "too_large",
        )


def _too_many_pixels() -> PhotoRejected:
    return PhotoRejected(
        f"This picture has too many pixels (more than {MAX_PIXELS // 1_000_000} "
        "megapixels). Please choose a smaller photo.",
        "too_many_pixels",
    )


def _damaged() -> PhotoRejected:
    return PhotoRejected(
        "This photo seems to be damaged or incomplete (the upload may have been "
        "cut off). Please try again or choose another photo.",
        "damaged",
    )


def _reduce(im: Image.Image) -> None:
    """Ask the JPEG decoder for a smaller picture where that is enough (nothing is decoded yet)."""
    scale = LONG_SIDE / max(im.size)
    if scale < 1 and im.format in ("JPEG", "MPO"):
        im.draft("RGB", (max(1, round(im.width * scale)), max(1, round(im.height * scale))))


def _decode(im: Image.Image) -> Image.Image:
    """Load the pixels (at the size :func:`_reduce` chose), upright, in sRGB RGB."""
    try:
        im.load()
        upright = ImageOps.exif_transpose(im)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except _BROKEN:
        raise _damaged() from None
    icc = upright.info.get("icc_profile")
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        upright = Image.new("RGB", rgba.size, (255, 255, 255))
        upright.paste(rgba, mask=rgba.getchannel("A"))
    elif upright.mode == "CMYK" and icc:
        pass  # converted with its profile below
    elif upright.mode != "RGB":
        upright = upright.convert("RGB")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(upright, source, _SRGB, outputMode="RGB")
            if converted is not None:  # None only when converting in place
                upright = converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            log.info("photos: ignoring an unusable ICC profile")
            upright = upright.convert("RGB")
    return upright


def _encode(im: Image.Image, quality: int) -> bytes:
    im.info.clear()  # nothing from the original rides along: no EXIF, XMP, ICC or comment
    out = io.BytesIO()
    im.save(
        out,
        "JPEG",
        quality=quality,
        optimize=True,
        progressive=True,
        subsampling="4:2:0",
        exif=b"",
        icc_profile=None,
        comment=b"",
    )
    return out.getvalue()


def _resized(im: Image.Image, side: int) -> Image.Image:
    if max(im.size) <= side:
        return im.copy()
    scale = side / max(im.size)
    size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
    # reducing_gap: box-reduce first when shrinking a lot (the thumbnail), then Lanczos.
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)


def clean_jpeg(fileobj) -> tuple[bytes, bytes, tuple[int, int]]:
    """Validate and re-encode an upload: (photo JPEG, thumbnail JPEG, photo (width, height)).

    Raises :class:`PhotoRejected`. Stores nothing; see :func:`process_photo`.
    """
    limit = current_app.config.get("PHOTO_MAX_BYTES", MAX_UPLOAD_BYTES)
    data = _read_limited(fileobj, limit)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        im = _open(data)
        del data
        _reduce(im)
        _check_decoded_size(im)
        picture = _decode(im)
    im.close()
    photo = _resized(picture, LONG_SIDE)
    del picture
    thumb = _resized(photo, THUMB_SIDE)
    for quality in QUALITIES:  # most photos fit at the first; busy, grainy ones need less
        photo_bytes = _encode(photo, quality)
        if len(photo_bytes) <= TARGET_BYTES:
            break
    return photo_bytes, _encode(thumb, QUALITIES[0]), photo.size


def process_photo(fileobj) -> ProcessedPhoto:
    """Turn an upload (a file object, werkzeug ``FileStorage`` or bytes) into a stored photo.

    Returns the storage keys of the clean photo (≤ 1600 px) and thumbnail (≤ 320 px), both
    encrypted at rest, or raises :class:`PhotoRejected` with a message for the parent. Nothing
    is stored when it raises. The caller saves the keys in the same transaction as the
    contribution and calls :func:`discard` if that transaction fails.
    """
    photo_bytes, thumb_bytes, (width, height) = clean_jpeg(fileobj)
    photo_key = storage.put(photo_bytes, prefix="photo")
    try:
        thumb_key = storage.put(thumb_bytes, prefix="thumb")
    except BaseException:
        storage.discard([photo_key])
        raise
    return ProcessedPhoto(photo_key, thumb_key, width, height, len(photo_bytes))


def discard(photo: ProcessedPhoto) -> None:
    """Delete both stored files of ``photo`` (e.g. when the database transaction failed)."""
    storage.discard([photo.photo_key, photo.thumb_key])


def _referenced(keys: list[str]) -> set[str]:
    """Which of ``keys`` a contribution still refers to (for the orphan sweep)."""
    from app.core.extensions import db
    from app.models import Contribution

    c = Contribution
    rows = db.session.execute(
        sa.select(c.photo_key, c.thumb_key).where(sa.or_(c.photo_key.in_(keys), c.thumb_key.in_(keys)))
    ).all()
    return {k for row in rows for k in row if k}


storage.register_references(("photo", "thumb"), _referenced)
