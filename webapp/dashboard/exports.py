"""Dashboard exports (.xlsx): tasks, results and rectifications in the layouts supervisors re-key elsewhere.

- tasks: the joint check form's columns (unit, USCC, item, date, inspectors, organisation).
- results: the national platform's result entry (检查对象名称 … 检查结果（公示类别）, plus 检查机关).
- rectifications: 文书编号, 单位, 期限, 状态, 复查结果.

Each export is one SQL query (joins; inspectors come as extra rows of the same query, ordered so that a
record's rows are adjacent and folded while streaming). Rows go straight into a write-only workbook;
labels are resolved once. Scope is ``visible_org_ids`` of the actor. Every export is audited with its
row count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import IO, Any

import openpyxl
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased

from webapp import audit, calendar
from webapp.auth.permissions import visible_org_ids
from webapp.catalog.models import ItemVersion
from webapp.draw.models import Task, TaskAssignment, TaskStatus
from webapp.extensions import db
from webapp.inspections.models import Inspection, InspectionStatus
from webapp.notices.models import OrderStatus, RectificationOrder
from webapp.registry.importer import _spooled_workbook
from webapp.registry.models import Inspector, Organisation, Unit

KINDS = ("tasks", "results", "rectifications")


class Period:
    """Optional ``?year=`` / ``?month=`` filter (month only counts together with a year)."""

    def __init__(self, args: Any):
        self.year = _int(args.get("year"), 2000, 2100)
        self.month = _int(args.get("month"), 1, 12) if self.year else None

    def bounds(self) -> tuple[dt.date, dt.date] | None:
        """[first day, first day after) in local dates, or None for no filter."""
        if not self.year:
            return None
        if self.month:
            start = dt.date(self.year, self.month, 1)
            end = dt.date(self.year + (self.month == 12), self.month % 12 + 1, 1)
        else:
            start, end = dt.date(self.year, 1, 1), dt.date(self.year + 1, 1, 1)
        return start, end

    def to_args(self) -> dict[str, int]:
        return {k: v for k, v in (("year", self.year), ("month", self.month)) if v}

    def suffix(self) -> str:
        if not self.year:
            return ""
        return f"-{self.year}" + (f"{self.month:02d}" if self.month else "")


def _int(value: Any, lo: int, hi: int) -> int | None:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if lo <= n <= hi else None


def _midnight_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), calendar.SHANGHAI).astimezone(dt.UTC)


def _local_date(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(calendar.SHANGHAI).date().isoformat()


def _scoped(stmt, column, actor: Any):
    orgs = visible_org_ids(actor)
    return stmt if orgs is None else stmt.where(column.in_(orgs))


def _fold(rows: Iterable[Any]) -> Iterator[tuple[Any, list[str]]]:
    """Rows ``(key, *fields, inspector_name)`` ordered by key → ``(first row, [inspector names])``."""
    current, names = None, []
    for row in rows:
        if current is not None and row[0] != current[0]:
            yield current, names
            current, names = None, []
        if current is None:
            current = row
        if row[-1] and row[-1] not in names:
            names.append(row[-1])
    if current is not None:
        yield current, names


def _assignments():
    """Active assignments joined to their inspector: (task_id, slot, name)."""
    return (
        select(TaskAssignment.task_id, TaskAssignment.slot, TaskAssignment.id, Inspector.name)
        .join(Inspector, Inspector.id == TaskAssignment.inspector_id)
        .where(TaskAssignment.active.is_(True))
        .subquery()
    )


def task_status_labels() -> dict[str, str]:
    return {
        TaskStatus.PLANNED: _("待检查"),
        TaskStatus.IN_PROGRESS: _("检查中"),
        TaskStatus.SUBMITTED: _("已完成"),
        TaskStatus.CANCELLED: _("已作废"),
    }


def order_status_labels() -> dict[str, str]:
    return {
        OrderStatus.PENDING: _("待复查"),
        OrderStatus.RECTIFIED: _("已改正"),
        OrderStatus.NOT_RECTIFIED: _("逾期未改正"),
    }


def _headers(kind: str) -> list[str]:
    if kind == "tasks":
        return [
            _("任务编号"),
            _("检查对象名称"),
            _("统一社会信用代码"),
            _("抽查事项"),
            _("计划检查日期"),
            _("检查人员"),
            _("任务状态"),
            _("检查机关"),
        ]
    if kind == "results":
        return [
            _("检查对象名称"),
            _("统一社会信用代码"),
            _("抽查事项"),
            _("检查日期"),
            _("检查人员"),
            _("检查结果（公示类别）"),
            _("检查机关"),
        ]
    return [_("文书编号"), _("单位"), _("统一社会信用代码"), _("期限"), _("状态"), _("复查结果"), _("检查机关")]


def tasks_query(actor: Any, period: Period):
    a = _assignments()
    stmt = (
        select(
            Task.id,
            Task.public_id,
            Unit.name,
            Unit.uscc,
            ItemVersion.name,
            Task.planned_date,
            Task.status,
            Organisation.name,
            a.c.name,
        )
        .join(Unit, Unit.id == Task.unit_id)
        .join(ItemVersion, ItemVersion.id == Task.item_version_id)
        .join(Organisation, Organisation.id == Task.org_id)
        .outerjoin(a, a.c.task_id == Task.id)
        .order_by(Task.planned_date, Task.id, a.c.slot, a.c.id)
    )
    if b := period.bounds():
        stmt = stmt.where(Task.planned_date >= b[0], Task.planned_date < b[1])
    return _scoped(stmt, Task.org_id, actor)


def results_query(actor: Any, period: Period):
    """Submitted inspections that no later submitted inspection supersedes (the result in force)."""
    a = _assignments()
    newer = aliased(Inspection)
    superseded = exists().where(and_(newer.supersedes_id == Inspection.id, newer.status == InspectionStatus.SUBMITTED))
    stmt = (
        select(
            Inspection.id,
            Unit.name,
            Unit.uscc,
            ItemVersion.name,
            Inspection.submitted_at,
            Inspection.category,
            Organisation.name,
            a.c.name,
        )
        .join(Task, Task.id == Inspection.task_id)
        .join(Unit, Unit.id == Task.unit_id)
        .join(ItemVersion, ItemVersion.id == Task.item_version_id)
        .join(Organisation, Organisation.id == Inspection.org_id)
        .outerjoin(a, a.c.task_id == Task.id)
        .where(Inspection.status == InspectionStatus.SUBMITTED, ~superseded)
        .order_by(Inspection.submitted_at, Inspection.id, a.c.slot, a.c.id)
    )
    if b := period.bounds():
        stmt = stmt.where(Inspection.submitted_at >= _midnight_utc(b[0]), Inspection.submitted_at < _midnight_utc(b[1]))
    return _scoped(stmt, Inspection.org_id, actor)


def rectifications_query(actor: Any, period: Period):
    o = RectificationOrder
    stmt = (
        select(o.id, o.number, Unit.name, Unit.uscc, o.deadline, o.status, o.outcome, o.problems, Organisation.name)
        .join(Unit, Unit.id == o.unit_id)
        .join(Organisation, Organisation.id == o.org_id)
        .order_by(o.issued_on, o.id)
    )
    if b := period.bounds():
        stmt = stmt.where(o.issued_on >= b[0], o.issued_on < b[1])
    return _scoped(stmt, o.org_id, actor)


def _outcome_text(status: Any, outcome: list | None, problems: list | None) -> str:
    if not outcome:
        return ""
    total = len(problems or outcome)
    fixed = sum(1 for v in outcome if v)
    return _("%(fixed)d/%(total)d项已改正", fixed=fixed, total=total)


def _rows(kind: str, actor: Any, period: Period) -> Iterator[list[Any]]:
    from webapp.inspections.services import CATEGORY_LABELS

    if kind == "tasks":
        labels = task_status_labels()
        query = tasks_query(actor, period).execution_options(yield_per=2000)
        for r, names in _fold(db.session.execute(query)):
            yield [r[1], r[2], r[3] or "", r[4], r[5].isoformat(), "、".join(names), labels.get(r[6], ""), r[7]]
    elif kind == "results":
        cats = {k: str(f()) for k, f in CATEGORY_LABELS.items()}
        query = results_query(actor, period).execution_options(yield_per=2000)
        for r, names in _fold(db.session.execute(query)):
            yield [r[1], r[2] or "", r[3], _local_date(r[4]), "、".join(names), cats.get(r[5], ""), r[6]]
    else:
        labels = order_status_labels()
        query = rectifications_query(actor, period).execution_options(yield_per=2000)
        for r in db.session.execute(query):
            yield [r[1], r[2], r[3] or "", r[4].isoformat(), labels.get(r[5], ""), _outcome_text(*r[5:8]), r[8]]


def titles() -> dict[str, str]:
    return {"tasks": _("检查任务"), "results": _("检查结果"), "rectifications": _("整改复查")}


def export(kind: str, actor: Any, args: Any) -> tuple[IO[bytes], int, str]:
    """Build the workbook for ``kind``; returns (file at 0, row count, download name). Audited."""
    if kind not in KINDS:
        raise ValueError(kind)
    period = Period(args)
    count = 0
    with force_locale("zh_Hans"):
        title = titles()[kind]
        headers = _headers(kind)

    def fill(wb: openpyxl.Workbook) -> None:
        nonlocal count
        ws = wb.create_sheet(title)
        ws.append(headers)
        with force_locale("zh_Hans"):  # labels resolved once per export, in Chinese
            for row in _rows(kind, actor, period):
                ws.append(row)
                count += 1

    out = _spooled_workbook(fill)
    audit.record(
        actor,
        f"export.{kind}",
        ("organisation", actor.org_id),
        {"rows": count, "filters": period.to_args()},
        org_id=actor.org_id,
    )
    db.session.commit()
    name = f"{title}{period.suffix() or '-' + calendar.today().strftime('%Y%m%d')}.xlsx"
    return out, count, name
