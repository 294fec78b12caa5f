"""Photos of findings: unguessable URLs, served only to the task's inspectors and its organisation's supervisors."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from tests.helpers import login, new_uuid
from webapp.auth.models import User
from webapp.inspections import photos as photo_services
from webapp.inspections.models import Inspection, Photo

HX = {"HX-Request": "true"}


def _url(scene, name=""):
    return f"/inspections/tasks/{scene.task.public_id}{name}"


def _finding(client, db, scene):
    login(client, "lead")
    client.post(_url(scene, "/start"), data={"client_uuid": new_uuid()})
    client.post(_url(scene, "/findings"), data={"text": "灭火器压力不足"}, headers=HX)
    db.session.expire_all()
    return db.session.execute(select(Inspection)).scalar_one()


def _jpeg(size=(2000, 1500)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _fake_photo(db, insp) -> Photo:
    p = Photo(inspection_id=insp.id, finding_id=insp.findings[0].id, sha256="a" * 64, thumb_sha256="b" * 64)
    db.session.add(p)
    db.session.commit()
    return p


def test_photo_token_is_unguessable(client, db, scene):
    insp = _finding(client, db, scene)
    p = _fake_photo(db, insp)
    assert len(p.public_id) >= 32 and p.sha256 not in p.public_id


@pytest.mark.parametrize(
    "who,allowed", [("lead", True), ("partner", True), ("boss", True), ("other", False), ("otherboss", False)]
)
def test_who_may_see_a_photo(client, db, scene, who, allowed):
    insp = _finding(client, db, scene)
    p = _fake_photo(db, insp)
    user = db.session.execute(select(User).where(User.username == who)).scalar_one()
    assert (photo_services.photo_for(user, p.public_id) is not None) is allowed
    if not allowed:
        client.post("/logout")
        login(client, who)
        assert client.get(f"/inspections/photos/{p.public_id}").status_code == 404
        assert client.get(f"/inspections/photos/{p.public_id}/thumb").status_code == 404


def test_anonymous_cannot_fetch_a_photo_or_upload(client, db, scene):
    insp = _finding(client, db, scene)
    p = _fake_photo(db, insp)
    fid = insp.findings[0].public_id
    client.post("/logout")
    assert client.get(f"/inspections/photos/{p.public_id}").status_code == 302
    r = client.post(_url(scene, f"/findings/{fid}/photos"), data={"photo": (io.BytesIO(b"x"), "a.jpg")})
    assert r.status_code == 302


def test_another_inspector_cannot_upload_to_the_finding(client, db, scene):
    insp = _finding(client, db, scene)
    fid = insp.findings[0].public_id
    client.post("/logout")
    login(client, "other")
    r = client.post(_url(scene, f"/findings/{fid}/photos"), data={"photo": (io.BytesIO(_jpeg()), "a.jpg")})
    assert r.status_code == 404
    assert db.session.query(Photo).count() == 0


def test_upload_to_a_finding_of_another_task_is_404(client, db, scene):
    _finding(client, db, scene)
    r = client.post(_url(scene, "/findings/not-a-finding/photos"), data={"photo": (io.BytesIO(_jpeg()), "a.jpg")})
    assert r.status_code == 404


def test_upload_stores_photo_and_retry_gives_one_photo(client, db, scene):
    insp = _finding(client, db, scene)
    fid = insp.findings[0].public_id
    cu = new_uuid()
    data = _jpeg()
    r = client.post(
        _url(scene, f"/findings/{fid}/photos"), data={"photo": (io.BytesIO(data), "a.jpg"), "client_uuid": cu}
    )
    assert r.status_code == 201, r.get_data(as_text=True)
    again = client.post(
        _url(scene, f"/findings/{fid}/photos"), data={"photo": (io.BytesIO(data), "a.jpg"), "client_uuid": cu}
    )
    assert again.status_code == 201
    photo = db.session.execute(select(Photo)).scalar_one()
    assert len(photo.sha256) == 64 and photo.thumb_sha256
    img = client.get(f"/inspections/photos/{photo.public_id}")
    assert img.status_code == 200 and img.data[:2] == b"\xff\xd8"
    assert client.get(f"/inspections/photos/{photo.public_id}/thumb").status_code == 200
    bad = client.post(_url(scene, f"/findings/{fid}/photos"), data={"photo": (io.BytesIO(b"not an image"), "a.jpg")})
    assert bad.status_code == 422 and "不是图片" in bad.get_data(as_text=True)
    assert db.session.query(Photo).count() == 1
    # the fingerprint is part of the submitted record
    from webapp.inspections.record import content_of

    db.session.expire_all()
    assert photo.sha256 in content_of(db.session.get(Inspection, insp.id))["photos"]


def _exif_block() -> bytes:
    from PIL import Image

    ex = Image.Exif()
    ex.get_ifd(0x8769)[0x9003] = "2026:11:20 09:30:00"  # DateTimeOriginal, Asia/Shanghai
    gps = ex.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (34.0, 43.0, 38.0), "E", (112.0, 47.0, 16.0)
    return ex.tobytes()


def test_capture_time_and_gps_survive_the_browser_downscale(client, db, scene):
    """The browser's canvas drops EXIF; photo.js sends the original's EXIF block beside the image."""
    insp = _finding(client, db, scene)
    fid = insp.findings[0].public_id
    r = client.post(
        _url(scene, f"/findings/{fid}/photos"),
        data={"photo": (io.BytesIO(_jpeg((1600, 1200))), "p.jpg"), "exif": (io.BytesIO(_exif_block()), "exif.bin")},
    )
    assert r.status_code == 201
    photo = db.session.execute(select(Photo)).scalar_one()
    assert photo.captured_at.isoformat() == "2026-11-20T01:30:00+00:00"
    assert round(photo.gps_lat, 4) == 34.7272 and round(photo.gps_lon, 4) == 112.7878
    # and the stored image itself carries no metadata
    from PIL import Image

    stored = client.get(f"/inspections/photos/{photo.public_id}").data
    assert not Image.open(io.BytesIO(stored)).getexif()


def test_garbage_exif_is_ignored(client, db, scene):
    insp = _finding(client, db, scene)
    fid = insp.findings[0].public_id
    r = client.post(
        _url(scene, f"/findings/{fid}/photos"),
        data={"photo": (io.BytesIO(_jpeg((800, 600))), "p.jpg"), "exif": (io.BytesIO(b"Exif\x00\x00garbage"), "e")},
    )
    assert r.status_code == 201
    photo = db.session.execute(select(Photo)).scalar_one()
    assert photo.captured_at is None and photo.gps_lat is None
