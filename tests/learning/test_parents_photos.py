"""Photos from families: cleaned of location data, encrypted at rest (P16), served only through
authorised routes with Cache-Control: private, and bad uploads refused with nothing half-stored."""

from __future__ import annotations

import io
from html import unescape

import pytest
import sqlalchemy as sa
from PIL import Image

from app.core import consent, storage
from app.core.extensions import db
from app.models import ConsentMethod, ConsentPurpose, ConsentRecord, Contribution, Engagement, Guardianship
from tests import factories as f
from tests.parents_data import family, has_gps, item_of, jpeg_with_gps
from tests.photo_files import assert_sealed, png, png16, stored

HX = {"HX-Request": "true"}


def _send(client, child, item, data: bytes | None, name="photo.jpg", headers=None, **fields):
    form = dict(fields)
    if data is not None:
        form["photo"] = (io.BytesIO(data), name)
    return client.post(
        f"/family/children/{child.id}/items/{item.id}/send",
        data=form,
        content_type="multipart/form-data",
        headers=headers or {},
    )


def _animated_webp() -> bytes:
    frames = [Image.new("RGB", (120, 80), c) for c in ((255, 0, 0), (0, 0, 255), (0, 200, 0))]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return out.getvalue()


@pytest.mark.promise("P16")
def test_an_uploaded_photo_loses_its_location_and_is_encrypted_in_the_store(client, files):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    original = jpeg_with_gps()
    assert has_gps(original)
    r = _send(client, fam.ben, item, original)
    assert r.status_code == 303
    photo = db.session.scalar(sa.select(Contribution))
    assert photo.kind.value == "photo" and photo.promo_opt_in is False
    clean = storage.get(photo.photo_key)
    assert not has_gps(clean) and b"PhoneMaker" not in clean and b"taken at home" not in clean
    with Image.open(io.BytesIO(clean)) as im:
        assert im.format == "JPEG" and max(im.size) <= 1600 and not im.getexif()
    on_disk = stored(files)
    assert len(on_disk) == 2  # the photo and its thumbnail
    for path in on_disk:
        raw = path.read_bytes()
        assert_sealed(raw)
        with pytest.raises(Exception):
            Image.open(io.BytesIO(raw))
    assert {o.key for o in on_disk} == {photo.photo_key, photo.thumb_key}  # in the bucket, not static/


@pytest.mark.promise("P16")
def test_the_family_and_the_teacher_see_the_photo_privately_and_nobody_else(client, app, files):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    _send(client, fam.ben, item, jpeg_with_gps())
    photo = db.session.scalar(sa.select(Contribution))
    page = client.get("/family/").get_data(as_text=True)
    assert f'src="/family/photos/{photo.id}/thumb"' in page
    for size in ("thumb", "photo"):
        r = client.get(f"/family/photos/{photo.id}/{size}")
        assert r.status_code == 200 and r.mimetype == "image/jpeg"
        assert r.headers["Cache-Control"].startswith("private") and not has_gps(r.data)
    teacher = app.test_client()
    f.login(teacher, fam.teacher)
    r = teacher.get(f"/teach/contributions/{photo.id}/photo")
    assert r.status_code == 200 and "private" in r.headers["Cache-Control"]
    assert not has_gps(r.data)
    stranger = app.test_client()
    f.login(stranger, fam.stranger)
    assert stranger.get(f"/family/photos/{photo.id}/photo").status_code == 404
    other_teacher = app.test_client()
    f.login(other_teacher, f.staff(f.school(), classes=[]))
    assert other_teacher.get(f"/teach/contributions/{photo.id}/photo").status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(f"/family/photos/{photo.id}/photo").status_code == 302


@pytest.mark.promise("P04")
def test_a_photo_has_its_own_opt_in(client, files):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    consent.record(fam.parent.id, ConsentPurpose.PROMO_PHOTOS, True, method=ConsentMethod.WEB_FORM)
    db.session.commit()
    f.login(client, fam.parent)
    _send(client, fam.ben, item, jpeg_with_gps(), comment="Look!", photo_promo="y")
    rows = {c.kind.value: c for c in db.session.scalars(sa.select(Contribution))}
    assert rows["photo"].promo_opt_in is True and rows["comment"].promo_opt_in is False
    [record] = db.session.scalars(
        sa.select(ConsentRecord).where(ConsentRecord.purpose == ConsentPurpose.CONTRIBUTION_PROMO)
    ).all()
    assert record.contribution_id == rows["photo"].id and record.granted


