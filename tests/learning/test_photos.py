"""The photo pipeline, on images generated here with Pillow: what is stored is small, upright,
free of every metadata block (EXIF, GPS, XMP, ICC, comments) and encrypted at rest (P16); bad
files get a clear message and store nothing."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet, InvalidToken
from PIL import ExifTags, Image, ImageChops, ImageCms, UnidentifiedImageError
from werkzeug.datastructures import FileStorage

from app.core import storage
from app.learning import photos
from app.learning.photos import PhotoRejected
from tests.photo_files import assert_sealed, png, png16, stored

RED, BLUE = (255, 0, 0), (0, 90, 255)
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    b'22-rdf-syntax-ns#"><rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
    b'xmp:CreatorTool="PhoneCam 7"/></rdf:RDF></x:xmpmeta>'
)
COMMENT = b"taken at 12 Acacia Avenue"
# Byte strings that betray each metadata block in a file.
MARKERS = {
    "EXIF": b"Exif\x00\x00",
    "GPS": b"WGS-84",  # the GPS map datum, a string inside the GPS IFD
    "camera": b"PhoneCo",
    "XMP": b"http://ns.adobe.com/xap",
    "ICC": b"ICC_PROFILE",
    "comment": COMMENT,
}


def gps_exif(orientation: int = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (51.0, 30.0, 26.0),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (0.0, 7.0, 39.0),
        ExifTags.GPS.GPSMapDatum: "WGS-84",
    }
    return exif


def landscape_with_red_corner(size=(2400, 1200)) -> Image.Image:
    """Stored sideways, as phones do: the red square is top-left in the file's own pixels."""
    im = Image.new("RGB", size, BLUE)
    im.paste(RED, (0, 0, size[0] // 8, size[1] // 8))
    return im


def photo_with_everything() -> bytes:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    landscape_with_red_corner().save(
        out, "JPEG", quality=90, exif=gps_exif(6), icc_profile=srgb, xmp=XMP, comment=COMMENT
    )
    return out.getvalue()


def textured(size, seed_sigma=40) -> Image.Image:
    """Gradients plus noise, so JPEG cannot compress it trivially (like a real photo)."""
    w, h = size
    noise = Image.effect_noise(size, seed_sigma)
    coarse = Image.effect_noise((w // 8, h // 8), 60).resize(size, Image.Resampling.BICUBIC)
    grad = Image.linear_gradient("L").resize(size)
    return Image.merge(
        "RGB",
        [
            ImageChops.add(grad, noise, 2, -64),
            ImageChops.add(coarse, noise, 2, 0),
            ImageChops.add(grad.rotate(180), coarse, 2, 0),
        ],
    )


def jpeg(im: Image.Image, **kw) -> bytes:
    out = io.BytesIO()
    im.save(out, "JPEG", **kw)
    return out.getvalue()


def assert_clean(data: bytes) -> Image.Image:
    for name, marker in MARKERS.items():
        assert marker not in data, f"{name} survived"
    im = Image.open(io.BytesIO(data))
    assert im.format == "JPEG" and im.mode == "RGB"
    assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "adobe"} & set(
        im.info
    )
    exif = im.getexif()
    assert len(exif) == 0 and not exif.get_ifd(ExifTags.IFD.GPSInfo)
    return im


@pytest.mark.promise("P16")
def test_stored_photo_is_upright_small_stripped_and_encrypted(files):
    original = photo_with_everything()
    for name, marker in MARKERS.items():  # the test image really carries all of it
        assert marker in original, name
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    result = photos.process_photo(FileStorage(io.BytesIO(original), "IMG_0001.JPG"))

    # On disk: two files, neither a JPEG nor readable with any key but the app's.
    assert len(stored(files)) == 2
    for path in stored(files):
        raw = path.read_bytes()
        assert_sealed(raw)
        with pytest.raises(UnidentifiedImageError):
            Image.open(io.BytesIO(raw))
        with pytest.raises(InvalidToken):
            Fernet(Fernet.generate_key()).decrypt(raw)

    photo = assert_clean(storage.get(result.photo_key))
    thumb = assert_clean(storage.get(result.thumb_key))
    # The orientation tag (6: turn right) was applied: 2400×1200 sideways becomes portrait.
    assert photo.size == (800, 1600) == (result.width, result.height)
    assert thumb.size == (160, 320)
    assert result.bytes == len(storage.get(result.photo_key))
    for im in (photo.convert("RGB"), thumb.convert("RGB")):
        w, h = im.size
        top_right, top_left = im.getpixel((w - 3, 2)), im.getpixel((2, 2))
        assert top_right[0] > 200 and top_right[2] < 60, top_right  # the red corner
        assert top_left[2] > 200, top_left


@pytest.mark.promise("P16")
def test_a_heic_photo_from_an_iphone_is_accepted_and_stripped(files):
    pytest.importorskip("pillow_heif")
    assert photos.HEIC_SUPPORTED
    out = io.BytesIO()
    landscape_with_red_corner((1200, 600)).save(out, "HEIF", exif=gps_exif(6).tobytes(), xmp=XMP, quality=80)
    assert out.getvalue()[4:12] == b"ftypheic" and b"WGS-84" in out.getvalue()
    result = photos.process_photo(io.BytesIO(out.getvalue()))
    photo = assert_clean(storage.get(result.photo_key))
    assert photo.size == (600, 1200)
    assert photo.getpixel((597, 2))[0] > 200


def test_a_12_megapixel_photo_becomes_at_most_300_kb(files):
    original = jpeg(textured((4000, 3000)), quality=92)
    assert len(original) > 2_000_000
    result = photos.process_photo(io.BytesIO(original))
    assert (result.width, result.height) == (1600, 1200)
    assert result.bytes <= 300 * 1024
    assert Image.open(io.BytesIO(storage.get(result.thumb_key))).size == (320, 240)


def test_a_phone_jpeg_with_a_second_picture_inside_is_not_taken_for_an_animation(files):
    out = io.BytesIO()
    main = landscape_with_red_corner((1000, 500))
    main.save(out, "MPO", save_all=True, append_images=[main.resize((160, 80))])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    result = photos.process_photo(io.BytesIO(out.getvalue()))
    assert (result.width, result.height) == (1000, 500)


def test_a_small_photo_is_not_enlarged_and_transparency_becomes_white(files):
    im = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    im.paste((255, 0, 0, 255), (0, 0, 100, 100))
    out = io.BytesIO()
    im.save(out, "PNG")
    result = photos.process_photo(out.getvalue())
    photo = assert_clean(storage.get(result.photo_key))
    assert photo.size == (300, 200)
    assert min(photo.getpixel((250, 150))) > 240  # transparent became white, not black
    assert photo.getpixel((50, 50))[0] > 200


@pytest.mark.parametrize(
    "fmt,mode",
    [("JPEG", "L"), ("JPEG", "CMYK"), ("PNG", "P"), ("PNG", "LA"), ("PNG", "I;16"), ("WEBP", "RGB")],
)
def test_other_colour_modes_become_plain_rgb_jpeg(files, fmt, mode):
    out = io.BytesIO()
    textured((640, 480)).convert(mode).save(out, fmt)
    result = photos.process_photo(out.getvalue())
    assert_clean(storage.get(result.photo_key))


@pytest.mark.parametrize("size", [(8000, 6000), (40000, 40000)])
def test_a_png_bomb_is_refused(files, size):
    bomb = png(*size)
    assert len(bomb) < 300_000  # tiny file, 48 MP or 1.6 GP once decoded
    with pytest.raises(PhotoRejected) as err:
        photos.process_photo(FileStorage(io.BytesIO(bomb), "cute.png"))
    assert err.value.reason == "too_many_pixels"
    assert "too many pixels" in err.value.message
    assert stored(files) == []


def test_a_16_bit_png_too_large_to_decode_is_refused_before_decoding(files, decodes):
    deep = png16(6000, 6000)
    assert len(deep) < 400_000  # 36 MP (under the pixel limit), 8 bytes a pixel: 288 MB decoded
    with pytest.raises(PhotoRejected) as err:
        photos.process_photo(FileStorage(io.BytesIO(deep), "deep.png"))
    assert err.value.reason == "too_large"
    assert "too large for us to process" in err.value.message
    assert "6,000 × 6,000 pixels, in 16-bit colour" in err.value.message
    assert decodes == []  # refused from the header: no pixel was decoded
    assert stored(files) == []
    photos.process_photo(png16(600, 400))  # the same kind of file, small: decoded and kept
    assert set(decodes) == {(600, 400)} and len(stored(files)) == 2


def test_the_decoded_size_budget_is_read_from_config(app, files, decodes, monkeypatch):
    upload = jpeg(textured((1200, 900)))  # 1.08 MP, 4 bytes a pixel in memory: 4.3 MB
    monkeypatch.setitem(app.config, "PHOTO_MAX_DECODED_BYTES", 4 * 1024 * 1024)
    with pytest.raises(PhotoRejected, match="too large for us to process"):
        photos.process_photo(upload)
    assert decodes == [] and stored(files) == []
    monkeypatch.setitem(app.config, "PHOTO_MAX_DECODED_BYTES", 5 * 1024 * 1024)
    assert photos.process_photo(upload).width == 1200 and decodes


@pytest.mark.parametrize(
    "mode,fmt,expected",
    [
        ("1", "PNG", 1),
        ("L", "JPEG", 1),
        ("P", "PNG", 1),
        ("I;16", "PNG", 2),
        ("LA", "PNG", 4),
        ("RGB", "JPEG", 4),
        ("RGBA", "PNG", 4),
        ("CMYK", "JPEG", 4),
        ("RGB", "WEBP", 4),
    ],
)
def test_bytes_per_pixel_come_from_the_header(mode, fmt, expected):
    out = io.BytesIO()
    Image.new(mode, (40, 30)).save(out, fmt)
    assert photos.bytes_per_pixel(Image.open(io.BytesIO(out.getvalue()))) == expected
    assert photos.bytes_per_pixel(Image.open(io.BytesIO(png16(40, 30)))) == 8


def test_a_png_just_under_the_pixel_limit_is_accepted(files):
    result = photos.process_photo(png(5000, 4000))  # 20 MP
    assert (result.width, result.height) == (1600, 1280)


def test_a_truncated_jpeg_is_refused(files):
    whole = jpeg(textured((800, 600)), quality=90)
    with pytest.raises(PhotoRejected) as err:
        photos.process_photo(io.BytesIO(whole[: len(whole) * 2 // 3]))
    assert err.value.reason == "damaged"
    assert "incomplete" in err.value.message
    assert stored(files) == []


@pytest.mark.parametrize(
    "content",
    [
        b"Dear teacher, here is the homework.\n" * 20,
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"GIF89a" + b"\x00" * 200,
        b"%PDF-1.7\n" + b"0" * 200,
    ],
)
def test_a_file_that_is_not_an_allowed_image_is_refused_whatever_its_name(files, content):
    upload = FileStorage(io.BytesIO(content), "photo.jpg", content_type="image/jpeg")
    with pytest.raises(PhotoRejected) as err:
        photos.process_photo(upload)
    assert err.value.reason == "not_a_photo"
    assert "not a photo we can use" in err.value.message and "JPEG" in err.value.message
    assert stored(files) == []


def test_formats_outside_the_allowlist_are_refused_even_when_pillow_reads_them(files):
    for fmt in ("GIF", "BMP", "TIFF"):
        out = io.BytesIO()
        Image.new("RGB", (50, 50), RED).save(out, fmt)
        with pytest.raises(PhotoRejected, match="not a photo we can use"):
            photos.process_photo(out.getvalue())
    assert stored(files) == []


@pytest.mark.parametrize("fmt", ["WEBP", "PNG"])
def test_an_animation_is_refused(files, fmt):
    frames = [Image.new("RGB", (120, 80), colour) for colour in (RED, BLUE, (0, 200, 0))]
    out = io.BytesIO()
    frames[0].save(out, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert getattr(Image.open(io.BytesIO(out.getvalue())), "n_frames", 1) == 3
    with pytest.raises(PhotoRejected) as err:
        photos.process_photo(FileStorage(io.BytesIO(out.getvalue()), "dance.webp"))
    assert err.value.reason == "animated"
    assert "still photo" in err.value.message
    assert stored(files) == []


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.taken = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


def test_a_30_mb_upload_is_refused_before_decoding(files):
    head = jpeg(Image.new("RGB", (64, 64), RED))
    upload = CountingStream(head + b"\x00" * (30 * 1024 * 1024 - len(head)))
    with pytest.raises(PhotoRejected) as err:
        photos.process_photo(FileStorage(upload, "huge.jpg"))
    assert err.value.reason == "too_big"
    assert "too big" in err.value.message and "15 MB" in err.value.message
    assert upload.taken <= photos.MAX_UPLOAD_BYTES + 1  # stopped reading at the limit
    assert stored(files) == []


def test_an_empty_upload_is_refused(files):
    with pytest.raises(PhotoRejected, match="empty"):
        photos.process_photo(FileStorage(io.BytesIO(b""), "nothing.jpg"))


def test_discard_removes_both_files(files):
    result = photos.process_photo(jpeg(textured((400, 300))))
    assert len(stored(files)) == 2
    photos.discard(result)
    assert stored(files) == []
    assert not storage.exists(result.photo_key) and not storage.exists(result.thumb_key)
