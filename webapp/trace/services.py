"""Writes of the trace (扫码亮证): open the code, count a scan, the unit's rating, a misconduct report.

Plain functions over the session: they check the rules, write an audit event in the same transaction and never
commit (the view does). The public's acts are audited with the actor ``public``: nothing identifies who scanned,
rated or reported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from flask_babel import gettext as _
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from webapp import audit
from webapp.db import utcnow
from webapp.extensions import db
from webapp.inspections.models import Inspection, InspectionStatus
from webapp.trace.models import InspectionTrace, TraceRating, TraceReport, TraceScan
from webapp.web import ConflictError, ServiceError

PUBLIC_ACTOR = "public"  # the audit's actor name for whoever holds the code
MAX_COMMENT = 500
MAX_REPORT = 2000
MIN_REPORT = 5
MAX_CONTACT = 50
RESCAN = dt.timedelta(minutes=10)  # the same visitor again within this time is one scan


def root_inspection(inspection: Inspection) -> Inspection:
    """The first record of the task: a supplementary record (补充记录) shares the code of the one it supplements."""
    while inspection.supersedes is not None:
        inspection = inspection.supersedes
    return inspection


def trace_of(inspection: Inspection) -> InspectionTrace | None:
    root = root_inspection(inspection)
    if root.id is None:
        return None
    return db.session.execute(
        select(InspectionTrace).where(InspectionTrace.inspection_id == root.id)
    ).scalar_one_or_none()


def on_inspection_started(inspection: Inspection, user: object = None, **_kw: object) -> None:
    """events.inspection_started: the code is made with the check-in, in its transaction (亮码 right away)."""
    open_trace(inspection, user)


def open_trace(inspection: Inspection, actor: object) -> InspectionTrace:
    """The code of ``inspection`` (made once, after check-in: 亮码), audited as ``trace.opened``.

    Two requests at once make one code: the loser of the unique ``inspection_id`` takes the winner's.
    """
    root = root_inspection(inspection)
    if root.id is None or root.checkin_at is None:
        raise ConflictError(_("签到后才能出示检查码。"))
    found = trace_of(root)
    if found is not None:
        return found
    trace = InspectionTrace(inspection_id=root.id, org_id=root.org_id)
    try:
        with db.session.begin_nested():
            db.session.add(trace)
            db.session.flush()
    except IntegrityError:
        found = trace_of(root)
        if found is None:
            raise
        return found
    audit.record(actor, "trace.opened", trace, {"inspection": root.public_id}, org_id=root.org_id)
    return trace


def visitor_hash(secret: str, address: str | None, agent: str | None, day: dt.date) -> str:
    """Who scanned, as a value that cannot be turned back into an address and changes every day."""
    message = f"{day.isoformat()}|{address or ''}|{agent or ''}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def record_scan(trace: InspectionTrace, visitor: str, now: dt.datetime | None = None) -> bool:
    """Count a scan of the code (``trace.scanned``); a reload by the same visitor within ``RESCAN`` is not counted.

    Returns whether it was counted.
    """
    now = now or utcnow()
    again = db.session.execute(
        select(
            exists().where(TraceScan.trace_id == trace.id, TraceScan.visitor == visitor, TraceScan.at >= now - RESCAN)
        )
    ).scalar()
    if again:
        return False
    db.session.add(TraceScan(trace_id=trace.id, at=now, visitor=visitor))
    db.session.execute(
        update(InspectionTrace)
        .where(InspectionTrace.id == trace.id)
        .values(scan_count=InspectionTrace.scan_count + 1, last_scan_at=now)
    )
    db.session.refresh(trace)
    audit.record(PUBLIC_ACTOR, "trace.scanned", trace, {"count": trace.scan_count}, org_id=trace.org_id)
    return True


def is_finished(trace: InspectionTrace) -> bool:
    return trace.inspection.status == InspectionStatus.SUBMITTED


def _text(value: str | None) -> str:
    return (value or "").replace("\r\n", "\n").strip()


def rate(trace: InspectionTrace, visit: str | None, score: str | int | None, comment: str | None) -> TraceRating:
    """The unit confirms the visit and rates it (满意度 1–5, a comment): once per inspection, after submission."""
    if not is_finished(trace):
        raise ConflictError(_("检查结束后才能评价。"))
    if trace.rating is not None:
        raise ConflictError(_("本次检查已经评价过了，每次检查只能评价一次。"))
    errors: dict[str, str] = {}
    if visit not in ("yes", "no"):
        errors["visit"] = _("请确认检查人员是否到本单位进行了检查。")
    try:
        value = int(score) if score not in (None, "") else 0
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        errors["score"] = _("请选择满意度（1至5分）。")
    text = _text(comment)
    if len(text) > MAX_COMMENT:
        errors["comment"] = _("意见建议不能超过%(n)s个字。", n=MAX_COMMENT)
    if errors:
        raise ServiceError(errors)
    rating = TraceRating(
        trace_id=trace.id, org_id=trace.org_id, visit_confirmed=visit == "yes", score=value, comment=text or None
    )
    try:
        with db.session.begin_nested():
            db.session.add(rating)
            db.session.flush()
    except IntegrityError:
        raise ConflictError(_("本次检查已经评价过了，每次检查只能评价一次。")) from None
    audit.record(
        PUBLIC_ACTOR,
        "trace.rated",
        rating,
        {"trace": trace.id, "score": value, "visit_confirmed": rating.visit_confirmed, "comment": bool(text)},
        org_id=trace.org_id,
    )
    return rating


def report(trace: InspectionTrace, text: str | None, contact: str | None) -> TraceReport:
    """A report of misconduct (举报) to the supervisors of the inspecting organisation; the text is not audited."""
    body, contact = _text(text), _text(contact)
    errors: dict[str, str] = {}
    if len(body) < MIN_REPORT:
        errors["text"] = _("请写明反映的问题（至少%(n)s个字）。", n=MIN_REPORT)
    elif len(body) > MAX_REPORT:
        errors["text"] = _("反映的问题不能超过%(n)s个字。", n=MAX_REPORT)
    if len(contact) > MAX_CONTACT:
        errors["contact"] = _("联系方式不能超过%(n)s个字。", n=MAX_CONTACT)
    if errors:
        raise ServiceError(errors)
    row = TraceReport(trace_id=trace.id, org_id=trace.org_id, text=body, contact=contact or None)
    db.session.add(row)
    audit.record(
        PUBLIC_ACTOR, "trace.reported", row, {"trace": trace.id, "contact": bool(contact)}, org_id=trace.org_id
    )
    return row
