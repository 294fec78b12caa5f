"""Reads of the offline package: the day's pack of an inspector, the static files it needs, the devices' reports
of the inspectors a supervisor oversees."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, url_for
from sqlalchemy import func, select

from webapp.auth import access
from webapp.auth.models import Role, User
from webapp.db import utcnow
from webapp.extensions import db
from webapp.offline.models import DeviceReport, SyncLedger
from webapp.registry.models import Inspector
from webapp.tasks.models import Task, TaskAssignment, TaskStatus

PACK_DAYS = 7  # open tasks planned up to this many days ahead (and overdue ones) go into the pack
STALE_PENDING = dt.timedelta(days=1)  # changes waiting longer than this on a device are highlighted
# what the pages load from static/: styles, scripts, vendored libraries, icons (not the public site's style,
# nor the worker and manifest, which have their own URLs)
ASSET_SUFFIXES = (".css", ".js", ".png", ".svg", ".ico", ".webp", ".woff2")
ASSET_EXCLUDED = frozenset({"sw.js", "manifest.webmanifest", "css/public.css"})


def pack_tasks(inspector: Inspector | None, today: dt.date) -> list[Task]:
    """The inspector's open tasks (not cancelled, not submitted) planned up to PACK_DAYS ahead or overdue."""
    if inspector is None:
        return []
    stmt = (
        select(Task)
        .join(TaskAssignment, TaskAssignment.task_id == Task.id)
        .where(
            TaskAssignment.inspector_id == inspector.id,
            TaskAssignment.active.is_(True),
            Task.status.in_([TaskStatus.PLANNED, TaskStatus.IN_PROGRESS]),  # as 我的任务's open groups
            Task.planned_date <= today + dt.timedelta(days=PACK_DAYS),
        )
        .order_by(Task.planned_date, Task.id)
    )
    return list(db.session.execute(stmt).scalars().unique())


def pack_pages(tasks: list[Task]) -> list[str]:
    pages = [url_for("core.me")]
    for task in tasks:
        pages += [
            url_for("inspections.task", public_id=task.public_id),
            url_for("inspections.record", public_id=task.public_id),
            url_for("inspections.notice", public_id=task.public_id),
        ]
    pages.append(url_for("offline.device"))
    return pages


def static_files() -> list[str]:
    """Paths under static/ of every file the logged-in pages may load, sorted."""
    root = current_app.static_folder or ""
    found = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            rel = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
            if name.endswith(ASSET_SUFFIXES) and rel not in ASSET_EXCLUDED:
                found.append(rel)
    return sorted(found)


def pack_assets(asset_url: Callable[[str], str]) -> list[str]:
    """The URLs the pages use for their static files, exactly as the templates write them: vendored files carry
    their version in the name (``url_for('static', …)``), our own files a content hash (``asset_url``)."""
    urls = [url_for("static", filename=rel) if rel.startswith("vendor/") else asset_url(rel) for rel in static_files()]
    return [*urls, url_for("offline.shell")]


def assets_version(asset_url: Callable[[str], str]) -> str:
    """Changes whenever a static file or the worker changes: a deploy updates the phones' worker."""
    sha = hashlib.sha256("\n".join(pack_assets(asset_url)).encode())
    worker = os.path.join(current_app.static_folder or "", "sw.js")
    if os.path.exists(worker):
        with open(worker, "rb") as fh:
            sha.update(fh.read())
    return sha.hexdigest()[:12]


# ------------------------------------------------------------------------------- supervisors' overview


@dataclass
class DeviceRow:
    """One inspector's devices, summed: what is still waiting on them and when they last reported."""

    user: User
    devices: int
    pending: int
    rejected: int
    last_sync_at: dt.datetime | None
    oldest_pending_at: dt.datetime | None
    reported_at: dt.datetime | None
    stale: bool  # changes waiting for more than a day


def device_overview(supervisor: User, now: dt.datetime | None = None, limit: int = 100) -> tuple[list[DeviceRow], int]:
    """Per inspector of the supervisor's organisation subtree who has a device report: the summed report, the
    latest sync the server saw; those with stale or pending changes first. Also how many have no report."""
    now = now or utcnow()
    org_ids = access.visible_org_ids(supervisor)
    inspectors = select(User.id).where(User.role == Role.INSPECTOR, User.active.is_(True))
    if org_ids is not None:
        inspectors = inspectors.where(User.org_id.in_(org_ids))
    reports = (
        select(
            DeviceReport.user_id,
            func.count(DeviceReport.id),
            func.sum(DeviceReport.pending),
            func.sum(DeviceReport.rejected),
            func.max(DeviceReport.last_sync_at),
            func.min(DeviceReport.oldest_pending_at),
            func.max(DeviceReport.reported_at),
        )
        .where(DeviceReport.user_id.in_(inspectors))
        .group_by(DeviceReport.user_id)
    )
    summed = {r[0]: r[1:] for r in db.session.execute(reports)}
    synced = dict(
        db.session.execute(
            select(SyncLedger.user_id, func.max(SyncLedger.created_at))
            .where(SyncLedger.user_id.in_(list(summed)))
            .group_by(SyncLedger.user_id)
        ).all()
    )
    users = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(list(summed)))).scalars()}
    rows = []
    for uid, (devices, pending, rejected, last_sync, oldest, reported) in summed.items():
        server_sync = synced.get(uid)
        if server_sync is not None and server_sync.tzinfo is None:
            server_sync = server_sync.replace(tzinfo=dt.UTC)
        last = max((t for t in (last_sync, server_sync) if t is not None), default=None)
        pending = int(pending or 0)
        rows.append(
            DeviceRow(
                user=users[uid],
                devices=int(devices),
                pending=pending,
                rejected=int(rejected or 0),
                last_sync_at=last,
                oldest_pending_at=oldest if pending else None,
                reported_at=reported,
                stale=bool(pending and oldest is not None and now - oldest > STALE_PENDING),
            )
        )
    rows.sort(key=lambda r: (not r.stale, not (r.pending or r.rejected), r.user.display_name))
    total = db.session.execute(select(func.count()).select_from(inspectors.subquery())).scalar_one()
    return rows[:limit], total - len(rows)
