"""Photos of findings: processed by webapp/inspections/images.py, stored by content hash, served only to those
who may see the task. URLs carry an unguessable token (the photo's ``public_id``), never the hash."""

from __future__ import annotations

import hashlib
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from webapp import audit, storage
from webapp.auth import access
from webapp.auth.models import User
from webapp.extensions import db
from webapp.inspections import images as photos
from webapp.inspections.models import Finding, Photo
from webapp.inspections.record import Conflict, InspectionError, TaskContext, optional_uuid, require_draft, started

MAX_PHOTOS_PER_FINDING = 20
MAX_EXIF_BYTES = 64 * 1024


def exif_metadata(exif_bytes: bytes | None) -> tuple[Any, float | None, float | None]:
    """Capture time and GPS from the original photo's EXIF block, which the browser sends beside the
    downscaled image (a canvas drops all metadata). Anything unreadable gives (None, None, None)."""
    from PIL import Image

    if not exif_bytes or len(exif_bytes) > MAX_EXIF_BYTES:
        return None, None, None
    try:
        exif = Image.Exif()
        exif.load(exif_bytes)
        lat, lon = photos.gps_of(exif)  # the pipeline's own readers, so both paths agree
        return photos.capture_time(exif), lat, lon
    except Exception:  # untrusted bytes; the metadata is optional
        return None, None, None


def add_photo(
    user: User, ctx: TaskContext, finding: Finding, data: bytes, client_uuid: Any = None, exif: bytes | None = None
) -> Photo:
    """Check, strip and store one photo for ``finding``. A retried upload (same client UUID) is one photo."""
    insp = started(ctx)
    cu = optional_uuid(client_uuid)
    if cu:
        existing = db.session.execute(select(Photo).where(Photo.client_uuid == cu)).scalar_one_or_none()
        if existing is not None:
            if existing.finding_id != finding.id or (
                data and existing.original_sha256 not in (None, hashlib.sha256(data).hexdigest())
            ):
                raise Conflict(_("该照片编号已用于另一张照片或另一个问题。"))
            return existing  # a retried upload: the photo already stored
    require_draft(insp)
    if not data:
        raise InspectionError({"photo": _("请选择或拍摄一张照片。")})
    if len(finding.photos) >= MAX_PHOTOS_PER_FINDING:
        raise InspectionError({"photo": _("每个问题最多%(n)s张照片。", n=MAX_PHOTOS_PER_FINDING)})
    try:
        processed = photos.process(data)
    except photos.PhotoError as exc:
        raise InspectionError(exc.errors) from None
    captured_at, gps_lat, gps_lon = processed.captured_at, processed.gps_lat, processed.gps_lon
    if captured_at is None and gps_lat is None:
        captured_at, gps_lat, gps_lon = exif_metadata(exif)
    stored_sha = storage.put(processed.image)
    thumb_sha = storage.put(processed.thumbnail)
    photo = Photo(
        client_uuid=cu,
        inspection_id=insp.id,
        finding_id=finding.id,
        sha256=stored_sha,
        original_sha256=hashlib.sha256(data).hexdigest(),
        thumb_sha256=thumb_sha,
        content_type=processed.content_type,
        width=processed.width,
        height=processed.height,
        size_bytes=len(processed.image),
        captured_at=captured_at,
        gps_lat=gps_lat,
        gps_lon=gps_lon,
        uploaded_by_id=user.id,
    )
    db.session.add(photo)
    finding.photos.append(photo)
    insp.photos.append(photo)
    db.session.flush()
    audit.record(user, "inspection.photo_add", insp, {"finding": finding.id, "sha256": stored_sha})
    return photo


def photo_for(user: User, token: str) -> Photo | None:
    """The photo if ``user`` may see it (:func:`webapp.auth.access.can_view_record_media`), else None (→ 404)."""
    photo = db.session.execute(select(Photo).where(Photo.public_id == token)).scalar_one_or_none()
    if photo is None:
        return None
    return photo if access.can_view_record_media(user, photo.inspection) else None


def photo_bytes(photo: Photo, thumb: bool = False) -> bytes | None:
    sha = photo.thumb_sha256 if thumb and photo.thumb_sha256 else photo.sha256
    try:
        return storage.get(sha)
    except (FileNotFoundError, KeyError, ValueError):
        return None