@pytest.mark.parametrize(
    "name,data,words",
    [
        ("homework.jpg", b"Dear teacher, here is our homework.\n" * 40, "not a photo we can use"),
        ("cute.png", None, "too many pixels"),
        ("dance.webp", None, "still photo"),
        ("cut.jpg", None, "damaged or incomplete"),
        ("deep.png", None, "too large for us to process"),
    ],
    ids=["text-named-jpg", "png-bomb", "animated-webp", "truncated-jpeg", "16-bit-6000px-png"],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_bad_uploads_get_a_clear_422_and_nothing_is_stored(client, files, name, data, words, htmx):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    if data is None:
        data = {
            "cute.png": png,
            "dance.webp": _animated_webp,
            "deep.png": png16,
            "cut.jpg": lambda: jpeg_with_gps()[:30000],
        }[name]()
    f.login(client, fam.parent)
    r = _send(
        client, fam.ben, item, data, name=name, headers=HX if htmx else None, comment="with a comment too"
    )
    body = unescape(r.get_data(as_text=True))
    assert r.status_code == 422 and words in body
    assert "with a comment too" in body  # the comment typed is kept for another try
    if htmx:
        assert body.lstrip().startswith(f'<div id="s-{fam.ben.id}-{item.id}">')
    else:
        assert "<html" in body and "<h1>Send a comment or photo</h1>" in body
    assert stored(files) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contribution)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Engagement)) == 0


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_a_30mb_upload_is_refused_with_a_friendly_message_on_the_page(client, files, htmx):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    r = _send(
        client,
        fam.ben,
        item,
        b"\xff\xd8\xff" + b"0" * (30 * 1024 * 1024),
        name="big.jpg",
        headers=HX if htmx else None,
    )
    body = unescape(r.get_data(as_text=True))
    assert r.status_code == 413
    assert "too big to send" in body and "12 MB" in body
    if htmx:
        assert body.lstrip().startswith(f'<div id="s-{fam.ben.id}-{item.id}">')
    else:  # the sending page again, not an error page
        assert "<h1>Send a comment or photo</h1>" in body and 'type="file"' in body
    assert stored(files) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contribution)) == 0


def test_an_oversized_post_elsewhere_still_gets_the_error_page(client, files):
    fam = family()
    f.login(client, fam.parent)
    r = client.post("/family/settings/details", data={"name": "x" * (13 * 1024 * 1024)})
    assert r.status_code == 413 and "too big" in r.get_data(as_text=True)


def test_if_the_database_fails_the_stored_photo_is_discarded(client, files, monkeypatch):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    consent.record(fam.parent.id, ConsentPurpose.PROMO_PHOTOS, True, method=ConsentMethod.WEB_FORM)
    db.session.commit()
    f.login(client, fam.parent)
    from app.learning import engagement

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(engagement.consent, "record", broken)
    with pytest.raises(RuntimeError):
        _send(client, fam.ben, item, jpeg_with_gps(), photo_promo="y")
    assert stored(files) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contribution)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Engagement)) == 0


def test_a_photo_hidden_by_the_school_is_no_longer_served_to_the_family(client, files):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    _send(client, fam.ben, item, jpeg_with_gps())
    photo = db.session.scalar(sa.select(Contribution))
    from app.learning.classroom import set_hidden

    set_hidden(photo, fam.teacher, True)
    assert client.get(f"/family/photos/{photo.id}/thumb").status_code == 404
    assert f"/family/photos/{photo.id}/" not in client.get("/family/").get_data(as_text=True)


def test_a_photo_too_large_to_decode_is_refused_from_its_header(client, files, decodes):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    r = _send(client, fam.ben, item, png16(), name="scan.png", comment="Our drawing")
    body = unescape(r.get_data(as_text=True))
    assert r.status_code == 422
    assert "too large for us to process (6,000 × 6,000 pixels, in 16-bit colour)" in body
    assert "Our drawing" in body and decodes == []
    assert stored(files) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contribution)) == 0


def _small_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 160, 90)).save(out, "JPEG")
    return out.getvalue()


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_photo_uploads_are_limited_per_account(app, client, files, monkeypatch, htmx):
    monkeypatch.setitem(app.config, "PHOTO_UPLOAD_LIMIT", "3 per hour")
    fam = family()
    item = item_of(fam.numbers, fam.count)
    carer = f.parent(name="Kim Carer")  # Ben's other carer, with an account of their own
    db.session.add(Guardianship(parent_id=carer.id, pupil_id=fam.ben.id))
    db.session.commit()
    f.login(client, fam.parent)
    headers = HX if htmx else None
    for _ in range(3):
        assert _send(client, fam.ben, item, _small_jpeg(), headers=headers).status_code in (200, 303)
    r = _send(client, fam.ben, item, _small_jpeg(), headers=headers, comment="One more")
    body = unescape(r.get_data(as_text=True))
    assert r.status_code == 429
    assert "sent a lot of photos in a short time" in body and "One more" in body
    assert "Retry-After" in r.headers
    if htmx:
        assert body.lstrip().startswith(f'<div id="s-{fam.ben.id}-{item.id}">')
    else:
        assert "<h1>Send a comment or photo</h1>" in body
    photos_sent = (
        sa.select(sa.func.count()).select_from(Contribution).where(Contribution.photo_key.is_not(None))
    )
    assert db.session.scalar(photos_sent) == 3 and len(stored(files)) == 6
    # A comment alone still goes; so does a photo from another account, for the same child.
    assert _send(client, fam.ben, item, None, comment="No photo").status_code == 303
    other = app.test_client()
    f.login(other, carer)
    assert _send(other, fam.ben, item, _small_jpeg()).status_code == 303
    assert db.session.scalar(photos_sent) == 4
