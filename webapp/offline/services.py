"""Writes of the offline package: a device's report of its outbox, and the checks on an exported outbox file
before a supervisor's import applies it (webapp/offline/importer.py)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select

from webapp import audit
from webapp.auth import access
from webapp.auth.models import Role, User
from webapp.db import utcnow
from webapp.extensions import db
from webapp.offline.models import CLIENT_ID_LENGTH, DeviceReport
from webapp.web import ServiceError

OUTBOX_FORMAT = "suijian-outbox/1"
MAX_ENTRIES = 5000


# ------------------------------------------------------------------------------------------ device reports


def _count(payload: dict, key: str) -> int:
    value = payload.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ServiceError(_("设备报告中的“%(key)s”应为非负整数。", key=key))
    return value


def _moment(payload: dict, key: str) -> dt.datetime | None:
    value = payload.get(key)
    if value in (None, ""):
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ServiceError(_("设备报告中的“%(key)s”不是有效时间。", key=key)) from None
    if moment.tzinfo is None:
        raise ServiceError(_("设备报告中的“%(key)s”缺少时区。", key=key))
    return moment.astimezone(dt.UTC)


def save_device_report(user: User, payload: Any) -> DeviceReport:
    """Keep what a device says about its outbox; the newest report per (user, device) replaces the previous one.

    A report is telemetry, not a change of a record: it is not audited.
    """
    if not isinstance(payload, dict):
        raise ServiceError(_("设备报告格式无效。"))
    device_id = payload.get("device_id")
    if not isinstance(device_id, str) or not device_id.strip() or len(device_id) > 64:
        raise ServiceError(_("设备报告缺少有效的设备编号。"))
    storage = payload.get("storage") or {}
    if not isinstance(storage, dict):
        raise ServiceError(_("设备报告格式无效。"))
    values = {
        "pending": _count(payload, "pending"),
        "rejected": _count(payload, "rejected"),
        "last_sync_at": _moment(payload, "last_sync_at"),
        "oldest_pending_at": _moment(payload, "oldest_pending_at"),
        "storage_usage": _count(storage, "usage") if storage.get("usage") is not None else None,
        "storage_quota": _count(storage, "quota") if storage.get("quota") is not None else None,
        "persisted": storage["persisted"] if isinstance(storage.get("persisted"), bool) else None,
        "reported_at": utcnow(),
    }
    report = db.session.execute(
        select(DeviceReport).where(DeviceReport.user_id == user.id, DeviceReport.device_id == device_id)
    ).scalar_one_or_none()
    if report is None:
        report = DeviceReport(user_id=user.id, device_id=device_id)
        db.session.add(report)
    for key, value in values.items():
        setattr(report, key, value)
    db.session.flush()
    return report


# ------------------------------------------------------------------------------------------ outbox import


@dataclass
class OutboxFile:
    name: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class OutboxEntry:
    """One queued change of an exported outbox, checked: its id, path and form content."""

    index: int
    client_id: str
    path: str
    fields: list[tuple[str, str]]
    files: list[OutboxFile] = field(default_factory=list)
    problem: str | None = None  # why it cannot be applied at all (then it is listed as refused)


@dataclass
class Outbox:
    user: User
    entries: list[OutboxEntry]


def _entry(index: int, raw: Any) -> OutboxEntry:
    bad = OutboxEntry(index, "", "", [])
    if not isinstance(raw, dict):
        bad.problem = _("条目格式无效")
        return bad
    client_id = raw.get("id")
    url = raw.get("url")
    if not isinstance(client_id, str) or not 0 < len(client_id) <= CLIENT_ID_LENGTH:
        bad.problem = _("条目缺少有效编号")
        return bad
    bad.client_id = client_id
    if not isinstance(url, str) or (raw.get("method") or "POST").upper() != "POST":
        bad.problem = _("条目的地址或方法无效")
        return bad
    parts = urlsplit(url)
    entry = OutboxEntry(index, client_id, parts.path, [])
    pairs = raw.get("fields") or []
    if not isinstance(pairs, list) or not all(
        isinstance(p, list | tuple) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in pairs
    ):
        entry.problem = _("条目的表单内容无效")
        return entry
    entry.fields = [(name, value) for name, value in pairs]
    for f in raw.get("files") or []:
        try:
            data = base64.b64decode(f["data"], validate=True)
            name, filename = str(f["field"]), str(f.get("filename") or "photo.jpg")
        except (KeyError, TypeError, ValueError, binascii.Error):
            entry.problem = _("条目中的文件无法读取")
            return entry
        if f.get("sha256") and hashlib.sha256(data).hexdigest() != f["sha256"]:
            entry.problem = _("条目中的文件与其校验值不符，文件可能已损坏")
            return entry
        entry.files.append(OutboxFile(name, filename, str(f.get("type") or "application/octet-stream"), data))
    return entry


def read_outbox(supervisor: User, raw: bytes) -> Outbox:
    """Check an exported outbox file: its format, and that its user is an inspector the supervisor oversees."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ServiceError(_("文件不是有效的导出文件（JSON）。"), field="file") from None
    if not isinstance(doc, dict) or doc.get("format") != OUTBOX_FORMAT:
        raise ServiceError(_("文件格式不符：应为“未同步数据”导出文件（%(f)s）。", f=OUTBOX_FORMAT), field="file")
    user_id = doc.get("user_id")
    user = db.session.get(User, user_id) if isinstance(user_id, int) and not isinstance(user_id, bool) else None
    if user is None or user.role != Role.INSPECTOR or not access.supervises_inspector(supervisor, user):
        raise ServiceError(_("该文件属于本单位及下级单位以外的人员，不能导入。"), field="file")
    if not user.active:
        raise ServiceError(_("该检查人员的账号已停用，不能以其身份导入。"), field="file")
    entries = doc.get("entries")
    if not isinstance(entries, list):
        raise ServiceError(_("文件中没有条目列表。"), field="file")
    if len(entries) > MAX_ENTRIES:
        raise ServiceError(_("文件中的条目过多（最多%(n)d条）。", n=MAX_ENTRIES), field="file")
    return Outbox(user, [_entry(i, e) for i, e in enumerate(entries, start=1)])


def record_import(supervisor: User, inspector: User, counts: dict[str, int], filename: str) -> None:
    """The audit event of an import: who imported whose outbox, and what became of its entries."""
    audit.record(
        supervisor,
        "offline.import",
        ("user", inspector.id),
        {"inspector": inspector.username, "file": filename, **counts},
        org_id=inspector.org_id,
    )
