"""The object store behind photos, signatures, exports, import files and audit anchors, tested the same way
against the local folder and against a real S3 API (moto's standalone server on 127.0.0.1: .ci/run starts one and
sets S3_TEST_ENDPOINT_URL; without it the tests start their own, and skip outside CI when moto is not installed).
"""

from __future__ import annotations

import hashlib
import io
import os

import boto3
import pytest

from tests.helpers import s3_test_bucket
from webapp import storage


def _s3_client():
    """A plain boto3 client on the test server, to look into the bucket behind the store's back."""
    return boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"])


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, monkeypatch) -> storage.Storage:
    if request.param == "local":
        return storage.LocalStorage(tmp_path)
    return storage.from_url(s3_test_bucket(monkeypatch))


def test_content_addressed_put_get_open_exists(store):
    data = b"\xff\xd8 a photo's bytes \xff\xd9"
    key = store.put(data)
    assert key == hashlib.sha256(data).hexdigest()
    assert store.put(data) == key  # the same bytes again: the same key, nothing new
    assert store.exists(key) and not store.exists(key, "png")
    assert store.get(key) == data
    with store.open(key) as fh:
        assert fh.read() == data
    png = store.put(b"a signature", "png")
    assert store.get(png, "png") == b"a signature"


def test_missing_and_malformed_keys(store):
    missing = "0" * 64
    assert not store.exists(missing)
    with pytest.raises(FileNotFoundError):
        store.get(missing)
    with pytest.raises(FileNotFoundError):
        store.open(missing)
    for bad in ("../../etc/passwd", "A" * 64, "a" * 63, ""):
        with pytest.raises(ValueError):
            store.get(bad)
    with pytest.raises(ValueError):
        store.put(b"x", "../x")


def test_named_objects_put_get_list_delete(store):
    store.put_object("imports/J-abc.xlsx", b"first upload")
    store.put_object("imports/J-abd.csv", io.BytesIO(b"a,b\n1,2\n"))  # a stream, as an upload arrives
    store.put_object("exports/E-1.xlsx", b"other")
    assert store.get_object("imports/J-abc.xlsx") == b"first upload"
    with store.open_object("imports/J-abd.csv") as fh:
        assert fh.read() == b"a,b\n1,2\n"
    assert store.list_objects("imports/") == ["imports/J-abc.xlsx", "imports/J-abd.csv"]
    assert store.object_exists("imports/J-abc.xlsx")

    store.put_object("imports/J-abc.xlsx", b"replaced")  # a plain put overwrites
    assert store.get_object("imports/J-abc.xlsx") == b"replaced"

    store.delete_object("imports/J-abc.xlsx")
    store.delete_object("imports/J-abc.xlsx")  # deleting what is gone is not an error
    assert not store.object_exists("imports/J-abc.xlsx")
    with pytest.raises(FileNotFoundError):
        store.get_object("imports/J-abc.xlsx")
    assert store.list_objects("imports/") == ["imports/J-abd.csv"]
    assert store.list_objects("nothing-here/") == []


def test_create_only_never_overwrites(store):
    """Audit anchors are written create-only: an existing object is never replaced."""
    store.put_object("audit-anchors/2026-01-01/a.json", b'{"count": 3}', create_only=True)
    with pytest.raises(FileExistsError):
        store.put_object("audit-anchors/2026-01-01/a.json", b'{"count": 1}', create_only=True)
    assert store.get_object("audit-anchors/2026-01-01/a.json") == b'{"count": 3}'


def test_names_cannot_escape_or_collide_with_content_keys(store):
    for bad in ("", "/etc/passwd", "../x", "imports/../../x", "imports//x", "imports/.hidden", "ab/cd/x.jpg", "x y"):
        with pytest.raises(ValueError):
            store.put_object(bad, b"x")
        with pytest.raises(ValueError):
            store.get_object(bad)


def test_local_copy_gives_a_readable_file(store):
    data = bytes(range(256)) * 4096  # 1 MiB
    store.put_object("imports/J-big.xlsx", io.BytesIO(data))
    with store.local_copy("imports/J-big.xlsx") as path:
        assert path.suffix == ".xlsx"
        assert path.read_bytes() == data
    with pytest.raises(FileNotFoundError), store.local_copy("imports/J-none.xlsx"):
        pass


