"""一公开 deadlines: when a result or a penalty must be public, and publishing it.

* A result (抽查结果) is due on the public site ``RESULT_WORKING_DAYS`` working days after the check: the local
  (Asia/Shanghai) date of the check-in, else of the submission or start. A penalty (行政处罚) is due
  ``PENALTY_WORKING_DAYS`` working days after its decision date. Working days follow :mod:`webapp.calendar`
  with the administrators' overrides.
* On submission (and on recording a penalty) the due date is stored; an organisation without
  ``publication_review`` (公示前审核) publishes at once, by the person who entered it (谁检查、谁录入、谁公示).
  With review on the record waits for a supervisor (公示管理) — but never past its due date.
* Public visibility is ``published_at IS NOT NULL OR publish_due_on <= today`` (:func:`visible`), so a record
  goes public on its deadline even if no job ran; ``flask publication run`` (:func:`run_batch`) stamps
  ``published_at`` on what is due afterwards, with ``published_by_id`` empty (published by the system).

Plain functions over the session; callers commit. Every change writes an audit event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select, update

from webapp import audit, calendar
from webapp.auth.models import Organisation, User
from webapp.db import utcnow
from webapp.extensions import db
from webapp.inspections.models import Inspection, InspectionStatus
from webapp.rectification.models import FollowUp, FollowUpKind, RectificationOrder
from webapp.web import ServiceError

RESULT_WORKING_DAYS = 20  # results: public within 20 working days of the check
PENALTY_WORKING_DAYS = 7  # penalties: public within 7 working days of the decision
_SPAN = dt.timedelta(days=120)  # calendar days that surely hold 20 working days, even over 春节


class PublicationError(ServiceError):
    """A rule was broken; ``field`` names the form field the Chinese message belongs to."""


# ------------------------------------------------------------------------------------------ dates


def check_date(ins: Inspection) -> dt.date:
    """The day of the check: the local date of check-in, else of submission or start, else the planned day."""
    when = ins.checkin_at or ins.submitted_at or ins.started_at
    if when is None:
        return ins.task.planned_date
    return calendar.local_date(when)


def add_working_days(day: dt.date, n: int, overrides: calendar.Overrides | None = None) -> dt.date:
    """``day`` + ``n`` working days on the official calendar with the database overrides."""
    if overrides is None:
        overrides = calendar.db_overrides(day, day + _SPAN)
    return calendar.add_working_days(day, n, overrides)


def result_due_on(ins: Inspection) -> dt.date:
    """When the result must be public. A supplementary record keeps the date of the check it corrects."""
    original = ins.supersedes
    if original is not None and original.publish_due_on is not None:
        return original.publish_due_on
    return add_working_days(check_date(ins), RESULT_WORKING_DAYS)


def penalty_due_on(decision_date: dt.date) -> dt.date:
    return add_working_days(decision_date, PENALTY_WORKING_DAYS)


def visible(model: type, today: dt.date):
    """SQL: the record of ``model`` (Inspection or FollowUp) is public on ``today``."""
    return or_(model.published_at.is_not(None), model.publish_due_on <= today)


def review_on(org_id: int) -> bool:
    """Whether the organisation checks results before publication (公示前审核)."""
    return bool(db.session.execute(select(Organisation.publication_review).where(Organisation.id == org_id)).scalar())


# ------------------------------------------------------------------------------------- on entry


def on_result_submitted(ins: Inspection, *, user: User | None = None, **_kw: Any) -> dict:
    """Set the due date of a just-submitted result; publish it at once unless its organisation reviews first.

    Receiver of ``events.result_submitted`` (wired in ``webapp/__init__.py``). Returns what was decided, for
    the sender's audit event.
    """
    ins.publish_due_on = result_due_on(ins)
    if ins.published_at is None and not review_on(ins.org_id):
        ins.published_at, ins.published_by_id = utcnow(), getattr(user, "id", None)
    return {"publish_due_on": ins.publish_due_on.isoformat(), "published": ins.published_at is not None}


def on_penalty_recorded(fu: FollowUp, *, actor: User | None = None, org_id: int, **_kw: Any) -> dict:
    """Same for a penalty decision (行政处罚): due ``decision_date`` + 7 working days.

    Receiver of ``events.penalty_recorded``.
    """
    if fu.kind != FollowUpKind.PENALTY or fu.decision_date is None:
        return {}
    fu.publish_due_on = penalty_due_on(fu.decision_date)
    if fu.published_at is None and not review_on(org_id):
        fu.published_at, fu.published_by_id = utcnow(), getattr(actor, "id", None)
    return {"publish_due_on": fu.publish_due_on.isoformat(), "published": fu.published_at is not None}


# ------------------------------------------------------------------------------------- publishing


def _stamp(model: type, row_id: int, by_id: int | None, now: dt.datetime) -> bool:
    """Set published_at on one unpublished row; False when someone else published it first."""
    res = db.session.execute(
        update(model)
        .where(model.id == row_id, model.published_at.is_(None))
        .values(published_at=now, published_by_id=by_id)
    )
    return res.rowcount == 1


def publish(
    actor: User,
    inspections: list[Inspection] = (),
    penalties: list[tuple[FollowUp, int]] = (),
    today: dt.date | None = None,
) -> int:
    """A supervisor publishes results and penalties (``(follow_up, org_id)``); already published ones are
    skipped. Returns how many were published."""
    today = today or calendar.today()
    now = utcnow()
    rows = [(Inspection, ins, ins.org_id, {}) for ins in inspections if ins.status == InspectionStatus.SUBMITTED]
    rows += [
        (FollowUp, fu, org_id, {"decision_number": fu.decision_number})
        for fu, org_id in penalties
        if fu.kind == FollowUpKind.PENALTY
    ]
    done = 0
    for model, row, org_id, data in rows:
        if _stamp(model, row.id, actor.id, now):
            due = row.publish_due_on
            data |= {"publish_due_on": due and due.isoformat(), "late": bool(due and today > due)}
            audit.record(actor, "publication.published", row, data, org_id=org_id)
            done += 1
    return done


def _auto_publish(model: type, stmt, subject: str, limit: int, now: dt.datetime, extra: str | None = None) -> int:
    """Stamp the due, unpublished rows that ``stmt`` selects: (id, org_id, due date[, ``extra`` for the audit])."""
    n = 0
    for row_id, org_id, due, *more in db.session.execute(stmt.order_by(model.publish_due_on, model.id).limit(limit)):
        if _stamp(model, row_id, None, now):
            data = {"publish_due_on": due.isoformat()} | ({extra: more[0]} if extra else {})
            audit.record(None, "publication.auto", (subject, row_id), data, reason="deadline", org_id=org_id)
            n += 1
    return n


def run_batch(today: dt.date | None = None, limit: int = 500) -> tuple[int, int]:
    """Stamp up to ``limit`` due, unpublished results and penalties as published by the system (idempotent).

    Returns (results, penalties) stamped; call again until both are 0, committing in between.
    """
    today = today or calendar.today()
    now = utcnow()
    results = select(Inspection.id, Inspection.org_id, Inspection.publish_due_on).where(
        Inspection.status == InspectionStatus.SUBMITTED,
        Inspection.published_at.is_(None),
        Inspection.publish_due_on <= today,
    )
    penalties = (
        select(FollowUp.id, RectificationOrder.org_id, FollowUp.publish_due_on, FollowUp.decision_number)
        .join(RectificationOrder, RectificationOrder.id == FollowUp.order_id)
        .where(
            FollowUp.kind == FollowUpKind.PENALTY,
            FollowUp.published_at.is_(None),
            FollowUp.publish_due_on <= today,
        )
    )
    return (
        _auto_publish(Inspection, results, "inspection", limit, now),
        _auto_publish(FollowUp, penalties, "order_follow_up", limit, now, extra="decision_number"),
    )


def set_review(actor: User, org: Organisation, enabled: bool, reason: str) -> bool:
    """Turn 公示前审核 on or off for ``org``, with a reason. Returns False when nothing changed."""
    from flask_babel import gettext as _

    reason = " ".join((reason or "").split())
    if len(reason) < 2:
        raise PublicationError(_("请填写修改原因。"), "reason")
    if len(reason) > 500:
        raise PublicationError(_("原因不能超过500个字。"), "reason")
    if bool(org.publication_review) == enabled:
        return False
    old = bool(org.publication_review)
    org.publication_review = enabled
    audit.record(
        actor,
        "publication.review_changed",
        org,
        {"publication_review": [old, enabled]},
        reason=reason,
        org_id=org.id,
    )
    return True
