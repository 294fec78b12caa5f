"""On-site inspection logic: who may work on a task, check-in, checklist drafts, findings, result, submit.

Plain functions over the session; no ``request``. Callers commit. Every state change writes an audit event.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from webapp import audit, events
from webapp.auth import access
from webapp.auth.models import User
from webapp.catalog.models import ChecklistPoint
from webapp.db import lock_row, utcnow
from webapp.extensions import db
from webapp.inspections import checkin, signing
from webapp.inspections.labels import CATEGORY_LABELS, LOCATION_ERRORS, RESULT_LABELS
from webapp.inspections.models import (
    Answer,
    ChecklistAnswer,
    CheckResult,
    Finding,
    Inspection,
    InspectionStatus,
    PartnerPresence,
    Photo,
    PublishedCategory,
)
from webapp.inspections.record import (
    NEEDS_PROBLEMS,
    Conflict,
    Immutable,
    InspectionError,
    TaskContext,
    checkin_time,
    content_of,
    hash_content,
    optional_uuid,
    parse_coord,
    parse_device_time,
    parse_uuid,
    require_draft,
    started,
    transition,
)
from webapp.tasks.models import Task, TaskStatus
from webapp.web import FORM

MAX_NOTE = 1000
MAX_FINDING = 2000
MAX_BASIS = 500
MAX_REMARKS = 2000
LOCATION_REFUSED = "定位被拒绝或不可用"

# ------------------------------------------------------------------------------------------- access


def task_context(user: User, task_public_id: str) -> TaskContext | None:
    """The task if ``user`` may work on it (:func:`webapp.auth.access.can_work_on_task`) and it is not cancelled;
    otherwise None (the view answers 404)."""
    me = access.inspector_of(user)
    task = db.session.execute(select(Task).where(Task.public_id == task_public_id)).scalar_one_or_none()
    if me is None or task is None or task.status == TaskStatus.CANCELLED or not access.can_work_on_task(user, task):
        return None
    mine = [a for a in task.active_assignments if a.inspector_id == me.id]
    if not mine:
        return None
    ctx = TaskContext(task=task, me=me, assignment=mine[0])
    ctx.partners = [a for a in task.active_assignments if a.inspector_id != me.id]
    ctx.inspection = current_inspection(task)
    return ctx


def current_inspection(task: Task) -> Inspection | None:
    """The newest record of the task: the open draft if there is one, else the latest submitted one."""
    rows = list(
        db.session.execute(select(Inspection).where(Inspection.task_id == task.id).order_by(Inspection.id.desc()))
        .scalars()
        .all()
    )
    drafts = [r for r in rows if r.status == InspectionStatus.DRAFT]
    return drafts[0] if drafts else (rows[0] if rows else None)


def empty_draft(ctx: TaskContext, client_uuid: str) -> Inspection:
    """An empty record of the task that is never stored: the record page the day's pack keeps for a task not
    started yet, so a check-in made offline can go straight on (its forms post to the real endpoints)."""
    return Inspection(
        client_uuid=client_uuid,
        task=ctx.task,
        task_id=ctx.task.id,
        org_id=ctx.task.org_id,
        status=InspectionStatus.DRAFT,
    )


def versions(task: Task) -> list[Inspection]:
    return list(
        db.session.execute(select(Inspection).where(Inspection.task_id == task.id).order_by(Inspection.id))
        .scalars()
        .all()
    )


# ------------------------------------------------------------------------------------------- check-in


def start(
    user: User,
    ctx: TaskContext,
    client_uuid: Any,
    lat: Any = None,
    lon: Any = None,
    accuracy: Any = None,
    location_error: str | None = None,
    device_time: Any = None,
    offline: bool = False,
    far_reason: Any = None,
) -> Inspection:
    """开始检查: check in with time and position (or the reason there is none). Idempotent by UUID.

    ``device_time`` is the phone's clock when 开始检查 was tapped (ISO 8601 with offset) and ``offline`` says it
    was recorded without network: the record keeps the phone's time when plausible (record.checkin_time) and
    the server's receipt time beside it. A position farther from the unit than the organisation's radius needs
    ``far_reason`` (webapp.inspections.checkin); without it nothing is stored (InspectionError on ``far_reason``).
    """
    cu = parse_uuid(client_uuid)
    existing = db.session.execute(select(Inspection).where(Inspection.client_uuid == cu)).scalar_one_or_none()
    if existing is not None:
        if existing.task_id != ctx.task.id:
            raise Conflict(_("该记录编号已被使用。"))
        return existing
    # Lock the task row (PostgreSQL; SQLite serialises writers) and look again: when the partner tapped
    # 开始检查 at the same moment, their draft is joined instead of opening a second one.
    db.session.execute(select(Task.id).where(Task.id == ctx.task.id).with_for_update())
    ctx.inspection = current_inspection(ctx.task)
    if ctx.inspection is not None and ctx.inspection.status == InspectionStatus.DRAFT:
        return ctx.inspection  # someone already started: join their draft
    if ctx.inspection is not None:
        raise Immutable(_("本任务的检查记录已提交。"))
    lat_v, lon_v = parse_coord(lat, 90), parse_coord(lon, 180)
    if lat_v is None or lon_v is None:
        lat_v = lon_v = None
    place = checkin.assess(ctx.task, lat_v, lon_v)
    reason = checkin.clean_reason(far_reason)
    far_errors = checkin.check(place, reason)
    if far_errors:
        raise InspectionError(far_errors)
    now = utcnow()
    device_at = parse_device_time(device_time)
    earliest = ctx.task.draw.drawn_at if ctx.task.draw is not None and ctx.task.draw.drawn_at else None
    earliest = min(filter(None, (earliest, ctx.task.created_at)), default=None)
    checkin_at, checkin_note = checkin_time(device_at, now, earliest)
    insp = Inspection(
        client_uuid=cu,
        task_id=ctx.task.id,
        org_id=ctx.task.org_id,
        started_at=now,
        started_by_id=user.id,
        checkin_at=checkin_at,
        checkin_received_at=now,
        checkin_device_at=device_at,
        checkin_offline=bool(offline),
        checkin_note=checkin_note,
    )
    if lat_v is not None and lon_v is not None:
        insp.checkin_lat, insp.checkin_lon = lat_v, lon_v
        acc = parse_coord(accuracy, 1e6)
        insp.checkin_accuracy = abs(acc) if acc is not None else None
    else:
        insp.location_note = location_note(location_error)
    db.session.add(insp)
    db.session.flush()
    checkin.record_place(insp, place, reason)
    old_status = ctx.task.status
    if ctx.task.status == TaskStatus.PLANNED:
        ctx.task.status = TaskStatus.IN_PROGRESS
    audit.record(
        user,
        "inspection.start",
        insp,
        {
            "task": ctx.task.public_id,
            "task_status": [old_status.value, ctx.task.status.value],
            "lat": insp.checkin_lat,
            "lon": insp.checkin_lon,
            "accuracy": insp.checkin_accuracy,
            "location_note": insp.location_note,
            "checkin_at": checkin_at.isoformat(),
            "device_time": device_at.isoformat() if device_at else None,
            "received_at": now.isoformat(),
            "offline": bool(offline),
            "checkin_note": checkin_note,
            "distance_m": round(place.distance_m, 1) if place.distance_m is not None else None,
            "radius_m": place.radius_m,
            "far": place.far,
            "far_reason": reason or None,
        },
    )
    ctx.inspection = insp
    events.inspection_started.send(insp, user=user)  # e.g. the inspection's public code (trace)
    return insp


# the browser's own (English) messages of an older page, by their tell-tale words
_LOCATION_WORDS = (("denied", "denied"), ("permission", "denied"), ("timeout", "timeout"), ("timed out", "timeout"))


def location_note(location_error: Any) -> str:
    """Why the check-in has no position, always in Chinese: a code of the page (``denied`` …), or the browser's
    message of an older page read for its meaning (its English text never reaches the record)."""
    raw = location_error.strip().lower() if isinstance(location_error, str) else ""
    label = LOCATION_ERRORS.get(raw)
    if label is None:
        code = next((c for word, c in _LOCATION_WORDS if word in raw), None)
        label = LOCATION_ERRORS.get(code) if code else None
    return str(label) if label is not None else LOCATION_REFUSED


def record_partner(user: User, ctx: TaskContext) -> Inspection:
    """The partner confirms presence on their own phone, or the lead records the partner as present."""
    insp = started(ctx)
    require_draft(insp)
    if ctx.is_lead:
        partner = next((a for a in ctx.partners), None)
        if partner is None:
            raise InspectionError(_("本任务没有同组检查人员。"))
        if insp.partner_presence == PartnerPresence.CONFIRMED:
            return insp  # already confirmed by the partner themself
        insp.partner_inspector_id = partner.inspector_id
        insp.partner_presence = PartnerPresence.RECORDED_BY_LEAD
    else:
        insp.partner_inspector_id = ctx.me.id
        insp.partner_presence = PartnerPresence.CONFIRMED
    insp.partner_recorded_at = utcnow()
    audit.record(
        user,
        "inspection.partner",
        insp,
        {"partner_inspector": insp.partner_inspector_id, "presence": insp.partner_presence.value},
    )
    return insp


# ------------------------------------------------------------------------------------------ checklist


def points(ctx: TaskContext) -> list[ChecklistPoint]:
    return list(
        db.session.execute(
            select(ChecklistPoint)
            .where(ChecklistPoint.item_version_id == ctx.task.item_version_id)
            .order_by(ChecklistPoint.seq, ChecklistPoint.id)
        )
        .scalars()
        .all()
    )


def can_answer(ctx: TaskContext, point: ChecklistPoint) -> bool:
    """Joint tasks: each department's inspector fills their own department's points."""
    depts = {a.dept for a in ctx.task.active_assignments}
    return len(depts) <= 1 or point.dept == ctx.assignment.dept


def answers_by_point(insp: Inspection | None) -> dict[int, ChecklistAnswer]:
    return {a.point_id: a for a in insp.answers} if insp else {}


def save_answer(user: User, ctx: TaskContext, point_id: Any, answer: Any, note: Any) -> ChecklistAnswer:
    """Autosave one checklist answer into the draft."""
    insp = started(ctx)
    require_draft(insp)
    try:
        pid = int(point_id)
    except (TypeError, ValueError):
        raise InspectionError({"point": _("检查项不存在。")}) from None
    point = db.session.get(ChecklistPoint, pid)
    if point is None or point.item_version_id != ctx.task.item_version_id:
        raise InspectionError({"point": _("检查项不存在。")})
    if not can_answer(ctx, point):
        raise InspectionError({"point": _("联合检查中，此项由其他部门的检查人员填写。")})
    value: Answer | None = None
    if answer not in (None, ""):
        try:
            value = Answer(answer)
        except ValueError:
            raise InspectionError({"answer": _("请选择符合、不符合或不适用。")}) from None
    note_s = (note or "").strip() if isinstance(note, str) else ""
    if len(note_s) > MAX_NOTE:
        raise InspectionError({"note": _("备注不能超过%(n)s个字。", n=MAX_NOTE)})
    row = answers_by_point(insp).get(pid)
    old = (row.answer.value if row and row.answer else None, row.note if row else None)
    if row is None:
        row = ChecklistAnswer(inspection_id=insp.id, point_id=pid)
        db.session.add(row)
        insp.answers.append(row)
    if old == (value.value if value else None, note_s or None):
        return row
    row.answer, row.note = value, note_s or None
    row.answered_by_id, row.answered_at = user.id, utcnow()
    db.session.flush()
    audit.record(
        user,
        "inspection.answer",
        insp,
        {"point": pid, "answer": [old[0], value.value if value else None], "note": [old[1], row.note]},
    )
    return row


def add_finding(
    user: User, ctx: TaskContext, text: Any, legal_basis: Any, point_id: Any = None, client_uuid: Any = None
) -> Finding:
    """Record a problem found. ``client_uuid`` (made on the phone) makes a retry the same finding: the same id
    with the same content again returns it, with other content is a Conflict."""
    insp = started(ctx)
    text_s = (text or "").strip() if isinstance(text, str) else ""
    basis_s = (legal_basis or "").strip() if isinstance(legal_basis, str) else ""
    errors = {}
    if not text_s:
        errors["text"] = _("请描述发现的问题。")
    elif len(text_s) > MAX_FINDING:
        errors["text"] = _("问题描述不能超过%(n)s个字。", n=MAX_FINDING)
    if len(basis_s) > MAX_BASIS:
        errors["legal_basis"] = _("法律依据不能超过%(n)s个字。", n=MAX_BASIS)
    pid = None
    if point_id not in (None, ""):
        point = db.session.get(ChecklistPoint, int(point_id)) if str(point_id).isdigit() else None
        if point is None or point.item_version_id != ctx.task.item_version_id:
            errors["point_id"] = _("检查项不存在。")
        else:
            pid = point.id
            basis_s = basis_s or (point.basis or "")
    cu = optional_uuid(client_uuid)
    if cu is not None:
        existing = db.session.execute(select(Finding).where(Finding.client_uuid == cu)).scalar_one_or_none()
        if existing is not None:
            same = (existing.inspection_id, existing.text, existing.legal_basis or "", existing.point_id) == (
                insp.id,
                text_s,
                basis_s,
                pid,
            )
            if not same:
                raise Conflict(
                    _(
                        "这个问题的编号已用于另一内容：原为“%(old)s”，现为“%(new)s”。",
                        old=_short(existing.text),
                        new=_short(text_s),
                    )
                )
            return existing  # a retry of a finding already recorded
    require_draft(insp)
    if errors:
        raise InspectionError(errors)
    seq = max((f.seq for f in insp.findings), default=0) + 1
    finding = Finding(
        client_uuid=cu,
        inspection_id=insp.id,
        point_id=pid,
        seq=seq,
        text=text_s,
        legal_basis=basis_s or None,
        created_by_id=user.id,
    )
    db.session.add(finding)
    insp.findings.append(finding)
    db.session.flush()
    audit.record(
        user,
        "inspection.finding_add",
        insp,
        {"finding": finding.id, "client_uuid": cu, "text": text_s, "basis": basis_s},
    )
    return finding


def _short(text: str, n: int = 30) -> str:
    return text if len(text) <= n else text[:n] + "…"


def delete_finding(user: User, ctx: TaskContext, finding: Finding) -> None:
    """A draft finding typed by mistake may be removed (with its photos' links); never after submit."""
    insp = started(ctx)
    require_draft(insp)
    for p in list(finding.photos):
        p.finding_id = None
    audit.record(user, "inspection.finding_delete", insp, {"finding": finding.id, "text": finding.text})
    insp.findings.remove(finding)
    db.session.delete(finding)
    db.session.flush()


def finding_of(ctx: TaskContext, ref: str) -> Finding | None:
    """A finding only through its own task's record (nested ids are resolved against the parent). ``ref`` is its
    public_id or the client UUID it was made with (a photo queued offline names a finding made offline so)."""
    if ctx.inspection is None or not ref:
        return None
    return next((f for f in ctx.inspection.findings if ref in (f.public_id, f.client_uuid)), None)


# --------------------------------------------------------------------------------------------- result

ALLOWED_CATEGORIES: dict[CheckResult, set[PublishedCategory]] = {
    CheckResult.NO_PROBLEM: {
        PublishedCategory.NO_PROBLEM,
        PublishedCategory.NO_ACTIVITY,
        PublishedCategory.UNREACHABLE,
        PublishedCategory.NON_COOPERATION,
    },
    CheckResult.IMMEDIATE: {
        PublishedCategory.ORDERED_RECTIFY,
        PublishedCategory.NOT_DISCLOSED,
        PublishedCategory.FALSE_DISCLOSURE,
        PublishedCategory.NON_COOPERATION,
        PublishedCategory.PENDING_FOLLOWUP,
    },
    CheckResult.DEADLINE: {
        PublishedCategory.ORDERED_RECTIFY,
        PublishedCategory.NOT_DISCLOSED,
        PublishedCategory.FALSE_DISCLOSURE,
        PublishedCategory.NON_COOPERATION,
        PublishedCategory.PENDING_FOLLOWUP,
    },
}


def _parse_result(
    result: Any, category: Any, required: bool = True
) -> tuple[CheckResult | None, PublishedCategory | None, dict]:
    errors: dict[str, str] = {}
    r = c = None
    if result in (None, ""):
        if required:
            errors["result"] = _("请选择检查结果。")
    else:
        try:
            r = CheckResult(result)
        except ValueError:
            errors["result"] = _("请选择检查结果。")
    if category in (None, ""):
        if required:
            errors["category"] = _("请选择公示的检查结果类别。")
    else:
        try:
            c = PublishedCategory(category)
        except ValueError:
            errors["category"] = _("请选择公示的检查结果类别。")
    return r, c, errors


def check_consistency(insp: Inspection, result: CheckResult | None, category: PublishedCategory | None) -> dict:
    """Chinese errors keyed by field when result, category, answers and findings disagree."""
    errors: dict[str, str] = {}
    fails = any(a.answer == Answer.FAILS for a in insp.answers)
    if result is not None:
        if result in NEEDS_PROBLEMS and not insp.findings and not fails:
            errors["result"] = _("责令改正时至少要有一个“不符合”的检查项或一个发现的问题。")
        if result == CheckResult.NO_PROBLEM and (insp.findings or fails):
            errors["result"] = _("已记录问题或不符合项，检查结果不能是“未发现问题”。")
        if category is not None and category not in ALLOWED_CATEGORIES[result]:
            errors["category"] = _(
                "公示类别与检查结果不一致：“%(r)s”不能公示为“%(c)s”。",
                r=RESULT_LABELS[result],
                c=CATEGORY_LABELS[category],
            )
    return errors


def set_result(
    user: User, ctx: TaskContext, result: Any, category: Any, remarks: Any, required: bool = False
) -> Inspection:
    """Save the result into the draft (either part may still be empty); ``required`` at submit."""
    insp = started(ctx)
    require_draft(insp)
    r, c, errors = _parse_result(result, category, required)
    remarks_s = (remarks or "").strip() if isinstance(remarks, str) else ""
    if len(remarks_s) > MAX_REMARKS:
        errors["remarks"] = _("备注不能超过%(n)s个字。", n=MAX_REMARKS)
    errors.update({k: v for k, v in check_consistency(insp, r, c).items() if k not in errors})
    if errors:
        raise InspectionError(errors)
    old = {"result": insp.result, "category": insp.category, "remarks": insp.remarks}
    insp.result, insp.category, insp.remarks = r, c, remarks_s or None
    changes = {
        k: [getattr(v, "value", v), getattr(getattr(insp, k), "value", getattr(insp, k))]
        for k, v in old.items()
        if v != getattr(insp, k)
    }
    if changes:
        audit.record(user, "inspection.result", insp, changes)
    return insp


# --------------------------------------------------------------------------------------------- submit


def submit(user: User, ctx: TaskContext, client_uuid: Any, result: Any, category: Any, remarks: Any) -> Inspection:
    """Submit the record. Same UUID and same content again → the same record; different content → Conflict."""
    cu = parse_uuid(client_uuid)
    insp = db.session.execute(select(Inspection).where(Inspection.client_uuid == cu)).scalar_one_or_none()
    if insp is None or insp.task_id != ctx.task.id:
        raise InspectionError({"client_uuid": _("检查记录不存在，请刷新页面。")})
    # One submit at a time per record (four identical submits at the same moment wrote four submit events):
    # lock it, then read it again - a request that got here first may have submitted it meanwhile.
    lock_row(db.session, Inspection, insp.id)
    db.session.expire(insp)
    ctx.inspection = insp
    remarks_s = ((remarks or "").strip() if isinstance(remarks, str) else "") or None
    if insp.status == InspectionStatus.SUBMITTED:
        r, c, _errors = _parse_result(result, category)
        same = (r, c, remarks_s) == (insp.result, insp.category, insp.remarks)
        if same and hash_content(content_of(insp)) == insp.content_hash:
            return insp  # a double tap or a retry after a timeout
        raise Conflict(_("该检查记录已提交，内容与本次提交不同，未作合并。请刷新页面查看已提交的记录。"))
    set_result(user, ctx, result, category, remarks, required=True)
    errors = {}
    if insp.checkin_at is None:
        errors[FORM] = _("请先签到。")
    depts = {a.dept for a in ctx.task.active_assignments}
    if len(ctx.task.active_assignments) >= 2 and insp.partner_presence is None:
        errors["partner"] = _("请确认同组检查人员在场（同组人员在本人手机上确认，或由主办人员记录在场）。")
    answered = {a.point_id for a in insp.answers if a.answer is not None}
    missing = [p for p in points(ctx) if p.id not in answered and (len(depts) <= 1 or p.dept in depts)]
    if missing:
        errors["checklist"] = _("还有%(n)s个检查项未填写。", n=len(missing))
    unsigned = signing.missing(ctx)
    if unsigned:
        errors["signatures"] = _(
            "还需签字（记录修改后须重新签字）：%(names)s", names="、".join(str(s.label) for s in unsigned)
        )
    if errors:
        raise InspectionError(errors)
    content = content_of(insp)
    insp.content = content
    insp.content_hash = hash_content(content)
    transition(insp, InspectionStatus.SUBMITTED)
    insp.submitted_at, insp.submitted_by_id = utcnow(), user.id
    old_status = ctx.task.status
    ctx.task.status = TaskStatus.SUBMITTED
    # 一公开: due 20 working days after the check (a supplementary record keeps the original's date);
    # published at once by the submitter unless the organisation reviews before publication
    # (webapp.publication) and the organisation's 复查 tasks that came due are created (webapp.rectification)
    publication: dict[str, Any] = {}
    for _receiver, decided in events.result_submitted.send(insp, user=user):
        publication.update(decided or {})
    audit.record(
        user,
        "inspection.submit",
        insp,
        {
            "content_hash": insp.content_hash,
            "status": ["draft", "submitted"],
            "task_status": [old_status.value, TaskStatus.SUBMITTED.value],
            **publication,
        },
    )
    return insp


def supplement(user: User, ctx: TaskContext, client_uuid: Any, reason: Any) -> Inspection:
    """A supplementary record (补充记录) correcting a submitted one: a new draft copying it, with a reason."""
    cu = parse_uuid(client_uuid)
    existing = db.session.execute(select(Inspection).where(Inspection.client_uuid == cu)).scalar_one_or_none()
    if existing is not None and existing.task_id == ctx.task.id:
        return existing
    old = ctx.inspection
    if old is None or old.status != InspectionStatus.SUBMITTED:
        raise InspectionError(_("只有已提交的记录才能补充更正。"))
    reason_s = (reason or "").strip() if isinstance(reason, str) else ""
    if len(reason_s) < 2:
        raise InspectionError({"reason": _("请填写补充更正的原因。")})
    new = Inspection(
        client_uuid=cu,
        task_id=old.task_id,
        org_id=old.org_id,
        started_at=utcnow(),
        started_by_id=user.id,
        checkin_at=old.checkin_at,
        checkin_received_at=old.checkin_received_at,
        checkin_device_at=old.checkin_device_at,
        checkin_offline=old.checkin_offline,
        checkin_note=old.checkin_note,
        checkin_lat=old.checkin_lat,
        checkin_lon=old.checkin_lon,
        checkin_accuracy=old.checkin_accuracy,
        location_note=old.location_note,
        partner_inspector_id=old.partner_inspector_id,
        partner_presence=old.partner_presence,
        partner_recorded_at=old.partner_recorded_at,
        result=old.result,
        category=old.category,
        remarks=old.remarks,
        supersedes_id=old.id,
        supersede_reason=reason_s[:1000],
    )
    db.session.add(new)
    db.session.flush()
    for a in old.answers:
        db.session.add(
            ChecklistAnswer(
                inspection_id=new.id,
                point_id=a.point_id,
                answer=a.answer,
                note=a.note,
                answered_by_id=a.answered_by_id,
                answered_at=a.answered_at,
            )
        )
    for f in old.findings:
        nf = Finding(
            inspection_id=new.id,
            point_id=f.point_id,
            seq=f.seq,
            text=f.text,
            legal_basis=f.legal_basis,
            created_by_id=f.created_by_id,
        )
        db.session.add(nf)
        db.session.flush()
        for p in f.photos:
            db.session.add(_copy_photo(p, new.id, nf.id))
    for p in old.photos:
        if p.finding_id is None:
            db.session.add(_copy_photo(p, new.id, None))
    db.session.flush()
    db.session.refresh(new)
    audit.record(user, "inspection.supplement", new, {"supersedes": old.client_uuid}, reason=reason_s)
    ctx.inspection = new
    return new


def _copy_photo(p: Photo, inspection_id: int, finding_id: int | None) -> Photo:
    return Photo(
        inspection_id=inspection_id,
        finding_id=finding_id,
        sha256=p.sha256,
        original_sha256=p.original_sha256,
        thumb_sha256=p.thumb_sha256,
        content_type=p.content_type,
        width=p.width,
        height=p.height,
        size_bytes=p.size_bytes,
        captured_at=p.captured_at,
        gps_lat=p.gps_lat,
        gps_lon=p.gps_lon,
        uploaded_by_id=p.uploaded_by_id,
        uploaded_at=p.uploaded_at,
    )