def test_s3_url_and_layout(monkeypatch):
    url = s3_test_bucket(monkeypatch)
    store = storage.from_url(url)
    assert isinstance(store, storage.S3Storage)
    bucket = url.removeprefix("s3://").split("/")[0]
    assert (store.bucket, store.prefix) == (bucket, "suijian/")
    key = store.put(b"photo")
    store.put_object("imports/J-1.csv", b"a")
    names = sorted(o["Key"] for o in _s3_client().list_objects_v2(Bucket=bucket)["Contents"])
    assert names == [f"suijian/{key[:2]}/{key[2:4]}/{key}.jpg", "suijian/imports/J-1.csv"]
    with pytest.raises(ValueError):
        storage.from_url("s3:///prefix-without-bucket")
    with pytest.raises(ValueError):
        storage.from_url("ftp://example/x")


def test_the_app_stores_through_an_s3_storage_url(app, db, monkeypatch):
    """With STORAGE_URL=s3://… the app's photos (and every other file) go to the bucket, not the disk."""
    url = s3_test_bucket(monkeypatch)
    monkeypatch.setitem(app.config, "STORAGE_URL", url)
    key = storage.put(b"stored through the app's STORAGE_URL")
    assert storage.get(key) == b"stored through the app's STORAGE_URL"
    bucket = url.removeprefix("s3://").split("/")[0]
    body = _s3_client().get_object(Bucket=bucket, Key=f"suijian/{key[:2]}/{key[2:4]}/{key}.jpg")["Body"]
    assert body.read() == b"stored through the app's STORAGE_URL"
    with pytest.raises(ValueError):
        storage.path(key)  # an S3 object has no local path


def test_a_photo_uploaded_with_s3_storage_lives_in_the_bucket(client, db, scene, app, monkeypatch, tmp_path):
    """The whole path on S3: upload a finding's photo, see its object in the bucket, view it back."""
    from PIL import Image
    from sqlalchemy import select

    from tests.helpers import login, new_uuid
    from webapp.inspections.models import Inspection, Photo

    url = s3_test_bucket(monkeypatch)
    monkeypatch.setitem(app.config, "STORAGE_URL", url)
    bucket = url.removeprefix("s3://").split("/")[0]
    base = f"/inspections/tasks/{scene.task.public_id}"
    login(client, "lead")
    client.post(f"{base}/start", data={"client_uuid": new_uuid()})
    client.post(f"{base}/findings", data={"text": "灭火器压力不足"}, headers={"HX-Request": "true"})
    finding = db.session.execute(select(Inspection)).scalar_one().findings[0]
    jpeg = io.BytesIO()
    Image.new("RGB", (800, 600), (200, 30, 30)).save(jpeg, "JPEG", quality=80)
    r = client.post(
        f"{base}/findings/{finding.public_id}/photos", data={"photo": (io.BytesIO(jpeg.getvalue()), "a.jpg")}
    )
    assert r.status_code == 201, r.get_data(as_text=True)

    photo = db.session.execute(select(Photo)).scalar_one()
    names = {o["Key"] for o in _s3_client().list_objects_v2(Bucket=bucket)["Contents"]}
    for sha in (photo.sha256, photo.thumb_sha256):
        assert f"suijian/{sha[:2]}/{sha[2:4]}/{sha}.jpg" in names
    view = client.get(f"/inspections/photos/{photo.public_id}")
    assert view.status_code == 200 and view.data == storage.get(photo.sha256)
    assert client.get(f"/inspections/photos/{photo.public_id}/thumb").status_code == 200


def test_an_export_stored_on_s3_streams_as_a_download(app, monkeypatch):
    """Exports are kept content-addressed and sent with web.xlsx_response (which needs a real file object)."""
    from webapp.web import xlsx_response

    monkeypatch.setitem(app.config, "STORAGE_URL", s3_test_bucket(monkeypatch))
    workbook = b"PK\x03\x04" + bytes(range(256)) * 40_000  # ~10 MB: more than the store keeps in memory
    with app.test_request_context():
        key = storage.put(workbook, "xlsx")
        resp = xlsx_response(storage.open(key, "xlsx"), "抽查结果.xlsx")
        assert resp.headers["Content-Length"] == str(len(workbook))
        assert b"".join(resp.response) == workbook
